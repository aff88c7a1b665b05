///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//SOURCES microgpt.java
//SOURCES microgpt_optimized.java

/*
 * Measures microgpt.java (ORIG) against microgpt_optimized.java (MOD, and MOD_FLAT: its flat KV
 * cache) area by area, as bench_compare.py does for the Python scripts. Every row runs in a fresh
 * JVM, which calls the engines' own code (this file holds no copy of it) and reports time,
 * allocation, heap and RSS back to this process.
 */

import java.io.*;
import java.lang.management.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.*;

@Command(name = "bench-compare", mixinStandardHelpOptions = true, version = "bench-compare 1.0.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Benchmarks microgpt.java (ORIG) against microgpt_optimized.java (MOD, MOD_FLAT), "
                + "each row in a fresh JVM: time, allocation, heap and RSS, with MOD/ORIG ratios.",
        footer = {"%nAreas: tokenization, kv-alloc, loss, train-steps, inference.",
                "Each child JVM runs the same java with the same class path as this one, with --jvm-args; "
                        + "--engine-options puts each engine's own //JAVA_OPTIONS first."})
public class bench_compare implements Callable<Integer> {

    @Option(names = "--steps", paramLabel = "N", description = "Training steps per run of 'train-steps' (default: ${DEFAULT-VALUE}).")
    int steps = 100;
    @Option(names = "--infer-samples", paramLabel = "N", description = "Samples per run of 'inference' (default: ${DEFAULT-VALUE}).")
    int inferSamples = 50;
    @Option(names = "--reps", paramLabel = "N", description = "Timed runs per row (default: ${DEFAULT-VALUE}).")
    int reps = 3;
    @Option(names = "--warmup", paramLabel = "N", description = "Untimed runs before the timed ones (default: ${DEFAULT-VALUE}).")
    int warmup = 1;
    @Option(names = "--block-size", paramLabel = "N", description = "Model context length (default: ${DEFAULT-VALUE}).")
    int blockSize = 16;
    @Option(names = "--n-embd", paramLabel = "N", description = "Model width (default: ${DEFAULT-VALUE}).")
    int nEmbd = 16;
    @Option(names = "--n-layer", paramLabel = "N", description = "Model depth (default: ${DEFAULT-VALUE}).")
    int nLayer = 1;
    @Option(names = "--n-head", paramLabel = "N", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int nHead = 4;
    @Option(names = "--gc-between-reps", description = "Run System.gc() before every timed run.")
    boolean gcBetweenReps;
    @Option(names = "--input", paramLabel = "FILE", description = "Dataset (default: input.txt, downloaded if missing).")
    Path input;
    @Option(names = "--areas", split = ",", paramLabel = "AREA", description = "Only these areas, comma-separated (default: all).")
    List<String> areas;
    @Option(names = "--jvm-args", paramLabel = "ARGS", description = "Extra JVM options for every child, space-separated.")
    String jvmArgs = "";
    @Option(names = "--engine-options", description = "Start each child with its engine's own //JAVA_OPTIONS "
            + "(as `jbang <engine>.java` runs it), before --jvm-args.")
    boolean engineOptions;
    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Time limit of one child JVM (default: ${DEFAULT-VALUE}).")
    double timeout = 600;
    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;
    @Option(names = "--child", hidden = true, description = "Internal: run one row in this JVM and report.")
    String child;

    public static void main(String... args) {
        System.exit(microgpt.run(new bench_compare(), args));
    }

    // ------------------------------------------------------------------------------------------
    // What is measured: the areas of bench_compare.py, each with the variants that differ in it
    // ------------------------------------------------------------------------------------------

    enum Area {
        TOKENIZATION("tokenization", "Tokenization", "ORIG", "MOD"),
        KV_ALLOC("kv-alloc", "KV alloc", "ORIG", "MOD", "MOD_FLAT"),
        LOSS("loss", "Loss", "ORIG", "MOD"),
        TRAIN_STEPS("train-steps", "Train steps", "ORIG", "MOD", "MOD_FLAT"),
        INFERENCE("inference", "Inference", "ORIG", "MOD", "MOD_FLAT");

        final String key, title;
        final List<String> variants;

        Area(String key, String title, String... variants) { this.key = key; this.title = title; this.variants = List.of(variants); }

        static Area of(String key) {
            for (Area a : values()) if (a.key.equalsIgnoreCase(key.trim())) return a;
            throw microgpt.UserError.usage("unknown area '" + key + "' in --areas; choose from "
                    + String.join(", ", Arrays.stream(values()).map(a -> a.key).toList()));
        }
    }

    static final int TOKENIZATION_ROUNDS = 2000, TOKENIZATION_DOCS = 200, KV_ROUNDS = 800, LOSS_ROUNDS = 300;

    /** One run of a row's workload. It returns a checksum of what it computed, so variants can be compared. */
    interface Workload { double run(int rep); }

    /** Builds the workload of one row (untimed set-up: data, tokenizer, models). */
    Workload workload(Area area, String variant, List<String> docsInFileOrder) {
        boolean orig = variant.equals("ORIG"), flat = variant.equals("MOD_FLAT");
        List<String> docs = new ArrayList<>(docsInFileOrder);
        if (orig) new microgpt.Random(42).shuffle(docs); else new microgpt_optimized.Random(42).shuffle(docs);
        List<String> first = docs.subList(0, Math.min(TOKENIZATION_DOCS, docs.size()));
        switch (area) {
            case TOKENIZATION:
                if (orig) {
                    microgpt.Tokenizer tok = new microgpt.Tokenizer(docs);
                    return rep -> {
                        long sum = 0;
                        for (int round = 0; round < TOKENIZATION_ROUNDS; round++)
                            for (String doc : first) for (int id : tok.encode(doc)) sum += id;
                        return sum;
                    };
                } else {
                    microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(docs);
                    int[] tokens = new int[tok.max_len + 2];
                    return rep -> {
                        long sum = 0;
                        for (int round = 0; round < TOKENIZATION_ROUNDS; round++)
                            for (String doc : first) {
                                int n = tok.encode(doc, tokens);
                                for (int i = 0; i < n; i++) sum += tokens[i];
                            }
                        return sum;
                    };
                }
            case KV_ALLOC: {
                // a cache for a whole block: one k and one v per layer and position, then read back
                if (orig) {
                    microgpt.GPT model = new microgpt.GPT(config(), 27, new microgpt.Random(42));
                    microgpt.Value[] vec = model.state_dict.get("wte")[0];
                    return rep -> {
                        long sum = 0;
                        for (int round = 0; round < KV_ROUNDS; round++) {
                            List<List<microgpt.Value[]>> keys = model.emptyCache(), values = model.emptyCache();
                            for (int pos = 0; pos < blockSize; pos++)
                                for (int li = 0; li < nLayer; li++) { keys.get(li).add(vec); values.get(li).add(vec); }
                            for (int li = 0; li < nLayer; li++) sum += keys.get(li).size() + values.get(li).size();
                        }
                        return sum;
                    };
                }
                return rep -> {
                    long sum = 0;
                    for (int round = 0; round < KV_ROUNDS; round++) {
                        microgpt_optimized.KVCache cache = new microgpt_optimized.KVCache(nLayer, blockSize, flat);
                        for (int pos = 0; pos < blockSize; pos++)
                            for (int li = 0; li < nLayer; li++) cache.put(li, pos, pos, pos);
                        for (int li = 0; li < nLayer; li++) for (int pos = 0; pos < blockSize; pos++) sum += cache.key(li, pos) >= 0 ? 2 : 0;
                    }
                    return sum;
                };
            }
            case LOSS: {
                // cross-entropy of fresh random logits, and its backward pass
                int vocab = new microgpt.Tokenizer(docs).vocab_size;
                if (orig) {
                    microgpt.Random random = new microgpt.Random(1);
                    return rep -> {
                        double sum = 0;
                        for (int round = 0; round < LOSS_ROUNDS; round++) {
                            microgpt.Value[] logits = new microgpt.Value[vocab];
                            for (int i = 0; i < vocab; i++) logits[i] = new microgpt.Value(random.gauss(0, 1));
                            microgpt.Value loss = microgpt.softmax(logits)[round % vocab].log().neg();
                            loss.backward();
                            sum += loss.data;
                        }
                        return sum;
                    };
                }
                microgpt_optimized.Random random = new microgpt_optimized.Random(1);
                microgpt_optimized.Tape t = new microgpt_optimized.Tape(4 * vocab);
                return rep -> {
                    double sum = 0;
                    for (int round = 0; round < LOSS_ROUNDS; round++) {
                        t.reset();
                        int logits = t.next();
                        for (int i = 0; i < vocab; i++) t.leaf(random.gauss(0, 1));
                        int loss = t.neg(t.sub(logits + round % vocab, t.lse(logits, vocab)));
                        t.backward(loss);
                        sum += t.data[loss];
                    }
                    return sum;
                };
            }
            case TRAIN_STEPS:
                // Adam steps from fresh weights, one document each
                if (orig) {
                    microgpt.Tokenizer tok = new microgpt.Tokenizer(docs);
                    return rep -> {
                        microgpt.GPT model = new microgpt.GPT(config(), tok.vocab_size, new microgpt.Random(42));
                        microgpt.Adam adam = new microgpt.Adam(model.params);
                        double loss = 0;
                        for (int step = 0; step < steps; step++)
                            loss = microgpt.trainStep(model, adam, tok.encode(docs.get(step % docs.size())), step, steps);
                        return loss;
                    };
                } else {
                    microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(docs);
                    int[] tokens = new int[tok.max_len + 2];
                    return rep -> {
                        microgpt_optimized.GPT model = new microgpt_optimized.GPT(optimizedConfig(), tok.vocab_size,
                                new microgpt_optimized.Random(42), flat);
                        microgpt_optimized.Adam adam = new microgpt_optimized.Adam(model.tape, model.num_params);
                        double loss = 0;
                        for (int step = 0; step < steps; step++)
                            loss = microgpt_optimized.trainStep(model, adam, tokens, tok.encode(docs.get(step % docs.size()), tokens), step, steps);
                        return loss;
                    };
                }
            case INFERENCE:
                // samples from fresh weights, as many as --infer-samples
                if (orig) {
                    microgpt.Tokenizer tok = new microgpt.Tokenizer(docs);
                    microgpt.GPT model = new microgpt.GPT(config(), tok.vocab_size, new microgpt.Random(42));
                    return rep -> {
                        microgpt.Random random = new microgpt.Random(7);
                        long chars = 0;
                        for (int i = 0; i < inferSamples; i++) chars += microgpt.sample(model, tok, 0.5, random).hashCode();
                        return chars;
                    };
                } else {
                    microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(docs);
                    microgpt_optimized.GPT model = new microgpt_optimized.GPT(optimizedConfig(), tok.vocab_size,
                            new microgpt_optimized.Random(42), flat);
                    return rep -> {
                        microgpt_optimized.Random random = new microgpt_optimized.Random(7);
                        long chars = 0;
                        for (int i = 0; i < inferSamples; i++) chars += microgpt_optimized.sample(model, tok, 0.5, random).hashCode();
                        return chars;
                    };
                }
            default:
                throw new IllegalStateException(area.toString());
        }
    }

    microgpt.Config config() { return new microgpt.Config(nLayer, nEmbd, blockSize, nHead); }

    microgpt_optimized.Config optimizedConfig() { return new microgpt_optimized.Config(nLayer, nEmbd, blockSize, nHead); }

    // ------------------------------------------------------------------------------------------
    // The child: run one row in this JVM and print one report line
    // ------------------------------------------------------------------------------------------

    static final String REPORT_PREFIX = "BENCH-REPORT ";

    /** What a child measured, as one line of key=value fields (the child-to-parent protocol). */
    record Report(String area, String variant, long pid, int reps, double[] seconds, long allocated_bytes,
                  long heap_peak_bytes, long heap_delta_bytes, long rss_delta_bytes, long rss_peak_bytes, double checksum) {

        String toLine() {
            StringJoiner s = new StringJoiner("\t", REPORT_PREFIX, "");
            s.add("area=" + area).add("variant=" + variant).add("pid=" + pid).add("reps=" + reps);
            StringJoiner sec = new StringJoiner(",");
            for (double x : seconds) sec.add(Double.toString(x));
            s.add("seconds=" + sec).add("allocated_bytes=" + allocated_bytes).add("heap_peak_bytes=" + heap_peak_bytes)
                    .add("heap_delta_bytes=" + heap_delta_bytes).add("rss_delta_bytes=" + rss_delta_bytes)
                    .add("rss_peak_bytes=" + rss_peak_bytes).add("checksum=" + checksum);
            return s.toString();
        }

        static Report parse(String line) {
            if (!line.startsWith(REPORT_PREFIX)) throw new IllegalArgumentException("not a report line: " + line);
            Map<String, String> f = new HashMap<>();
            for (String kv : line.substring(REPORT_PREFIX.length()).split("\t")) {
                int eq = kv.indexOf('=');
                f.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            double[] seconds = Arrays.stream(f.get("seconds").split(",")).mapToDouble(Double::parseDouble).toArray();
            return new Report(f.get("area"), f.get("variant"), Long.parseLong(f.get("pid")), Integer.parseInt(f.get("reps")),
                    seconds, Long.parseLong(f.get("allocated_bytes")), Long.parseLong(f.get("heap_peak_bytes")),
                    Long.parseLong(f.get("heap_delta_bytes")), Long.parseLong(f.get("rss_delta_bytes")),
                    Long.parseLong(f.get("rss_peak_bytes")), Double.parseDouble(f.get("checksum")));
        }

        double median() {
            double[] s = seconds.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
        double min() { return Arrays.stream(seconds).min().orElse(0); }
        double max() { return Arrays.stream(seconds).max().orElse(0); }
    }

    int runChild() throws IOException {
        String[] av = child.split("/");
        Area area = Area.of(av[0]);
        String variant = av[1];
        Workload work = workload(area, variant, microgpt.loadDocs(input, false));
        for (int i = 0; i < warmup; i++) work.run(i);

        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).toList();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        heapPools.forEach(MemoryPoolMXBean::resetPeakUsage);
        resetRssPeak();
        long rssBefore = procStatusBytes("VmRSS");
        long allocBefore = threads.getThreadAllocatedBytes(tid);
        double[] seconds = new double[reps];
        double checksum = 0;
        for (int r = 0; r < reps; r++) {
            if (gcBetweenReps) System.gc();
            long t0 = System.nanoTime();
            checksum = work.run(r);
            seconds[r] = (System.nanoTime() - t0) / 1e9;
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - allocBefore;
        long rssAfter = procStatusBytes("VmRSS"), rssPeak = procStatusBytes("VmHWM");
        long heapPeak = heapPools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        long heapDelta = memory.getHeapMemoryUsage().getUsed() - heapBefore;
        Report report = new Report(area.key, variant, ProcessHandle.current().pid(), reps, seconds, allocated / reps,
                heapPeak, heapDelta, rssAfter - rssBefore, rssPeak, checksum);
        System.out.println(report.toLine());
        return 0;
    }

    /** A field of /proc/self/status in bytes (VmRSS, VmHWM), or -1 where there is no /proc. */
    static long procStatusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        } catch (IOException | RuntimeException ignored) { }
        return -1;
    }

    /** Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs), where allowed. */
    static void resetRssPeak() {
        try { Files.writeString(Path.of("/proc/self/clear_refs"), "5"); } catch (IOException | RuntimeException ignored) { }
    }

    // ------------------------------------------------------------------------------------------
    // The parent: one fresh JVM per row, then the tables
    // ------------------------------------------------------------------------------------------

    /** A row's outcome: its report, or why it failed. */
    record Row(Area area, String variant, Report report, String failure) {
        String name() { return area.title + " " + variant; }
    }

    @Override
    public Integer call() throws Exception {
        if (child != null) return runChild();
        List<Area> selected = validate();
        Path data = input != null ? input : Path.of(microgpt.DEFAULT_INPUT);
        microgpt.loadDocs(data, input == null); // fail (or download) once, here, not in every child
        Path jsonTmp = json == null ? null : jsonTarget(json);

        int total = selected.stream().mapToInt(a -> a.variants.size()).sum();
        List<Row> rows = new ArrayList<>();
        int i = 0;
        for (Area a : selected) {
            for (String v : a.variants) {
                System.err.printf("[%d/%d] %s %s ...", ++i, total, a.title, v);
                Row row = runRow(a, v, data);
                System.err.println(row.report != null ? " " + seconds(row.report.median()) : " FAILED: " + row.failure);
                rows.add(row);
            }
        }
        PrintStream out = microgpt.stdout();
        printTables(out, rows);
        out.flush();
        if (jsonTmp != null) {
            Files.writeString(jsonTmp, toJson(rows), StandardCharsets.UTF_8);
            Files.move(jsonTmp, json, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        long failed = rows.stream().filter(r -> r.report == null).count();
        if (failed > 0) System.err.println("bench-compare: " + failed + " of " + rows.size() + " rows failed (see above)");
        return failed == 0 ? 0 : 1;
    }

    List<Area> validate() {
        if (reps < 1) throw microgpt.UserError.usage("--reps must be at least 1 (got " + reps + ")");
        if (warmup < 0) throw microgpt.UserError.usage("--warmup must be 0 or more (got " + warmup + ")");
        if (steps < 1) throw microgpt.UserError.usage("--steps must be at least 1 (got " + steps + ")");
        if (inferSamples < 1) throw microgpt.UserError.usage("--infer-samples must be at least 1 (got " + inferSamples + ")");
        if (!(timeout > 0)) throw microgpt.UserError.usage("--timeout must be a number of seconds > 0 (got " + timeout + ")");
        config(); // the model knobs, checked as the engines check them
        if (areas == null || areas.isEmpty()) return List.of(Area.values());
        List<Area> selected = new ArrayList<>();
        for (String key : areas) { Area a = Area.of(key); if (!selected.contains(a)) selected.add(a); }
        return selected;
    }

    /** Checks that the JSON file can be written, before any benchmark runs; returns a temporary file beside it. */
    static Path jsonTarget(Path target) {
        if (Files.isDirectory(target)) throw microgpt.UserError.usage("--json " + target + " is a directory; give a file path such as results.json");
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir))
            throw microgpt.UserError.usage("--json " + target + ": folder " + dir + " does not exist; create it or choose another path");
        try {
            Path tmp = Files.createTempFile(dir, target.getFileName() + ".", ".part");
            tmp.toFile().deleteOnExit();
            return tmp;
        } catch (IOException e) {
            throw microgpt.UserError.usage("--json " + target + " cannot be written (" + e.getMessage() + "); choose another path");
        }
    }

    /** The JVM options of a child running this variant: the engine's own (with --engine-options), then --jvm-args. */
    List<String> childJvmOptions(String variant) {
        List<String> opts = new ArrayList<>();
        if (engineOptions)
            opts.addAll(List.of((variant.equals("ORIG") ? microgpt.JAVA_OPTIONS : microgpt_optimized.JAVA_OPTIONS).split(" ")));
        opts.addAll(extraJvmArgs());
        return opts;
    }

    List<String> extraJvmArgs() {
        return Arrays.stream(jvmArgs.trim().split("\\s+")).filter(a -> !a.isEmpty()).toList();
    }

    Row runRow(Area area, String variant, Path data) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(childJvmOptions(variant));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), bench_compare.class.getName(),
                "--child", area.key + "/" + variant, "--input", data.toString(), "--steps", "" + steps,
                "--infer-samples", "" + inferSamples, "--reps", "" + reps, "--warmup", "" + warmup,
                "--block-size", "" + blockSize, "--n-embd", "" + nEmbd, "--n-layer", "" + nLayer, "--n-head", "" + nHead));
        if (gcBetweenReps) cmd.add("--gc-between-reps");
        File out = File.createTempFile("bench-child", ".out"), err = File.createTempFile("bench-child", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
            if (!p.waitFor((long) (timeout * 1000), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                return new Row(area, variant, null, "timed out after " + timeout + " s (pid " + p.pid() + ")");
            }
            String stderr = Files.readString(err.toPath());
            for (String line : Files.readAllLines(out.toPath()))
                if (line.startsWith(REPORT_PREFIX) && p.exitValue() == 0) return new Row(area, variant, Report.parse(line), null);
            String reason = stderr.contains("OutOfMemoryError") ? "out of memory" : "exit code " + p.exitValue();
            // the first line says why: "Unrecognized VM option ...", "Exception in thread "main" ..."
            String first = stderr.lines().filter(l -> !l.isBlank()).findFirst().orElse("no output");
            return new Row(area, variant, null, reason + ": " + first.trim() + " (pid " + p.pid() + ")");
        } finally {
            out.delete();
            err.delete();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Output: the results table, the ratio table, JSON
    // ------------------------------------------------------------------------------------------

    void printTables(PrintStream out, List<Row> rows) {
        out.printf("%nmicrogpt.java (ORIG) vs microgpt_optimized.java (MOD, MOD_FLAT = flat KV cache)%n");
        out.printf("config: steps=%d infer-samples=%d reps=%d warmup=%d block-size=%d n-embd=%d n-layer=%d n-head=%d gc-between-reps=%s%n",
                steps, inferSamples, reps, warmup, blockSize, nEmbd, nLayer, nHead, gcBetweenReps);
        out.printf("jvm: %s %s; children: %s%n%n", System.getProperty("java.vm.name"), System.getProperty("java.version"),
                (engineOptions ? "each engine's //JAVA_OPTIONS" : "the same options for all")
                        + (jvmArgs.isBlank() ? "" : " + --jvm-args " + jvmArgs));
        String fmt = "%-22s %-30s %11s %11s %11s %11s%n";
        out.printf(fmt, "Benchmark", "Time/run: median [min..max]", "Alloc/run", "HeapPeak", "RSS delta", "RSS peak");
        for (Row r : rows) {
            if (r.report == null) { out.printf("%-22s FAILED: %s%n", r.name(), r.failure); continue; }
            Report p = r.report;
            out.printf(fmt, r.name(), seconds(p.median()) + " [" + seconds(p.min()) + ".." + seconds(p.max()) + "]",
                    bytes(p.allocated_bytes), bytes(p.heap_peak_bytes), bytes(p.rss_delta_bytes), bytes(p.rss_peak_bytes));
        }
        out.printf("%nRatios against ORIG (below 1: the optimized engine is faster / allocates less / peaks lower)%n");
        String rf = "%-27s %8s %8s %8s %9s   %s%n";
        out.printf(rf, "Benchmark", "Time", "Alloc", "Heap", "Speed-up", "Same result as ORIG");
        for (Row r : rows) {
            if (r.variant.equals("ORIG") || r.report == null) continue;
            Row orig = rows.stream().filter(o -> o.area == r.area && o.variant.equals("ORIG") && o.report != null).findFirst().orElse(null);
            if (orig == null) continue;
            double time = r.report.median() / orig.report.median();
            double a = orig.report.checksum, b = r.report.checksum;
            boolean same = a == b || Math.abs(a - b) <= 1e-12 * Math.abs(a);
            out.printf(rf, r.area.title + " " + r.variant + "/ORIG", ratio(time),
                    ratio((double) r.report.allocated_bytes / orig.report.allocated_bytes),
                    ratio((double) r.report.heap_peak_bytes / orig.report.heap_peak_bytes), String.format("%.1fx", 1 / time),
                    same ? "yes" : "NO (checksum " + b + " vs " + a + ")");
        }
    }

    static String ratio(double r) {
        if (Double.isNaN(r) || Double.isInfinite(r)) return "n/a";
        return r >= 0.01 ? String.format("%.3f", r) : String.format("%.1e", r);
    }

    static String seconds(double s) {
        if (s < 1e-3) return String.format("%.1f us", s * 1e6);
        if (s < 1) return String.format("%.2f ms", s * 1e3);
        return String.format("%.3f s", s);
    }

    static String bytes(long b) {
        if (b < 0) return "-" + bytes(-b);
        if (b < 1024) return b + " B";
        if (b < 1024 * 1024) return String.format("%.1f KiB", b / 1024.0);
        if (b < 1024L * 1024 * 1024) return String.format("%.1f MiB", b / 1048576.0);
        return String.format("%.2f GiB", b / 1073741824.0);
    }

    String toJson(List<Row> rows) {
        StringBuilder s = new StringBuilder("{\n  \"config\": {");
        s.append(String.format("\"steps\": %d, \"infer_samples\": %d, \"reps\": %d, \"warmup\": %d, \"block_size\": %d, "
                        + "\"n_embd\": %d, \"n_layer\": %d, \"n_head\": %d, \"gc_between_reps\": %s, \"input\": %s, \"areas\": [%s]},\n",
                steps, inferSamples, reps, warmup, blockSize, nEmbd, nLayer, nHead, gcBetweenReps,
                quote(input == null ? microgpt.DEFAULT_INPUT : input.toString()),
                String.join(", ", rows.stream().map(r -> quote(r.area.key)).distinct().toList())));
        s.append("  \"jvm\": {\"version\": ").append(quote(System.getProperty("java.version")))
                .append(", \"vm\": ").append(quote(System.getProperty("java.vm.name")))
                .append(", \"args\": [").append(String.join(", ", extraJvmArgs().stream().map(bench_compare::quote).toList()))
                .append("], \"orig_args\": [").append(String.join(", ", childJvmOptions("ORIG").stream().map(bench_compare::quote).toList()))
                .append("], \"mod_args\": [").append(String.join(", ", childJvmOptions("MOD").stream().map(bench_compare::quote).toList()))
                .append("]},\n  \"results\": [");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            s.append(i == 0 ? "\n" : ",\n").append("    {\"name\": ").append(quote(r.name())).append(", \"area\": ")
                    .append(quote(r.area.key)).append(", \"variant\": ").append(quote(r.variant));
            if (r.report == null) {
                s.append(", \"failed\": true, \"reason\": ").append(quote(r.failure)).append("}");
                continue;
            }
            Report p = r.report;
            s.append(String.format(Locale.ROOT, ", \"pid\": %d, \"reps\": %d, \"seconds_median\": %s, \"seconds_min\": %s, "
                            + "\"seconds_max\": %s, \"allocated_bytes\": %d, \"heap_peak_bytes\": %d, \"heap_delta_bytes\": %d, "
                            + "\"rss_delta_bytes\": %d, \"rss_peak_bytes\": %d, \"checksum\": %s}",
                    p.pid, p.reps, p.median(), p.min(), p.max(), p.allocated_bytes, p.heap_peak_bytes, p.heap_delta_bytes,
                    p.rss_delta_bytes, p.rss_peak_bytes, p.checksum));
        }
        return s.append("\n  ]\n}\n").toString();
    }

    static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') q.append('\\').append(c);
            else if (c < 0x20) q.append(String.format("\\u%04x", (int) c));
            else q.append(c);
        }
        return q.append('"').toString();
    }
}
