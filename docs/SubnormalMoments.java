///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../microgpt_optimized.java
//SOURCES StepPhases.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * What change 28 buys: Adam's step of microgpt_optimized.java in a long run of a wide model, where neurons whose
 * ReLU is always off leave Adam's first moments in the subnormals. One model trains (block 64, one layer, 4 heads,
 * one document a step, the shuffled names of input.txt, written from the bundled names if missing); every 2,000
 * steps its state (weights, gradients of the next document, both moments) is copied, and one Adam step is timed
 * from that same state again and again, in turn with change 28 and without it (Adam.set_aside false: the formula
 * over every value), 31 times each after 100 of warm-up and a second at least; the two results are compared bit for bit. The learning rate is that of the
 * checkpoint's step. Run: ./jbang docs/SubnormalMoments.java [width [steps]] (default 64 12000), with C2.
 */
package mgpt;

import java.util.*;

public class SubnormalMoments {
    static final int EVERY = 2000, ROUNDS = 31, WARM = 100;
    static final long WARM_NS = 1_000_000_000L; // and at least a second: C2 recompiles Adam.rows for the switch

    public static void main(String... args) throws Exception {
        String width = args.length > 0 ? args[0] : "64";
        if (args.length > 1 && !args[1].matches("[1-9][0-9]{0,6}")) {
            System.err.println("SubnormalMoments: steps '" + args[1] + "' is not a number from 1 to 9999999; try 12000");
            System.exit(2);
        }
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 12000;
        List<String> docs = StepPhases.setUp("SubnormalMoments", new String[]{width}, args);
        int w = Integer.parseInt(width);
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores; " + w + " wide, block " + StepPhases.BLOCK + ", "
                + steps + " steps; one Adam step from each checkpoint's state, median of " + ROUNDS + " (us)");
        System.out.printf(Locale.ROOT, "%6s %12s %10s %10s %7s%n", "step", "subnormal m", "without", "with", "ratio");
        var tok = new microgpt_optimized.Tokenizer(docs, null);
        var model = new microgpt_optimized.GPT(new Config(1, w, StepPhases.BLOCK, StepPhases.HEADS), tok.vocab_size, new PyRandom(42), false);
        var adam = new microgpt_optimized.Adam(model.tape);
        var t = model.tape;
        try (var batch = new microgpt_optimized.Batch(model, 1, 1, tok.max_len + 2)) {
            for (int step = 0; step < steps; step++) {
                batch.n_tokens[0] = tok.encode(docs.get(step % docs.size()), batch.tokens[0]);
                batch.run();
                if (step % EVERY == 0 && step > 0) checkpoint(step, steps, adam, t);
                batch.update(adam, step, steps);
            }
        }
    }

    /** One Adam step from the state at this step, with and without change 28, alternated; then both results compared. */
    static void checkpoint(int step, int steps, microgpt_optimized.Adam adam, microgpt_optimized.Tape t) {
        double[] w0 = ModelFile.flat(t.rows), g0 = ModelFile.flat(t.row_grads), m0 = ModelFile.flat(adam.m), v0 = ModelFile.flat(adam.v);
        double[][] us = new double[2][ROUNDS];
        double[][][] after = new double[2][][];
        long warmed = System.nanoTime() + WARM_NS;
        for (int round = -WARM; round < ROUNDS; round++) {
            if (round == 0 && System.nanoTime() < warmed) round = -1; // one more round of warm-up
            for (int k = 0; k < 2; k++) {
                restore(t, adam, w0, g0, m0, v0);
                microgpt_optimized.Adam.set_aside = k == 1; // the same code, with and without change 28's branch
                long t0 = System.nanoTime();
                adam.rows(step, steps, 0, t.rows.length);
                long ns = System.nanoTime() - t0;
                microgpt_optimized.Adam.set_aside = true;
                if (round >= 0) us[k][round] = ns / 1e3;
                if (round == ROUNDS - 1) after[k] = new double[][]{ModelFile.flat(t.rows), ModelFile.flat(adam.m), ModelFile.flat(adam.v)};
            }
        }
        if (!Arrays.deepEquals(after[0], after[1])) {
            System.err.println("SubnormalMoments: the weights or moments differ with and without change 28 at step " + step);
            System.exit(1);
        }
        restore(t, adam, w0, g0, m0, v0); // the run goes on from its own state
        int subnormal = 0;
        for (double x : m0) if (x != 0 && Math.abs(x) < Double.MIN_NORMAL) subnormal++;
        double without = MulAddBound.median(us[0]), with = MulAddBound.median(us[1]);
        System.out.printf(Locale.ROOT, "%6d %12d %10.1f %10.1f %6.2fx%n", step, subnormal, without, with, without / with);
    }

    /** The checkpoint's state back in the model's and Adam's rows. */
    static void restore(microgpt_optimized.Tape t, microgpt_optimized.Adam adam, double[] w, double[] g, double[] m, double[] v) {
        ModelFile.unflat(w, t.rows); ModelFile.unflat(g, t.row_grads); ModelFile.unflat(m, adam.m); ModelFile.unflat(v, adam.v);
    }
}
