///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//SOURCES ../microgpt_optimized.java
//SOURCES StepPhases.java
//COMPILE_OPTIONS -encoding UTF-8

/*
 * What change 29 buys: a training step's forward and backward passes of microgpt_optimized.java with the document
 * layer by layer (each product over every position at once, Tape.matmat) and position by position (gpt() for each
 * position, as before; microgpt_optimized.by_layer false), in turn in one JVM with C2: rounds of 200 steps (block
 * 64, one layer, 4 heads, one document a step, the shuffled names of input.txt, written from the bundled names if
 * missing; Adam between steps, outside the timing), 10 rounds each after 2 s of warm-up, medians. Then one
 * document's loss and gradients both ways from the same weights, compared bit for bit.
 * Run: ./jbang docs/LayerByLayer.java [width ...] (default 16 64 128).
 */
package mgpt;

import java.util.*;

public class LayerByLayer {
    static final int STEPS = 200, ROUNDS = 10;
    static final long WARM_NS = 2_000_000_000L;

    public static void main(String... args) throws Exception {
        String[] widths = args.length > 0 ? args : new String[]{"16", "64", "128"};
        List<String> docs = StepPhases.setUp("LayerByLayer", widths, args);
        System.out.println(System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + ", "
                + Runtime.getRuntime().availableProcessors() + " cores; block " + StepPhases.BLOCK + ", " + StepPhases.HEADS
                + " heads; us a step, median of " + ROUNDS + " rounds of " + STEPS + " steps each way, alternated");
        System.out.printf(Locale.ROOT, "%5s  %-8s %10s %10s %7s   %-8s %10s %10s %7s  %s%n", "width", "forward", "positions",
                "layers", "ratio", "backward", "positions", "layers", "ratio", "same bits");
        for (String w : widths) compare(Integer.parseInt(w), docs);
    }

    static void compare(int width, List<String> docs) {
        var tok = new microgpt_optimized.Tokenizer(docs, null);
        var model = new microgpt_optimized.GPT(new Config(1, width, StepPhases.BLOCK, StepPhases.HEADS), tok.vocab_size, new PyRandom(42), false);
        var adam = new microgpt_optimized.Adam(model.tape);
        var t = model.tape;
        int[] tokens = new int[tok.max_len + 2];
        double[][][] us = new double[2][2][ROUNDS]; // [layers?][forward, backward][round]
        long warmed = System.nanoTime() + WARM_NS;
        int step = 0;
        for (int round = -2; round < ROUNDS; round++) {
            if (round == 0 && System.nanoTime() < warmed) round = -1; // one more round of warm-up
            for (int k = 0; k < 2; k++) {
                microgpt_optimized.by_layer = k == 1;
                long f = 0, b = 0;
                for (int s = 0; s < STEPS; s++, step++) {
                    int n = tok.encode(docs.get(step % docs.size()), tokens);
                    model.transposed(); // as Batch.run does in a run with C2 (change 23)
                    long t0 = System.nanoTime();
                    t.reset();
                    int loss = microgpt_optimized.loss(model, tokens, n);
                    long t1 = System.nanoTime();
                    t.backward(t.mul(loss, 1.0));
                    long t2 = System.nanoTime();
                    adam.step(s, STEPS);
                    f += t1 - t0; b += t2 - t1;
                }
                if (round >= 0) { us[k][0][round] = f / 1e3 / STEPS; us[k][1][round] = b / 1e3 / STEPS; }
            }
        }
        microgpt_optimized.by_layer = true;
        double[] fp = us[0][0], fl = us[1][0], bp = us[0][1], bl = us[1][1];
        System.out.printf(Locale.ROOT, "%5d  %-8s %10.1f %10.1f %6.2fx   %-8s %10.1f %10.1f %6.2fx  %s%n", width, "",
                MulAddBound.median(fp), MulAddBound.median(fl), MulAddBound.median(fp) / MulAddBound.median(fl), "",
                MulAddBound.median(bp), MulAddBound.median(bl), MulAddBound.median(bp) / MulAddBound.median(bl), sameBits(model, tok, docs));
    }

    /** One document's loss and gradients position by position and layer by layer, from the same weights: "yes" if every bit agrees. */
    static String sameBits(microgpt_optimized.GPT model, microgpt_optimized.Tokenizer tok, List<String> docs) {
        int[] tokens = new int[tok.max_len + 2];
        int n = tok.encode(docs.get(0), tokens);
        double[][] got = new double[2][];
        for (int k = 0; k < 2; k++) {
            microgpt_optimized.by_layer = k == 1;
            var t = model.tape;
            for (double[] g : t.row_grads) Arrays.fill(g, 0);
            t.reset();
            int loss = microgpt_optimized.loss(model, tokens, n);
            t.backward(t.mul(loss, 1.0));
            double[] g = ModelFile.flat(t.row_grads);
            got[k] = Arrays.copyOf(g, g.length + 1);
            got[k][g.length] = t.data[loss];
        }
        microgpt_optimized.by_layer = true;
        for (double[] g : model.tape.row_grads) Arrays.fill(g, 0);
        if (!Arrays.equals(got[0], got[1])) {
            System.err.println("LayerByLayer: the loss or the gradients differ layer by layer");
            System.exit(1);
        }
        return "yes";
    }
}
