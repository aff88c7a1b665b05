package mgpt;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.function.ToIntFunction;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * microgpt_optimized.java: parity with microgpt.java, every tape operation's gradient, the two KV
 * layouts, the no-grad path, and data loading equal to microgpt.java's (its CLI and golden parity:
 * CliContract).
 */
class MicrogptOptimizedTest {

    static TestSupport.Run run(String... args) {
        return TestSupport.run(Cli::run, new microgpt_optimized(), args);
    }

    // ---- Parity with microgpt.java ------------------------------------------------------------

    /**
     * Models unlike the default, with another seed and temperature: 2 layers of 3 heads and a short context;
     * wide (72, 6 heads of 12); and 78 wide, whose heads of 13 and matrices of 78 and 312 rows leave the
     * matrix-vector product's four-row blocks a remainder; and the smallest legal shapes (1, 2 and 3 wide, one head
     * per channel, a context of 1), whose products have 1, 2 or 3 outputs.
     */
    @ParameterizedTest(name = "{0} layers, {1} wide, {2} heads, block {3}, {4} steps")
    @CsvSource({"2,12,3,6,60", "2,72,6,16,4", "2,78,6,16,4", "1,1,1,16,30", "2,2,2,4,30", "3,3,3,3,20", "1,5,5,1,20", "1,36,4,16,6", "3,20,5,8,10"})
    void nonDefaultConfigurationMatchesMicrogptJava(String n_layer, String n_embd, String n_head, String block_size,
                                                    String steps, @TempDir Path tmp) throws IOException {
        String[] config = {"--input", TestSupport.tinyNames().toString(), "--seed", "7", "--steps", steps,
                "--n-layer", n_layer, "--n-embd", n_embd, "--n-head", n_head, "--block-size", block_size,
                "--temperature", "0.8", "--samples", "8"};
        Path a = tmp.resolve("a.csv"), b = tmp.resolve("b.csv");
        TestSupport.Run orig = TestSupport.run(Cli::run, new microgpt(), TestSupport.concat(config, "--loss-log", a.toString()));
        TestSupport.Run opt = run(TestSupport.concat(config, "--loss-log", b.toString()));
        assertEquals(0, orig.exit(), orig.err());
        assertEquals(0, opt.exit(), opt.err());
        TestSupport.assertRelClose(TestSupport.readLossLog(a), TestSupport.readLossLog(b), 1e-12, "vs microgpt.java");
        assertEquals(TestSupport.samplesOf(orig.out()), TestSupport.samplesOf(opt.out()));
        assertEquals(orig.out().split("\n")[0], opt.out().split("\n")[0]); // num docs, and so on
    }

    @Test
    void flatAndNestedKvLayoutsGiveIdenticalResults(@TempDir Path tmp) throws IOException {
        String[] config = {"--input", TestSupport.tinyNames().toString(), "--steps", "50", "--n-layer", "2", "--samples", "10"};
        Path a = tmp.resolve("nested.csv"), b = tmp.resolve("flat.csv");
        TestSupport.Run nested = run(TestSupport.concat(config, "--loss-log", a.toString()));
        TestSupport.Run flat = run(TestSupport.concat(config, "--kv-layout", "flat", "--loss-log", b.toString()));
        assertEquals(0, flat.exit(), flat.err());
        assertEquals(nested.out(), flat.out());
        assertEquals(Files.readAllLines(a), Files.readAllLines(b)); // every loss, to the last bit
    }

    // ---- The tape: every operation's gradient against finite differences ----------------------

    /** Builds a graph on a fresh tape whose first nodes are leaves holding `inputs`; returns its output. */
    static double forward(ToIntFunction<microgpt_optimized.Tape> graph, double[] inputs) {
        microgpt_optimized.Tape t = new microgpt_optimized.Tape(8);
        for (double x : inputs) t.leaf(x);
        int out = graph.applyAsInt(t); // (first: it may grow the tape's arrays)
        return t.data[out];
    }

    /** Analytic gradient (the tape's backward) against central differences, for every input. */
    static void checkGradients(String name, ToIntFunction<microgpt_optimized.Tape> graph, double[] inputs) {
        microgpt_optimized.Tape t = new microgpt_optimized.Tape(8);
        for (double x : inputs) t.leaf(x);
        int out = graph.applyAsInt(t);
        t.backward(out);
        for (int i = 0; i < inputs.length; i++) {
            final int k = i;
            double numeric = TestSupport.numericGrad(v -> {
                double[] in = inputs.clone();
                in[k] = v;
                return forward(graph, in);
            }, inputs[i]);
            TestSupport.assertGradClose(numeric, t.grad[i], name + ", input " + i);
        }
    }

