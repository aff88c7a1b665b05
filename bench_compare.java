///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//DEPS org.apache.commons:commons-math3:3.6.1
//SOURCES microgpt.java
//SOURCES microgpt_optimized.java
//SOURCES harness/HtmlReport.java support/Svg.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * Measures microgpt.java (ORIG) against microgpt_optimized.java (MOD, and MOD_FLAT: its flat KV
 * cache) area by area, with the workloads of bench_compare.py. Every row runs in a fresh JVM, which
 * calls the engines' own code (this file holds no copy of it) and reports back: the first run's
 * time (cold), the steady-state times after a JIT warm-up, allocation, heap peak, live peak and RSS.
 * This parent JVM only starts the children and writes the tables, the JSON and the HTML report;
 * the JVM options it inherits from the engines' //JAVA_OPTIONS (JBang merges those of every
 * //SOURCES file) never reach a child: each child gets the options of the chosen mode.
 */
package mgpt;

import com.google.gson.*;
import java.io.*;
import java.lang.management.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import com.sun.management.GarbageCollectionNotificationInfo;
import org.apache.commons.math3.distribution.TDistribution;
import picocli.CommandLine.*;

@Command(name = "bench-compare", mixinStandardHelpOptions = true, version = "bench-compare 2.0.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Benchmarks microgpt.java (ORIG) against microgpt_optimized.java (MOD, MOD_FLAT) area by area, "
                + "each row in a fresh JVM: cold and steady-state time with 95%% confidence intervals, allocation, "
                + "heap peak, live peak and RSS, with MOD/ORIG ratios and a verdict.",
        footer = {"%nAreas: tokenization, kv-alloc, loss, train-steps, inference.",
                "Modes: by default (same-jvm) every child runs with the same options: "
                        + bench_compare.SAME_JVM_OPTIONS_TEXT + ". With --as-shipped, each engine's rows run with "
                        + "that engine's own //JAVA_OPTIONS instead. --jvm-args is added last in both modes.",
                "Each row runs in --forks fresh JVMs; in each: one cold run (the JVM's first), then warm-up runs until at least --warmup "
                        + "runs and --warmup-time seconds have passed and the JIT has compiled nothing for "
                        + bench_compare.JIT_QUIET_SECONDS + " s (or 5 x --warmup-time has passed), then --reps "
                        + "measured runs, then a memory pass (full collections forced about every millisecond "
                        + "while the workload runs) for the live peak."})
public class bench_compare implements Callable<Integer> {

    @Option(names = "--steps", paramLabel = "N", description = "Training steps per run of 'train-steps' (default: ${DEFAULT-VALUE}).")
    int steps = 100;
    @Option(names = "--infer-samples", paramLabel = "N", description = "Samples per run of 'inference' (default: ${DEFAULT-VALUE}).")
    int inferSamples = 50;
    @Option(names = "--reps", paramLabel = "N", description = "Measured runs per fork, after warm-up; at least 2 "
            + "(default: ${DEFAULT-VALUE}).")
    int reps = 5;
    @Option(names = "--forks", paramLabel = "N", description = "Fresh JVMs per row, their measured runs pooled, as JMH's "
            + "forks: the interval then covers the variation between JVMs too (default: ${DEFAULT-VALUE}).")
    int forks = 2;
    @Option(names = "--warmup", paramLabel = "N", description = "Warm-up runs at least, after the cold run (default: ${DEFAULT-VALUE}).")
    int warmup = 5;
    @Option(names = "--warmup-time", paramLabel = "SECONDS", description = "Warm-up time at least; warm-up then goes on "
            + "until the JIT is quiet, up to 5 times this (default: ${DEFAULT-VALUE}).")
    double warmupTime = 2;
    @Option(names = "--block-size", paramLabel = "N", description = "Model context length (default: ${DEFAULT-VALUE}).")
    int blockSize = 16;
    @Option(names = "--n-embd", paramLabel = "N", description = "Model width (default: ${DEFAULT-VALUE}).")
    int nEmbd = 16;
    @Option(names = "--n-layer", paramLabel = "N", description = "Model depth (default: ${DEFAULT-VALUE}).")
    int nLayer = 1;
    @Option(names = "--n-head", paramLabel = "N", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int nHead = 4;
    @Option(names = "--gc-between-reps", description = "Run System.gc() before every measured run.")
    boolean gcBetweenReps;
    @Option(names = "--input", paramLabel = "FILE", description = "Dataset (default: input.txt, written from the bundled names.txt if missing).")
    Path input;
    @Option(names = "--areas", split = ",", paramLabel = "AREA", description = "Only these areas, comma-separated (default: all).")
    List<String> areas;
    @Option(names = "--as-shipped", description = "Run each engine's rows with that engine's own //JAVA_OPTIONS "
            + "(what `jbang <engine>.java` users get) instead of one configuration for all.")
    boolean asShipped;
    @Option(names = "--jvm-args", paramLabel = "ARGS", description = "Extra JVM options for every child, space-separated, "
            + "after the mode's options.")
    String jvmArgs = "";
    @Option(names = "--timeout", paramLabel = "SECONDS", description = "Time limit of one child JVM (default: ${DEFAULT-VALUE}).")
    double timeout = 600;
    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;
    @Option(names = "--report", paramLabel = "FILE.html", description = "Also write a self-contained HTML report with charts.")
    Path report;
    @Option(names = "--child", hidden = true, description = "Internal: run one row in this JVM and report.")
    String child;

    /**
     * The default mode's options, the same for every child: a fixed heap large enough for ORIG (no heap
     * growth, no resizing inside a measurement), one collector, and full tiered compilation (C1 then C2).
     */
    static final List<String> SAME_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xms1g", "-Xmx1g", "-XX:+TieredCompilation",
            "-XX:-UsePerfData");
    static final String SAME_JVM_OPTIONS_TEXT = "-XX:+UseSerialGC -Xms1g -Xmx1g -XX:+TieredCompilation -XX:-UsePerfData";
    /** Warm-up ends once the JIT has compiled nothing for this long (and the minimums are met). */
    static final double JIT_QUIET_SECONDS = 0.2;

    public static void main(String... args) {
        System.exit(Cli.run(new bench_compare(), args));
    }

    // ------------------------------------------------------------------------------------------
    // What is measured: the areas of bench_compare.py, each with the variants that differ in it
    // ------------------------------------------------------------------------------------------

    enum Area {
        TOKENIZATION("tokenization", "Tokenization", "documents", "ORIG", "MOD"),
        KV_ALLOC("kv-alloc", "KV alloc", "caches", "ORIG", "MOD", "MOD_FLAT"),
        LOSS("loss", "Loss", "losses", "ORIG", "MOD"),
        TRAIN_STEPS("train-steps", "Train steps", "steps", "ORIG", "MOD", "MOD_FLAT"),
        INFERENCE("inference", "Inference", "samples", "ORIG", "MOD", "MOD_FLAT");

        final String key, title, unit;
        final List<String> variants;

