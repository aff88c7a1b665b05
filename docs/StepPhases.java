///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../microgpt_optimized.java
//SOURCES MulAddBound.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * Where a training step of microgpt_optimized.java spends its time, part by part, against each part's bound
 * on this machine, measured by docs/MulAddBound.java (docs/optimizations.md, "Scaling with the model's width"):
 *   columns   the matrices transposed, once a step, for the forward (change 23); no bound: copies, not arithmetic;
 *   forward   the products' fixed-order sums from the transposed matrices (four inputs a pass over the outputs, in
 *             SIMD lanes: changes 19, 20, 23), attention (four fixed-order dots at a time, scalar: change 22),
 *             normalisation, the loss; bound: the products' multiply-adds at the rate of that loop over as many
 *             outputs as the width, less those of mlp_fc2's inputs that the ReLU made zero (change 26 leaves
 *             them out), the attention's at the rate of four fixed-order sums;
 *   backward  the products' loops (SIMD lanes, change 17) and the rest of the tape in reverse; bound: its
 *             multiply-adds at the vectorized rate of a[k] += b[k] * s over arrays as long as the width, less
 *             those of mlp_fc1's rows whose ReLU was off (change 25 leaves them out: counted on the tape);
 *   Adam      three divisions and a square root per parameter, in SIMD lanes; bound: that arithmetic alone,
 *             over one array as long as the width. The steps are 0 to 199, as the harness's: from step 230 Adam
 *             skips one division (change 24). On one thread here; on two, docs/AdamThreads.java (change 27).
 * What a part takes beyond its bound is the tape's bookkeeping (nodes, runs, scratch copies) and the work
 * the bound does not count. Run: ./jbang docs/StepPhases.java [width ...] (default 16 64 128): block 64,
 * one layer, 4 heads, one document a step (the harness's train-steps), input.txt (written from the bundled
 * names if missing). The engine's //JAVA_OPTIONS stop at C1; this restarts itself with C2, as a long run does.
 */
package mgpt;

import java.nio.file.Path;
import java.util.*;

public class StepPhases {
    static final int BLOCK = 64, HEADS = 4, STEPS = 200, WARM = 4, ROUNDS = 7;
    static final long WARM_NS = 2_000_000_000L; // warm-up: at least WARM rounds and this long (four rounds at 16 wide end before C2 is done)

