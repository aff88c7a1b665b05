///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../microgpt_optimized.java
//SOURCES StepPhases.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * What change 27 buys: a one-document training step of microgpt_optimized.java with Adam on one thread and on
 * two (the batch's threads, each updating whole matrices and copying their columns), timed in one JVM with C2.
 * Two copies of the same model train side by side, a round of 200 steps each in turn (so both see the machine
 * in the same state), and their weights are compared at the end: the same bits. Run: ./jbang
 * docs/AdamThreads.java [width ...] (default 64 128): block 64, one layer, 4 heads, the shuffled names of
 * input.txt (written from the bundled names if missing), the steps 0 to 199 of a 200-step run, as the harness's.
 * On a machine with one core the two columns measure the same thing twice.
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

    static void compare(int width, List<String> docs) {
        var tok = new microgpt_optimized.Tokenizer(docs, null);
        microgpt_optimized.GPT[] models = new microgpt_optimized.GPT[2];
        microgpt_optimized.Adam[] adams = new microgpt_optimized.Adam[2];
        microgpt_optimized.Batch[] batches = new microgpt_optimized.Batch[2];
        for (int k = 0; k < 2; k++) {
            models[k] = new microgpt_optimized.GPT(new Config(1, width, BLOCK, HEADS), tok.vocab_size, new PyRandom(42), false);
            adams[k] = new microgpt_optimized.Adam(models[k].tape);
            batches[k] = new microgpt_optimized.Batch(models[k], 1, k + 1, tok.max_len + 2); // one thread, two threads
        }
        double[][] us = new double[2][ROUNDS];
        for (int round = -WARM; round < ROUNDS; round++)
            for (int k = 0; k < 2; k++) {
                microgpt_optimized.Batch b = batches[k];
                long t0 = System.nanoTime();
                for (int step = 0; step < STEPS; step++) {
                    b.n_tokens[0] = tok.encode(docs.get(step % docs.size()), b.tokens[0]);
                    microgpt_optimized.trainStep(b, adams[k], step, STEPS);
                }
                if (round >= 0) us[k][round] = (System.nanoTime() - t0) / 1e3 / STEPS;
            }
        for (var b : batches) b.close();
        double[] ratios = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) ratios[r] = us[0][r] / us[1][r];
        System.out.printf(Locale.ROOT, "%n%d wide, %d parameters, Adam in %d shares on two threads: a step (us, median and range of %d rounds)%n",
                width, models[0].num_params, Math.max(1, Math.min(2, models[0].num_params / microgpt_optimized.Batch.PARAMS_A_THREAD)), ROUNDS);
        System.out.printf(Locale.ROOT, "one thread   %8.1f  (%.1f-%.1f)%n", median(us[0]), min(us[0]), max(us[0]));
        System.out.printf(Locale.ROOT, "two threads  %8.1f  (%.1f-%.1f)%n", median(us[1]), min(us[1]), max(us[1]));
        System.out.printf(Locale.ROOT, "one / two    %8.2fx (%.2f-%.2f, each round's ratio)%n", median(ratios), min(ratios), max(ratios));
        if (!Arrays.equals(models[0].weights(), models[1].weights())) {
            System.err.println("AdamThreads: the two models' weights differ after " + (WARM + ROUNDS) + " rounds");
            System.exit(1);
        }
        System.out.println("the same weights, bit for bit, after " + (WARM + ROUNDS) * STEPS + " steps each");
    }

    static double median(double[] x) { double[] s = x.clone(); Arrays.sort(s); return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; }
    static double min(double[] x) { return Arrays.stream(x).min().orElse(Double.NaN); }
    static double max(double[] x) { return Arrays.stream(x).max().orElse(Double.NaN); }
}