    static double[] inputs(int n, long seed) {
        PyRandom r = new PyRandom(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = r.gauss(0, 1);
        return x;
    }

    /** A tape whose parameters are nout rows of nin values from x, and whose first nin nodes are x's last nin values. */
    static microgpt_optimized.Tape productTape(double[] x, int nout, int nin) {
        microgpt_optimized.Tape t = rowsTape(x, nout, nin);
        for (int i = 0; i < nin; i++) t.leaf(x[nout * nin + i]);
        return t;
    }

    /** A tape with no nodes whose matrix 0 has nout rows of nin from x's first values. */
    static microgpt_optimized.Tape rowsTape(double[] x, int nout, int nin) {
        microgpt_optimized.Tape t = new microgpt_optimized.Tape(8);
        t.rows = new double[nout][];
        t.row_grads = new double[nout][nin];
        for (int o = 0; o < nout; o++) t.rows[o] = Arrays.copyOfRange(x, o * nin, o * nin + nin);
        return t;
    }

    /** The tape's matrix 0 (nout rows) copied by columns, the copy current (CHANGES 19, 23). */
    static microgpt_optimized.Tape withColumns(microgpt_optimized.Tape t, int nout) {
        t.cols = new double[nout][][];
        t.transpose(0, nout);
        t.cols_version = t.version;
        return t;
    }

    /** A tape whose nodes are all of x's values (the same rows and input as productTape's, as nodes, for dot nodes). */
    static microgpt_optimized.Tape leafTape(double[] x) {
        microgpt_optimized.Tape t = new microgpt_optimized.Tape(8);
        for (double v : x) t.leaf(v);
        return t;
    }

    /** Reduces a vector of `len` nodes from `v` to one node with fixed, distinct weights. */
    static int weighted(microgpt_optimized.Tape t, int v, int len) {
        int w = t.next();
        for (int i = 0; i < len; i++) t.leaf(0.3 + 0.17 * i);
        return t.dot(w, v, len);
    }

    @Test
    void scalarOperationGradients() {
        double[] x = {0.7, -1.3};
        checkGradients("add", t -> t.add(0, 1), x);
        checkGradients("sub", t -> t.sub(0, 1), x);
        checkGradients("mul", t -> t.mul(0, 1), x);
        checkGradients("add const", t -> t.add(0, 2.5), x);
        checkGradients("mul const", t -> t.mul(1, -1.5), x);
        checkGradients("neg", t -> t.neg(1), x);
        checkGradients("exp", t -> t.exp(1), x);
        checkGradients("relu +", t -> t.relu(0), x);
        checkGradients("relu -", t -> t.relu(1), x);
        checkGradients("log", t -> t.log(0), x);
        checkGradients("pow -0.5", t -> t.pow(0, -0.5), x);
        checkGradients("pow -1", t -> t.pow(0, -1), x);
        checkGradients("pow 2", t -> t.pow(1, 2), x);
        checkGradients("shared node", t -> t.add(t.mul(0, 0), t.mul(t.exp(0), 1)), x);
    }

    @Test
    void fusedOperationGradients() {
        double[] x = inputs(12, 11);
        checkGradients("dot", t -> t.dot(0, 6, 6), x);
        checkGradients("dot with itself (rmsnorm's sum of squares)", t -> t.dot(2, 2, 5), x);
        checkGradients("sum", t -> t.sum(1, 9), x);
        checkGradients("sum of scattered nodes", t -> t.sum(new int[]{7, 0, 3, 3, 11}, 5), x);
        checkGradients("dot_gather", t -> t.dot_gather(0, new int[]{9, 4, 6, 2}, 1, 1, 3), x);
        checkGradients("lse", t -> t.lse(0, 12), x);
        checkGradients("lse of shifted logits", t -> t.lse(t.add(3, 0.0), 1), new double[]{1000.0, 1001.0, 999.0, 5.0});
        checkGradients("cross-entropy -(z[y] - lse(z))", t -> t.neg(t.sub(4, t.lse(0, 12))), x);
    }

    @Test
    void vectorRunGradients() {
        double[] x = inputs(9, 13); // two vectors of 4 and a scalar node at 8
        checkGradients("add vectors", t -> weighted(t, t.add(0, 4, 4), 4), x);
        checkGradients("add a constant", t -> weighted(t, t.add(0, -0.7, 4), 4), x);
        checkGradients("times a node", t -> weighted(t, t.mul(0, 8, 4), 4), x);
        checkGradients("times a constant", t -> weighted(t, t.mul(0, 2.5, 4), 4), x);
        checkGradients("exp", t -> weighted(t, t.exp(0, 4), 4), x);
        checkGradients("relu", t -> weighted(t, t.relu(0, 8), 8), x);
        checkGradients("a chain of runs", t -> weighted(t, t.mul(t.exp(t.add(0, 4, 4), 4), 8, 4), 4), x);
        // backward from an element inside a run reaches that element's operands only
        microgpt_optimized.Tape t = new microgpt_optimized.Tape(8);
        for (double v : x) t.leaf(v);
        int y = t.mul(0, 8, 4);
        t.backward(y + 1);
        assertArrayEquals(new double[]{0, x[8], 0, 0}, Arrays.copyOf(t.grad, 4));
        assertEquals(x[1], t.grad[8]);
    }

    /** Every vector op gives, to the last bit, what the same op recorded one scalar node at a time gives. */
    @Test
    void vectorRunsEqualScalarNodesBitForBit() {
        double[] x = inputs(9, 17);
        ToIntFunction<microgpt_optimized.Tape> runs = t -> {
            int v = t.mul(t.exp(t.add(t.mul(t.add(0, 4, 4), 8, 4), 0.3, 4), 4), -1.5, 4);
            return weighted(t, t.relu(t.add(v, 0, 4), 4), 4);
        };
        ToIntFunction<microgpt_optimized.Tape> scalars = t -> {
            int[] v = new int[4];
            for (int i = 0; i < 4; i++) v[i] = t.add(i, 4 + i);
            for (int i = 0; i < 4; i++) v[i] = t.mul(v[i], 8);
            for (int i = 0; i < 4; i++) v[i] = t.add(v[i], 0.3);
            for (int i = 0; i < 4; i++) v[i] = t.exp(v[i]);
            for (int i = 0; i < 4; i++) v[i] = t.mul(v[i], -1.5);
            for (int i = 0; i < 4; i++) v[i] = t.add(v[i], i);
            int r = t.next();
            for (int i = 0; i < 4; i++) t.relu(v[i]);
            return weighted(t, r, 4);
        };
        microgpt_optimized.Tape a = new microgpt_optimized.Tape(8), b = new microgpt_optimized.Tape(8);
        for (double v : x) { a.leaf(v); b.leaf(v); }
        int outA = runs.applyAsInt(a), outB = scalars.applyAsInt(b);
        assertEquals(b.data[outB], a.data[outA]);
        a.backward(outA);
        b.backward(outB);
        for (int i = 0; i < x.length; i++) assertEquals(b.grad[i], a.grad[i], "grad " + i);
    }

    /**
     * A product against dot nodes over the same numbers as leaves: 1, 2 and 3 rows (the top row alone when their
     * number is odd, then pairs in the backward pass; fewer than the forward's four-row block), 7 rows, and a
     * 1-wide input.
     */
    @ParameterizedTest(name = "{0} rows of {1}")
    @CsvSource({"1,5", "2,5", "3,5", "7,5", "1,1", "3,1", "36,36", "20,5", "13,64", "9,2", "8,3", "17,6", "16,7"})
    void matvecGradientsAndValuesEqualPlainDots(int nout, int nin) {
        double[] x = inputs(nout * nin + nin, 5);
        microgpt_optimized.Tape a = productTape(x, nout, nin), b = leafTape(x);
        int xa = 0;
        int ya = a.matvec(0, nout, xa);
        int yb = b.next();
        for (int o = 0; o < nout; o++) b.dot(o * nin, nout * nin, nin);
        for (int o = 0; o < nout; o++) assertEquals(b.data[yb + o], a.data[ya + o], "row " + o + ", bit for bit");
        a.backward(weighted(a, ya, nout));
        b.backward(weighted(b, yb, nout));
        for (int o = 0; o < nout; o++)
            for (int k = 0; k < nin; k++) assertEquals(b.grad[o * nin + k], a.row_grads[o][k], "row " + o + ", " + k + ", bit for bit");
        for (int k = 0; k < nin; k++) assertEquals(b.grad[nout * nin + k], a.grad[xa + k], "input " + k + ", bit for bit");

        // CHANGE 19, 20: with gradients off and the matrix transposed (eight rows at a time and the rest, CHANGE 23),
        // four inputs a pass and the rest: the same values, bit for bit
        a.grad_enabled = false;
        withColumns(a, nout);
        for (int o = 0; o < nout; o++) for (int i = 0; i < nin; i++) assertEquals(a.rows[o][i], a.cols[0][i][o], "column " + i + ", row " + o);
        int yt = a.matvec(0, nout, xa);
        for (int o = 0; o < nout; o++) assertEquals(b.data[yb + o], a.data[yt + o], "transposed, row " + o + ", bit for bit");

        // CHANGE 23: with gradients on, a current transposed copy gives the forward; the backward reads the rows:
        // the same values and gradients; once the weights change (version), the rows again
        microgpt_optimized.Tape c = new microgpt_optimized.Tape(8);
        c.rows = a.rows;
        c.row_grads = new double[nout][nin];
        c.sharesColumnsOf(a);
        int xc = c.next();
        for (int i = 0; i < nin; i++) c.leaf(x[nout * nin + i]);
        int yc = c.matvec(0, nout, xc);
        for (int o = 0; o < nout; o++) assertEquals(b.data[yb + o], c.data[yc + o], "transposed with gradients, row " + o);
        c.backward(weighted(c, yc, nout));
        for (int o = 0; o < nout; o++)
            for (int k = 0; k < nin; k++) assertEquals(b.grad[o * nin + k], c.row_grads[o][k], "transposed: row " + o + ", " + k);
        for (int k = 0; k < nin; k++) assertEquals(b.grad[nout * nin + k], c.grad[xc + k], "transposed: input " + k);
        double[] stale = a.cols[0][0].clone();
        a.cols[0][0][0] = 1e300; // a copy no longer current must not be read
        c.version++;
        c.reset();
        for (int i = 0; i < nin; i++) c.leaf(x[nout * nin + i]);
        int yr = c.matvec(0, nout, 0);
        for (int o = 0; o < nout; o++) assertEquals(b.data[yb + o], c.data[yr + o], "after a change of the weights, row " + o);
        a.cols[0][0] = stale;
    }

    /**
     * CHANGE 35: a matrix whose rows changed after its columns were copied, its columns left to copy: the first
     * product that reads them (matvec, or matmat over positions, a ReLU's outputs with zeros among them too) copies
     * them, and its values are those of the new rows, bit for bit.
     */
    @ParameterizedTest(name = "{0} rows of {1}, {2}")
    @CsvSource({"9,6,matvec", "3,5,matvec", "9,6,matmat", "16,8,matmat over a ReLU's outputs"})
    void columnsLeftToCopyAreCopiedWhenAProductReadsThem(int nout, int nin, String way) {
        int count = way.equals("matvec") ? 1 : 3, in = nout * nin;
        boolean zeros = way.endsWith("ReLU's outputs");
        double[] x = inputs(in + count * nin, 35);
        if (zeros) for (int i = in; i < x.length; i += 2) x[i] = 0.0;
        microgpt_optimized.Tape a = withColumns(rowsTape(x, nout, nin), nout);
        a.stale_cols = new java.util.concurrent.atomic.AtomicIntegerArray(nout);
        for (int o = 0; o < nout; o++) // an update of the rows whose copy is left for later
            for (int i = 0; i < nin; i++) x[o * nin + i] = a.rows[o][i] = -2 * a.rows[o][i] + 0.5;
        a.leaveColumns(0);
        assertEquals(microgpt_optimized.Tape.COPY, a.stale_cols.get(0), way + ": left to copy");
        microgpt_optimized.Tape b = leafTape(x);
        int yb = b.next();
        for (int p = 0; p < count; p++) for (int o = 0; o < nout; o++) b.dot(o * nin, in + p * nin, nin);
        int[] xs = new int[count];
        for (int p = 0; p < count; p++) { xs[p] = a.next(); for (int i = 0; i < nin; i++) a.leaf(x[in + p * nin + i]); }
        int ya = count == 1 ? a.matvec(0, nout, xs[0]) : a.matmat(0, nout, xs, count, zeros);
        assertEquals(0, a.stale_cols.get(0), way + ": copied");
        for (int k = 0; k < count * nout; k++)
            assertEquals(b.data[yb + k], a.data[ya + k], way + ": position " + k / nout + ", output " + k % nout + ", bit for bit");
        for (int o = 0; o < nout; o++)
            for (int i = 0; i < nin; i++) assertEquals(a.rows[o][i], a.cols[0][i][o], way + ": column " + i + ", row " + o);
    }

    /**
     * CHANGE 25: a product followed by a ReLU, as mlp_fc1: the rows whose output the ReLU turns off get the gradient 0
     * and are left out of the backward pass. Against dot and relu nodes, values and gradients bit for bit: 1 to 9
     * rows (odd and even numbers of rows left), all of them off, and rows whose output is infinite or NaN with the
     * gradient 0, which must still reach the input's gradient (infinity times 0 is NaN).
     */
    @ParameterizedTest(name = "{0} rows of {1}, {2}")
    @CsvSource({"1,4,random", "2,4,random", "3,5,random", "4,3,random", "5,6,random", "6,2,random", "7,5,random",
            "8,4,random", "9,3,random", "5,4,all off", "4,4,all on", "6,4,infinite", "6,4,NaN", "7,3,infinite input"})
    void productRowsThatGetNoGradientAreLeftOutWithTheSameBits(int nout, int nin, String kind) {
        for (long seed = 1; seed <= 4; seed++) {
            double[] x = inputs(nout * nin + nin, 20 + seed);
            for (int o = 0; o < nout; o++)
                for (int i = 0; i < nin; i++) {
                    double xi = x[nout * nin + i];
                    if (kind.equals("all off")) x[o * nin + i] = -Math.abs(x[o * nin + i]) * Math.signum(xi);
                    if (kind.equals("all on")) x[o * nin + i] = Math.abs(x[o * nin + i]) * Math.signum(xi);
                }
            if (kind.equals("infinite")) x[2 * nin + 1] = -Math.signum(x[nout * nin + 1]) * Double.POSITIVE_INFINITY; // output -inf
            if (kind.equals("NaN")) x[3 * nin] = Double.NaN;
            if (kind.equals("infinite input")) x[nout * nin + 2] = Double.NEGATIVE_INFINITY;
            microgpt_optimized.Tape a = productTape(x, nout, nin), b = leafTape(x);
            int xa = 0;
            int ya = a.relu(a.matvec(0, nout, xa), nout);
            int dots = b.next();
            for (int o = 0; o < nout; o++) b.dot(o * nin, nout * nin, nin);
            int yb = b.next();
            for (int o = 0; o < nout; o++) b.relu(dots + o);
            int off = 0;
            for (int o = 0; o < nout; o++) {
                assertEquals(b.data[yb + o], a.data[ya + o], kind + ", seed " + seed + ": output " + o);
                if (!(a.data[ya + o] > 0)) off++;
            }
            if (kind.equals("all off")) assertEquals(nout, off, "every row off");
            if (kind.equals("all on")) assertEquals(0, off, "no row off");
            a.backward(weighted(a, ya, nout));
            b.backward(weighted(b, yb, nout));
            for (int o = 0; o < nout; o++)
                for (int k = 0; k < nin; k++)
                    assertEquals(b.grad[o * nin + k], a.row_grads[o][k], kind + ", seed " + seed + ": row " + o + ", " + k);
            for (int k = 0; k < nin; k++)
                assertEquals(b.grad[nout * nin + k], a.grad[xa + k], kind + ", seed " + seed + ": input " + k);
            if (kind.equals("infinite") || kind.equals("NaN")) // that row's output is off: its gradient is 0
                assertTrue(Double.isNaN(a.grad[xa + (kind.equals("NaN") ? 0 : 1)]), "infinity or NaN times 0 reaches the input's gradient");
        }
    }

    /**
     * CHANGE 26: a product from its transposed matrix leaves out the inputs that are zero, when they are a ReLU's
     * outputs (mlp_fc2's). Against dot nodes over the same numbers, bit for bit, with gradients off and on (the
     * backward reads the rows): 1 to 16 inputs (four a pass and the rest), about half of them zero, none, all, zeros
     * of either sign (the inputs taken as a ReLU's, so that any value can be tried), a real ReLU's outputs; and
     * the cases where a zero input must stay in: an infinite or NaN weight in its column (times 0 it is NaN), and
     * a matrix whose values are finite but whose sum overflows (taken as not finite: all inputs, the same values).
     */
    @ParameterizedTest(name = "{0} rows of {1}, {2}")
    @CsvSource({"1,1,random", "3,2,random", "8,5,random", "13,9,random", "9,16,random", "5,7,all zero", "5,7,none zero",
            "6,9,negative zeros", "7,10,after a ReLU", "6,9,infinite weight", "6,9,NaN weight", "6,9,NaN input",
            "6,9,overflowing sum"})
    void transposedProductsLeaveOutTheInputsThatAreZero(int nout, int nin, String kind) {
        for (long seed = 1; seed <= 4; seed++) {
            double[] x = inputs(nout * nin + nin, 40 + seed);
            int in = nout * nin; // the input's first value
            for (int i = 0; i < nin; i++) {
                boolean zero = kind.equals("all zero") || (!kind.equals("none zero") && (x[in + i] < 0 || i == nin / 2));
                if (zero) x[in + i] = kind.equals("negative zeros") ? -0.0 : 0.0;
                if (kind.equals("after a ReLU")) x[in + i] = zero ? -Math.abs(x[in + i]) - 0.5 : Math.abs(x[in + i]);
            }
            int z = nin / 2; // an input that is zero, but in those two cases
            if (kind.equals("infinite weight")) x[2 * nin + z] = Double.NEGATIVE_INFINITY;
            if (kind.equals("NaN weight")) x[3 * nin + z] = Double.NaN;
            if (kind.equals("NaN input")) x[in + z] = Double.NaN;
            if (kind.equals("overflowing sum")) for (int k = 0; k < in; k++) x[k] = 1e307 * (1 + k % 3); // 54 of them: about 1.1e309
            boolean relu = kind.equals("after a ReLU");
            microgpt_optimized.Tape a = productTape(x, nout, nin), b = leafTape(x);
            int xb = relu ? b.relu(in, nin) : in, yb = b.next();
            for (int o = 0; o < nout; o++) b.dot(o * nin, xb, nin);
            a.grad_enabled = false;
            withColumns(a, nout);
            assertEquals(!kind.matches("infinite weight|NaN weight|overflowing sum"), a.finite[0], kind + ": the matrix is finite");
            int xa = relu ? a.relu(0, nin) : 0;
            if (relu) assertEquals(xa, a.relu_out, "the tape knows a ReLU's outputs");
            a.relu_out = xa; // the input taken as a ReLU's
            int yt = a.matvec(0, nout, xa);
            for (int o = 0; o < nout; o++) assertEquals(b.data[yb + o], a.data[yt + o], kind + ", seed " + seed + ": output " + o);
            if (kind.equals("infinite weight") || kind.equals("NaN weight")) {
                int o = kind.equals("NaN weight") ? 3 : 2;
                assertTrue(Double.isNaN(a.data[yt + o]), "an infinite or NaN weight times a zero input is NaN");
                a.finite[0] = true; // were the matrix taken as finite, the zero input would be left out, and the NaN with it
                int y2 = a.matvec(0, nout, xa);
                assertFalse(Double.isNaN(a.data[y2 + o]), "the zero input is left out");
                a.finite[0] = false;
            }

            microgpt_optimized.Tape c = new microgpt_optimized.Tape(8); // gradients on, as in training (CHANGE 23)
            c.rows = a.rows;
            c.row_grads = new double[nout][nin];
            c.sharesColumnsOf(a);
            for (int i = 0; i < nin; i++) c.leaf(x[in + i]);
            int xc = relu ? c.relu(0, nin) : 0;
            c.relu_out = xc;
            int yc = c.matvec(0, nout, xc);
            for (int o = 0; o < nout; o++) assertEquals(b.data[yb + o], c.data[yc + o], kind + ", seed " + seed + ": output " + o + ", gradients on");
            c.backward(weighted(c, yc, nout));
            b.backward(weighted(b, yb, nout));
            for (int o = 0; o < nout; o++)
                for (int k = 0; k < nin; k++) assertEquals(b.grad[o * nin + k], c.row_grads[o][k], kind + ", seed " + seed + ": row " + o + ", " + k);
            for (int k = 0; k < nin; k++) assertEquals(b.grad[in + k], c.grad[k], kind + ", seed " + seed + ": input " + k);
        }
    }

    /**
     * CHANGE 29: a product over count positions at once (Tape.matmat) against dot nodes over the same numbers,
     * position after position, values and gradients bit for bit: from the rows (as with C1), and from the transposed
     * matrix (four inputs a pass and the rest, for every position); its backward pass row by row over the positions
     * (the last alone when their number is odd). 1 to 9 positions, widths that are not a multiple of four; a ReLU
     * after it (rows whose outputs get the gradient 0 are left out, CHANGE 25), with infinite and NaN outputs that
     * must still reach the inputs' gradients; inputs that are a ReLU's zeros (left out, CHANGE 26), and a NaN weight
     * that keeps them in. CHANGE 31: the same with the weights' gradients apart (matmatWeights, once the backward
     * pass is done with the product). CHANGE 32: the columns copied eight rows at a time equal the whole copy.
     */
    @ParameterizedTest(name = "{0} rows of {1}, {2} positions, {3}")
    @CsvSource({"1,1,1,random", "3,5,2,random", "8,7,3,random", "13,9,5,random", "27,16,7,random", "4,8,8,random",
            "6,4,9,ReLU after", "5,6,4,ReLU after", "9,3,1,ReLU after", "6,4,3,infinite", "6,4,3,NaN", "12,4,3,infinite", "10,6,2,NaN", "9,10,4,zero inputs",
            "7,9,5,zero inputs and a NaN weight"})
    void productsOverEveryPositionEqualDotsPositionAfterPosition(int nout, int nin, int count, String kind) {
        for (long seed = 1; seed <= 3; seed++) {
            double[] x = inputs(nout * nin + count * nin, 60 + seed);
            int in = nout * nin; // position p's input is x[in + p * nin ..]
            boolean zeros = kind.startsWith("zero inputs"), relu = !kind.equals("random") && !zeros;
            if (zeros) for (int i = 0; i < count * nin; i++) if (x[in + i] < 0 || i % nin == nin / 2) x[in + i] = 0.0;
            if (kind.equals("infinite")) x[2 * nin + 1] = -Math.signum(x[in + 1]) * Double.POSITIVE_INFINITY; // row 2 at position 0: -inf
            if (kind.equals("NaN") || kind.endsWith("NaN weight")) x[3 * nin + nin / 2] = Double.NaN;
            microgpt_optimized.Tape b = leafTape(x);
            int yb = b.next();
            for (int p = 0; p < count; p++) for (int o = 0; o < nout; o++) b.dot(o * nin, in + p * nin, nin);
            int lb = yb;
            if (relu) { lb = b.next(); for (int k = 0; k < count * nout; k++) b.relu(yb + k); }
            b.backward(weighted(b, lb, count * nout));
            for (int way = 0; way < 4; way++) {
                boolean columns = way % 2 == 1, apart = way >= 2;
                String what = kind + ", seed " + seed + (columns ? ", transposed" : ", rows") + (apart ? ", weights apart" : "");
                microgpt_optimized.Tape a = rowsTape(x, nout, nin);
                if (columns) {
                    withColumns(a, nout);
                    assertEquals(!kind.matches("infinite|NaN|.*NaN weight"), a.finite[0], what + ": the matrix is finite");
                    double[][] whole = a.cols[0];
                    a.cols[0] = null;
                    for (int o = 0; o < nout; o += 8) a.transpose(0, nout, o, Math.min(o + 8, nout)); // CHANGE 32
                    assertTrue(Arrays.deepEquals(whole, a.cols[0]), what + ": the columns, eight rows at a time");
                    assertEquals(!kind.matches("infinite|NaN|.*NaN weight"), a.finite[0], what + ": the matrix is finite, block by block");
                }
                if (apart) { // CHANGE 31: as the batch does it, here on the same thread
                    a.weights_apart = true;
                    double[][] scratch = new double[count][nin];
                    int[] live = new int[count];
                    a.finished = i -> a.matmatWeights(i, scratch, live);
                }
                int[] xs = new int[count];
                for (int p = 0; p < count; p++) { xs[p] = a.next(); for (int i = 0; i < nin; i++) a.leaf(x[in + p * nin + i]); }
                int ya = a.matmat(0, nout, xs, count, zeros);
                for (int k = 0; k < count * nout; k++)
                    assertEquals(b.data[yb + k], a.data[ya + k], what + ": position " + k / nout + ", output " + k % nout);
                int la = relu ? a.relu(ya, count * nout) : ya;
                a.backward(weighted(a, la, count * nout));
                for (int o = 0; o < nout; o++)
                    for (int k = 0; k < nin; k++) assertEquals(b.grad[o * nin + k], a.row_grads[o][k], what + ": row " + o + ", " + k);
                for (int p = 0; p < count; p++)
                    for (int k = 0; k < nin; k++)
                        assertEquals(b.grad[in + p * nin + k], a.grad[xs[p] + k], what + ": position " + p + ", input " + k);
            }
            if (relu) { // some rows were left out, and non-finite outputs reached the inputs' gradients
                int off = 0;
                for (int k = 0; k < count * nout; k++) if (b.grad[yb + k] == 0) off++;
                assertTrue(off > 0, "a row's output got the gradient 0");
                if (!kind.equals("ReLU after")) assertTrue(Double.isNaN(b.grad[in + (kind.equals("NaN") ? nin / 2 : 1)]), "NaN reaches the input's gradient");
            }
        }
    }

    /**
     * CHANGE 21: the ReLU run's masks against the scalar node's branches, on the values where a mask could go
     * wrong: both zeros, infinities, NaN, the smallest and largest doubles of either sign; values and gradients
     * bit for bit (assertEquals on doubles tells 0.0 from -0.0).
     */
    @Test
    void reluMasksEqualTheBranchOnEveryKindOfDouble() {
        double[] x = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE,
                -Double.MIN_VALUE, Double.MIN_NORMAL, Double.MAX_VALUE, -Double.MAX_VALUE, 1.5, -2.5,
                Double.longBitsToDouble(0x7ff8000000000001L), Double.longBitsToDouble(0xfff0000000000001L)};
        int n = x.length;
        microgpt_optimized.Tape a = new microgpt_optimized.Tape(8), b = new microgpt_optimized.Tape(8);
        for (double v : x) { a.leaf(v); b.leaf(v); }
        int ra = a.relu(0, n), rb = b.next();
        for (int i = 0; i < n; i++) b.relu(i);
        for (int i = 0; i < n; i++) {
            assertEquals(x[i] > 0 ? x[i] : 0.0, a.data[ra + i], "relu(" + x[i] + ")");
            assertEquals(b.data[rb + i], a.data[ra + i], "relu(" + x[i] + ") as the scalar node");
        }
        for (double[] g : new double[][]{{1.0}, {-3.0}, {Double.NaN}, {Double.NEGATIVE_INFINITY}}) {
            microgpt_optimized.Tape p = new microgpt_optimized.Tape(8), q = new microgpt_optimized.Tape(8);
            for (double v : x) { p.leaf(v); q.leaf(v); }
            int rp = p.relu(0, n), rq = q.next();
            for (int i = 0; i < n; i++) q.relu(i);
            int op = p.mul(p.sum(rp, n), g[0]), oq = q.mul(q.sum(rq, n), g[0]);
            p.backward(op);
            q.backward(oq);
            for (int i = 0; i < n; i++) assertEquals(q.grad[i], p.grad[i], "gradient at " + x[i] + " from " + g[0]);
        }
    }

