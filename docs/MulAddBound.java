///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//COMPILE_OPTIONS -encoding UTF-8

/*
 * The bound that docs/jvm.md compares the engine against: how many multiply-adds a second one core does in
 * the plainest loop the JIT vectorizes, a[k] += b[k] * s over two arrays that fit in the L1 cache; and the
 * same loop over slices of the arrays, the shape of the tape's loops (each vector is a slice of one array):
 * at one offset for both, a[o + k] += b[o + k] * s; at one offset for one array only, a[k] += b[bo + k] * s;
 * and at two offsets, a[ao + k] += b[bo + k] * s. JDK 17's C2 vectorizes a loop only if every array is
 * indexed by the same loop-invariant offset (the first two); JDK 25's vectorizes all four. Run:
 * ./jbang docs/MulAddBound.java [length, default 1024]. After 3 rounds of warm-up it times 10 rounds of
 * about a second each, and prints the median and best nanoseconds per multiply-add, and billions a second.
 */
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
        System.out.println("(checksum " + a[n - 1] + ")");
    }
}
