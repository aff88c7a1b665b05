package mgpt;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.*;
import java.util.function.Function;

/**
 * --report FILE.html: one self-contained page that shows what the model learns, step by step, with the run's real
 * numbers. It watches a run through TrainingRun and an engine's two functions (sample a name with a generator of
 * the page's own; run the model over a document and give its logits, while the engine's gpt() passes each head's
 * attention weights to attention() below), and knows nothing else of the engine. Every step it keeps the loss,
 * and each matrix's gradient norm and Adam update size: the gradient is Adam's own, g = (m - beta1 m') / (1 - beta1)
 * from the first moment after and before the step, and the update is the change of the weights. At SNAPSHOTS
 * steps spread over the run (and at each write) it keeps names sampled, the probe documents' logits and attention,
 * and the token embeddings. The page's data is JSON in the page (docs/report.md has its schema); the page draws it
 * with a script of its own (support/training-report.html), and works from file:// with nothing fetched.
 */
final class TrainingReport {
    static final int SNAPSHOTS = 20, SAMPLES = 5, PROBES = 3, MAX_POINTS = 4000;

    // ---- The hook in the engines' gpt(): attention weights while a probe runs ----------------------------------

    private static double[][][][] watched; // [layer][head][query] = weights over keys 0..query; null when no probe runs

    /** Whether a probe is watching the attention weights (an engine builds the weights' array only then). */
    static boolean watching() { return watched != null; }

    /** Called by an engine's gpt() for each head: weights[offset .. offset+len) are the query at position len-1's weights. */
    static void attention(int layer, int head, double[] weights, int offset, int len) {
        double[][][][] a = watched;
        if (a != null) a[layer][head][len - 1] = Arrays.copyOfRange(weights, offset, offset + len);
    }

    // ---- What is kept ---------------------------------------------------------------------------------------------