    /**
     * CHANGE 22: the attention's dots four at a time, and its dot_gathers four j at a time, against one dot or
     * dot_gather at a time: 1 to 9 of them (every remainder of the blocks of four), values and gradients bit for bit.
     */
    @ParameterizedTest(name = "{0} positions, {1} channels")
    @CsvSource({"1,1", "2,3", "3,4", "4,5", "5,6", "6,7", "7,8", "8,9", "9,2"})
    void attentionBlocksEqualOneDotAtATime(int len, int nj) {
        int width = nj + 3; // keys and values are vectors of width, read from channel 2 on
        double[] x = inputs(2 * len * width + 2 * len + nj, 11);
        int[] keys = new int[len + 1], values = new int[len + 1]; // read from offset 1
        microgpt_optimized.Tape[] tapes = {new microgpt_optimized.Tape(8), new microgpt_optimized.Tape(8)};
        int[] outs = new int[2], qs = new int[2], ws = new int[2];
        for (int s = 0; s < 2; s++) {
            microgpt_optimized.Tape t = tapes[s];
            for (double v : x) t.leaf(v);
            for (int p = 0; p < len; p++) { keys[1 + p] = (2 * p) * width; values[1 + p] = (2 * p + 1) * width; }
            qs[s] = 2 * len * width; // a query of nj channels, then len attention weights
            ws[s] = qs[s] + nj + len;
            int scores = t.next();
            if (s == 0) t.dots(qs[s], keys, 1, 2, nj, len);
            else for (int p = 0; p < len; p++) t.dot(qs[s], keys[1 + p] + 2, nj);
            int mixed = t.next();
            if (s == 0) t.dot_gathers(qs[s] + nj, values, 1, 2, nj, len);
            else for (int j = 2; j < 2 + nj; j++) t.dot_gather(qs[s] + nj, values, 1, j, len);
            outs[s] = t.add(weighted(t, scores, len), weighted(t, mixed, nj));
        }
        assertEquals(tapes[1].size, tapes[0].size, "as many nodes");
        for (int i = 0; i < tapes[0].size; i++) assertEquals(tapes[1].data[i], tapes[0].data[i], "node " + i);
        for (int s = 0; s < 2; s++) tapes[s].backward(outs[s]);
        for (int i = 0; i < x.length; i++) assertEquals(tapes[1].grad[i], tapes[0].grad[i], "gradient of input " + i);
    }