        Area(String key, String title, String unit, String... variants) {
            this.key = key; this.title = title; this.unit = unit; this.variants = List.of(variants);
        }

        static Area of(String key) {
            for (Area a : values()) if (a.key.equalsIgnoreCase(key.trim())) return a;
            throw UserError.usage("unknown area '" + key + "' in --areas; choose from "
                    + String.join(", ", Arrays.stream(values()).map(a -> a.key).toList()));
        }
    }

    /** bench_compare.py's sizes: documents tokenized, KV caches filled, loss rounds per run. */
    static final int TOKENIZATION_DOCS = 2000, TOKENIZATION_DISTINCT = 200, KV_ROUNDS = 800, LOSS_ROUNDS = 300;

    /** One run of a row's workload. It returns a checksum of what it computed, so variants can be compared. */
    interface Workload {
        double run();
        /** train-steps: the loss of every step of the latest run; null elsewhere. */
        default double[] losses() { return null; }
    }

    /** How much work one run of an area does (the unit is Area.unit). */
    int workPerRun(Area area) {
        return switch (area) {
            case TOKENIZATION -> TOKENIZATION_DOCS;
            case KV_ALLOC -> KV_ROUNDS;
            case LOSS -> LOSS_ROUNDS;
            case TRAIN_STEPS -> steps;
            case INFERENCE -> inferSamples;
        };
    }

    /**
     * What the harness asks of an engine: one method per area. Each method does its set-up (untimed:
     * tokenizer, model, buffers) and returns the workload whose runs are timed.
     */
    interface Engine {
        Workload tokenization();
        Workload kvAlloc();
        Workload loss();
        Workload trainSteps();
        Workload inference();

        default Workload workload(Area area) {
            return switch (area) {
                case TOKENIZATION -> tokenization();
                case KV_ALLOC -> kvAlloc();
                case LOSS -> loss();
                case TRAIN_STEPS -> trainSteps();
                case INFERENCE -> inference();
            };
        }
    }

