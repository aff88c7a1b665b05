///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//DEPS org.apache.commons:commons-math3:3.6.1
//SOURCES microgpt.java
//SOURCES microgpt_optimized.java
//SOURCES harness/Area.java harness/BenchSettings.java harness/Workloads.java harness/Measurement.java harness/ChildReport.java
//SOURCES harness/Row.java harness/Ratio.java harness/Stats.java harness/Tables.java harness/JsonResults.java harness/HtmlReport.java
//SOURCES support/Svg.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * Measures microgpt.java (ORIG) against microgpt_optimized.java (MOD, and MOD_FLAT: its flat KV
 * cache) area by area, with the workloads of bench_compare.py. This file is the method: the options,
 * the JVM options of each mode, and for every area and variant a row, run in --forks fresh JVMs
 * (this script again, with --child) whose reports are pooled, compared and written out. Its parts,
 * in harness/, each one thing (none reads this file; docs/harness.md says how each figure is made):
 *   Area, Workloads             what is measured: the areas, and each engine's workload in each
 *   BenchSettings               what the options decided, handed to the parts
 *   Measurement, ChildReport    the child: cold run, warm-up until the JIT is quiet, timed runs,
 *                               allocation, heap, RSS, the live-peak pass; its one-line report
 *   Row, Ratio, Stats           a row from its forks; MOD/ORIG ratios, intervals, verdicts
 *   Tables, JsonResults, HtmlReport   the outputs
 * The children call the engines' own code (no copies). The JVM options this parent inherits from the
 * engines' //JAVA_OPTIONS (JBang merges those of every //SOURCES file) never reach a child: each
 * child gets the options of the chosen mode.
 */
package mgpt;

