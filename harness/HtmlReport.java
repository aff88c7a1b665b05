package mgpt;

import static mgpt.Tables.*;

import java.util.*;

/**
 * bench_compare.java's HTML report (--report): one self-contained file, inline SVG and CSS, no scripts, nothing
 * fetched. What it shares with the training page (the look, the line chart, escaping) is in support/Svg.java.
 * Speed-up per area with its confidence interval, cold against steady time, allocation and live peak, the
 * train-steps loss curves, the tables and the configuration.
 */
final class HtmlReport {
    private HtmlReport() { }

    static final String ORIG_COLOR = "#8fb8de", MOD_COLOR = "#1b5e20", FLAT_COLOR = "#e65100", COLD_COLOR = "#b0bec5",
            STEADY_COLOR = "#37474f";

    static String esc(String s) { return Svg.esc(s); }

    static String f(String format, Object... args) { return Svg.f(format, args); }

    /** Byte counts as the tables print them, and axis ticks (powers of ten) in decimal units: 10 kB, 1 MB. */
    static String bytesOrTick(double v) {
        double l = Math.log10(v);
        if (v >= 1 && l == Math.rint(l)) {
            String[] units = {"B", "kB", "MB", "GB", "TB"};
            int e = (int) l;
            return (long) Math.pow(10, e % 3) + " " + units[Math.min(e / 3, units.length - 1)];
        }
        return bytes((long) v);
    }

    static String color(String variant) {
        return switch (variant) { case "ORIG" -> ORIG_COLOR; case "MOD" -> MOD_COLOR; default -> FLAT_COLOR; };
    }

    /** A logarithmic axis from lo to hi (powers of ten at least one decade apart) onto [x0, x1] pixels. */
    record LogAxis(double lo, double hi, double x0, double x1) {
        static LogAxis of(double min, double max, double x0, double x1) {
            double lo = Math.pow(10, Math.floor(Math.log10(min))), hi = Math.pow(10, Math.ceil(Math.log10(max)));
            if (hi <= lo) hi = lo * 10;
            return new LogAxis(lo, hi, x0, x1);
        }
        double x(double v) {
            double c = Math.min(Math.max(v, lo), hi);
            return x0 + (x1 - x0) * (Math.log10(c) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
        }
        List<Double> ticks() {
            List<Double> t = new ArrayList<>();
            for (double v = lo; v <= hi * 1.0001; v *= 10) t.add(v);
            return t;
        }
    }

    static String gridAndTicks(LogAxis ax, double top, double bottom, java.util.function.DoubleFunction<String> label) {
        StringBuilder s = new StringBuilder();
        for (double t : ax.ticks()) {
            double x = ax.x(t);
            s.append(f("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='grid'/>", x, top, x, bottom));
            s.append(f("<text x='%.1f' y='%.1f' class='tick' text-anchor='middle'>%s</text>", x, bottom + 14, esc(label.apply(t))));
        }
        return s.toString();
    }