    /**
     * CHANGE 24: from step 230 on, 1 - 0.85^(step+1) is 1.0, and from step 3724 1 - 0.99^(step+1) too; Adam then skips
     * those divisions. Its parameters and moments against the formula with both divisions, around both steps.
     */
    @ParameterizedTest(name = "step {0}")
    @CsvSource({"0", "229", "230", "3723", "3724", "9000"})
    void adamWithoutADivisionByOneGivesTheSameBits(int step) {
        assertEquals(step >= 230, 1 - Math.pow(0.85, step + 1) == 1.0, "where the first division goes");
        assertEquals(step >= 3724, 1 - Math.pow(0.99, step + 1) == 1.0, "where the second one goes");
        microgpt_optimized.Tape t = new microgpt_optimized.Tape(8);
        double[] x = inputs(4 * 37, step + 1);
        t.rows = new double[][]{Arrays.copyOfRange(x, 0, 37)};
        t.row_grads = new double[][]{Arrays.copyOfRange(x, 37, 74)};
        microgpt_optimized.Adam adam = new microgpt_optimized.Adam(t);
        for (int i = 0; i < 37; i++) { adam.m[0][i] = x[74 + i] * 1e-3; adam.v[0][i] = x[111 + i] * x[111 + i] * 1e-6; }
        adam.m[0][0] = -0.0; adam.m[0][1] = Double.MIN_VALUE; adam.v[0][2] = Double.MIN_VALUE; // zeros and subnormals
        double[] p = t.rows[0].clone(), g = t.row_grads[0].clone(), m = adam.m[0].clone(), v = adam.v[0].clone();
        int num_steps = 10000;
        adam.step(step, num_steps);
        adamFormula(p, g, m, v, step, num_steps);
        for (int i = 0; i < 37; i++) {
            assertEquals(m[i], adam.m[0][i], "m " + i);
            assertEquals(v[i], adam.v[0][i], "v " + i);
            assertEquals(p[i], t.rows[0][i], "parameter " + i);
            assertEquals(0.0, t.row_grads[0][i], "gradient " + i + " zeroed");
        }
    }

