///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//COMPILE_OPTIONS -encoding UTF-8

/*
 * The bounds that docs/jvm.md and docs/optimizations.md compare the engine against, timed on this machine.
 * First, how many multiply-adds a second one core does in the plainest loop the JIT vectorizes, a[k] += b[k] * s
 * over two arrays that fit in the L1 cache; and the same loop over slices of the arrays, the shape of the tape's
 * loops (each vector is a slice of one array): at one offset for both, a[o + k] += b[o + k] * s; at one offset for
 * one array only, a[k] += b[bo + k] * s; and at two offsets, a[ao + k] += b[bo + k] * s. JDK 17's C2 vectorizes a
 * loop only if every array is indexed by the same loop-invariant offset (the first two); JDK 25's vectorizes all
 * four. Then the parts of a training step's bound (docs/StepPhases.java uses them): four sums in a fixed order at
 * once, as Tape.matvec computes a product's outputs from the rows (scalar: the same bits forbid SIMD lanes there);
 * the same sums from the transposed matrix, four inputs a pass over all outputs, y[k] = (((y[k] + c0[k]*x0) +
 * c1[k]*x1) + c2[k]*x2) + c3[k]*x3, in SIMD lanes (changes 19, 20, 23); and Adam's arithmetic per parameter, its
 * three divisions and square root, in SIMD lanes, and with two divisions (from step 230 on, change 24). Run:
 * ./jbang docs/MulAddBound.java [length, default 1024]. After 3 rounds of warm-up it times 10 rounds of
 * about a second each (the parts: 7 of 0.2 s after 2), and prints the median and best nanoseconds per unit.
 */
package mgpt;

public class MulAddBound {
    static void whole(double[] a, double[] b, double s, int n) {
        for (int k = 0; k < n; k++) a[k] += b[k] * s;
    }

    static void oneOffset(double[] a, double[] b, int o, double s, int n) {
        for (int k = 0; k < n; k++) a[o + k] += b[o + k] * s;
    }

    static void offsetInB(double[] a, double[] b, int bo, double s, int n) {
        for (int k = 0; k < n; k++) a[k] += b[bo + k] * s;
    }

    static void slices(double[] a, int ao, double[] b, int bo, double s, int n) {
        for (int k = 0; k < n; k++) a[ao + k] += b[bo + k] * s;
    }

    static final String[] SHAPES = {"a[k] += b[k] * s:", "a[o + k] += b[o + k] * s:", "a[k] += b[bo + k] * s:", "a[ao + k] += b[bo + k] * s:"};

    /** One round of reps calls of one shape (each its own method, so that each is compiled for itself); ns per multiply-add. */
    static double round(int shape, double[] a, double[] b, int n, long reps, int ao, int bo) {
        long t = System.nanoTime();
        switch (shape) {
            case 0: for (long r = 0; r < reps; r++) whole(a, b, 1e-12, n); break;
            case 1: for (long r = 0; r < reps; r++) oneOffset(a, b, ao, 1e-12, n); break;
            case 2: for (long r = 0; r < reps; r++) offsetInB(a, b, bo, 1e-12, n); break;
            default: for (long r = 0; r < reps; r++) slices(a, ao, b, bo, 1e-12, n);
        }
        return (System.nanoTime() - t) / (double) (reps * n);
    }

    // ---- the parts of a training step's bound, over arrays of length n; each loop repeats itself in a method of
    // its own (a loop called through one shared interface would time the call) ----

    static double sink;

    /** ns per multiply-add: four fixed-order sums at once, as Tape.matvec computes four outputs of a product. */
    static double fixedOrderSum(int n) {
        double[] x = fill(n), w0 = fill(n), w1 = fill(n), w2 = fill(n), w3 = fill(n);
        return part(k -> sums(x, w0, w1, w2, w3, reps(4L * n)), 4L * n);
    }

    static double sums(double[] x, double[] w0, double[] w1, double[] w2, double[] w3, long reps) {
        double out = 0;
        for (long r = 0; r < reps; r++) {
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (int i = 0; i < x.length; i++) { double xi = x[i]; s0 += w0[i] * xi; s1 += w1[i] * xi; s2 += w2[i] * xi; s3 += w3[i] * xi; }
            out += s0 + s1 + s2 + s3;
        }
        return out;
    }

    /** ns per multiply-add: four inputs a pass into n outputs, as Tape.matvec computes a product from its transposed matrix. */
    static double transposedSum(int n) {
        double[] x = fill(4), y = fill(n), c0 = fill(n), c1 = fill(n), c2 = fill(n), c3 = fill(n);
        return part(k -> passes(x, y, c0, c1, c2, c3, reps(4L * n)), 4L * n);
    }

