///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../microgpt_optimized.java
//SOURCES StepPhases.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * What changes 27, 30, 31 and 32 buy: a one-document training step of microgpt_optimized.java with Adam on one
 * thread (Adam over all rows, then the columns copied; or eight rows at a time, each eight's columns copied while
 * they are in cache: change 32), on two after the backward pass (change 27: each thread updates whole matrices and
 * copies their columns), on two with each matrix taken by the other thread as soon as the backward pass is done
 * with it (change 30), and with that thread adding the matrix's weight gradients too (change 31), timed in one JVM
 * with C2. Five copies of the same model train side by side, a round of 200 steps each in turn (so all see the
 * machine in the same state), and their weights are compared at the end: the same bits. Run: ./jbang
 * docs/AdamThreads.java [width ...] (default 64 128): block 64, one layer, 4 heads, the shuffled names of
 * input.txt (written from the bundled names if missing), the steps 0 to 199 of a 200-step run, as the harness's.
 * On a machine with one core the two-thread rows measure much the same thing.
 */
package mgpt;

import java.util.*;

public class AdamThreads {
    static final int BLOCK = StepPhases.BLOCK, HEADS = StepPhases.HEADS, STEPS = 200, WARM = 8, ROUNDS = 12;

    public static void main(String... args) throws Exception {
        String[] widths = args.length > 0 ? args : new String[]{"64", "128"};
        List<String> docs = StepPhases.setUp("AdamThreads", widths, args); // the widths checked, C2, the shuffled names
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores; block " + BLOCK + ", " + HEADS + " heads, " + STEPS
                + " steps a round, " + WARM + " rounds of warm-up, then " + ROUNDS + " measured");
        for (String w : widths) compare(Integer.parseInt(w), docs);
    }

    static final String[] WAYS = {"one thread, Adam then the columns", "one, eight rows at a time (change 32)",
            "two, after the backward pass (change 27)", "two, during it (change 30)", "and the weights' gradients there (change 31)"};

    static void compare(int width, List<String> docs) {
        var tok = new microgpt_optimized.Tokenizer(docs, null);
        int n = WAYS.length;
        microgpt_optimized.GPT[] models = new microgpt_optimized.GPT[n];
        microgpt_optimized.Adam[] adams = new microgpt_optimized.Adam[n];
        microgpt_optimized.Batch[] batches = new microgpt_optimized.Batch[n];
        for (int k = 0; k < n; k++) {
            models[k] = new microgpt_optimized.GPT(new Config(1, width, BLOCK, HEADS), tok.vocab_size, new PyRandom(42), false);
            adams[k] = new microgpt_optimized.Adam(models[k].tape);
            batches[k] = new microgpt_optimized.Batch(models[k], 1, k <= 1 ? 1 : 2, tok.max_len + 2);
            batches[k].blocks = k > 0;
            batches[k].weights_apart = k == 4;
        }
        double[][] us = new double[n][ROUNDS];
        for (int round = -WARM; round < ROUNDS; round++)
            for (int k = 0; k < n; k++) {
                microgpt_optimized.Batch b = batches[k];
                long t0 = System.nanoTime();
                for (int step = 0; step < STEPS; step++) {
                    b.n_tokens[0] = tok.encode(docs.get(step % docs.size()), b.tokens[0]);
                    if (k == 2) { b.run(); b.update(adams[k], step, STEPS); } // trainStep as before change 30
                    else microgpt_optimized.trainStep(b, adams[k], step, STEPS);
                }
                if (round >= 0) us[k][round] = (System.nanoTime() - t0) / 1e3 / STEPS;
            }
        boolean during = batches[3].overlaps();
        for (var b : batches) b.close();
        System.out.printf(Locale.ROOT, "%n%d wide, %d parameters, Adam in %d shares on two threads: a step (us, median and range of %d rounds;"
                        + " each round's ratio to one thread's)%n", width, models[0].num_params,
                Math.max(1, Math.min(2, models[0].num_params / microgpt_optimized.Batch.PARAMS_A_THREAD)), ROUNDS);
        for (int k = 0; k < n; k++) {
            double[] ratios = new double[ROUNDS];
            for (int r = 0; r < ROUNDS; r++) ratios[r] = us[0][r] / us[k][r];
            System.out.printf(Locale.ROOT, "%-44s %8.1f  (%.1f-%.1f)", WAYS[k], MulAddBound.median(us[k]), min(us[k]), max(us[k]));
            if (k > 0) System.out.printf(Locale.ROOT, "  %5.2fx (%.2f-%.2f)", MulAddBound.median(ratios), min(ratios), max(ratios));
            System.out.println(k >= 3 && !during ? "  (not taken: a model below two shares)" : "");
        }
        for (int k = 1; k < n; k++)
            if (!Arrays.equals(models[0].weights(), models[k].weights())) {
                System.err.println("AdamThreads: the weights with " + WAYS[k] + " differ after " + (WARM + ROUNDS) + " rounds");
                System.exit(1);
            }
        System.out.println("the same weights, bit for bit, after " + (WARM + ROUNDS) * STEPS + " steps each");
    }

    static double min(double[] x) { return Arrays.stream(x).min().orElse(Double.NaN); }
    static double max(double[] x) { return Arrays.stream(x).max().orElse(Double.NaN); }
}