    /** microgpt.java's Adam update of one row of parameters p, gradients g and moments m, v, with both divisions. */
    static void adamFormula(double[] p, double[] g, double[] m, double[] v, int step, int num_steps) {
        double lr_t = 0.01 * (1 - (double) step / num_steps);
        for (int i = 0; i < p.length; i++) {
            m[i] = 0.85 * m[i] + (1 - 0.85) * g[i];
            v[i] = 0.99 * v[i] + (1 - 0.99) * (g[i] * g[i]);
            double m_hat = m[i] / (1 - Math.pow(0.85, step + 1)), v_hat = v[i] / (1 - Math.pow(0.99, step + 1));
            p[i] -= lr_t * m_hat / (Math.sqrt(v_hat) + 1e-8);
        }
    }

    /**
     * CHANGE 28: beta1 * m for a subnormal m, in integers, against the CPU's product: every k up to 2^18 (the moments
     * that stick are 1 to 3), random ones up to 2^52 - 1, both signs, and the largest subnormal.
     */
    @Test
    void beta1TimesASubnormalIsTheCPUsProduct() {
        Random random = new Random(28);
        for (int n = 0; n < (1 << 18) + 100_000; n++) {
            long k = n < 1 << 18 ? n + 1 : 1 + (random.nextLong() >>> 12) % ((1L << 52) - 1);
            if (n == (1 << 18) + 99_999) k = (1L << 52) - 1;
            for (double m : new double[]{Double.longBitsToDouble(k), -Double.longBitsToDouble(k)})
                assertEquals(0.85 * m, microgpt_optimized.Adam.beta1Times(m), "k = " + k);
        }
    }

    /**
     * CHANGE 28: Adam with subnormal moments (left out of the formula and put back, where that changes no bit)
     * against microgpt.java's update, two steps in a row, before and after bias1 becomes 1 (step 230): a row
     * of every mix of moments (subnormal, 1 to 3 times the smallest, about to become subnormal, normal, zeros),
     * gradients (zeros, tiny, normal), weights (zeros, the 2^-940 bound and below it, subnormal, infinite, NaN)
     * and second moments (normal, zero, negative, subnormal, infinite, NaN); a row whose every value is set aside
     * (no formula at all); and that row with one gradient that is not 0.
     */
    @ParameterizedTest(name = "step {0} of {1}")
    @CsvSource({"228, 10000", "5000, 10000", "5000, 5002"}) // the last: a learning rate near 0
    void adamWithSubnormalMomentsGivesTheSameBits(int step, int num_steps) {
        double min = Double.MIN_VALUE, normal = Double.MIN_NORMAL;
        List<double[]> mix = new ArrayList<>(), whole = new ArrayList<>(); // {m, g, w, v} each
        for (double m : new double[]{min, -min, 2 * min, 3 * min, -3 * min, 4 * min, 1000 * min, -normal / 3, normal - min, 1.1 * normal, 0x1p-1001, 1e-3, 0.0, -0.0})
            for (double g : new double[]{0.0, -0.0, 1e-300, -1e-3})
                for (double w : new double[]{0.5, -2.0, 0.0, -0.0, 0x1p-940, -0x1p-940, 0x1p-941, 3 * min, Double.POSITIVE_INFINITY, Double.NaN})
                    for (double v : new double[]{1e-6, 1e-61, 0.0, -1.0, 5 * min, Double.POSITIVE_INFINITY, Double.NaN})
                        mix.add(new double[]{m, g, w, v});
        for (double m : new double[]{min, -min, 2 * min, -3 * min, 1000 * min, -0x1p-1030})
            for (double g : new double[]{0.0, -0.0})
                for (double w : new double[]{0.5, -2.0, 0x1p-940, -0x1p-940})
                    for (double v : new double[]{1e-6, 0.0, Double.POSITIVE_INFINITY})
                        whole.add(new double[]{m, g, w, v});
        List<double[]> almost = new ArrayList<>(whole);
        almost.set(almost.size() / 2, new double[]{min, -1e-3, 0.5, 1e-6});
        List<List<double[]>> rows = List.of(mix, whole, almost);
        int R = rows.size();
        double[][] p = new double[R][], g = new double[R][], m = new double[R][], v = new double[R][];
        for (int r = 0; r < R; r++) {
            int n = rows.get(r).size();
            p[r] = new double[n]; g[r] = new double[n]; m[r] = new double[n]; v[r] = new double[n];
            for (int k = 0; k < n; k++) { double[] x = rows.get(r).get(k); m[r][k] = x[0]; g[r][k] = x[1]; p[r][k] = x[2]; v[r][k] = x[3]; }
        }
        microgpt_optimized.Tape t = new microgpt_optimized.Tape(8);
        t.rows = new double[R][]; t.row_grads = new double[R][];
        for (int r = 0; r < R; r++) { t.rows[r] = p[r].clone(); t.row_grads[r] = g[r].clone(); }
        microgpt_optimized.Adam adam = new microgpt_optimized.Adam(t);
        for (int r = 0; r < R; r++) { adam.m[r] = m[r].clone(); adam.v[r] = v[r].clone(); }
        for (int s = step; s < step + 2; s++) {
            adam.step(s, num_steps);
            for (int r = 0; r < R; r++) {
                adamFormula(p[r], g[r], m[r], v[r], s, num_steps);
                for (int k = 0; k < p[r].length; k++) {
                    double[] was = rows.get(r).get(k);
                    String what = "step " + s + ", row " + r + ": m was " + was[0] + ", g " + was[1] + ", w " + was[2] + ", v " + was[3];
                    assertEquals(m[r][k], adam.m[r][k], what + ": m");
                    assertEquals(v[r][k], adam.v[r][k], what + ": v");
                    assertEquals(p[r][k], t.rows[r][k], what + ": w");
                    assertEquals(0.0, t.row_grads[r][k], what + ": gradient zeroed");
                }
            }
            for (int r = 0; r < R; r++) t.row_grads[r] = g[r].clone(); // the same gradients again
        }
    }