    static double passes(double[] x, double[] y, double[] c0, double[] c1, double[] c2, double[] c3, long reps) {
        double x0 = x[0] * 1e-9, x1 = x[1] * 1e-9, x2 = x[2] * 1e-9, x3 = x[3] * 1e-9;
        for (long r = 0; r < reps; r++)
            for (int k = 0; k < y.length; k++) y[k] = (((y[k] + c0[k] * x0) + c1[k] * x1) + c2[k] * x2) + c3[k] * x3;
        return y[0];
    }

    /** ns per multiply-add: a[k] += b[k] * s, which C2 runs in SIMD lanes (the products' backward loops). */
    static double vectorMulAdd(int n) {
        double[] a = fill(n), b = fill(n);
        return part(k -> mulAdds(a, b, reps(n)), n);
    }

    static double mulAdds(double[] a, double[] b, long reps) {
        for (long r = 0; r < reps; r++) whole(a, b, 1e-12, a.length);
        return a[0];
    }

    /** ns per parameter: Adam's three divisions and square root, and the operations that join them, in SIMD lanes. */
    static double adamArithmetic(int n) {
        double[] m = fill(n), v = fill(n), p = fill(n);
        return part(k -> divisions(m, v, p, reps(n)), n);
    }

    static double divisions(double[] m, double[] v, double[] p, long reps) {
        for (long r = 0; r < reps; r++) for (int k = 0; k < p.length; k++) p[k] -= 1e-3 * (m[k] / 0.7) / (Math.sqrt(v[k] / 0.3) + 1e-8);
        return p[0];
    }

    /** The same with two divisions: Adam from step 230 on, where the first bias correction is 1.0 (change 24). */
    static double adamArithmeticAfter230(int n) {
        double[] m = fill(n), v = fill(n), p = fill(n);
        return part(k -> twoDivisions(m, v, p, reps(n)), n);
    }

    static double twoDivisions(double[] m, double[] v, double[] p, long reps) {
        for (long r = 0; r < reps; r++) for (int k = 0; k < p.length; k++) p[k] -= 1e-3 * m[k] / (Math.sqrt(v[k] / 0.3) + 1e-8);
        return p[0];
    }

    static double[] fill(int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = 1.0 / (i + 2);
        return a;
    }

    static long reps(long units) { return Math.max(1, 200_000_000L / units); }

    /** The median over seven rounds of about 0.2 s, after two of warm-up, of ns per unit. */
    static double part(java.util.function.IntToDoubleFunction round, long units) {
        double[] r = new double[7];
        for (int i = -2; i < r.length; i++) {
            long t0 = System.nanoTime();
            sink += round.applyAsDouble(i);
            if (i >= 0) r[i] = (System.nanoTime() - t0) / (double) (reps(units) * units);
        }
        return median(r);
    }

    /** The middle value of an odd number of timings (StepPhases takes its medians from here too). */
    static double median(double[] x) {
        double[] s = x.clone();
        java.util.Arrays.sort(s);
        return s[s.length / 2];
    }

    public static void main(String... args) {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1024;
        double[] a = new double[n + 8], b = new double[n + 8];
        for (int i = 0; i < a.length; i++) { a[i] = i * 1e-9; b[i] = 1.0 / (i + 1); }
        long reps = 1_000_000_000L / n;
        int ao = 3 + args.length, bo = 5 + args.length; // offsets known only at run time, as the tape's are
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", " + n + " doubles");
        for (int shape = 0; shape < SHAPES.length; shape++) {
            double[] ns = new double[10];
            for (int r = -3; r < ns.length; r++) {
                double t = round(shape, a, b, n, reps, ao, bo);
                if (r >= 0) ns[r] = t;
            }
            java.util.Arrays.sort(ns);
            double median = (ns[4] + ns[5]) / 2;
            System.out.printf(java.util.Locale.ROOT, "%-30s median %.4f ns (%.1f billion a second), best %.4f ns (%.1f billion)%n",
                    SHAPES[shape], median, 1 / median, ns[0], 1 / ns[0]);
        }
        double sum = fixedOrderSum(n), transposed = transposedSum(n), adam = adamArithmetic(n), adam2 = adamArithmeticAfter230(n);
        System.out.printf(java.util.Locale.ROOT, "%-30s median %.4f ns a multiply-add (%.1f billion a second)%n", "four fixed-order sums:", sum, 1 / sum);
        System.out.printf(java.util.Locale.ROOT, "%-30s median %.4f ns a multiply-add (%.1f billion a second)%n", "four inputs a pass (columns):", transposed, 1 / transposed);
        System.out.printf(java.util.Locale.ROOT, "%-30s median %.4f ns a parameter%n", "Adam's arithmetic:", adam);
        System.out.printf(java.util.Locale.ROOT, "%-30s median %.4f ns a parameter%n", "the same, two divisions:", adam2);
        System.out.println("(checksum " + a[n - 1] + " " + sink + ")");
    }
}
