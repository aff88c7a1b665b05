package mgpt;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;

/** The few Python behaviours that Java's own differ from in ways the output shows: str.strip, %d, %.4f, repr(float). */
public final class Python {
    private Python() { }

    /** str.strip(): removes leading and trailing characters for which str.isspace() is true. */
    public static String strip(String s) {
        int b = 0, e = s.length();
        while (b < e && isspace(s.charAt(b))) b++;
        while (e > b && isspace(s.charAt(e - 1))) e--;
        return s.substring(b, e);
    }

    /** str.isspace() of one character (Java's Character.isWhitespace leaves out U+00A0, U+2007, U+202F, U+0085). */
    static boolean isspace(char c) {
        return (c >= '\t' && c <= '\r') || (c >= '\u001c' && c <= ' ') || c == '\u0085' || c == '\u00a0'
                || c == '\u1680' || (c >= '\u2000' && c <= '\u200a') || c == '\u2028' || c == '\u2029'
                || c == '\u202f' || c == '\u205f' || c == '\u3000';
    }

    /** f"{n:{width}d}" */
    public static String pad(int n, int width) {
        String s = Integer.toString(n);
        return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
    }

    /**
     * f"{x:.4f}": Python rounds the exact binary value half to even; String.format would not. x is m * 2^e
     * exactly, so x * 10^4 is m * 625 * 2^(e + 4), with m * 625 below 2^63: a shift of a long, rounded half to
     * even on the bits shifted out. The loss line prints this once a step, and BigDecimal took 14-20 ms of a
     * default run's thousand calls before the JIT had compiled it; it is left for |x| from 2^63 / 10^4 (~9e14) on.
     */
    public static String format4f(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        long bits = Double.doubleToRawLongBits(x);
        int biased = (int) (bits >>> 52) & 0x7ff;
        long m = bits & 0xfffffffffffffL; // the significand: x = m * 2^(max(biased, 1) - 1075)
        if (biased != 0) m |= 1L << 52;
        long p = m * 625; // x * 10^4 = p * 2^shift
        int shift = Math.max(biased, 1) - 1075 + 4;
        long q; // x * 10^4 rounded half to even
        if (shift >= 0) {
            if (shift >= Long.numberOfLeadingZeros(p)) return format4fLarge(x); // 2^63 or more
            q = p << shift;
        } else if (shift <= -64) {
            q = 0; // p < 2^63, so x * 10^4 < 1/2
        } else {
            int k = -shift;
            long rest = p & (-1L >>> (64 - k)), half = 1L << (k - 1);
            q = p >>> k;
            if (rest > half || (rest == half && (q & 1) == 1)) q++;
        }
        StringBuilder sb = new StringBuilder(24); // not +: each string concatenation costs its first call ~ms to link
        if (bits < 0) sb.append('-'); // Python keeps the sign of -0.0 and of a negative that rounds to zero: "-0.0000"
        return sb.append(q / 10000).append('.').append(Long.toString(10000 + q % 10000), 1, 5).toString();
    }

    private static String format4fLarge(double x) {
        return new BigDecimal(x).setScale(4, RoundingMode.HALF_EVEN).toPlainString();
    }

    /**
     * repr(x) of a float: the shortest decimal that reads back as x (Java 17's Double.toString is sometimes
     * longer), in fixed notation for exponents -4..15 ("2.0", "0.0001") and scientific otherwise ("1e-05").
     */
    public static String repr(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        if (x == 0) return 1 / x < 0 ? "-0.0" : "0.0";
        BigDecimal d = null;
        for (int p = 1; p <= 17; p++) { // the nearest p-digit decimal, for the fewest digits that round-trip
            d = new BigDecimal(x).round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (d.doubleValue() == x) break;
        }
        d = d.stripTrailingZeros();
        String digits = d.unscaledValue().abs().toString(), sign = x < 0 ? "-" : "";
        int exp = digits.length() - 1 - d.scale(); // x = d.ddd * 10^exp
        if (exp < -4 || exp >= 16)
            return sign + digits.charAt(0) + (digits.length() > 1 ? "." + digits.substring(1) : "")
                    + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        if (exp < 0) return sign + "0." + "0".repeat(-exp - 1) + digits;
        if (digits.length() <= exp + 1) return sign + digits + "0".repeat(exp + 1 - digits.length()) + ".0";
        return sign + digits.substring(0, exp + 1) + "." + digits.substring(exp + 1);
    }
}