    @Test
    void modelLossGradientMatchesFiniteDifferences() {
        microgpt_optimized.GPT model = new microgpt_optimized.GPT(new Config(2, 8, 8, 2), 6,
                new PyRandom(7), false);
        int[] tokens = {5, 0, 3, 1, 4, 2, 5};
        microgpt_optimized.Tape t = model.tape;
        t.reset();
        t.backward(microgpt_optimized.loss(model, tokens, tokens.length));
        double[] analytic = model.gradients(), w = model.weights();
        for (int i = 0; i < model.num_params; i += 37) {
            final int p = i;
            double original = w[p];
            double numeric = TestSupport.numericGrad(v -> {
                w[p] = v;
                model.setWeights(w);
                t.reset();
                double l = t.data[microgpt_optimized.loss(model, tokens, tokens.length)];
                w[p] = original;
                model.setWeights(w);
                return l;
            }, original);
            TestSupport.assertGradClose(numeric, analytic[i], "param " + i);
        }
    }

    @Test
    void gradientsEqualMicrogptJavasOnTheSameModel() {
        microgpt.GPT orig = new microgpt.GPT(new Config(1, 8, 8, 2), 6, new PyRandom(3));
        microgpt_optimized.GPT opt = new microgpt_optimized.GPT(new Config(1, 8, 8, 2), 6,
                new PyRandom(3), false);
        int[] tokens = {5, 2, 2, 0, 4, 1, 3, 5};
        microgpt.Value loss = microgpt.loss(orig, tokens);
        loss.backward();
        opt.tape.reset();
        int l = microgpt_optimized.loss(opt, tokens, tokens.length);
        opt.tape.backward(l);
        assertEquals(loss.data, opt.tape.data[l], 1e-15 * loss.data);
        assertEquals(orig.params.length, opt.num_params);
        double[] grads = opt.gradients();
        for (int i = 0; i < opt.num_params; i++)
            assertEquals(orig.params[i].grad, grads[i], 1e-12 * Math.max(1e-3, Math.abs(orig.params[i].grad)), "param " + i);
    }

    // ---- No graph at inference, nothing allocated per step -------------------------------------

    @Test
    void resetZeroesEveryGradientABackwardPassWrote() {
        // CHANGE 33: reset() zeroes only the gradients a backward pass may have written since the last reset, so a
        // graph's gradients do not depend on what the tape held before: backward passes with samples between them
        microgpt_optimized.GPT model = new microgpt_optimized.GPT(new Config(1, 16, 16, 4), 27,
                new PyRandom(1), false);
        microgpt_optimized.Tape t = model.tape;
        microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(List.of("abcdefghijklmnopqrstuvwxyz"), null);
        double[] first = null;
        for (int round = 0; round < 3; round++) {
            t.reset();
            int logits = 0;
            for (int pos = 0; pos <= round + 2; pos++) logits = microgpt_optimized.gpt(model, 3 + pos, pos, model.cache);
            int loss = t.lse(logits, 27);
            t.backward(round == 0 ? loss : loss - 1); // from a node inside the logits' run, too
            if (round == 0) first = Arrays.copyOf(t.grad, t.size);
            double[] before = Arrays.copyOf(t.grad, t.grad.length);
            microgpt_optimized.sample(model, tok, new int[0], 0.5, new PyRandom(round)); // resets, before and after
            for (int i = 0; i < t.grad.length; i++) assertEquals(0.0, t.grad[i], "round " + round + ": gradient " + i + " after a sample");
            assertTrue(Arrays.stream(before).anyMatch(g -> g != 0), "the backward pass wrote gradients");
        }
        // the same graph again, after all that: the same gradients as on a fresh tape
        t.reset();
        int logits = 0;
        for (int pos = 0; pos <= 2; pos++) logits = microgpt_optimized.gpt(model, 3 + pos, pos, model.cache);
        t.backward(t.lse(logits, 27));
        assertArrayEquals(first, Arrays.copyOf(t.grad, first.length), "gradients after samples and backward passes of other graphs");
    }

    @Test
    void noGradPathRecordsNothing() {
        microgpt_optimized.GPT model = new microgpt_optimized.GPT(new Config(1, 16, 16, 4), 27,
                new PyRandom(1), false);
        microgpt_optimized.Tape t = model.tape;
        t.reset();
        t.grad_enabled = false;
        for (int pos = 0; pos < 5; pos++) {
            int logits = microgpt_optimized.gpt(model, 3 + pos, pos, model.cache);
            t.lse(logits, 27);
        }
        assertEquals(0, t.gatherSize, "no gathered operands recorded");
        assertEquals(0, t.savedSize, "no softmax saved");
        for (int i = 0; i < t.size; i++) assertEquals(microgpt_optimized.Tape.LEAF, t.op[i], "node " + i + " records no op");
        t.grad_enabled = true;
        // sample() turns gradients off and back on, and leaves the tape empty
        microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(List.of("abcdefghijklmnopqrstuvwxyz"), null);
        microgpt_optimized.sample(model, tok, new int[0], 0.5, new PyRandom(2));
        assertTrue(t.grad_enabled);
        assertEquals(0, t.size);
    }

    // ---- Batches on threads: the same bits for any number of threads ----------------------------

    @Test
    void anyNumberOfThreadsGivesTheSameBits(@TempDir Path tmp) throws IOException {
        String tiny = TestSupport.tinyNames().toString();
        String out1 = null;
        byte[] log1 = null, model1 = null;
        for (String threads : List.of("1", "2", "3", "8")) { // 8: more threads than documents
            Path log = tmp.resolve("l" + threads + ".csv"), model = tmp.resolve("m" + threads + ".safetensors");
            TestSupport.Run r = run("--input", tiny, "--batch-size", "4", "--threads", threads, "--steps", "30", "--samples", "6",
                    "--loss-log", log.toString(), "--save", model.toString());
            assertEquals(0, r.exit(), r.err());
            if (out1 == null) { out1 = r.out(); log1 = Files.readAllBytes(log); model1 = Files.readAllBytes(model); continue; }
            assertEquals(out1, r.out(), "stdout with " + threads + " threads");
            assertArrayEquals(log1, Files.readAllBytes(log), "loss log with " + threads + " threads");
            assertArrayEquals(model1, Files.readAllBytes(model), "model file with " + threads + " threads");
        }
    }

    @ParameterizedTest(name = "columns in use: {0}")
    @CsvSource({"true", "false"})
    void aWideModelsAdamOnThreadsGivesTheSameBits(boolean columns) {
        // CHANGE 27: 64 wide, block 16: 53,632 parameters, Adam in up to 3 shares of whole matrices (16,384 or more each);
        // CHANGE 30: with one document and the columns, each matrix updated as soon as its gradients are done
        boolean was = microgpt_optimized.transposedForward;
        microgpt_optimized.transposedForward = columns; // as in a run relaunched with C2, or as in one with C1
        try {
            List<String> docs = microgpt_optimized.splitDocs(TrainingRun.readInput(TestSupport.tinyNames(), false));
            microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(docs, null);
            for (int batchSize : new int[]{1, 2}) {
                double[] weights1 = null, m1 = null, v1 = null;
                for (int threads : new int[]{1, 2, 3, 8}) {
                    microgpt_optimized.GPT model = new microgpt_optimized.GPT(new Config(1, 64, 16, 4), tok.vocab_size, new PyRandom(42), false);
                    microgpt_optimized.Adam adam = new microgpt_optimized.Adam(model.tape);
                    try (microgpt_optimized.Batch batch = new microgpt_optimized.Batch(model, batchSize, threads, tok.max_len + 2)) {
                        assertEquals(Math.max(Math.min(threads, batchSize), Math.min(threads, 3)) - 1, batch.team.threads.length,
                                "threads besides the caller's, batch " + batchSize + ", " + threads + " threads");
                        // CHANGE 30: with the columns (C2), one document and Adam's shares, the update starts during the backward pass
                        assertEquals(columns && batchSize == 1 && threads > 1, batch.overlaps(), "batch " + batchSize + ", " + threads + " threads: the update during the backward pass");
                        for (int step = 0; step < 6; step++) trainOn(batch, adam, tok, docs, step);
                    }
                    double[] weights = model.weights(), m = ModelFile.flat(adam.m), v = ModelFile.flat(adam.v);
                    String what = "batch " + batchSize + ", " + threads + " threads";
                    if (columns) { // the update copied the columns of the rows it updated (CHANGE 32: on one thread too)
                        microgpt_optimized.Tape t = model.tape;
                        assertTrue(t.cols_version == t.version, what + ": the columns are current");
                        model.transposed(); // nothing to do if they are current (CHANGE 35: but copy those left to copy); then they must equal the rows
                        for (int k = 2; k < model.matrices.length; k++) {
                            int first = model.matrices[k].first_row();
                            for (int o = 0; o < model.matrices[k].nout(); o++)
                                for (int i = 0; i < model.matrices[k].nin(); i++)
                                    assertEquals(t.rows[first + o][i], t.cols[first][i][o], what + ": matrix " + k + ", column " + i + ", row " + o);
                        }
                    }
                    if (weights1 == null) { weights1 = weights; m1 = m; v1 = v; continue; }
                    assertArrayEquals(weights1, weights, what + ": the weights, bit for bit");
                    assertArrayEquals(m1, m, what + ": Adam's first moments");
                    assertArrayEquals(v1, v, what + ": Adam's second moments");
                }
            }
        } finally {
            microgpt_optimized.transposedForward = was;
        }
    }

