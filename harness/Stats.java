package mgpt;

import java.util.Arrays;
import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.StatUtils;

/**
 * The statistics of a row and of two rows: the median, the geometric mean and its 95% interval (Student's t on
 * the log-times), the ratio of two rows and its interval (Welch's t), and the verdict. Means, variances,
 * medians and the t distribution are Commons Math's; what is written here is which of them a figure uses.
 */
final class Stats {
    private Stats() { }

    /** A 95% confidence interval. */
    record Interval(double low, double high) { }

    /** The ratio of two rows' geometric-mean times, and its 95% confidence interval. */
    record RatioCi(double ratio, Interval ci) { }

    /** The median: the middle value, or the mean of the two middle values; NaN for none. */
    static double median(double[] x) { return StatUtils.percentile(x, 50); }

    /** The two-sided 95% quantile of Student's t with df degrees of freedom. */
    static double t975(double df) {
        return new TDistribution(null, df, 1e-14).inverseCumulativeProbability(0.975);
    }

    static double[] logs(double[] x) { return Arrays.stream(x).map(Math::log).toArray(); }

    /**
     * 95% confidence interval of the geometric mean: Student's t on the log-times, exponentiated (times are
     * positive and skewed; an interval of the arithmetic mean can reach below zero). NaNs for fewer than 2.
     */
    static Interval geoMeanCi(double[] x) {
        if (x.length < 2) return new Interval(Double.NaN, Double.NaN);
        double[] lx = logs(x);
        double m = StatUtils.mean(lx), half = t975(x.length - 1) * Math.sqrt(StatUtils.variance(lx) / x.length);
        return new Interval(Math.exp(m - half), Math.exp(m + half));
    }

    static double geoMean(double[] x) { return StatUtils.geometricMean(x); }

    /**
     * The ratio b/a of two rows' times, and its 95% confidence interval: Welch's t interval for the
     * difference of the mean log-times, exponentiated. The ratio itself is that of the geometric means.
     * low and high are NaN with fewer than 2 runs on either side.
     */
    static RatioCi ratioCi(double[] a, double[] b) {
        double[] la = logs(a), lb = logs(b);
        double d = StatUtils.mean(lb) - StatUtils.mean(la), ratio = Math.exp(d);
        if (a.length < 2 || b.length < 2) return new RatioCi(ratio, new Interval(Double.NaN, Double.NaN));
        double va = StatUtils.variance(la) / a.length, vb = StatUtils.variance(lb) / b.length, se = Math.sqrt(va + vb);
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
