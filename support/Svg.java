package mgpt;

import java.util.List;
import java.util.Locale;

/**
 * Inline SVG for the project's pages: the harness's report (harness/HtmlReport.java) and the training page
 * (support/TrainingReport.java). A line chart with a grid, ticks and labelled axes, and the escaping and number
 * formats the pages share. It knows nothing of the harness or of an engine.
 */
final class Svg {
    private Svg() { }

    /** What the charts' elements look like: their grid lines, ticks and axis labels (both pages use it). */
    static final String CHART_CSS = ".grid{stroke:#e3e3e3;stroke-width:1}.tick{font-size:11px;fill:#555}.axis-label{font-size:12px;fill:#333}";

    /** The pages' look: fonts, headings, tables, and the charts'. */
    static final String CSS = "body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1240px}"
            + "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:4px}"
            + "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}"
            + "th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}" + CHART_CSS;

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;").replace("'", "&#39;");
    }

    static String f(String format, Object... args) { return String.format(Locale.ROOT, format, args); }

    /** One line of a chart: its points (x, y), stroke color and extra SVG attributes; a legend entry if name is not null. */
    record Line(String name, double[] xs, double[] ys, String color, String attributes) { }

    /** Where a chart's plot area is, in pixels, and the data ranges it shows: for a page's script to place a cursor. */
    record Frame(int left, int top, int right, int bottom, double xlo, double xhi, double ylo, double yhi) {
        double x(double v) { return left + (right - left) * (xhi == xlo ? 0.5 : (v - xlo) / (xhi - xlo)); }
        double y(double v) { return top + (bottom - top) * (1 - (v - ylo) / (yhi - ylo)); }
    }

    /**
     * A line chart w x h pixels over [xlo, xhi] x [ylo, yhi]: five grid lines and ticks on each axis, the axes'
     * labels, the lines, and a legend at the top right. `id` and the frame go on the svg element as data
     * attributes (data-left, data-right, data-xlo, data-xhi, ...) so a script can map a step to a pixel.
     */
    static String lineChart(String id, int w, int h, double xlo, double xhi, double ylo, double yhi, String xLabel, String yLabel,
                            List<Line> lines) {
        Frame fr = new Frame(62, 14, w - 16, h - 42, xlo, xhi, ylo, yhi);
        StringBuilder s = new StringBuilder(f("<svg id='%s' viewBox='0 0 %d %d' width='%d' height='%d' role='img' aria-label='%s' "
                + "data-left='%d' data-right='%d' data-top='%d' data-bottom='%d' data-xlo='%s' data-xhi='%s'>",
                esc(id), w, h, w, h, esc(yLabel + " against " + xLabel), fr.left(), fr.right(), fr.top(), fr.bottom(), xlo, xhi));
        for (int k = 0; k <= 4; k++) {
            double v = ylo + (yhi - ylo) * k / 4, y = fr.y(v);
            s.append(f("<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='grid'/><text x='%d' y='%.1f' class='tick' text-anchor='end'>%s</text>",
                    fr.left(), y, fr.right(), y, fr.left() - 6, y + 4, tick(v, yhi - ylo)));
            // the x axis counts steps: whole numbers where it spans a few
            double u = xlo + (xhi - xlo) * k / 4, x = fr.x(u = xhi - xlo >= 4 ? Math.rint(u) : u);
            s.append(f("<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='grid'/><text x='%.1f' y='%d' class='tick' text-anchor='middle'>%s</text>",
                    x, fr.top(), x, fr.bottom(), x, fr.bottom() + 15, xhi - xlo >= 4 ? Long.toString((long) u) : tick(u, xhi - xlo)));
        }
        s.append(f("<text x='%.1f' y='%d' class='axis-label' text-anchor='middle'>%s</text>", (fr.left() + fr.right()) / 2.0, h - 6, esc(xLabel)));
        s.append(f("<text x='14' y='%.1f' class='axis-label' text-anchor='middle' transform='rotate(-90 14 %.1f)'>%s</text>",
                (fr.top() + fr.bottom()) / 2.0, (fr.top() + fr.bottom()) / 2.0, esc(yLabel)));
        int legend = 0;
        for (Line line : lines) {
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i < line.xs().length; i++)
                if (Double.isFinite(line.ys()[i])) // pixels to a tenth, written without String.format: a chart can have many points
                    tenth(tenth(pts, fr.x(line.xs()[i])).append(','), fr.y(Math.max(ylo, Math.min(yhi, line.ys()[i])))).append(' ');
            s.append(f("<polyline points='%s' fill='none' stroke='%s' %s/>", pts.toString().trim(), line.color(), line.attributes()));
            if (line.name() == null) continue;
            int y = fr.top() + 10 + 18 * legend++;
            s.append(f("<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' %s/><text x='%d' y='%d' class='tick'>%s</text>",
                    fr.right() - 230, y, fr.right() - 200, y, line.color(), line.attributes(), fr.right() - 192, y + 4, esc(line.name())));
        }
        return s.append("</svg>").toString();
    }

    /** v rounded to one decimal, appended to s. */
    static StringBuilder tenth(StringBuilder s, double v) {
        long t = Math.round(v * 10);
        if (t < 0) { s.append('-'); t = -t; }
        return s.append(t / 10).append('.').append(t % 10);
    }

    /** A tick's label: as few decimals as the axis's span needs. */
    static String tick(double v, double span) {
        int decimals = span >= 50 ? 0 : span >= 5 ? 1 : span >= 0.5 ? 2 : 3;
        return f("%." + decimals + "f", v);
    }
}
