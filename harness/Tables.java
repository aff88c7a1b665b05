package mgpt;

import java.io.PrintStream;
import java.util.*;

/**
 * The harness's text output: the mode and JVM options, then three tables (time per run, memory per run,
 * MOD/ORIG ratios); and the number formats, which the HTML report uses too. Numbers print the same in every
 * locale.
 */
final class Tables {
    private Tables() { }

    static void print(PrintStream out, BenchSettings s, List<Row> rows, List<Ratio> ratios) {
        out.printf("%nmicrogpt.java (ORIG) vs microgpt_optimized.java (MOD, MOD_FLAT = flat KV cache)%n");
        out.printf("mode: %s (%s)%n", s.mode(), s.asShipped() ? "each engine's own //JAVA_OPTIONS" : "the same JVM options for every child");
        out.printf("jvm: %s %s%n", System.getProperty("java.vm.name"), System.getProperty("java.version"));
        Row.optionSets(rows).forEach((opts, vs) -> out.printf("jvm options (%s): %s%n", String.join(", ", vs), opts.isEmpty() ? "(none)" : opts));
        if (s.asShipped()) out.printf("long runs (MOD): %s%n", s.longRuns());
        out.printf("config: %s%n%n", s.configLine());

        out.printf("Time per run: cold = first run of a fresh JVM (median over the forks); steady = after warm-up, over the "
                + "measured runs of all %d forks%n", s.forks());
        String tf = "%-21s %17s %11s %11s %25s %25s %8s%n";
        out.printf(tf, "Benchmark", "Work/run", "Cold", "Median", "95% CI (geo. mean)", "min..max", "Warm-up");
        for (Row r : rows) {
            if (!r.ok()) { out.printf("%-21s FAILED: %s%n", r.name(), r.failure()); continue; }
            ChildReport p = r.report();
            Stats.Interval ci = p.ci();
            out.printf(tf, r.name(), p.work_per_run() + " " + r.area().unit, seconds(p.seconds_first()), seconds(p.median()),
                    seconds(ci.low()) + ".." + seconds(ci.high()), seconds(p.min()) + ".." + seconds(p.max()),
                    p.warmup_runs() + (p.jit_settled() ? "" : "*") + (p.jit_cpu_ms() > 0 ? "+" : ""));
        }
        if (rows.stream().anyMatch(r -> r.ok() && !r.report().jit_settled()))
            out.println("* the JIT was still compiling when warm-up reached its time cap (5 x --warmup-time)");
        long jitMs = rows.stream().filter(Row::ok).mapToLong(r -> r.report().jit_cpu_ms()).max().orElse(0);
        if (jitMs > 0) out.printf("+ the JIT's threads ran during the measured runs (at most %d ms of CPU in one JVM)%n", jitMs);

        out.printf("%nMemory per run: alloc = bytes allocated; heap peak = most heap in use at once (measured runs); "
                + "live peak = most data reachable at once, above what was live before (memory pass)%n");
        String mf = "%-21s %11s %11s %11s %11s %11s%n";
        out.printf(mf, "Benchmark", "Alloc/run", "Heap peak", "Live peak", "RSS delta", "RSS peak");
        for (Row r : rows) {
            if (!r.ok()) { out.printf("%-21s FAILED%n", r.name()); continue; }
            ChildReport p = r.report();
            out.printf(mf, r.name(), bytes(p.allocated_bytes()), bytes(p.heap_peak_bytes()), bytes(p.live_peak_bytes()),
                    bytes(p.rss_delta_bytes()), bytes(p.rss_peak_bytes()));
        }
        LongSummaryStatistics floors = rows.stream().filter(Row::ok).mapToLong(r -> r.report().live_floor_bytes()).summaryStatistics();
        if (floors.getCount() > 0)
            out.printf("The memory pass's own floor (an empty workload, same pass) was %s..%s: live peaks near it mean "
                    + "no measurable live data.%n", bytes(floors.getMin()), bytes(floors.getMax()));

        out.printf("%nMOD/ORIG, steady state (time: ratio of geometric means, 95%% CI by Welch's t on log times; "
                + "below 1: MOD is faster / allocates less / keeps less live)%n");
        String rf = "%-26s %7s %19s %9s %-20s %8s %8s %8s  %s%n";
        out.printf(rf, "Benchmark", "Time", "95% CI", "Speed-up", "Verdict", "Cold", "Alloc", "Live", "Same result");
        for (Ratio q : ratios) {
            out.printf(rf, q.name(), ratio(q.time()), "[" + ratio(q.timeLow()) + ", " + ratio(q.timeHigh()) + "]", speedup(1 / q.time()),
                    q.verdict(), ratio(q.cold()), ratio(q.alloc()), ratio(q.livePeak()),
                    q.sameResult() == null ? "not checked" : q.sameResult() ? "yes" : "NO");
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
}