    @Test
    void aSmallModelsOneDocumentStepMakesNoThread() {
        // CHANGE 27: 16 wide (4,192 parameters) is below a share of Adam: the default run stays on one thread
        List<String> docs = microgpt_optimized.splitDocs(TrainingRun.readInput(TestSupport.tinyNames(), false));
        microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(docs, null);
        microgpt_optimized.GPT model = new microgpt_optimized.GPT(new Config(1, 16, 16, 4), tok.vocab_size, new PyRandom(42), false);
        try (microgpt_optimized.Batch batch = new microgpt_optimized.Batch(model, 1, 8, tok.max_len + 2)) {
            assertEquals(0, batch.team.threads.length);
        }
    }

    @Test
    void batchedRunMatchesMicrogptJavasOneDocumentAfterAnother(@TempDir Path tmp) throws IOException {
        String[] args = {"--input", TestSupport.tinyNames().toString(), "--batch-size", "3", "--steps", "25", "--samples", "8"};
        Path a = tmp.resolve("a.csv"), b = tmp.resolve("b.csv");
        TestSupport.Run orig = TestSupport.run(Cli::run, new microgpt(), TestSupport.concat(args, "--loss-log", a.toString()));
        TestSupport.Run mod = run(TestSupport.concat(args, "--threads", "2", "--loss-log", b.toString()));
        assertEquals(0, orig.exit(), orig.err());
        assertEquals(0, mod.exit(), mod.err());
        TestSupport.assertRelClose(TestSupport.readLossLog(a), TestSupport.readLossLog(b), 1e-12, "batched losses");
        assertEquals(TestSupport.samplesOf(orig.out()), TestSupport.samplesOf(mod.out()));
        assertNotEquals(TestSupport.readLossLog(a).get(0), 3.3660, 1e-3, "the first step is a mean over 3 documents, not one");
    }

    @Test
    void threadsBelowOneAreAUsageErrorAndMicrogptJavaHasNone() {
        run("--input", TestSupport.tinyNames().toString(), "--batch-size", "2", "--threads", "0")
                .assertOneLineError(2, "microgpt-optimized: --threads must be at least 1 (got 0)");
        run("--threads", "x").assertOneLineError(2, "'x' is not an int");
        TestSupport.run(Cli::run, new microgpt(), "--input", TestSupport.tinyNames().toString(), "--threads", "2")
                .assertOneLineError(2, "microgpt: Unknown options: '--threads', '2' (see --help)");
    }

    @ParameterizedTest(name = "batch {0}, {1} threads, {2} wide")
    @CsvSource({"1,1,16", "4,2,16", "3,3,16", "1,2,64"}) // 64 wide: Adam on two threads (CHANGE 27)
    void trainingStepAllocatesNothingOnceWarm(int batchSize, int threads, int width) {
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        List<String> docs = microgpt_optimized.splitDocs(TrainingRun.readInput(TestSupport.tinyNames(), false));
        microgpt_optimized.Tokenizer tok = new microgpt_optimized.Tokenizer(docs, null);
        microgpt_optimized.GPT model = new microgpt_optimized.GPT(new Config(1, width, 16, 4),
                tok.vocab_size, new PyRandom(42), false);
        microgpt_optimized.Adam adam = new microgpt_optimized.Adam(model.tape);
        try (microgpt_optimized.Batch batch = new microgpt_optimized.Batch(model, batchSize, threads, tok.max_len + 2)) {
            // Reading another thread's counter allocates on this one: this thread's is read last before, first after.
            // A recompilation can allocate once (the objects of a deoptimized frame), so windows of 200 steps are
            // measured after 200 of warm-up until one allocates nothing; an allocation in every step fails them all.
            Thread[] others = batch.team.threads;
            long[] before = new long[others.length + 1], allocated = new long[others.length + 1];
            int step = 0;
            for (; step < 200; step++) trainOn(batch, adam, tok, docs, step); // the tapes and their pools reach their size
            for (int window = 0; window < 5; window++) {
                for (int k = 0; k < others.length; k++) before[k + 1] = mx.getThreadAllocatedBytes(others[k].getId());
                before[0] = mx.getThreadAllocatedBytes(Thread.currentThread().getId());
                for (int end = step + 200; step < end; step++) trainOn(batch, adam, tok, docs, step);
                allocated[0] = mx.getThreadAllocatedBytes(Thread.currentThread().getId()) - before[0];
                for (int k = 0; k < others.length; k++) allocated[k + 1] = mx.getThreadAllocatedBytes(others[k].getId()) - before[k + 1];
                if (Arrays.stream(allocated).allMatch(bytes -> bytes == 0)) break;
            }
            assertEquals(0, allocated[0], "bytes allocated by 200 warm training steps on the calling thread");
            for (int k = 0; k < others.length; k++)
                assertEquals(0, allocated[k + 1], "bytes allocated by 200 warm training steps on thread " + others[k].getName());
        }
    }

    static void trainOn(microgpt_optimized.Batch batch, microgpt_optimized.Adam adam, microgpt_optimized.Tokenizer tok,
                        List<String> docs, int step) {
        for (int b = 0; b < batch.size; b++)
            batch.n_tokens[b] = tok.encode(docs.get((step * batch.size + b) % docs.size()), batch.tokens[b]);
        microgpt_optimized.trainStep(batch, adam, step, 1200);
    }

    // ---- As shipped: C1 only, and a long run relaunched with C2 (CHANGE 15, support/Relaunch.java) ----

    /** The engine in a JVM of its own with its //JAVA_OPTIONS (C1 only), as JBang starts it; output to files in dir. */
    static Process asShipped(Path dir, String... args) throws IOException { return asShipped(dir, List.of(), args); }