import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
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
                        + "runs and --warmup-time seconds have passed and the JIT has been quiet (no compilation finished, its threads "
                        + "used no CPU) for "
                        + Measurement.JIT_QUIET_SECONDS + " s (or 5 x --warmup-time has passed), then --reps "
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
    @Option(names = "--threads", paramLabel = "T", description = "MOD's threads in 'train-steps', as its --threads: a "
            + "row's step has one document, and a model of 2 x 16384 parameters or more (64 wide) shares Adam and the "
            + "matrices' copy among them (default: ${DEFAULT-VALUE}, as MOD's for one document). ORIG has one thread.")
    int threads = 1;
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
    public static void main(String... args) {
        System.exit(Cli.run(new bench_compare(), args));
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

    /** What the options decided, for the parts: workloads, the child's measurement, the outputs. */
    BenchSettings settings() {
        return new BenchSettings(asShipped, steps, inferSamples, reps, forks, warmup, warmupTime,
                new Config(nLayer, nEmbd, blockSize, nHead), threads, gcBetweenReps, input == null ? TrainingRun.DEFAULT_INPUT : input.toString(),
                extraJvmArgs(), childJvmOptions("ORIG"), childJvmOptions("MOD"), LONG_RUNS);
    }

    // ------------------------------------------------------------------------------------------
    // The method: for each area and variant a row, each row in --forks fresh JVMs (this file,
    // with --child), their runs pooled; then the ratios, the tables, the JSON and the report
    // ------------------------------------------------------------------------------------------

    @Override
    public Integer call() throws Exception {
        if (child != null) return runChild();
        List<Area> selected = validate();
        BenchSettings settings = settings();
        Path data = input != null ? input : Path.of(TrainingRun.DEFAULT_INPUT);
        TrainingRun.readInput(data, input == null); // fail (or write input.txt) once, here, not in every child
        Cli.Temp jsonTmp = json == null ? null : outputTarget("--json", json, "results.json");
        Cli.Temp reportTmp = report == null ? null : outputTarget("--report", report, "report.html");
        try {
            int total = selected.stream().mapToInt(a -> a.variants.size()).sum();
            List<Row> rows = new ArrayList<>();
            int i = 0;
            for (Area a : selected) {
                for (String v : a.variants) {
                    Cli.stderr().printf("[%d/%d] %s %s ...", ++i, total, a.title, v);
                    Row row = runRow(a, v, data);
                    Cli.stderr().println(row.ok()
                            ? String.format(Locale.ROOT, " cold %s, steady %s (%d forks, %d+ warm-up runs%s)", Tables.seconds(row.report().seconds_first()),
                            Tables.seconds(row.report().median()), row.pids().size(), row.report().warmup_runs(), row.report().jit_settled() ? "" : ", JIT not quiet")
                            : " FAILED: " + row.failure());
                    rows.add(row);
                }
            }
            List<Ratio> ratios = Ratio.of(rows);
            PrintStream out = Cli.stdout();
            Tables.print(out, settings, rows, ratios);
            out.flush();
            // both files written whole before either is renamed into place: a kill leaves both of this run, or
            // both of the last (or, in the instant between the renames, only the JSON new)
            if (jsonTmp != null) jsonTmp.writeAndClose(JsonResults.toJson(settings, rows, ratios));
            if (reportTmp != null) reportTmp.writeAndClose(HtmlReport.html(settings, rows, ratios));
            if (jsonTmp != null) Cli.moveIntoPlace(jsonTmp.path(), json);
            if (reportTmp != null) Cli.moveIntoPlace(reportTmp.path(), report);
            long failed = rows.stream().filter(r -> !r.ok()).count();
            if (failed > 0) Cli.stderr().println("bench-compare: " + failed + " of " + rows.size() + " rows failed (see above)");
            return failed == 0 ? 0 : 1;
        } finally {
            for (Cli.Temp tmp : new Cli.Temp[] {jsonTmp, reportTmp}) {
                if (tmp == null) continue;
                tmp.out().close();
                Files.deleteIfExists(tmp.path());
            }
        }
    }

    List<Area> validate() {
        if (reps < 2) throw UserError.usage("--reps must be at least 2, for a confidence interval (got " + reps + ")");
        if (forks < 1) throw UserError.usage("--forks must be at least 1 (got " + forks + ")");
        if (threads < 1) throw UserError.usage("--threads must be at least 1 (got " + threads + ")");
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
    static Cli.Temp outputTarget(String option, Path target, String example) {
        Cli.checkOutput(option, target, example);
        try {
            return Cli.tempBeside(target); // deleted on exit if not renamed into place
        } catch (IOException e) {
            throw UserError.usage(option + " " + target + " cannot be written (" + e.getMessage() + "); choose another path");
        }
    }

    /** A row: --forks fresh JVMs, one after the other; their measured runs pooled (Row.merge). */
    Row runRow(Area area, String variant, Path data) throws IOException, InterruptedException {
        List<Row> runs = new ArrayList<>();
        for (int f = 0; f < forks; f++) {
            Row one = runFork(area, variant, data);
            if (!one.ok()) return one;
            runs.add(one);
        }
        return Row.merge(runs);
    }

    /** One fresh JVM: this file's main with --child and the same settings, the mode's JVM options, a time limit. */
    Row runFork(Area area, String variant, Path data) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> jvm = childJvmOptions(variant);
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), bench_compare.class.getName(),
                "--child", area.key + "/" + variant, "--input", data.toString(), "--steps", "" + steps,
                "--infer-samples", "" + inferSamples, "--reps", "" + reps, "--warmup", "" + warmup,
                "--warmup-time", "" + warmupTime, "--forks", "1",
                "--block-size", "" + blockSize, "--n-embd", "" + nEmbd, "--n-layer", "" + nLayer, "--n-head", "" + nHead,
                "--threads", "" + threads));
        if (gcBetweenReps) cmd.add("--gc-between-reps");
        File out = File.createTempFile("bench-child", ".out"), err = File.createTempFile("bench-child", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out).redirectError(err).start();
            if (!p.waitFor((long) (timeout * 1000), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor();
                return new Row(area, variant, jvm, p.pid(), null, "timed out after " + timeout + " s (pid " + p.pid() + ")");
            }
            return Row.outcome(area, variant, jvm, p.pid(), p.exitValue(), Files.readString(out.toPath()), Files.readString(err.toPath()));
        } finally {
            out.delete();
            err.delete();
        }
    }

    // ------------------------------------------------------------------------------------------
    // The child (--child AREA/VARIANT): one row's workload measured in this JVM, reported in one line
    // ------------------------------------------------------------------------------------------

    int runChild() throws Exception {
        String[] av = child.split("/");
        Area area = Area.of(av[0]);
        String variant = av[1];
        BenchSettings settings = settings();
        try {
            Workloads.Workload work = Workloads.engine(variant, microgpt.splitDocs(TrainingRun.readInput(input, false)), settings).workload(area);
            ChildReport report = Measurement.measure(area, variant, work, settings);
            PrintStream out = Cli.stdout(); // UTF-8 whatever the locale: the parent reads it as UTF-8
            out.println(report.toLine());
            out.flush();
            return 0;
        } catch (OutOfMemoryError e) { // one line, as the engines report it; the parent marks the row failed
            Cli.stderr().println("bench-compare: out of memory in " + child + " (" + e.getMessage() + " with -Xmx"
                    + Tables.bytes(Runtime.getRuntime().maxMemory()) + "); give the children more heap with --jvm-args -Xmx4g");
            return 1;
        }
    }
}
