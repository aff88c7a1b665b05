package mgpt;

import com.google.gson.*;
import java.util.*;

/**
 * The harness's results as JSON (--json): the mode and settings, the JVM and each engine's options, every row
 * (all its figures, or why it failed) and every ratio; numbers JSON cannot carry (NaN, infinities) are null.
 * The schema is in docs/harness.md.
 */
final class JsonResults {
    private JsonResults() { }

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

    static String toJson(BenchSettings s, List<Row> rows, List<Ratio> ratios) {
        JsonObject root = new JsonObject();
        root.addProperty("mode", s.mode());
        JsonObject config = new JsonObject();
        config.addProperty("steps", s.steps());
        config.addProperty("infer_samples", s.inferSamples());
        config.addProperty("reps", s.reps());
        config.addProperty("forks", s.forks());
        config.addProperty("warmup", s.warmup());
        config.add("warmup_time", num(s.warmupTime()));
        config.addProperty("block_size", s.model().block_size());
        config.addProperty("n_embd", s.model().n_embd());
        config.addProperty("n_layer", s.model().n_layer());
        config.addProperty("n_head", s.model().n_head());
        config.addProperty("threads", s.threads());
        config.addProperty("gc_between_reps", s.gcBetweenReps());
        config.addProperty("input", s.input());
        config.add("areas", strings(rows.stream().map(r -> r.area().key).distinct().toList()));
        root.add("config", config);
        JsonObject jvm = new JsonObject();
        jvm.addProperty("version", System.getProperty("java.version"));
        jvm.addProperty("vm", System.getProperty("java.vm.name"));
        jvm.add("args", strings(s.extraJvmArgs()));
        jvm.add("orig_args", strings(s.origJvmArgs()));
        jvm.add("mod_args", strings(s.modJvmArgs()));
        if (s.asShipped()) jvm.addProperty("mod_long_runs", s.longRuns());
        root.add("jvm", jvm);
        JsonArray results = new JsonArray();
        for (Row r : rows) {
            JsonObject o = new JsonObject();
            o.addProperty("name", r.name());
            o.addProperty("area", r.area().key);
            o.addProperty("variant", r.variant());
            ChildReport p = r.report();
            o.add("pid", r.pid() == null ? JsonNull.INSTANCE : new JsonPrimitive(r.pid()));
            JsonArray pids = new JsonArray();
            r.pids().forEach(pids::add);
            o.add("pids", pids);
            o.add("jvm_args", strings(p != null ? p.jvm_args() : r.jvmArgs()));
            o.addProperty("work_per_run", r.area().workPerRun(s));
            o.addProperty("work_unit", r.area().unit);
            o.addProperty("reps", s.reps());
            o.addProperty("forks", r.pids().size());
            Stats.Interval ci = p == null ? new Stats.Interval(Double.NaN, Double.NaN) : p.ci();
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
            o.add("jit_cpu_ms", p == null ? JsonNull.INSTANCE : new JsonPrimitive(p.jit_cpu_ms()));
            String[] memoryKeys = {"allocated_bytes", "heap_peak_bytes", "live_peak_bytes", "live_base_bytes", "live_floor_bytes", "heap_delta_bytes",
                    "rss_delta_bytes", "rss_peak_bytes"};
            long[] memory = p == null ? null : new long[]{p.allocated_bytes(), p.heap_peak_bytes(), p.live_peak_bytes(),
                    p.live_base_bytes(), p.live_floor_bytes(), p.heap_delta_bytes(), p.rss_delta_bytes(), p.rss_peak_bytes()};
            for (int k = 0; k < memoryKeys.length; k++)
                o.add(memoryKeys[k], memory == null ? JsonNull.INSTANCE : new JsonPrimitive(memory[k]));
            o.add("checksum", num(p == null ? Double.NaN : p.checksum()));
            if (p != null && p.losses() != null) o.add("losses", numbers(p.losses()));
            o.add("failed", r.failure() == null ? JsonNull.INSTANCE : new JsonPrimitive(r.failure()));
            results.add(o);
        }
        root.add("results", results);
        JsonArray rs = new JsonArray();
        for (Ratio q : ratios) {
            JsonObject o = new JsonObject();
            o.addProperty("area", q.area().key);
            o.addProperty("variant", q.variant());
            o.add("time_ratio", num(q.time()));
            o.add("time_ratio_ci_low", num(q.timeLow()));
            o.add("time_ratio_ci_high", num(q.timeHigh()));
            o.add("cold_time_ratio", num(q.cold()));
            o.add("alloc_ratio", num(q.alloc()));
            o.add("live_peak_ratio", num(q.livePeak()));
            o.addProperty("verdict", q.verdict());
            o.add("same_result", q.sameResult() == null ? JsonNull.INSTANCE : new JsonPrimitive(q.sameResult()));
            rs.add(o);
        }
        root.add("ratios", rs);
        return new GsonBuilder().setPrettyPrinting().serializeNulls().disableHtmlEscaping().create().toJson(root) + "\n";
    }
}
