///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../microgpt_optimized.java
//SOURCES MulAddBound.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * Where a training step of microgpt_optimized.java spends its time, part by part, against each part's bound
 * on this machine, measured by docs/MulAddBound.java (docs/optimizations.md, "Scaling with the model's width"):
 *   forward   the products' fixed-order sums (four rows at a time, scalar: the same bits forbid SIMD lanes),
 *             attention, normalisation, the loss; bound: its multiply-adds at the rate of matvec's own loop;
 *   backward  the products' loops (SIMD lanes, change 17) and the rest of the tape in reverse; bound: its
 *             multiply-adds at the vectorized rate of a[k] += b[k] * s over arrays as long as the width;
 *   Adam      three divisions and a square root per parameter, in SIMD lanes; bound: that arithmetic alone,
 *             over one array as long as the width.
 * What a part takes beyond its bound is the tape's bookkeeping (nodes, runs, scratch copies) and the work
 * the bound does not count. Run: ./jbang docs/StepPhases.java [width ...] (default 16 64 128): block 64,
 * one layer, 4 heads, one document a step (the harness's train-steps), input.txt (written from the bundled
 * names if missing). The engine's //JAVA_OPTIONS stop at C1; this restarts itself with C2, as a long run does.
 */
package mgpt;

import java.nio.file.Path;
import java.util.*;

public class StepPhases {
    static final int BLOCK = 64, HEADS = 4, STEPS = 300, WARM = 4, ROUNDS = 7;

    public static void main(String... args) throws Exception {
        String[] widths = args.length > 0 ? args : new String[]{"16", "64", "128"};
        for (String w : widths)
            if (!w.matches("[1-9][0-9]{0,3}") || Integer.parseInt(w) % HEADS != 0) {
                System.err.println("StepPhases: width '" + w + "' is not a multiple of " + HEADS + " (the heads); try 16, 64 or 128");
                System.exit(2);
            }
        Relaunch.withC2(args, System.currentTimeMillis()); // the engine's //JAVA_OPTIONS stop at C1: again with C2
        List<String> docs = microgpt_optimized.splitDocs(TrainingRun.readInput(Path.of(TrainingRun.DEFAULT_INPUT), true));
        new PyRandom(42).shuffle(docs);
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores; block " + BLOCK + ", " + HEADS + " heads, " + STEPS
                + " steps a round, median of " + ROUNDS + " rounds after " + WARM);
        for (String w : widths) phases(Integer.parseInt(w), docs);
    }

    static void phases(int width, List<String> docs) {
        var tok = new microgpt_optimized.Tokenizer(docs, null);
        var model = new microgpt_optimized.GPT(new Config(1, width, BLOCK, HEADS), tok.vocab_size, new PyRandom(42), false);
        var adam = new microgpt_optimized.Adam(model.tape);
        var t = model.tape;
        int[] tokens = new int[tok.max_len + 2];
        double[][] ns = new double[3][ROUNDS];
        double macs = 0; // multiply-adds of the products and attention, forward, per step (the backward does twice these)
        for (int round = -WARM; round < ROUNDS; round++) {
            long f = 0, b = 0, a = 0;
            macs = 0;
            for (int step = 0; step < STEPS; step++) {
                int n = tok.encode(docs.get(step % docs.size()), tokens), positions = Math.min(BLOCK, n - 1);
                long t0 = System.nanoTime();
                t.reset();
                int loss = microgpt_optimized.loss(model, tokens, n);
                long t1 = System.nanoTime();
                t.backward(t.mul(loss, 1.0));
                long t2 = System.nanoTime();
                adam.step(step, STEPS);
                long t3 = System.nanoTime();
                f += t1 - t0; b += t2 - t1; a += t3 - t2;
                for (int p = 0; p < positions; p++) macs += 12.0 * width * width + tok.vocab_size * width + 2.0 * width * (p + 1);
            }
            if (round >= 0) { ns[0][round] = f / (double) STEPS; ns[1][round] = b / (double) STEPS; ns[2][round] = a / (double) STEPS; }
        }
        macs /= STEPS;
        double forward = MulAddBound.median(ns[0]), backward = MulAddBound.median(ns[1]), adamNs = MulAddBound.median(ns[2]);
        double fwdBound = macs * MulAddBound.fixedOrderSum(width), bwdBound = 2 * macs * MulAddBound.vectorMulAdd(width);
        double adamBound = model.num_params * MulAddBound.adamArithmetic(width);
        System.out.printf(Locale.ROOT, "%n%d wide: %.2f M multiply-adds a step forward (%.1f positions on average), %d parameters%n",
                width, macs / 1e6, macs / (12.0 * width * width + tok.vocab_size * width + width), model.num_params);
        System.out.printf(Locale.ROOT, "%-9s %12s %12s %10s%n", "part", "MOD (us)", "bound (us)", "of bound");
        row("forward", forward, fwdBound);
        row("backward", backward, bwdBound);
        row("Adam", adamNs, adamBound);
        row("step", forward + backward + adamNs, fwdBound + bwdBound + adamBound);
    }

    static void row(String part, double ns, double bound) {
        System.out.printf(Locale.ROOT, "%-9s %12.1f %12.1f %9.0f%%%n", part, ns / 1e3, bound / 1e3, 100 * bound / ns);
    }
}
