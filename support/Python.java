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

    /** f"{x:.4f}": Python rounds the exact binary value half to even; String.format would not. */
    public static String format4f(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        String s = new BigDecimal(x).setScale(4, RoundingMode.HALF_EVEN).toPlainString();
        return (x < 0 || (x == 0 && 1 / x < 0)) && !s.startsWith("-") ? "-" + s : s;
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