    private final Config config;
    private final int[] vocab;          // the characters, token id order; BOS is vocab.length
    private final String command, engine;
    private final long seed;
    private final int first_step, num_steps, batch_size;
    private final double temperature, beta1;
    private final Function<PyRandom, String> sample;    // the engine's: a name sampled with the given generator
    private final Function<int[], double[][]> logits;  // the engine's: the logits at each position of a document
    private final List<String> probes = new ArrayList<>();
    private final Set<String> names = new HashSet<>(); // the training documents, for marking samples (filled on the report's thread)
    private final String[] matrices;    // state_dict names, and where each starts in the flat parameters
    private final int[] starts;
    private final int vocab_size;
    private final java.util.function.Supplier<double[]> weights;
    private final double[][] moments; // Adam's first moment, row after row in state_dict order (one row, or one per matrix row)
    private final double[][] weightRows; // the weights likewise, when the engine keeps them in rows (copied, not flattened anew)
    private double[] w_prev, m_prev; // the report's thread's
    private final TreeSet<Integer> schedule = new TreeSet<>();
    private double[] steps = new double[64], losses = new double[64];
    private double[][] grad_norms, update_norms;
    private final StringBuilder stepsJson = new StringBuilder(), lossJson = new StringBuilder();
    private final StringBuilder[] gradJson, updateJson;
    private String template; // the page, read on the report's thread
    private int count;
    private final List<String> snapshots = new ArrayList<>(); // each a JSON object
    // The per-step sums and the snapshots' JSON are made on a thread of their own (the run's step waits only for two
    // array copies): the fields below it writes are read after drain().
    private final java.util.concurrent.ExecutorService worker = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "report");
        t.setDaemon(true);
        return t;
    });
    private volatile Throwable failure;
    private final List<double[][]> embeddings = new ArrayList<>(); // wte at each snapshot, for the one projection
    private int last_snapshot = -1;

    TrainingReport(Config config, int[] vocab, List<String> docs, long seed, int first_step, int num_steps, int batch_size,
                   double temperature, double beta1, String engine, String command,
                   Function<PyRandom, String> sample, Function<int[], double[][]> logits,
                   java.util.function.Supplier<double[]> weights, double[][] weightRows, double[][] moments) {
        this.config = config; this.vocab = vocab; this.seed = seed; this.first_step = first_step; this.num_steps = num_steps;
        this.batch_size = batch_size; this.temperature = temperature; this.beta1 = beta1; this.engine = engine;
        this.command = command; this.sample = sample; this.logits = logits; this.weights = weights; this.weightRows = weightRows; this.moments = moments;
        vocab_size = vocab.length + 1;
        for (String doc : docs) { // the first documents that fit the context, as the data has them (shuffled)
            if (probes.size() == PROBES) break;
            if (doc.codePointCount(0, doc.length()) + 1 <= config.block_size() && doc.length() >= 2 && !probes.contains(doc)) probes.add(doc);
        }
        Map<String, long[]> shapes = ModelFile.stateDictShapes(config, vocab_size);
        matrices = shapes.keySet().toArray(new String[0]);
        starts = new int[matrices.length + 1];
        for (int k = 0; k < matrices.length; k++) starts[k + 1] = starts[k] + (int) ModelFile.count(shapes.get(matrices[k]));
        gradJson = new StringBuilder[matrices.length];
        updateJson = new StringBuilder[matrices.length];
        for (int k = 0; k < matrices.length; k++) { gradJson[k] = new StringBuilder(); updateJson[k] = new StringBuilder(); }
        grad_norms = new double[matrices.length][64];
        update_norms = new double[matrices.length][64];
        for (int k = 0; k <= SNAPSHOTS; k++) schedule.add(first_step + (int) Math.round((num_steps - first_step) * (double) k / SNAPSHOTS));
        run(() -> {
            names.addAll(docs);
            try (InputStream in = TrainingReport.class.getResourceAsStream("/training-report.html")) {
                template = in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                template = null; // page() says so
            }
        });
        w_prev = weights.get();
        m_prev = ModelFile.flat(moments);
        snapshot(first_step);
    }

    /** After step `step` (1-based) and its Adam update: the loss, each matrix's gradient and update, a snapshot when due. */
    void step(int step, double loss) {
        pending.add(new Step(step, loss, weightRows != null ? copy(weightRows) : weights.get(), copy(moments)));
        if (pending.size() == 8) hand();
        if (schedule.contains(step)) snapshot(step);
    }

    /** rows, one after the other, into a buffer the report's thread has finished with (or a new one). */
    private double[] copy(double[][] rows) {
        double[] flat = free.poll();
        if (flat == null) flat = new double[starts[matrices.length]];
        for (int r = 0, at = 0; r < rows.length; at += rows[r++].length) System.arraycopy(rows[r], 0, flat, at, rows[r].length);
        return flat;
    }

    /** A step as the report's thread accounts for it: its loss, and the weights and first moment after it. */
    private record Step(int step, double loss, double[] w, double[] m) { }
    private List<Step> pending = new ArrayList<>();
    /** Buffers the report's thread is done with, so that a step allocates nothing (with the weights in rows). */
    private final java.util.concurrent.ConcurrentLinkedQueue<double[]> free = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * Hands the steps so far to the report's thread, a batch at a time: waking a thread costs a few microseconds, and
     * the arrays of a batch that waits are copied by each young collection while they live.
     */
    private void hand() {
        List<Step> batch = pending;
        pending = new ArrayList<>();
        run(() -> { for (Step s : batch) account(s.step(), s.loss(), s.w(), s.m()); });
    }

    /** On the report's thread: a step's loss, and each matrix's gradient norm and update size. */
    private void account(int step, double loss, double[] w, double[] m) {
        if (count == steps.length) {
            steps = Arrays.copyOf(steps, 2 * count); losses = Arrays.copyOf(losses, 2 * count);
            for (int k = 0; k < matrices.length; k++) {
                grad_norms[k] = Arrays.copyOf(grad_norms[k], 2 * count); update_norms[k] = Arrays.copyOf(update_norms[k], 2 * count);
            }
        }
        steps[count] = step;
        losses[count] = loss;
        // the gradient, from Adam's first moment after and before the step: m = beta1 m' + (1 - beta1) g
        for (int k = 0; k < matrices.length; k++) {
            double g2 = 0, u2 = 0;
            for (int i = starts[k]; i < starts[k + 1]; i++) {
                double g = (m[i] - beta1 * m_prev[i]) / (1 - beta1), u = w[i] - w_prev[i];
                g2 += g * g;
                u2 += u * u;
            }
            grad_norms[k][count] = Math.sqrt(g2);
            update_norms[k][count] = Math.sqrt(u2);
        }
        // the series' JSON as they grow, while they are one point a step (past MAX_POINTS, data() averages buckets)
        if (count < MAX_POINTS) {
            (count == 0 ? stepsJson : stepsJson.append(',')).append(step);
            num12(count == 0 ? lossJson : lossJson.append(','), loss);
            for (int k = 0; k < matrices.length; k++) {
                num12(count == 0 ? gradJson[k] : gradJson[k].append(','), grad_norms[k][count]);
                num12(count == 0 ? updateJson[k] : updateJson[k].append(','), update_norms[k][count]);
            }
        }
        count++;
        free.add(w_prev);
        free.add(m_prev);
        w_prev = w;
        m_prev = m;
    }

    /** Runs a task on the report's thread, in order; a failure is kept and thrown by drain(). */
    private void run(Runnable task) {
        worker.execute(() -> {
            try { task.run(); } catch (Throwable t) { if (failure == null) failure = t; }
        });
    }

    /** Waits until the report's thread has done every task given to it. */
    void drain() throws IOException {
        try {
            worker.submit(() -> { }).get();
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new IOException("the report's thread: " + e, e);
        }
        if (failure != null) throw new IOException("the report's thread failed: " + failure, failure);
    }

    /** The names the model writes, the probes' logits and attention, and wte, after `step` steps. */
    private void snapshot(int step) {
        if (step == last_snapshot) return;
        last_snapshot = step;
        hand();
        String[] samples = new String[SAMPLES];
        PyRandom random = new PyRandom(seed * 1_000_003L + step); // the page's own generator: the run's is never touched
        for (int i = 0; i < SAMPLES; i++) samples[i] = sample.apply(random);
        double[][][] probed = new double[probes.size()][][];
        double[][][][][] attention = new double[probes.size()][][][][];
        for (int p = 0; p < probes.size(); p++) {
            int[] tokens = tokens(probes.get(p));
            int positions = tokens.length - 1;
            attention[p] = new double[config.n_layer()][config.n_head()][positions][];
            watched = attention[p];
            try {
                probed[p] = logits.apply(Arrays.copyOf(tokens, positions));
            } finally {
                watched = null;
            }
        }
        double[] w = weights.get();
        run(() -> { // the JSON, and the marks, on the report's thread
            StringBuilder s = new StringBuilder("{\"step\":").append(step).append(",\"samples\":[");
            for (int i = 0; i < SAMPLES; i++)
                s.append(i == 0 ? "" : ",").append("{\"name\":").append(json(samples[i])).append(",\"mark\":\"").append(mark(samples[i])).append("\"}");
            s.append("],\"probes\":[");
            for (int p = 0; p < probed.length; p++) {
                s.append(p == 0 ? "" : ",").append("{\"logits\":").append(json(probed[p])).append(",\"attention\":[");
                for (int l = 0; l < attention[p].length; l++) {
                    s.append(l == 0 ? "" : ",").append('[');
                    for (int h = 0; h < attention[p][l].length; h++) s.append(h == 0 ? "" : ",").append(json(attention[p][l][h]));
                    s.append(']');
                }
                s.append("]}");
            }
            snapshots.add(s.append("]}").toString());
            double[][] wte = new double[vocab_size][config.n_embd()];
            for (int t = 0; t < vocab_size; t++) System.arraycopy(w, t * config.n_embd(), wte[t], 0, config.n_embd());
            embeddings.add(wte);
        });
    }

    /** [BOS] + the document's tokens + [BOS]. */
    private int[] tokens(String doc) {
        int[] cps = doc.codePoints().toArray(), t = new int[cps.length + 2];
        t[0] = vocab.length;
        for (int i = 0; i < cps.length; i++) t[i + 1] = Arrays.binarySearch(vocab, cps[i]);
        t[cps.length + 1] = vocab.length;
        return t;
    }

    /** "data": a training document; "edit": one insertion, deletion or substitution away from one; "new" otherwise. */
    String mark(String name) {
        if (names.contains(name)) return "data";
        int[] cps = name.codePoints().toArray();
        for (int i = 0; i <= cps.length; i++) {
            if (i < cps.length && names.contains(join(cps, i, i + 1, -1))) return "edit"; // deletion
            for (int ch : vocab) {
                if (names.contains(join(cps, i, i, ch))) return "edit"; // insertion
                if (i < cps.length && ch != cps[i] && names.contains(join(cps, i, i + 1, ch))) return "edit"; // substitution
            }
        }
        return "new";
    }

    /** cps with [from, to) replaced by ch (none if ch < 0). */
    private static String join(int[] cps, int from, int to, int ch) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < from; i++) s.appendCodePoint(cps[i]);
        if (ch >= 0) s.appendCodePoint(ch);
        for (int i = to; i < cps.length; i++) s.appendCodePoint(cps[i]);
        return s.toString();
    }

    // ---- The page ---------------------------------------------------------------------------------------------------

    /** Writes the page as it stands after `step` steps (a snapshot of that step first), whole or not at all. */
    void write(Path target, int step) throws IOException {
        snapshot(step);
        drain();
        Cli.writeWhole(target, page());
    }

    /** The page: the template with the data's JSON and the loss chart put in. */
    String page() throws IOException {
        if (template == null) throw new IOException("training-report.html is missing from this script's jar");
        // the data goes in last, once: a page is most of a megabyte (strings in the JSON write '/' as '\/', so no
        // "</script>" can end the script element early)
        String head = template.replace("/*CSS*/", Svg.CSS).replace("<!--LOSS-->", lossChart());
        int at = head.indexOf("/*DATA*/");
        String data = data();
        return new StringBuilder(head.length() + data.length()).append(head, 0, at).append(data).append(head, at + 8, head.length()).toString();
    }

    /** The data, as docs/report.md describes it. Per-step series longer than MAX_POINTS are averaged in buckets. */
    String data() {
        int bucket = Math.max(1, (count + MAX_POINTS - 1) / MAX_POINTS);
        StringBuilder s = new StringBuilder("{\"format\":\"microgpt-training-report\",\"version\":1");
        s.append(",\"engine\":").append(json(engine)).append(",\"command\":").append(json(command));
        s.append(",\"settings\":{\"n_layer\":").append(config.n_layer()).append(",\"n_embd\":").append(config.n_embd())
                .append(",\"n_head\":").append(config.n_head()).append(",\"block_size\":").append(config.block_size())
                .append(",\"seed\":").append(seed).append(",\"batch_size\":").append(batch_size)
                .append(",\"first_step\":").append(first_step).append(",\"num_steps\":").append(num_steps)
                .append(",\"temperature\":").append(num(temperature)).append(",\"num_params\":").append(starts[matrices.length]).append('}');
        s.append(",\"vocab\":[");
        for (int t = 0; t < vocab_size; t++) s.append(t == 0 ? "" : ",").append(json(t < vocab.length ? new String(Character.toChars(vocab[t])) : "BOS"));
        s.append("],\"uniform_loss\":").append(num(Math.log(vocab_size)));
        s.append(",\"bucket\":").append(bucket);
        boolean each = bucket == 1; // the series' JSON made step by step on the report's thread
        s.append(",\"steps\":").append(each ? "[" + stepsJson + "]" : json(lastOfBuckets(steps, bucket)));
        s.append(",\"loss\":").append(each ? "[" + lossJson + "]" : json(buckets(losses, bucket, false)));
        s.append(",\"matrices\":[");
        for (int k = 0; k < matrices.length; k++) s.append(k == 0 ? "" : ",").append(json(matrices[k]));
        s.append("],\"grad_norm\":[");
        for (int k = 0; k < matrices.length; k++) s.append(k == 0 ? "" : ",").append(each ? "[" + gradJson[k] + "]" : json(buckets(grad_norms[k], bucket, true)));
        s.append("],\"update_norm\":[");
        for (int k = 0; k < matrices.length; k++) s.append(k == 0 ? "" : ",").append(each ? "[" + updateJson[k] + "]" : json(buckets(update_norms[k], bucket, true)));
        s.append("],\"probes\":[");
        for (int p = 0; p < probes.size(); p++) s.append(p == 0 ? "" : ",").append(json(probes.get(p)));
        s.append("],\"snapshots\":[").append(String.join(",", snapshots)).append(']');
        s.append(",\"embedding\":").append(projection()).append('}');
        return s.toString();
    }

    /**
     * wte at every snapshot on one fixed 2D basis: the two principal axes of the last snapshot's embeddings (centred on
     * their mean), each with its largest component positive, so that the axes do not flip from frame to frame.
     */
    private String projection() {
        double[][] last = embeddings.get(embeddings.size() - 1);
        int n = config.n_embd();
        double[] mean = new double[n];
        for (double[] row : last) for (int i = 0; i < n; i++) mean[i] += row[i] / last.length;
        double[][] cov = new double[n][n];
        for (double[] row : last)
            for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) cov[i][j] += (row[i] - mean[i]) * (row[j] - mean[j]);
        double[][] axes = new double[2][];
        for (int a = 0; a < 2; a++) {
            double[] v = new double[n];
            for (int i = 0; i < n; i++) v[i] = 1 + 0.01 * i; // a fixed start
            for (int it = 0; it < 500; it++) {
                double[] u = new double[n];
                for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) u[i] += cov[i][j] * v[j];
                for (int b = 0; b < a; b++) { // deflate: orthogonal to the axes found
                    double d = 0;
                    for (int i = 0; i < n; i++) d += u[i] * axes[b][i];
                    for (int i = 0; i < n; i++) u[i] -= d * axes[b][i];
                }
                double norm = 0;
                for (double x : u) norm += x * x;
                norm = Math.sqrt(norm);
                if (norm == 0) break;
                for (int i = 0; i < n; i++) v[i] = u[i] / norm;
            }
            int big = 0;
            for (int i = 0; i < n; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
            if (v[big] < 0) for (int i = 0; i < n; i++) v[i] = -v[i];
            axes[a] = v;
        }
        StringBuilder s = new StringBuilder("[");
        for (int k = 0; k < embeddings.size(); k++) {
            double[][] xy = new double[vocab_size][2];
            for (int t = 0; t < vocab_size; t++)
                for (int a = 0; a < 2; a++)
                    for (int i = 0; i < n; i++) xy[t][a] += (embeddings.get(k)[t][i] - mean[i]) * axes[a][i];
            s.append(k == 0 ? "" : ",").append(json(xy));
        }
        return s.append(']').toString();
    }

    /** The loss of every step, its moving average and the uniform guess's loss, ln(vocab_size): a chart of support/Svg.java. */
    private String lossChart() {
        double[] x = Arrays.copyOf(steps, count), y = Arrays.copyOf(losses, count), avg = new double[count];
        double sum = 0;
        int window = Math.max(1, Math.min(50, count / 10));
        for (int i = 0; i < count; i++) {
            sum += y[i] - (i >= window ? y[i - window] : 0);
            avg[i] = sum / Math.min(i + 1, window);
        }
        double hi = Math.log(vocab_size) * 1.25, lo = 0;
        for (double v : y) hi = Math.max(hi, Math.min(v, 2 * Math.log(vocab_size)));
        double[] ux = {first_step, Math.max(num_steps, first_step + 1)}, uy = {Math.log(vocab_size), Math.log(vocab_size)};
        return Svg.lineChart("loss-chart", 760, 300, first_step, Math.max(num_steps, first_step + 1), lo, hi, "training step", "loss",
                List.of(new Svg.Line("loss of the step", x, y, "#9ec5e8", "stroke-width='1'"),
                        new Svg.Line("moving average (" + window + " steps)", x, avg, "#0d47a1", "stroke-width='2.5'"),
                        new Svg.Line("uniform guess, ln " + vocab_size, ux, uy, "#c62828", "stroke-width='1.5' stroke-dasharray='6 4'")));
    }

    /** Per bucket of `bucket` steps: the mean of v, or its root mean square. */
    private double[] buckets(double[] v, int bucket, boolean rms) {
        double[] out = new double[(count + bucket - 1) / bucket];
        for (int b = 0; b < out.length; b++) {
            double s = 0;
            int n = 0;
            for (int i = b * bucket; i < Math.min(count, (b + 1) * bucket); i++, n++) s += rms ? v[i] * v[i] : v[i];
            out[b] = rms ? Math.sqrt(s / n) : s / n;
        }
        return out;
    }

    /** Per bucket of `bucket` steps: its last value (the step numbers). */
    private double[] lastOfBuckets(double[] v, int bucket) {
        double[] out = new double[(count + bucket - 1) / bucket];
        for (int b = 0; b < out.length; b++) out[b] = v[Math.min(count, (b + 1) * bucket) - 1];
        return out;
    }

    // ---- JSON, written by hand ----------------------------------------------------------------------------------

    /** A single number, as Java prints it (it parses back to the same double). */
    static String num(double v) { return Double.isFinite(v) ? (v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v)) : "null"; }

    /**
     * A number of the page's arrays, to 12 significant digits (at most 5e-12 relative), written with integer arithmetic:
     * Double.toString of JDK 17 costs ~0.5 µs a number, and a page has some 60,000. null for NaN and infinities.
     */
    static StringBuilder num12(StringBuilder s, double v) {
        if (!Double.isFinite(v)) return s.append("null");
        if (v == 0) return s.append('0');
        if (v < 0) { s.append('-'); v = -v; }
        int e = (int) Math.floor(Math.log10(v));
        long m = Math.round(scale(v, 11 - e));
        if (m >= 1_000_000_000_000L) { m = Math.round(m / 10.0); e++; }   // rounded up to 13 digits
        else if (m < 100_000_000_000L) { e--; m = Math.round(scale(v, 11 - e)); } // log10 one too high
        long whole = m / 100_000_000_000L, frac = m % 100_000_000_000L;
        s.append(whole);
        if (frac != 0) {
            String digits = Long.toString(frac + 100_000_000_000L).substring(1); // 11 digits, leading zeros kept
            int end = digits.length();
            while (digits.charAt(end - 1) == '0') end--;
            s.append('.').append(digits, 0, end);
        }
        return e == 0 ? s : s.append('e').append(e);
    }

    /** v * 10^p, in two steps where 10^p alone would overflow (p > 308: v is tiny, down to subnormals). */
    private static double scale(double v, int p) { return p > 300 ? v * 1e300 * Math.pow(10, p - 300) : v * Math.pow(10, p); }

    static String json(double[] v) {
        StringBuilder s = new StringBuilder(v.length * 12 + 2).append('[');
        for (int i = 0; i < v.length; i++) num12(i == 0 ? s : s.append(','), v[i]);
        return s.append(']').toString();
    }

    static String json(double[][] v) {
        StringBuilder s = new StringBuilder("[");
        for (int i = 0; i < v.length; i++) s.append(i == 0 ? "" : ",").append(v[i] == null ? "null" : json(v[i]));
        return s.append(']').toString();
    }

    static String json(String v) {
        StringBuilder s = new StringBuilder("\"");
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '"' || c == '\\' || c == '/') s.append('\\').append(c);
            else if (c < 0x20 || c == 0x2028 || c == 0x2029) s.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            else s.append(c);
        }
        return s.append('"').toString();
    }
}
