package mgpt;

import java.util.*;

/**
 * A row's outcome in the parent: its report, or why it failed; jvmArgs are the options it was started with, pids
 * and firsts the processes of its forks and their cold times. Made from a finished child (outcome) and from
 * the forks of a row (merge).
 */
record Row(Area area, String variant, List<String> jvmArgs, Long pid, ChildReport report, String failure, List<Long> pids,
           double[] firsts) {
    Row(Area area, String variant, List<String> jvmArgs, Long pid, ChildReport report, String failure) {
        this(area, variant, jvmArgs, pid, report, failure, pid == null ? List.of() : List.of(pid),
                report == null ? new double[0] : new double[]{report.seconds_first()});
    }

    String name() { return area.title + " " + variant; }
    boolean ok() { return report != null; }

    /** A finished child's row: its report, or (exit code, no report, a malformed one) why it failed. */
    static Row outcome(Area area, String variant, List<String> jvm, long pid, int exit, String stdout, String stderr) {
        String reportLine = stdout.lines().filter(l -> l.startsWith(ChildReport.REPORT_PREFIX)).findFirst().orElse(null);
        if (exit == 0 && reportLine != null) {
            try {
                return new Row(area, variant, jvm, pid, ChildReport.parse(reportLine), null);
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

    /**
     * One row from its forks: every measured run pooled (as JMH pools its forks' iterations), the cold
     * time the median of the forks' first runs, the memory figures the largest (allocation: the mean).
     * Forks that computed different results fail the row.
     */
    static Row merge(List<Row> forks) {
        Row first = forks.get(0);
        if (forks.size() == 1) return first;
        List<ChildReport> rs = forks.stream().map(Row::report).toList();
        ChildReport r0 = rs.get(0);
        for (ChildReport r : rs)
            if (!sameChecksum(r0.checksum(), r.checksum()))
                return new Row(first.area, first.variant, first.jvmArgs, first.pid, null, "its forks computed different results ("
                        + r0.checksum() + " and " + r.checksum() + ")", forks.stream().map(Row::pid).toList(), new double[0]);
        double[] firsts = rs.stream().mapToDouble(ChildReport::seconds_first).toArray();
        double[] seconds = rs.stream().flatMapToDouble(r -> Arrays.stream(r.seconds())).toArray();
        ChildReport merged = new ChildReport(r0.area(), r0.variant(), r0.pid(), r0.jvm_args(), r0.work_per_run(), Stats.median(firsts), seconds,
                rs.stream().mapToInt(ChildReport::warmup_runs).min().orElse(0), rs.stream().allMatch(ChildReport::jit_settled),
                rs.stream().mapToLong(ChildReport::jit_cpu_ms).max().orElse(0),
                Math.round(rs.stream().mapToLong(ChildReport::allocated_bytes).average().orElse(0)),
                rs.stream().mapToLong(ChildReport::heap_peak_bytes).max().orElse(0), rs.stream().mapToLong(ChildReport::live_peak_bytes).max().orElse(0),
                r0.live_base_bytes(), rs.stream().mapToLong(ChildReport::live_floor_bytes).max().orElse(0),
                rs.stream().mapToLong(ChildReport::heap_delta_bytes).max().orElse(0), rs.stream().mapToLong(ChildReport::rss_delta_bytes).max().orElse(0),
                rs.stream().mapToLong(ChildReport::rss_peak_bytes).max().orElse(0), r0.checksum(), r0.losses());
        return new Row(first.area, first.variant, first.jvmArgs, first.pid, merged, null, forks.stream().map(Row::pid).toList(), firsts);
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
}
