package mgpt;

import com.google.gson.*;
import java.util.Arrays;
import java.util.List;

/**
 * What a child measured, and the child-to-parent protocol: one line on the child's stdout, REPORT_PREFIX and the
 * record as JSON (Gson). The parent finds the line among anything else the child printed and parses it back;
 * a missing or malformed field is an IllegalArgumentException naming it.
 */
record ChildReport(String area, String variant, long pid, List<String> jvm_args, int work_per_run, double seconds_first,
                   double[] seconds, int warmup_runs, boolean jit_settled, long jit_cpu_ms, long allocated_bytes, long heap_peak_bytes,
                   long live_peak_bytes, long live_base_bytes, long live_floor_bytes, long heap_delta_bytes, long rss_delta_bytes,
                   long rss_peak_bytes, double checksum, double[] losses) {

    static final String REPORT_PREFIX = "BENCH-REPORT ";

    /** NaN and infinities travel as JSON's extended literals; a report is one line (no pretty printing). */
    static final Gson GSON = new GsonBuilder().serializeSpecialFloatingPointValues().setStrictness(Strictness.LENIENT).create();

    String toLine() { return REPORT_PREFIX + GSON.toJson(this); }

    /** Parses a report line; a missing or malformed field is an IllegalArgumentException naming it. */
    static ChildReport parse(String line) {
        if (!line.startsWith(REPORT_PREFIX)) throw new IllegalArgumentException("not a report line: " + abbreviate(line));
        JsonObject json;
        try {
            json = JsonParser.parseString(line.substring(REPORT_PREFIX.length())).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("report is not a JSON object: " + abbreviate(line.substring(REPORT_PREFIX.length())));
        }
        for (java.lang.reflect.RecordComponent c : ChildReport.class.getRecordComponents()) { // each field there, and of its type
            if (!json.has(c.getName()) && !c.getName().equals("losses"))
                throw new IllegalArgumentException("report has no field '" + c.getName() + "'");
            try {
                GSON.fromJson(json.get(c.getName()), c.getGenericType());
            } catch (RuntimeException e) { // JsonParseException, NumberFormatException
                throw new IllegalArgumentException("malformed report field '" + c.getName() + "': " + abbreviate(String.valueOf(json.get(c.getName()))));
            }
        }
        ChildReport r = GSON.fromJson(json, ChildReport.class);
        if (r.seconds().length == 0) throw new IllegalArgumentException("malformed report field 'seconds': no runs");
        return r;
    }

    static String abbreviate(String s) {
        if (s == null) return "(none)";
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    double median() { return Stats.median(seconds); }
    double min() { return Arrays.stream(seconds).min().orElse(Double.NaN); }
    double max() { return Arrays.stream(seconds).max().orElse(Double.NaN); }
    Stats.Interval ci() { return Stats.geoMeanCi(seconds); }
}