    public static void main(String... args) throws Exception {
        String[] widths = args.length > 0 ? args : new String[]{"16", "64", "128"};
        List<String> docs = setUp("StepPhases", widths, args);
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores; block " + BLOCK + ", " + HEADS + " heads, " + STEPS
                + " steps a round, median of " + ROUNDS + " rounds after " + WARM + " or more (" + WARM_NS / 1_000_000_000 + " s at least)");
        for (String w : widths) phases(Integer.parseInt(w), docs);
    }

    /**
     * For this tool and docs/AdamThreads.java: checks the widths (exit 2 on one that is not a multiple of the heads),
     * goes on in a JVM with C2, and returns the names of input.txt (written from the bundled ones if missing), shuffled.
     */
    static List<String> setUp(String tool, String[] widths, String[] args) {
        for (String w : widths)
            if (!w.matches("[1-9][0-9]{0,3}") || Integer.parseInt(w) % HEADS != 0) {
                System.err.println(tool + ": width '" + w + "' is not a multiple of " + HEADS + " (the heads); try 16, 64 or 128");
                System.exit(2);
            }
        Relaunch.withC2(args, System.currentTimeMillis()); // the engine's //JAVA_OPTIONS stop at C1: again with C2
        List<String> docs = microgpt_optimized.splitDocs(TrainingRun.readInput(Path.of(TrainingRun.DEFAULT_INPUT), true));
        new PyRandom(42).shuffle(docs);
        return docs;
    }

    static void phases(int width, List<String> docs) {
        var tok = new microgpt_optimized.Tokenizer(docs, null);
        var model = new microgpt_optimized.GPT(new Config(1, width, BLOCK, HEADS), tok.vocab_size, new PyRandom(42), false);
        var adam = new microgpt_optimized.Adam(model.tape);
        var t = model.tape;
        int[] tokens = new int[tok.max_len + 2];
        double[][] ns = new double[4][ROUNDS];
        double macs = 0, attention = 0; // multiply-adds forward per step, all and the attention's (the backward does twice these)
        double off = 0; // the backward's multiply-adds left out: mlp_fc1's rows whose ReLU was off (change 25)
        long warmed = System.nanoTime() + WARM_NS;
        for (int round = -WARM; round < ROUNDS; round++) {
            if (round == 0 && System.nanoTime() < warmed) round = -1; // one more round of warm-up
            long c = 0, f = 0, b = 0, a = 0;
            macs = 0; attention = 0; off = 0;
            for (int step = 0; step < STEPS; step++) {
                int n = tok.encode(docs.get(step % docs.size()), tokens), positions = Math.min(BLOCK, n - 1);
                long tc = System.nanoTime();
                model.transposed(); // as Batch.run does in a run with C2 (change 23)
                long t0 = System.nanoTime();
                t.reset();
                int loss = microgpt_optimized.loss(model, tokens, n);
                long t1 = System.nanoTime();
                for (int i = 0; i < t.size; i++) // a ReLU run's last node holds its op, its length and its input's first node
                    if (t.op[i] == microgpt_optimized.Tape.RELU_V)
                        for (int k = 0; k < t.n[i]; k++) if (!(t.data[t.a[i] + k] > 0)) off += 2.0 * width;
                long t1b = System.nanoTime(); // the count above is in no part
                t.backward(t.mul(loss, 1.0));
                long t2 = System.nanoTime();
                adam.step(step, STEPS);
                long t3 = System.nanoTime();
                c += t0 - tc; f += t1 - t0; b += t2 - t1b; a += t3 - t2;
                for (int p = 0; p < positions; p++) {
                    double scores = 2.0 * width * (p + 1); // the attention's: scores and outputs over p + 1 positions
                    macs += 12.0 * width * width + tok.vocab_size * width + scores;
                    attention += scores;
                }
            }
            long[] parts = {c, f, b, a};
            if (round >= 0) for (int part = 0; part < 4; part++) ns[part][round] = parts[part] / (double) STEPS;
        }
        macs /= STEPS;
        attention /= STEPS;
        off /= STEPS;
        double columns = MulAddBound.median(ns[0]), forward = MulAddBound.median(ns[1]), backward = MulAddBound.median(ns[2]);
        double adamNs = MulAddBound.median(ns[3]);
        double zeros = off / 2; // the forward's left out: a width of mlp_fc2's for each input the ReLU made zero (change 26)
        double fwdBound = (macs - attention - zeros) * MulAddBound.transposedSum(width) + attention * MulAddBound.fixedOrderSum(width);
        double bwdBound = (2 * macs - off) * MulAddBound.vectorMulAdd(width);
        double adamBound = model.num_params * MulAddBound.adamArithmetic(width);
        System.out.printf(Locale.ROOT, "%n%d wide: %.2f M multiply-adds a step forward (%.1f positions on average), %d parameters;"
                + " the ReLU's zeros leave out %.0f%% of them (mlp_fc2's inputs) and %.0f%% of the backward's %.2f M"
                + " (mlp_fc1's rows)%n",
                width, macs / 1e6, macs / (12.0 * width * width + tok.vocab_size * width + width), model.num_params,
                100 * zeros / macs, 100 * off / (2 * macs), 2 * macs / 1e6);
        System.out.printf(Locale.ROOT, "%-9s %12s %12s %10s%n", "part", "MOD (us)", "bound (us)", "of bound");
        row("columns", columns, 0);
        row("forward", forward, fwdBound);
        row("backward", backward, bwdBound);
        row("Adam", adamNs, adamBound);
        row("step", columns + forward + backward + adamNs, fwdBound + bwdBound + adamBound);
    }

    static void row(String part, double ns, double bound) {
        if (bound == 0) System.out.printf(Locale.ROOT, "%-9s %12.1f %12s %10s%n", part, ns / 1e3, "-", "-");
        else System.out.printf(Locale.ROOT, "%-9s %12.1f %12.1f %9.0f%%%n", part, ns / 1e3, bound / 1e3, 100 * bound / ns);
    }
}