    /** Speed-up (ORIG time / MOD time) per MOD variant with its 95% CI, and the cold speed-up, on a log axis. */
    static String speedups(List<Ratio> ratios) {
        if (ratios.isEmpty()) return "<p>No ratios (ORIG or MOD rows failed).</p>";
        int w = 1180, left = 230, right = 250, rowH = 30, top = 20, h = top + rowH * ratios.size() + 40;
        double min = 1, max = 1;
        for (Ratio q : ratios) {
            for (double v : new double[]{1 / q.time(), 1 / q.timeLow(), 1 / q.timeHigh(), 1 / q.cold()})
                if (Double.isFinite(v) && v > 0) { min = Math.min(min, v); max = Math.max(max, v); }
        }
        LogAxis ax = LogAxis.of(min, max, left, w - right);
        StringBuilder s = new StringBuilder(f("<svg viewBox='0 0 %d %d' width='%d' height='%d' role='img' "
                + "aria-label='Speed-up per area'>", w, h, w, h));
        s.append(gridAndTicks(ax, top - 5, h - 30, v -> v < 1 ? fmt(v) + "x" : speedup(v))); // 0.01x, not 0.0x
        double one = ax.x(1);
        s.append(f("<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='one'/>", one, top - 5, one, h - 30));
        for (int i = 0; i < ratios.size(); i++) {
            Ratio q = ratios.get(i);
            double y = top + rowH * i + rowH / 2.0;
            s.append(f("<text x='%d' y='%.1f' class='label' text-anchor='end'>%s</text>", left - 10, y + 4, esc(q.name())));
            double sp = 1 / q.time(), spLo = 1 / q.timeHigh(), spHi = 1 / q.timeLow();
            if (Double.isFinite(spLo) && Double.isFinite(spHi))
                s.append(f("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='ci'/><line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='ci'/>"
                                + "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' class='ci'/>",
                        ax.x(spLo), y, ax.x(spHi), y, ax.x(spLo), y - 6, ax.x(spLo), y + 6, ax.x(spHi), y - 6, ax.x(spHi), y + 6));
            if (Double.isFinite(1 / q.cold()))
                s.append(f("<circle cx='%.1f' cy='%.1f' r='5' class='cold'><title>cold: %s</title></circle>", ax.x(1 / q.cold()), y,
                        speedup(1 / q.cold())));
            s.append(f("<circle cx='%.1f' cy='%.1f' r='6' fill='%s'><title>steady: %s</title></circle>", ax.x(sp), y, color(q.variant()),
                    speedup(sp)));
            s.append(f("<text x='%d' y='%.1f' class='value'>%s [%s, %s] %s</text>", w - right + 10, y + 4, speedup(sp),
                    speedup(spLo), speedup(spHi), esc(q.verdict().equals("no clear difference") ? "(no clear diff.)" : "")));
        }
        s.append(f("<text x='%.1f' y='%d' class='tick' text-anchor='middle'>speed-up of MOD over ORIG (log scale); "
                + "filled: steady state with 95%% CI, hollow: cold (first run)</text>", (left + w - right) / 2.0, h - 2));
        return s.append("</svg>").toString();
    }

    /** Horizontal bars, two series per row, on a log axis; zero or negative values are drawn as absent. */
    static String bars(List<Row> rows, String what, String[] series, String[] colors,
                       java.util.function.Function<ChildReport, double[]> values, java.util.function.DoubleFunction<String> label) {
        List<Row> ok = rows.stream().filter(Row::ok).toList();
        if (ok.isEmpty()) return "<p>No rows.</p>";
        int w = 1180, left = 230, right = 130, barH = 11, rowH = 2 * barH + 10, top = 24, h = top + rowH * ok.size() + 36;
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (Row r : ok) for (double v : values.apply(r.report())) if (v > 0) { min = Math.min(min, v); max = Math.max(max, v); }
        if (max == 0) { min = 1; max = 10; }
        LogAxis ax = LogAxis.of(min, max, left, w - right);
        StringBuilder s = new StringBuilder(f("<svg viewBox='0 0 %d %d' width='%d' height='%d' role='img' aria-label='%s'>",
                w, h, w, h, esc(what)));
        for (int k = 0; k < series.length; k++)
            s.append(f("<rect x='%d' y='4' width='12' height='10' fill='%s'/><text x='%d' y='13' class='tick'>%s</text>",
                    left + k * 160, colors[k], left + k * 160 + 16, esc(series[k])));
        s.append(gridAndTicks(ax, top - 4, h - 30, label));
        for (int i = 0; i < ok.size(); i++) {
            Row r = ok.get(i);
            double y = top + rowH * i;
            s.append(f("<text x='%d' y='%.1f' class='label' text-anchor='end'>%s</text>", left - 10, y + barH + 4, esc(r.name())));
            double[] v = values.apply(r.report());
            for (int k = 0; k < v.length; k++) {
                double by = y + k * barH;
                double x = v[k] > 0 ? ax.x(v[k]) : left;
                s.append(f("<rect x='%d' y='%.1f' width='%.1f' height='%d' fill='%s'/>", left, by, Math.max(0, x - left), barH - 1, colors[k]));
                s.append(f("<text x='%.1f' y='%.1f' class='value'>%s</text>", Math.max(x, left) + 4, by + barH - 2, esc(label.apply(v[k]))));
            }
        }
        s.append(f("<text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s (log scale)</text>", (left + w - right) / 2.0, h - 2, esc(what)));
        return s.append("</svg>").toString();
    }