    /** The checksum of a token sequence: position-weighted, so a wrong or misplaced id changes it. */
    static long tokenChecksum(int[] tokens, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) s += (long) (i + 1) * tokens[i];
        return s;
    }

    /** The value a KV benchmark stores at element j of layer li's key (or value, kind 1) at position pos. */
    static double kvValue(int round, int li, int pos, int j, int kind) {
        return ((round % 7) * 1000 + li * 100 + pos) + (j + 1) * 1e-3 + kind * 0.5;
    }

    /** The checksum of a KV cache read back: each element weighted by where it should be. */
    static double kvTerm(int li, int pos, int j, double key, double value) {
        return (li + 1) * (pos + 1) * ((j + 1) * key + value);
    }

    /** microgpt.java, through its own classes and functions. */
    final class Orig implements Engine {
        final List<String> docs;
        final microgpt.Tokenizer tok;

        Orig(List<String> docs) { this.docs = docs; this.tok = new microgpt.Tokenizer(docs, null); }

        microgpt.GPT model() {
            return new microgpt.GPT(new Config(nLayer, nEmbd, blockSize, nHead), tok.vocab_size, new PyRandom(42));
        }

        public Workload tokenization() {
            List<String> first = docs.subList(0, Math.min(TOKENIZATION_DISTINCT, docs.size()));
            return () -> {
                long sum = 0;
                for (int i = 0; i < TOKENIZATION_DOCS; i++) {
                    int[] tokens = tok.encode(first.get(i % first.size()));
                    sum += tokenChecksum(tokens, tokens.length);
                }
                return sum;
            };
        }

        public Workload kvAlloc() {
            microgpt.GPT model = model();
            return new Workload() {
                int round;
                public double run() {
                    double sum = 0;
                    for (int r = 0; r < KV_ROUNDS; r++, round++) {
                        // ORIG: growing lists, one new vector of Value nodes per slot, as gpt() appends k and v
                        List<List<microgpt.Value[]>> keys = model.emptyCache(), values = model.emptyCache();
                        for (int pos = 0; pos < blockSize; pos++)
                            for (int li = 0; li < nLayer; li++) {
                                microgpt.Value[] k = new microgpt.Value[nEmbd], v = new microgpt.Value[nEmbd];
                                for (int j = 0; j < nEmbd; j++) {
                                    k[j] = new microgpt.Value(kvValue(round, li, pos, j, 0));
                                    v[j] = new microgpt.Value(kvValue(round, li, pos, j, 1));
                                }
                                keys.get(li).add(k);
                                values.get(li).add(v);
                            }
                        for (int li = 0; li < nLayer; li++)
                            for (int pos = 0; pos < blockSize; pos++)
                                for (int j = 0; j < nEmbd; j++)
                                    sum += kvTerm(li, pos, j, keys.get(li).get(pos)[j].data, values.get(li).get(pos)[j].data);
                    }
                    return sum;
                }
            };
        }

        public Workload loss() {
            PyRandom random = new PyRandom(1);
            int target = random.randbelow(tok.vocab_size);
            return () -> {
                double sum = 0;
                for (int r = 0; r < LOSS_ROUNDS; r++) {
                    microgpt.Value[] logits = new microgpt.Value[tok.vocab_size];
                    for (int i = 0; i < logits.length; i++) logits[i] = new microgpt.Value(random.gauss(0, 1));
                    microgpt.Value loss = microgpt.softmax(logits)[target].log().neg();
                    loss.backward();
                    sum += loss.data;
                }
                return sum;
            };
        }

        public Workload trainSteps() {
            microgpt.GPT model = model();
            microgpt.Adam adam = new microgpt.Adam(model.params);
            return new Workload() {
                final double[] losses = new double[steps];
                public double run() {
                    double sum = 0;
                    for (int step = 0; step < steps; step++)
                        sum += losses[step] = microgpt.trainStep(model, adam, new int[][]{tok.encode(docs.get(step % docs.size()))}, step, steps);
                    return sum;
                }
                public double[] losses() { return losses; }
            };
        }

        public Workload inference() {
            microgpt.GPT model = model();
            return () -> {
                PyRandom random = new PyRandom(7);
                long sum = 0;
                for (int i = 0; i < inferSamples; i++) sum += (long) (i + 1) * microgpt.sample(model, tok, new int[0], 0.5, random).hashCode();
                return sum;
            };
        }
    }

    /** microgpt_optimized.java, through its own classes and functions; flat selects its flat KV cache. */
    final class Mod implements Engine {
        final List<String> docs;
        final boolean flat;
        final microgpt_optimized.Tokenizer tok;

        Mod(List<String> docs, boolean flat) { this.docs = docs; this.flat = flat; this.tok = new microgpt_optimized.Tokenizer(docs, null); }

        microgpt_optimized.GPT model() {
            return new microgpt_optimized.GPT(new Config(nLayer, nEmbd, blockSize, nHead), tok.vocab_size,
                    new PyRandom(42), flat);
        }

        public Workload tokenization() {
            List<String> first = docs.subList(0, Math.min(TOKENIZATION_DISTINCT, docs.size()));
            int[] tokens = new int[tok.max_len + 2]; // the engine's reused token buffer
            return () -> {
                long sum = 0;
                for (int i = 0; i < TOKENIZATION_DOCS; i++) sum += tokenChecksum(tokens, tok.encode(first.get(i % first.size()), tokens));
                return sum;
            };
        }

        public Workload kvAlloc() {
            microgpt_optimized.Tape t = new microgpt_optimized.Tape(4096);
            return new Workload() {
                int round;
                public double run() {
                    double sum = 0;
                    for (int r = 0; r < KV_ROUNDS; r++, round++) {
                        // MOD: a preallocated cache whose slots are written in place; each vector is a run of tape nodes
                        t.reset();
                        microgpt_optimized.KVCache cache = new microgpt_optimized.KVCache(nLayer, blockSize, flat);
                        for (int pos = 0; pos < blockSize; pos++)
                            for (int li = 0; li < nLayer; li++) {
                                int k = t.next();
                                for (int j = 0; j < nEmbd; j++) t.leaf(kvValue(round, li, pos, j, 0));
                                int v = t.next();
                                for (int j = 0; j < nEmbd; j++) t.leaf(kvValue(round, li, pos, j, 1));
                                cache.put(li, pos, k, v);
                            }
                        for (int li = 0; li < nLayer; li++) {
                            int[] vs = cache.valueArray(li);
                            int off = cache.valueOffset(li);
                            for (int pos = 0; pos < blockSize; pos++)
                                for (int j = 0; j < nEmbd; j++)
                                    sum += kvTerm(li, pos, j, t.data[cache.key(li, pos) + j], t.data[vs[off + pos] + j]);
                        }
                    }
                    return sum;
                }
            };
        }

        public Workload loss() {
            PyRandom random = new PyRandom(1);
            int target = random.randbelow(tok.vocab_size);
            microgpt_optimized.Tape t = new microgpt_optimized.Tape(4 * tok.vocab_size);
            return () -> {
                double sum = 0;
                for (int r = 0; r < LOSS_ROUNDS; r++) {
                    t.reset();
                    int logits = t.next();
                    for (int i = 0; i < tok.vocab_size; i++) t.leaf(random.gauss(0, 1));
                    int loss = t.neg(t.sub(logits + target, t.lse(logits, tok.vocab_size)));
                    t.backward(loss);
                    sum += t.data[loss];
                }
                return sum;
            };
        }

        public Workload trainSteps() {
            microgpt_optimized.GPT model = model();
            microgpt_optimized.Adam adam = new microgpt_optimized.Adam(model.tape);
            microgpt_optimized.Batch batch = new microgpt_optimized.Batch(model, 1, 1, tok.max_len + 2); // one document a step
            return new Workload() {
                final double[] losses = new double[steps];
                public double run() {
                    double sum = 0;
                    for (int step = 0; step < steps; step++) {
                        batch.n_tokens[0] = tok.encode(docs.get(step % docs.size()), batch.tokens[0]);
                        sum += losses[step] = microgpt_optimized.trainStep(batch, adam, step, steps);
                    }
                    return sum;
                }
                public double[] losses() { return losses; }
            };
        }

        public Workload inference() {
            microgpt_optimized.GPT model = model();
            return () -> {
                PyRandom random = new PyRandom(7);
                long sum = 0;
                for (int i = 0; i < inferSamples; i++)
                    sum += (long) (i + 1) * microgpt_optimized.sample(model, tok, new int[0], 0.5, random).hashCode();
                return sum;
            };
        }
    }

    Engine engine(String variant, List<String> docsInFileOrder) {
        List<String> docs = new ArrayList<>(docsInFileOrder);
        // both engines shuffle with the same generator (CPython's, seed 42), as bench_compare.py does
        if (variant.equals("ORIG")) {
            new PyRandom(42).shuffle(docs);
            return new Orig(docs);
        }
        new PyRandom(42).shuffle(docs);
        return new Mod(docs, variant.equals("MOD_FLAT"));
    }

    // ------------------------------------------------------------------------------------------
    // Statistics: median, Student's t confidence intervals, the ratio of two rows
    // ------------------------------------------------------------------------------------------

    /** A 95% confidence interval. */
    record Interval(double low, double high) { }

    /** The ratio of two rows' geometric-mean times, and its 95% confidence interval. */
    record RatioCi(double ratio, Interval ci) { }

    static final class Stats {
        private Stats() { }

        static double median(double[] x) {
            double[] s = x.clone();
            Arrays.sort(s);
            int n = s.length;
            return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        }

        static double mean(double[] x) {
            double s = 0;
            for (double v : x) s += v;
            return s / x.length;
        }

        static double variance(double[] x) { // sample variance (n - 1)
            double m = mean(x), s = 0;
            for (double v : x) s += (v - m) * (v - m);
            return s / (x.length - 1);
        }

        /** The two-sided 95% quantile of Student's t with df degrees of freedom. */
        static double t975(double df) {
            return new TDistribution(null, df, 1e-14).inverseCumulativeProbability(0.975);
        }

        /**
         * 95% confidence interval of the geometric mean: Student's t on the log-times, exponentiated (times are
         * positive and skewed; an interval of the arithmetic mean can reach below zero). NaNs for fewer than 2.
         */
        static Interval geoMeanCi(double[] x) {
            if (x.length < 2) return new Interval(Double.NaN, Double.NaN);
            double[] lx = Arrays.stream(x).map(Math::log).toArray();
            double m = mean(lx), half = t975(x.length - 1) * Math.sqrt(variance(lx) / x.length);
            return new Interval(Math.exp(m - half), Math.exp(m + half));
        }

        static double geoMean(double[] x) { return Math.exp(mean(Arrays.stream(x).map(Math::log).toArray())); }

        /**
         * The ratio b/a of two rows' times, and its 95% confidence interval: Welch's t interval for the
         * difference of the mean log-times, exponentiated. The ratio itself is that of the geometric means.
         * low and high are NaN with fewer than 2 runs on either side.
         */
        static RatioCi ratioCi(double[] a, double[] b) {
            double[] la = Arrays.stream(a).map(Math::log).toArray(), lb = Arrays.stream(b).map(Math::log).toArray();
            double d = mean(lb) - mean(la), ratio = Math.exp(d);
            if (a.length < 2 || b.length < 2) return new RatioCi(ratio, new Interval(Double.NaN, Double.NaN));
            double va = variance(la) / a.length, vb = variance(lb) / b.length, se = Math.sqrt(va + vb);
            if (se == 0) return new RatioCi(ratio, new Interval(ratio, ratio));
            double df = (va + vb) * (va + vb)
                    / (va * va / (a.length - 1) + vb * vb / (b.length - 1)); // Welch-Satterthwaite
            double half = t975(df) * se;
            return new RatioCi(ratio, new Interval(Math.exp(d - half), Math.exp(d + half)));
        }

        /** faster when the whole interval is below 1, slower when above, else no clear difference. */
        static String verdict(double low, double high) {
            if (high < 1) return "faster";
            if (low > 1) return "slower";
            return "no clear difference";
        }
    }

    // ------------------------------------------------------------------------------------------
    // The child: run one row in this JVM and print one report line
    // ------------------------------------------------------------------------------------------

    static final String REPORT_PREFIX = "BENCH-REPORT ";

    /** What a child measured: one line, REPORT_PREFIX and the record as JSON (the child-to-parent protocol). */
    record Report(String area, String variant, long pid, List<String> jvm_args, int work_per_run, double seconds_first,
                  double[] seconds, int warmup_runs, boolean jit_settled, long allocated_bytes, long heap_peak_bytes,
                  long live_peak_bytes, long live_base_bytes, long live_floor_bytes, long heap_delta_bytes, long rss_delta_bytes,
                  long rss_peak_bytes, double checksum, double[] losses) {

        /** NaN and infinities travel as JSON's extended literals; a report is one line (no pretty printing). */
        static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().setStrictness(Strictness.LENIENT).create();

        String toLine() { return REPORT_PREFIX + GSON.toJson(this); }

        /** Parses a report line; a missing or malformed field is an IllegalArgumentException naming it. */
        static Report parse(String line) {
            if (!line.startsWith(REPORT_PREFIX)) throw new IllegalArgumentException("not a report line: " + abbreviate(line));
            JsonObject json;
            try {
                json = JsonParser.parseString(line.substring(REPORT_PREFIX.length())).getAsJsonObject();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("report is not a JSON object: " + abbreviate(line.substring(REPORT_PREFIX.length())));
            }
            for (java.lang.reflect.RecordComponent c : Report.class.getRecordComponents()) { // each field there, and of its type
                if (!json.has(c.getName()) && !c.getName().equals("losses"))
                    throw new IllegalArgumentException("report has no field '" + c.getName() + "'");
                try {
                    GSON.fromJson(json.get(c.getName()), c.getGenericType());
                } catch (RuntimeException e) { // JsonParseException, NumberFormatException
                    throw new IllegalArgumentException("malformed report field '" + c.getName() + "': " + abbreviate(String.valueOf(json.get(c.getName()))));
                }
            }
            Report r = GSON.fromJson(json, Report.class);
            if (r.seconds().length == 0) throw new IllegalArgumentException("malformed report field 'seconds': no runs");
            return r;
        }

        double median() { return Stats.median(seconds); }
        double min() { return Arrays.stream(seconds).min().orElse(Double.NaN); }
        double max() { return Arrays.stream(seconds).max().orElse(Double.NaN); }
        Interval ci() { return Stats.geoMeanCi(seconds); }
    }

    static String abbreviate(String s) {
        if (s == null) return "(none)";
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /** Records, from GC notifications, the heap in use before each collection and after each full one. */
    static final class GcWatch implements AutoCloseable {
        final AtomicLong maxBefore = new AtomicLong(), maxAfterFull = new AtomicLong(), events = new AtomicLong();
        final AtomicLong fullCollections = new AtomicLong();
        private final List<NotificationEmitter> emitters = new ArrayList<>();
        private final javax.management.NotificationListener listener = (n, hb) -> {
            if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) return;
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long before = heapUsed(info.getGcInfo().getMemoryUsageBeforeGc()), after = heapUsed(info.getGcInfo().getMemoryUsageAfterGc());
            maxBefore.accumulateAndGet(before, Math::max);
            if (info.getGcAction().contains("major")) {
                maxAfterFull.accumulateAndGet(after, Math::max);
                fullCollections.incrementAndGet();
            }
            events.incrementAndGet();
        };

        static final Set<String> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(java.util.stream.Collectors.toSet());

        /** The heap in use in one of a collection's snapshots: the sum over the heap's pools. */
        static long heapUsed(Map<String, MemoryUsage> pools) {
            return pools.entrySet().stream().filter(e -> HEAP_POOLS.contains(e.getKey())).mapToLong(e -> e.getValue().getUsed()).sum();
        }

        GcWatch() {
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
                if (gc instanceof NotificationEmitter e) { e.addNotificationListener(listener, null, null); emitters.add(e); }
        }

        static long collections() {
            long n = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, gc.getCollectionCount());
            return n;
        }

        /** Waits (up to 2 s) until every collection since `since` has been notified: notifications come on another thread. */
        void await(long since) throws InterruptedException {
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (events.get() < collections() - since && System.nanoTime() < deadline) Thread.sleep(5);
        }

        @Override
        public void close() {
            for (NotificationEmitter e : emitters) try { e.removeNotificationListener(listener); } catch (Exception ignored) { }
        }
    }

    int runChild() throws Exception {
        try {
            return measureRow();
        } catch (OutOfMemoryError e) { // one line, as the engines report it; the parent marks the row failed
            Cli.stderr().println("bench-compare: out of memory in " + child + " (" + e.getMessage() + " with -Xmx"
                    + bytes(Runtime.getRuntime().maxMemory()) + "); give the children more heap with --jvm-args -Xmx4g");
            return 1;
        }
    }

    int measureRow() throws Exception {
        String[] av = child.split("/");
        Area area = Area.of(av[0]);
        String variant = av[1];
        Workload work = engine(variant, microgpt.splitDocs(TrainingRun.readInput(input, false))).workload(area);

        // Cold: the first run of this fresh JVM (interpreter, class loading, JIT compiling)
        long t0 = System.nanoTime();
        double checksum = work.run();
        double secondsFirst = (System.nanoTime() - t0) / 1e9;
        double[] losses = work.losses() == null ? null : work.losses().clone();

        // Warm-up: until the minimums are met and the JIT has been quiet for a while (or a time cap)
        WarmUp warm = warmUp(work);

        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

        // Measured runs: time, allocation, the heap in use before every collection, RSS
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        double[] seconds = new double[reps];
        long allocated, heapPeak;
        resetRssPeak();
        long rssBefore = procStatusBytes("VmRSS");
        try (GcWatch gcs = new GcWatch()) {
            long collections = GcWatch.collections();
            long allocBefore = threads.getThreadAllocatedBytes(tid);
            for (int r = 0; r < reps; r++) {
                if (gcBetweenReps) System.gc();
                long t = System.nanoTime();
                work.run();
                seconds[r] = (System.nanoTime() - t) / 1e9;
            }
            allocated = threads.getThreadAllocatedBytes(tid) - allocBefore;
            long heapEnd = memory.getHeapMemoryUsage().getUsed();
            gcs.await(collections);
            heapPeak = Math.max(Math.max(heapBefore, heapEnd), gcs.maxBefore.get());
        }
        long rssAfter = procStatusBytes("VmRSS"), rssPeak = procStatusBytes("VmHWM");
        long heapDelta = memory.getHeapMemoryUsage().getUsed() - heapBefore;

        // Memory pass: full collections forced about every millisecond while the workload runs; the most
        // heap still in use after one of them is the most data the workload kept reachable at once.
        // With an empty workload first: once to load the pass's own classes, once more for its noise floor
        // (what the pass itself keeps live: GC notifications in flight); then the workload.
        livePeak(() -> 0);
        LivePeak floor = livePeak(() -> 0);
        LivePeak live = livePeak(work);

        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        Report report = new Report(area.key, variant, ProcessHandle.current().pid(), jvmArgs, workPerRun(area), secondsFirst,
                seconds, warm.runs(), warm.settled(), allocated / reps, heapPeak, live.peak(), live.base(), floor.peak(), heapDelta, rssAfter - rssBefore,
                rssPeak, checksum, losses);
        PrintStream out = Cli.stdout(); // UTF-8 whatever the locale: the parent reads it as UTF-8
        out.println(report.toLine());
        out.flush();
        return 0;
    }

    /**
     * Runs the workload until at least --warmup runs and --warmup-time seconds, and then until the JIT has
     * compiled nothing for JIT_QUIET_SECONDS, or 5 x --warmup-time has passed.
     */
    WarmUp warmUp(Workload work) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long start = System.nanoTime(), lastJitActivity = start, jitTime = jit.getTotalCompilationTime();
        int runs = 0;
        boolean quiet = false;
        while (true) {
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (runs >= warmup && elapsed >= warmupTime && (quiet || elapsed >= 5 * warmupTime)) return new WarmUp(runs, quiet);
            work.run();
            runs++;
            long now = System.nanoTime(), jt = jit.getTotalCompilationTime();
            if (jt != jitTime) { jitTime = jt; lastJitActivity = now; }
            quiet = (now - lastJitActivity) / 1e9 >= JIT_QUIET_SECONDS;
        }
    }

    /** How many warm-up runs there were, and whether the JIT had settled (compiled nothing for a while) by then. */
    record WarmUp(int runs, boolean settled) { }

    /** The most heap a workload kept live at once above what was live before it (peak), and that base. */
    record LivePeak(long peak, long base) { }

    /** Minimum forced full collections (and runs) of the memory pass. */
    static final int LIVE_SAMPLES = 50;

    /**
     * The live peak of a workload, above what was live before it ran. A daemon
     * thread forces a full collection (System.gc(): stop-the-world and complete with the serial and
     * parallel collectors), sleeps 1 ms, and again, while the workload runs, for at least one run and
     * LIVE_SAMPLES collections.
     */
    static LivePeak livePeak(Workload work) throws InterruptedException {
        try (GcWatch gcs = new GcWatch()) {
            // the base, from the collection itself: the heap's "used" counts threads' allocation buffers too
            long collections = GcWatch.collections();
            System.gc();
            gcs.await(collections);
            long base = gcs.maxAfterFull.getAndSet(0);
            long startFull = gcs.fullCollections.get();
            Thread collector = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        System.gc();
                        Thread.sleep(1);
                    }
                } catch (InterruptedException ignored) { }
            }, "live-peak-collector");
            collector.setDaemon(true);
            collector.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            do {
                work.run();
            } while (gcs.fullCollections.get() - startFull < LIVE_SAMPLES && System.nanoTime() < deadline);
            collector.interrupt();
            collector.join();
            gcs.await(collections);
            return new LivePeak(Math.max(0, gcs.maxAfterFull.get() - base), base);
        }
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
    // The parent: one fresh JVM per row, then the tables, the JSON and the report
    // ------------------------------------------------------------------------------------------

    /** A row's outcome: its report, or why it failed; jvmArgs are the options it was started with. */
    record Row(Area area, String variant, List<String> jvmArgs, Long pid, Report report, String failure, List<Long> pids,
               double[] firsts) {
        Row(Area area, String variant, List<String> jvmArgs, Long pid, Report report, String failure) {
            this(area, variant, jvmArgs, pid, report, failure, pid == null ? List.of() : List.of(pid),
                    report == null ? new double[0] : new double[]{report.seconds_first()});
        }
        String name() { return area.title + " " + variant; }
        boolean ok() { return report != null; }
    }

    /** A MOD variant's row against ORIG's row of the same area. */
    record Ratio(Area area, String variant, double time, double timeLow, double timeHigh, double cold, double alloc,
                 double livePeak, String verdict, Boolean sameResult) {
        String name() { return area.title + " " + variant + "/ORIG"; }
    }

    String mode() { return asShipped ? "as-shipped" : "same-jvm"; }

    @Override
    public Integer call() throws Exception {
        if (child != null) return runChild();
        List<Area> selected = validate();
        Path data = input != null ? input : Path.of(TrainingRun.DEFAULT_INPUT);
        TrainingRun.readInput(data, input == null); // fail (or write input.txt) once, here, not in every child
        Path jsonTmp = json == null ? null : outputTarget("--json", json, "results.json");
        Path reportTmp = report == null ? null : outputTarget("--report", report, "report.html");
        try {
            int total = selected.stream().mapToInt(a -> a.variants.size()).sum();
            List<Row> rows = new ArrayList<>();
            int i = 0;
            for (Area a : selected) {
                for (String v : a.variants) {
                    Cli.stderr().printf("[%d/%d] %s %s ...", ++i, total, a.title, v);
                    Row row = runRow(a, v, data);
                    Cli.stderr().println(row.ok()
                            ? String.format(Locale.ROOT, " cold %s, steady %s (%d forks, %d+ warm-up runs%s)", seconds(row.report.seconds_first()),
                            seconds(row.report.median()), row.pids().size(), row.report.warmup_runs(), row.report.jit_settled() ? "" : ", JIT not quiet")
                            : " FAILED: " + row.failure);
                    rows.add(row);
                }
            }
            List<Ratio> ratios = ratios(rows);
            PrintStream out = Cli.stdout();
            printTables(out, rows, ratios);
            out.flush();
            // both files written whole before either is renamed into place: a kill leaves both of this run, or
            // both of the last (or, in the instant between the renames, only the JSON new)
            if (jsonTmp != null) Files.writeString(jsonTmp, toJson(rows, ratios), StandardCharsets.UTF_8);
            if (reportTmp != null) Files.writeString(reportTmp, HtmlReport.html(this, rows, ratios), StandardCharsets.UTF_8);
            if (jsonTmp != null) Cli.moveIntoPlace(jsonTmp, json);
            if (reportTmp != null) Cli.moveIntoPlace(reportTmp, report);
            long failed = rows.stream().filter(r -> !r.ok()).count();
            if (failed > 0) Cli.stderr().println("bench-compare: " + failed + " of " + rows.size() + " rows failed (see above)");
            return failed == 0 ? 0 : 1;
        } finally {
            if (jsonTmp != null) Files.deleteIfExists(jsonTmp);
            if (reportTmp != null) Files.deleteIfExists(reportTmp);
        }
    }

    List<Area> validate() {
        if (reps < 2) throw UserError.usage("--reps must be at least 2, for a confidence interval (got " + reps + ")");
        if (forks < 1) throw UserError.usage("--forks must be at least 1 (got " + forks + ")");
        if (warmup < 0) throw UserError.usage("--warmup must be 0 or more (got " + warmup + ")");
        if (!(warmupTime >= 0) || Double.isInfinite(warmupTime))
            throw UserError.usage("--warmup-time must be a number of seconds, 0 or more (got " + warmupTime + ")");
        if (steps < 1) throw UserError.usage("--steps must be at least 1 (got " + steps + ")");
        if (inferSamples < 1) throw UserError.usage("--infer-samples must be at least 1 (got " + inferSamples + ")");
        if (!(timeout > 0)) throw UserError.usage("--timeout must be a number of seconds > 0 (got " + timeout + ")");
        new Config(nLayer, nEmbd, blockSize, nHead); // the model knobs, checked as the engines check them
        if (areas == null || areas.isEmpty()) return List.of(Area.values());
        List<Area> selected = new ArrayList<>();
        for (String key : areas) { Area a = Area.of(key); if (!selected.contains(a)) selected.add(a); }
        return selected;
    }

    /** Checks that an output file can be written, before any benchmark runs; returns a temporary file beside it. */
    static Path outputTarget(String option, Path target, String example) {
        Cli.checkOutput(option, target, example);
        try {
            return Cli.tempBeside(target); // deleted on exit if not renamed into place
        } catch (IOException e) {
            throw UserError.usage(option + " " + target + " cannot be written (" + e.getMessage() + "); choose another path");
        }
    }

    /** As shipped, what the optimized engine's main does with a long run (CHANGE 15), which a row's child never is. */
    static final String LONG_RUNS = String.format(Locale.ROOT, "a run of microgpt_optimized.java whose steps x batch size x layers "
            + "x width^2 reach %.0e restarts in a JVM without %s (C2, support/Relaunch.java); these rows ran as a shorter run "
            + "does; --jvm-args=-XX:TieredStopAtLevel=4 measures the other", Relaunch.LONG_RUN, Relaunch.C1_ONLY);

    /** The JVM options of a child running this variant: the mode's, then --jvm-args. */
    List<String> childJvmOptions(String variant) {
        List<String> opts = new ArrayList<>(asShipped
                ? List.of((variant.equals("ORIG") ? microgpt.JAVA_OPTIONS : microgpt_optimized.JAVA_OPTIONS).split(" "))
                : SAME_JVM_OPTIONS);
        opts.addAll(extraJvmArgs());
        return opts;
    }

    List<String> extraJvmArgs() {
        return Arrays.stream(jvmArgs.trim().split("\\s+")).filter(a -> !a.isEmpty()).toList();
    }

    /** A row: --forks fresh JVMs, one after the other; their measured runs pooled (see merge). */
    Row runRow(Area area, String variant, Path data) throws IOException, InterruptedException {
        List<Row> runs = new ArrayList<>();
        for (int f = 0; f < forks; f++) {
            Row one = runFork(area, variant, data);
            if (!one.ok()) return one;
            runs.add(one);
        }
        return merge(runs);
    }

    /**
     * One row from its forks: every measured run pooled (as JMH pools its forks' iterations), the cold
     * time the median of the forks' first runs, the memory figures the largest (allocation: the mean).
     * Forks that computed different results fail the row.
     */
    static Row merge(List<Row> forks) {
        Row first = forks.get(0);
        if (forks.size() == 1) return first;
        List<Report> rs = forks.stream().map(Row::report).toList();
        Report r0 = rs.get(0);
        for (Report r : rs)
            if (!sameChecksum(r0.checksum(), r.checksum()))
                return new Row(first.area, first.variant, first.jvmArgs, first.pid, null, "its forks computed different results ("
                        + r0.checksum() + " and " + r.checksum() + ")", forks.stream().map(Row::pid).toList(), new double[0]);
        double[] firsts = rs.stream().mapToDouble(Report::seconds_first).toArray();
        double[] seconds = rs.stream().flatMapToDouble(r -> Arrays.stream(r.seconds())).toArray();
        Report merged = new Report(r0.area(), r0.variant(), r0.pid(), r0.jvm_args(), r0.work_per_run(), Stats.median(firsts), seconds,
                rs.stream().mapToInt(Report::warmup_runs).min().orElse(0), rs.stream().allMatch(Report::jit_settled),
                Math.round(rs.stream().mapToLong(Report::allocated_bytes).average().orElse(0)),
                rs.stream().mapToLong(Report::heap_peak_bytes).max().orElse(0), rs.stream().mapToLong(Report::live_peak_bytes).max().orElse(0),
                r0.live_base_bytes(), rs.stream().mapToLong(Report::live_floor_bytes).max().orElse(0),
                rs.stream().mapToLong(Report::heap_delta_bytes).max().orElse(0), rs.stream().mapToLong(Report::rss_delta_bytes).max().orElse(0),
                rs.stream().mapToLong(Report::rss_peak_bytes).max().orElse(0), r0.checksum(), r0.losses());
        return new Row(first.area, first.variant, first.jvmArgs, first.pid, merged, null, forks.stream().map(Row::pid).toList(), firsts);
    }

    Row runFork(Area area, String variant, Path data) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> jvm = childJvmOptions(variant);
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), bench_compare.class.getName(),
                "--child", area.key + "/" + variant, "--input", data.toString(), "--steps", "" + steps,
                "--infer-samples", "" + inferSamples, "--reps", "" + reps, "--warmup", "" + warmup,
                "--warmup-time", "" + warmupTime, "--forks", "1",
                "--block-size", "" + blockSize, "--n-embd", "" + nEmbd, "--n-layer", "" + nLayer, "--n-head", "" + nHead));
        if (gcBetweenReps) cmd.add("--gc-between-reps");
        File out = File.createTempFile("bench-child", ".out"), err = File.createTempFile("bench-child", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
            if (!p.waitFor((long) (timeout * 1000), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                return new Row(area, variant, jvm, p.pid(), null, "timed out after " + timeout + " s (pid " + p.pid() + ")");
            }
            return outcome(area, variant, jvm, p.pid(), p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
        } finally {
            out.delete();
            err.delete();
        }
    }

    /** A finished child's row: its report, or (exit code, no report, a malformed one) why it failed. */
    static Row outcome(Area area, String variant, List<String> jvm, long pid, int exit, String stdout, String stderr) {
        String reportLine = stdout.lines().filter(l -> l.startsWith(REPORT_PREFIX)).findFirst().orElse(null);
        if (exit == 0 && reportLine != null) {
            try {
                return new Row(area, variant, jvm, pid, Report.parse(reportLine), null);
            } catch (IllegalArgumentException e) {
                return new Row(area, variant, jvm, pid, null, "malformed report: " + e.getMessage() + " (pid " + pid + ")");
            }
        }
        String reason = stderr.contains("OutOfMemoryError") || stderr.contains("out of memory")
                ? "out of memory" : exit == 0 ? "no report" : "exit code " + exit;
        // why, in the child's own words: its first line on stderr ("Unrecognized VM option ...", "bench-compare: out
        // of memory ..."), else on stdout, where a JVM that cannot start prints "Error occurred during initialization
        // of VM" and then the cause ("Multiple garbage collectors selected")
        String why = firstWords(stderr);
        if (why.isEmpty()) why = firstWords(stdout);
        return new Row(area, variant, jvm, pid, null, reason + ": " + (why.isEmpty() ? "no output" : why) + " (pid " + pid + ")");
    }

    /** The first non-blank line of a child's output, with the next when the first only says the JVM did not start; "" if none. */
    static String firstWords(String output) {
        List<String> lines = output.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
        if (lines.isEmpty()) return "";
        return lines.get(0).equals("Error occurred during initialization of VM") && lines.size() > 1
                ? lines.get(0) + ": " + lines.get(1) : lines.get(0);
    }

    /** Equal, or within 1e-12 relative: the engines' losses differ in their last bits. */
    static boolean sameChecksum(double a, double b) { return a == b || Math.abs(a - b) <= 1e-12 * Math.abs(a); }

    static List<Ratio> ratios(List<Row> rows) {
        List<Ratio> ratios = new ArrayList<>();
        for (Row r : rows) {
            if (r.variant.equals("ORIG") || !r.ok()) continue;
            Row orig = rows.stream().filter(o -> o.area == r.area && o.variant.equals("ORIG") && o.ok()).findFirst().orElse(null);
            if (orig == null) continue;
            Report m = r.report, o = orig.report;
            RatioCi t = Stats.ratioCi(o.seconds(), m.seconds());
            double a = o.checksum(), b = m.checksum();
            Boolean same = Double.isNaN(a) || Double.isNaN(b) ? null : sameChecksum(a, b);
            ratios.add(new Ratio(r.area, r.variant, t.ratio(), t.ci().low(), t.ci().high(), m.seconds_first() / o.seconds_first(),
                    (double) m.allocated_bytes() / o.allocated_bytes(), (double) m.live_peak_bytes() / o.live_peak_bytes(),
                    Double.isNaN(t.ci().low()) ? "no clear difference" : Stats.verdict(t.ci().low(), t.ci().high()), same));
        }
        return ratios;
    }

    // ------------------------------------------------------------------------------------------
    // Output: the tables, JSON
    // ------------------------------------------------------------------------------------------

    String configLine() {
        return String.format(Locale.ROOT, "steps=%d infer-samples=%d forks=%d reps=%d warmup=%d warmup-time=%ss block-size=%d n-embd=%d "
                        + "n-layer=%d n-head=%d gc-between-reps=%s", steps, inferSamples, forks, reps, warmup, fmt(warmupTime),
                blockSize, nEmbd, nLayer, nHead, gcBetweenReps);
    }

    /** Each distinct set of child JVM options, with the variants that ran with it. */
    static Map<String, List<String>> optionSets(List<Row> rows) {
        Map<String, List<String>> sets = new LinkedHashMap<>();
        for (Row r : rows) {
            List<String> args = r.ok() ? r.report.jvm_args() : r.jvmArgs;
            List<String> vs = sets.computeIfAbsent(String.join(" ", args), k -> new ArrayList<>());
            if (!vs.contains(r.variant)) vs.add(r.variant);
        }
        return sets;
    }

    void printTables(PrintStream out, List<Row> rows, List<Ratio> ratios) {
        out.printf("%nmicrogpt.java (ORIG) vs microgpt_optimized.java (MOD, MOD_FLAT = flat KV cache)%n");
        out.printf("mode: %s (%s)%n", mode(), asShipped ? "each engine's own //JAVA_OPTIONS" : "the same JVM options for every child");
        out.printf("jvm: %s %s%n", System.getProperty("java.vm.name"), System.getProperty("java.version"));
        optionSets(rows).forEach((opts, vs) -> out.printf("jvm options (%s): %s%n", String.join(", ", vs), opts.isEmpty() ? "(none)" : opts));
        if (asShipped) out.printf("long runs (MOD): %s%n", LONG_RUNS);
        out.printf("config: %s%n%n", configLine());

        out.printf("Time per run: cold = first run of a fresh JVM (median over the forks); steady = after warm-up, over the "
                + "measured runs of all %d forks%n", forks);
        String tf = "%-21s %17s %11s %11s %25s %25s %8s%n";
        out.printf(tf, "Benchmark", "Work/run", "Cold", "Median", "95% CI (geo. mean)", "min..max", "Warm-up");
        for (Row r : rows) {
            if (!r.ok()) { out.printf("%-21s FAILED: %s%n", r.name(), r.failure); continue; }
            Report p = r.report;
            Interval ci = p.ci();
            out.printf(tf, r.name(), p.work_per_run() + " " + r.area.unit, seconds(p.seconds_first()), seconds(p.median()),
                    seconds(ci.low()) + ".." + seconds(ci.high()), seconds(p.min()) + ".." + seconds(p.max()),
                    p.warmup_runs() + (p.jit_settled() ? "" : "*"));
        }
        if (rows.stream().anyMatch(r -> r.ok() && !r.report.jit_settled()))
            out.println("* the JIT was still compiling when warm-up reached its time cap (5 x --warmup-time)");

        out.printf("%nMemory per run: alloc = bytes allocated; heap peak = most heap in use at once (measured runs); "
                + "live peak = most data reachable at once, above what was live before (memory pass)%n");
        String mf = "%-21s %11s %11s %11s %11s %11s%n";
        out.printf(mf, "Benchmark", "Alloc/run", "Heap peak", "Live peak", "RSS delta", "RSS peak");
        for (Row r : rows) {
            if (!r.ok()) { out.printf("%-21s FAILED%n", r.name()); continue; }
            Report p = r.report;
            out.printf(mf, r.name(), bytes(p.allocated_bytes()), bytes(p.heap_peak_bytes()), bytes(p.live_peak_bytes()),
                    bytes(p.rss_delta_bytes()), bytes(p.rss_peak_bytes()));
        }
        LongSummaryStatistics floors = rows.stream().filter(Row::ok).mapToLong(r -> r.report.live_floor_bytes()).summaryStatistics();
        if (floors.getCount() > 0)
            out.printf("The memory pass's own floor (an empty workload, same pass) was %s..%s: live peaks near it mean "
                    + "no measurable live data.%n", bytes(floors.getMin()), bytes(floors.getMax()));

        out.printf("%nMOD/ORIG, steady state (time: ratio of geometric means, 95%% CI by Welch's t on log times; "
                + "below 1: MOD is faster / allocates less / keeps less live)%n");
        String rf = "%-26s %7s %19s %9s %-20s %8s %8s %8s  %s%n";
        out.printf(rf, "Benchmark", "Time", "95% CI", "Speed-up", "Verdict", "Cold", "Alloc", "Live", "Same result");
        for (Ratio q : ratios) {
            out.printf(rf, q.name(), ratio(q.time), "[" + ratio(q.timeLow) + ", " + ratio(q.timeHigh) + "]", speedup(1 / q.time),
                    q.verdict, ratio(q.cold), ratio(q.alloc), ratio(q.livePeak),
                    q.sameResult == null ? "not checked" : q.sameResult ? "yes" : "NO");
        }
    }

    static String fmt(double x) {
        return x == Math.rint(x) && Math.abs(x) < 1e15 ? Long.toString((long) x) : Double.toString(x);
    }

    static String ratio(double r) {
        if (Double.isNaN(r) || Double.isInfinite(r)) return "n/a";
        return r >= 0.01 ? String.format(Locale.ROOT, "%.3f", r) : String.format(Locale.ROOT, "%.1e", r);
    }

    static String speedup(double s) {
        if (Double.isNaN(s) || Double.isInfinite(s)) return "n/a";
        return String.format(Locale.ROOT, s >= 10 ? "%.0fx" : "%.1fx", s);
    }

    static String seconds(double s) {
        if (Double.isNaN(s) || Double.isInfinite(s)) return "n/a";
        if (Math.abs(s) < 1e-3) return String.format(Locale.ROOT, "%.1f us", s * 1e6);
        if (Math.abs(s) < 1) return String.format(Locale.ROOT, "%.2f ms", s * 1e3);
        return String.format(Locale.ROOT, "%.3f s", s);
    }

    static String bytes(long b) {
        if (b < 0) return "-" + bytes(-b);
        if (b < 1024) return b + " B";
        if (b < 1024 * 1024) return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        if (b < 1024L * 1024 * 1024) return String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
        return String.format(Locale.ROOT, "%.2f GiB", b / 1073741824.0);
    }

    /** A JSON number, or null where JSON has none (NaN, infinities). */
    static JsonElement num(double x) { return Double.isFinite(x) ? new JsonPrimitive(x) : JsonNull.INSTANCE; }

    static JsonArray strings(List<String> xs) {
        JsonArray a = new JsonArray();
        xs.forEach(a::add);
        return a;
    }

    static JsonArray numbers(double[] xs) {
        JsonArray a = new JsonArray();
        for (double x : xs) a.add(num(x));
        return a;
    }

    String toJson(List<Row> rows, List<Ratio> ratios) {
        JsonObject root = new JsonObject();
        root.addProperty("mode", mode());
        JsonObject config = new JsonObject();
        config.addProperty("steps", steps);
        config.addProperty("infer_samples", inferSamples);
        config.addProperty("reps", reps);
        config.addProperty("forks", forks);
        config.addProperty("warmup", warmup);
        config.add("warmup_time", num(warmupTime));
        config.addProperty("block_size", blockSize);
        config.addProperty("n_embd", nEmbd);
        config.addProperty("n_layer", nLayer);
        config.addProperty("n_head", nHead);
        config.addProperty("gc_between_reps", gcBetweenReps);
        config.addProperty("input", input == null ? TrainingRun.DEFAULT_INPUT : input.toString());
        config.add("areas", strings(rows.stream().map(r -> r.area.key).distinct().toList()));
        root.add("config", config);
        JsonObject jvm = new JsonObject();
        jvm.addProperty("version", System.getProperty("java.version"));
        jvm.addProperty("vm", System.getProperty("java.vm.name"));
        jvm.add("args", strings(extraJvmArgs()));
        jvm.add("orig_args", strings(childJvmOptions("ORIG")));
        jvm.add("mod_args", strings(childJvmOptions("MOD")));
        if (asShipped) jvm.addProperty("mod_long_runs", LONG_RUNS);
        root.add("jvm", jvm);
        JsonArray results = new JsonArray();
        for (Row r : rows) {
            JsonObject o = new JsonObject();
            o.addProperty("name", r.name());
            o.addProperty("area", r.area.key);
            o.addProperty("variant", r.variant);
            Report p = r.report;
            o.add("pid", r.pid == null ? JsonNull.INSTANCE : new JsonPrimitive(r.pid));
            JsonArray pids = new JsonArray();
            r.pids().forEach(pids::add);
            o.add("pids", pids);
            o.add("jvm_args", strings(p != null ? p.jvm_args() : r.jvmArgs));
            o.addProperty("work_per_run", workPerRun(r.area));
            o.addProperty("work_unit", r.area.unit);
            o.addProperty("reps", reps);
            o.addProperty("forks", r.pids().size());
            Interval ci = p == null ? new Interval(Double.NaN, Double.NaN) : p.ci();
            o.add("seconds_first", num(p == null ? Double.NaN : p.seconds_first()));
            o.add("seconds_median", num(p == null ? Double.NaN : p.median()));
            o.add("seconds_min", num(p == null ? Double.NaN : p.min()));
            o.add("seconds_max", num(p == null ? Double.NaN : p.max()));
            o.add("seconds_ci_low", num(ci.low()));
            o.add("seconds_ci_high", num(ci.high()));
            o.add("seconds_geomean", num(p == null ? Double.NaN : Stats.geoMean(p.seconds())));
            o.add("seconds", p == null ? JsonNull.INSTANCE : numbers(p.seconds()));
            o.add("seconds_first_forks", numbers(r.firsts()));
            o.add("warmup_runs", p == null ? JsonNull.INSTANCE : new JsonPrimitive(p.warmup_runs()));
            o.add("jit_settled", p == null ? JsonNull.INSTANCE : new JsonPrimitive(p.jit_settled()));
            String[] memoryKeys = {"allocated_bytes", "heap_peak_bytes", "live_peak_bytes", "live_base_bytes", "live_floor_bytes", "heap_delta_bytes",
                    "rss_delta_bytes", "rss_peak_bytes"};
            long[] memory = p == null ? null : new long[]{p.allocated_bytes(), p.heap_peak_bytes(), p.live_peak_bytes(),
                    p.live_base_bytes(), p.live_floor_bytes(), p.heap_delta_bytes(), p.rss_delta_bytes(), p.rss_peak_bytes()};
            for (int k = 0; k < memoryKeys.length; k++)
                o.add(memoryKeys[k], memory == null ? JsonNull.INSTANCE : new JsonPrimitive(memory[k]));
            o.add("checksum", num(p == null ? Double.NaN : p.checksum()));
            if (p != null && p.losses() != null) o.add("losses", numbers(p.losses()));
            o.add("failed", r.failure == null ? JsonNull.INSTANCE : new JsonPrimitive(r.failure));
            results.add(o);
        }
        root.add("results", results);
        JsonArray rs = new JsonArray();
        for (Ratio q : ratios) {
            JsonObject o = new JsonObject();
            o.addProperty("area", q.area.key);
            o.addProperty("variant", q.variant);
            o.add("time_ratio", num(q.time));
            o.add("time_ratio_ci_low", num(q.timeLow));
            o.add("time_ratio_ci_high", num(q.timeHigh));
            o.add("cold_time_ratio", num(q.cold));
            o.add("alloc_ratio", num(q.alloc));
            o.add("live_peak_ratio", num(q.livePeak));
            o.addProperty("verdict", q.verdict);
            o.add("same_result", q.sameResult == null ? JsonNull.INSTANCE : new JsonPrimitive(q.sameResult));
            rs.add(o);
        }
        root.add("ratios", rs);
        return new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create().toJson(root) + "\n";
    }
}
