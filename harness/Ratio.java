package mgpt;

import java.util.*;

/** A MOD variant's row against ORIG's row of the same area: the time ratio with its interval and verdict, cold, memory, result. */
record Ratio(Area area, String variant, double time, double timeLow, double timeHigh, double cold, double alloc,
             double livePeak, String verdict, Boolean sameResult) {
    String name() { return area.title + " " + variant + "/ORIG"; }

    /** The ratio of every MOD variant's row that ran to ORIG's row of its area, where that ran too. */
    static List<Ratio> of(List<Row> rows) {
        List<Ratio> ratios = new ArrayList<>();
        for (Row r : rows) {
            if (r.variant().equals("ORIG") || !r.ok()) continue;
            Row orig = rows.stream().filter(o -> o.area() == r.area() && o.variant().equals("ORIG") && o.ok()).findFirst().orElse(null);
            if (orig == null) continue;
            ChildReport m = r.report(), o = orig.report();
            Stats.RatioCi t = Stats.ratioCi(o.seconds(), m.seconds());
            double a = o.checksum(), b = m.checksum();
            Boolean same = Double.isNaN(a) || Double.isNaN(b) ? null : Row.sameChecksum(a, b);
            ratios.add(new Ratio(r.area(), r.variant(), t.ratio(), t.ci().low(), t.ci().high(), m.seconds_first() / o.seconds_first(),
                    (double) m.allocated_bytes() / o.allocated_bytes(), (double) m.live_peak_bytes() / o.live_peak_bytes(),
                    Double.isNaN(t.ci().low()) ? "no clear difference" : Stats.verdict(t.ci().low(), t.ci().high()), same));
        }
        return ratios;
    }
}