    /** The same, with more JVM options (system properties) after the engine's. */
    static Process asShipped(Path dir, List<String> jvmOptions, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        cmd.addAll(List.of(microgpt_optimized.JAVA_OPTIONS.split(" ")));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), microgpt_optimized.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectOutput(dir.resolve("out.txt").toFile()).redirectError(dir.resolve("err.txt").toFile()).start();
    }

    /** The JVM a relaunching one started (waits for it). */
    static ProcessHandle secondJvm(Process first) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            Optional<ProcessHandle> child = first.toHandle().children().findFirst();
            if (child.isPresent()) return child.get();
            assertTrue(first.isAlive(), "the first JVM ended without starting a second");
            Thread.sleep(5);
        }
        throw new AssertionError("no second JVM within a minute");
    }

    @Test
    void aLongRunGoesOnInAJvmWithC2AndGivesTheSameResults(@TempDir Path tmp) throws Exception {
        String[] longRun = {"--input", TestSupport.tinyNames().toString(), "--n-embd", "64", "--steps", "800", "--samples", "3"};
        assertTrue(Relaunch.work(longRun) >= Relaunch.LONG_RUN);
        Process p = asShipped(tmp, TestSupport.concat(longRun, "--timing"));
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
        String err = Files.readString(tmp.resolve("err.txt"));
        assertEquals(0, p.exitValue(), err);
        assertTrue(err.matches("timing: JVM and options \\d+ ms \\(a long run: two JVMs, the second with C2\\), data .*\n"), err);
        assertEquals(run(longRun).out(), Files.readString(tmp.resolve("out.txt")), "the same as in one JVM");

        Process q = asShipped(tmp, "--input", TestSupport.tinyNames().toString(), "--steps", "20", "--samples", "0", "--timing");
        assertTrue(q.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        err = Files.readString(tmp.resolve("err.txt"));
        assertEquals(0, q.exitValue(), err);
        assertTrue(err.matches("timing: JVM and options \\d+ ms, data .*\n"), "a short run stays in its JVM: " + err);
    }

    /** As CliContract's test of a kill between the loss log and the model file, in the relaunched JVM of a long run. */
    @Test
    void aKillBetweenTheLossLogAndTheModelFileOfARelaunchedRunLosesNoStep(@TempDir Path tmp) throws Exception {
        Path full = tmp.resolve("full.csv"), part = tmp.resolve("part.csv"), ck = tmp.resolve("ck.safetensors");
        String[] longRun = {"--input", TestSupport.tinyNames().toString(), "--n-embd", "64", "--samples", "2"};
        String[] steps = {"--steps", "800"};
        assertTrue(Relaunch.work(TestSupport.concat(longRun, steps)) >= Relaunch.LONG_RUN);
        TestSupport.Run whole = run(TestSupport.concat(TestSupport.concat(longRun, steps), "--loss-log", full.toString()));
        assertEquals(0, whole.exit(), whole.err());

        Process p = asShipped(tmp, List.of("-D" + TrainingRun.HALT_BEFORE_SAVE + "=400"), TestSupport.concat(TestSupport.concat(longRun, steps),
                "--loss-log", part.toString(), "--save", ck.toString(), "--save-every", "200"));
        secondJvm(p); // a long run: the second JVM halts, and the first exits with its code
        TestSupport.assertHaltedBetweenTheWritesAndResumed(p, tmp.resolve("err.txt"), part, 400, ck, 200,
                () -> run(TestSupport.concat(longRun, "--resume", ck.toString(), "--loss-log", part.toString())), full, whole);
    }

    @Test
    void theRelaunchedRunStopsWithTheFirstJvm(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck.safetensors");
        String[] longRun = {"--input", TestSupport.tinyNames().toString(), "--n-embd", "64", "--steps", "1000000", "--samples", "0"};
        Process p = asShipped(tmp, TestSupport.concat(longRun, "--save", ck.toString(), "--save-every", "20"));
        ProcessHandle second = secondJvm(p);
        try {
            TestSupport.awaitWhileAlive(p, () -> Files.exists(ck));
            p.destroy(); // SIGTERM to the first JVM: passed on, the second saves the run and says how to resume it
            assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            String err = Files.readString(tmp.resolve("err.txt"));
            assertEquals(143, p.exitValue(), err);
            assertTrue(err.matches("(?s).*microgpt-optimized: stopped after step \\d+ of 1000000 and saved the run to .*--resume .*\n"), err);
            assertFalse(second.isAlive());

            Process k = asShipped(tmp, longRun);
            second = secondJvm(k);
            k.destroyForcibly(); // SIGKILL: nothing is passed on, and the second JVM halts by itself
            assertTrue(k.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
            assertNotNull(second.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS)); // its run would take minutes
            assertFalse(second.isAlive());
        } finally {
            second.destroyForcibly();
        }
    }

    // ---- Data and tokenizer: the optimized loading gives what microgpt.java's gives ------------

    @Test
    void dataLoadingAndTokenizerEqualMicrogptJava(@TempDir Path tmp) throws IOException {
        List<String> texts = List.of("  emma \r\nolivia\rava\n\n \t \n\u00a0zoë\u3000\r\n\r\nx\n", " \n\r\n\t\n", "a b",
                "\r\r\n\n", "b\uD83D\uDE42a\n\uFF21é\r\n\ufffd", "last line without newline\r", "\u2028x\u2029\n\u0085y");
        for (String text : texts) {
            assertEquals(microgpt.splitDocs(text), microgpt_optimized.splitDocs(text), "splitDocs of " + text);
            List<String> docs = microgpt.splitDocs(text);
            if (docs.isEmpty()) continue;
            microgpt.Tokenizer a = new microgpt.Tokenizer(docs, null);
            microgpt_optimized.Tokenizer b = new microgpt_optimized.Tokenizer(docs, null);
            assertArrayEquals(a.uchars, b.uchars);
            assertEquals(a.vocab_size, b.vocab_size);
            int[] buf = new int[b.max_len + 2];
            for (String doc : docs) assertArrayEquals(a.encode(doc), Arrays.copyOf(buf, b.encode(doc, buf)), doc);
        }
        // a real U+FFFD in valid UTF-8 is a character, not an error
        Path ok = TestSupport.writeFile(tmp, "fffd.txt", "a\ufffdb\nc\n");
        assertEquals(List.of("a\ufffdb", "c"), microgpt_optimized.splitDocs(TrainingRun.readInput(ok, false)));
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[]{'a', (byte) 0xff, '\n'});
        assertThrows(UserError.class, () -> microgpt_optimized.splitDocs(TrainingRun.readInput(bad, false)));
    }

    @Test
    void unknownKvLayoutIsAUsageError() { // every other bad input: CliContract, for both engines
        run("--input", TestSupport.tinyNames().toString(), "--kv-layout", "diagonal").assertOneLineError(2, "--kv-layout", "nested", "flat");
    }

    @Test
    void longestNameSizesTheTokenBuffer() {
        assertEquals(15, new microgpt_optimized.Tokenizer(microgpt_optimized.splitDocs(TrainingRun.readInput(TestSupport.namesTxt(), false)), null).max_len);
    }

    // ---- Model files across engines ------------------------------------------------------------

    @Test
    void eitherEngineReadsWhatTheOtherWrote(@TempDir Path tmp) throws IOException {
        String tiny = TestSupport.tinyNames().toString();
        Path a = tmp.resolve("orig.safetensors"), b = tmp.resolve("mod.safetensors"), a2 = tmp.resolve("orig2.safetensors");
        TestSupport.Run orig = TestSupport.run(Cli::run, new microgpt(), "--input", tiny, "--steps", "8", "--samples", "0",
                "--save", a.toString());
        assertEquals(0, orig.exit(), orig.err());
        TestSupport.Run mod = run("--load", a.toString(), "--samples", "6", "--prompt", "a", "--save", b.toString());
        TestSupport.Run back = TestSupport.run(Cli::run, new microgpt(), "--load", b.toString(), "--samples", "6",
                "--prompt", "a", "--save", a2.toString());
        assertEquals(0, mod.exit(), mod.err());
        assertEquals(0, back.exit(), back.err());
        assertEquals(TestSupport.samplesOf(back.out()), TestSupport.samplesOf(mod.out()), "the same samples in both engines");
        TestSupport.assertSameTensors(a, b, "wte", "wpe", "lm_head", "layer0.attn_wq", "layer0.attn_wk", "layer0.attn_wv",
                "layer0.attn_wo", "layer0.mlp_fc1", "layer0.mlp_fc2");
        TestSupport.assertSameTensors(b, a2, "wte", "layer0.mlp_fc2");
        assertEquals("microgpt_optimized.java", ModelFile.read(b).meta.get("engine"));
    }

    @Test
    void aFailedWriteLeavesTheOldFileAndNoTemporaryFile(@TempDir Path tmp) throws IOException {
        Path target = TestSupport.writeFile(tmp, "model.safetensors", "the previous checkpoint");
        ModelFile c = new ModelFile(target);
        c.meta.put("format", "microgpt-checkpoint");
        c.put("wte", new long[]{2, 3}, new double[]{1, 2, 3, 4, 5, 6});
        c.put("broken", new long[]{4}, new double[]{1}); // fewer values than its shape: fails while the data is written
        assertThrows(ArrayIndexOutOfBoundsException.class, () -> c.write(target));
        assertEquals("the previous checkpoint", Files.readString(target));
        assertEquals(Set.of("model.safetensors"), TestSupport.listing(tmp));
    }

    @Test
    void sigkillLosesAtMostSaveEverySteps(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck.safetensors");
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
                microgpt_optimized.class.getName(), "--input", TestSupport.tinyNames().toString(), "--steps", "200000", "--save", ck.toString(),
                "--save-every", "25");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        TestSupport.awaitWhileAlive(p, () -> Files.exists(ck));
        Thread.sleep(200);
        p.destroyForcibly(); // SIGKILL: no hook runs
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(137, p.exitValue());
        ModelFile c = ModelFile.read(ck); // a whole file, never a torn one
        long step = Long.parseLong(c.meta.get("step"));
        assertTrue(step > 0 && step % 25 == 0, "the last checkpoint: step " + step);
        c.checkTensors(new Config(1, 16, 16, 4), true); // and resumable: weights, moments, RNG all there
    }
}