    /** The train-steps losses of the first run of each variant, on one chart. */
    static String lossCurves(List<Row> rows) {
        List<Row> train = rows.stream().filter(r -> r.ok() && r.area() == Area.TRAIN_STEPS && r.report().losses() != null).toList();
        if (train.isEmpty()) return "<p>No train-steps rows.</p>";
        int n = train.stream().mapToInt(r -> r.report().losses().length).max().orElse(1);
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Row r : train) for (double v : r.report().losses()) if (Double.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
        if (!(hi > lo)) { lo -= 1; hi += 1; }
        double pad = (hi - lo) * 0.05;
        List<Svg.Line> lines = new ArrayList<>();
        for (Row r : train) {
            double[] l = r.report().losses(), steps = new double[l.length];
            for (int i = 0; i < l.length; i++) steps[i] = i + 1;
            String style = switch (r.variant()) {
                case "ORIG" -> "stroke-width='7' stroke-opacity='0.6'";
                case "MOD" -> "stroke-width='2'";
                default -> "stroke-width='1.5' stroke-dasharray='6 4'";
            };
            lines.add(new Svg.Line(r.variant(), steps, l, color(r.variant()), style));
        }
        return Svg.lineChart("loss-curves", 1180, 360, 1, Math.max(n, 2), lo - pad, hi + pad,
                "training step (first run of each row's JVM: the same model, the same documents)", "loss", lines);
    }

    /** The largest |loss difference| between each MOD variant's curve and ORIG's, step by step. */
    static String lossAgreement(List<Row> rows) {
        Row orig = rows.stream().filter(r -> r.ok() && r.area() == Area.TRAIN_STEPS && r.variant().equals("ORIG")).findFirst().orElse(null);
        if (orig == null || orig.report().losses() == null) return "";
        StringBuilder s = new StringBuilder();
        for (Row r : rows) {
            if (!r.ok() || r.area() != Area.TRAIN_STEPS || r.variant().equals("ORIG") || r.report().losses() == null) continue;
            double[] a = orig.report().losses(), b = r.report().losses();
            double maxRel = 0;
            for (int i = 0; i < Math.min(a.length, b.length); i++) maxRel = Math.max(maxRel, Math.abs(a[i] - b[i]) / Math.abs(a[i]));
            s.append(f("%s lies on ORIG: the largest relative difference over %d steps is %.1e. ", r.variant(), a.length, maxRel));
        }
        return s.toString();
    }

    static String table(List<String> header, List<List<String>> body) {
        StringBuilder s = new StringBuilder("<table><thead><tr>");
        header.forEach(x -> s.append("<th>").append(esc(x)).append("</th>"));
        s.append("</tr></thead><tbody>");
        for (List<String> row : body) {
            s.append("<tr>");
            row.forEach(x -> s.append("<td>").append(esc(x)).append("</td>"));
            s.append("</tr>");
        }
        return s.append("</tbody></table>").toString();
    }

    static String html(BenchSettings settings, List<Row> rows, List<Ratio> ratios) {
        StringBuilder s = new StringBuilder();
        s.append("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'/><title>bench-compare: microgpt.java vs microgpt_optimized.java</title>\n");
        s.append("<style>").append(Svg.CSS).append("table{margin:8px 0}code{font-size:13px}svg{display:block;max-width:100%;height:auto}"
                + ".one{stroke:#c62828;stroke-width:1.5;stroke-dasharray:4 3}.label{font-size:13px;fill:#212121}.value{font-size:12px;fill:#212121}"
                + ".ci{stroke:#424242;stroke-width:2}.cold{fill:#fff;stroke:#757575;stroke-width:2}p.note{color:#555;font-size:14px}</style>\n");
        s.append("</head><body>\n<h1>microgpt.java (ORIG) vs microgpt_optimized.java (MOD, MOD_FLAT)</h1>\n");
        s.append("<p class='note'>Mode <b>").append(esc(settings.mode())).append("</b>: ")
                .append(settings.asShipped() ? "each engine's rows ran with that engine's own //JAVA_OPTIONS; " + esc(settings.longRuns()) + "."
                        : "every child JVM ran with the same options.")
                .append(" Every row ran in ").append(settings.forks()).append(" fresh JVM(s), each: one cold run (the JVM's first), ")
                .append("warm-up until the JIT was quiet, then ").append(settings.reps()).append(" measured runs. ").append(esc(System.getProperty("java.vm.name") + " " + System.getProperty("java.version")))
                .append(".</p>\n");

        s.append("<h2>Speed-up per area</h2>\n").append(speedups(ratios));
        s.append("<h2>Time per run: cold and steady</h2>\n<p class='note'>Cold: the first run of a fresh JVM (interpreter, class loading, "
                + "compilation). Steady: the median of the measured runs after warm-up.</p>\n");
        s.append(bars(rows, "seconds per run", new String[]{"cold (first run)", "steady (median)"}, new String[]{COLD_COLOR, STEADY_COLOR},
                p -> new double[]{p.seconds_first(), p.median()}, Tables::seconds));
        s.append("<h2>Memory per run: allocation and live peak</h2>\n<p class='note'>Allocated: bytes allocated by the "
                + "benchmark thread per measured run. Live peak: the most data reachable at once, above what was live before "
                + "the runs, measured in a separate pass with full collections forced about every millisecond. A missing bar is 0 B.</p>\n");
        s.append(bars(rows, "bytes per run", new String[]{"allocated per run", "live peak"}, new String[]{"#7e57c2", "#26a69a"},
                p -> new double[]{p.allocated_bytes(), p.live_peak_bytes()}, HtmlReport::bytesOrTick));
        s.append("<h2>Training loss: ORIG and MOD on one chart</h2>\n<p class='note'>")
                .append(esc(lossAgreement(rows))).append("</p>\n").append(lossCurves(rows));

        s.append("<h2>Ratios</h2>\n");
        List<List<String>> rbody = new ArrayList<>();
        for (Ratio q : ratios)
            rbody.add(List.of(q.name(), ratio(q.time()), "[" + ratio(q.timeLow()) + ", " + ratio(q.timeHigh()) + "]", speedup(1 / q.time()),
                    q.verdict(), speedup(1 / q.cold()), ratio(q.alloc()), ratio(q.livePeak()),
                    q.sameResult() == null ? "not checked" : q.sameResult() ? "yes" : "NO"));
        s.append(table(List.of("MOD/ORIG", "time", "95% CI", "speed-up", "verdict", "cold speed-up", "alloc", "live peak", "same result"), rbody));

        s.append("<h2>Rows</h2>\n");
        List<List<String>> body = new ArrayList<>();
        for (Row r : rows) {
            if (!r.ok()) { body.add(List.of(r.name(), "FAILED: " + r.failure(), "", "", "", "", "", "", "", "", "")); continue; }
            ChildReport p = r.report();
            Stats.Interval ci = p.ci();
            body.add(List.of(r.name(), p.work_per_run() + " " + r.area().unit, seconds(p.seconds_first()), seconds(p.median()),
                    seconds(ci.low()) + ".." + seconds(ci.high()), seconds(p.min()) + ".." + seconds(p.max()),
                    p.warmup_runs() + (p.jit_settled() ? "" : " (JIT not quiet)")
                            + (p.jit_cpu_ms() > 0 ? " (JIT ran " + p.jit_cpu_ms() + " ms in the runs)" : ""), bytes(p.allocated_bytes()),
                    bytes(p.heap_peak_bytes()), bytes(p.live_peak_bytes()), bytes(p.rss_peak_bytes())));
        }
        s.append(table(List.of("row", "work/run", "cold", "median", "95% CI (geometric mean)", "min..max", "warm-up runs", "alloc/run",
                "heap peak", "live peak", "RSS peak"), body));

        s.append("<h2>Configuration</h2>\n");
        List<List<String>> cfg = new ArrayList<>();
        cfg.add(List.of("mode", settings.mode()));
        cfg.add(List.of("config", settings.configLine()));
        cfg.add(List.of("jvm", System.getProperty("java.vm.name") + " " + System.getProperty("java.version")));
        Row.optionSets(rows).forEach((opts, vs) -> cfg.add(List.of("JVM options of " + String.join(", ", vs), opts.isEmpty() ? "(none)" : opts)));
        s.append(table(List.of("", ""), cfg));
        return s.append("\n</body></html>\n").toString();
    }
}
