///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//SOURCES support/Cli.java support/Config.java support/ModelFile.java support/PyRandom.java support/Python.java support/TrainingRun.java
//SOURCES support/TrainingReport.java support/Svg.java
//FILES names.txt=data/names.txt training-report.html=support/training-report.html
//COMPILE_OPTIONS -encoding UTF-8
//JAVA_OPTIONS -XX:+UseSerialGC -Xms128m -XX:NewRatio=1 -XX:MaxRAMPercentage=75 -XX:-UsePerfData
// The JVM: the serial collector, and a young generation as large as the old one (NewRatio=1), so that
// each step's graph (~4 MB of garbage) dies young and costs a collection almost nothing; a 128 MB
// initial heap that grows only when a larger model needs it, up to 75% of the machine's memory.
// -encoding UTF-8: javac reads the sources as UTF-8 whatever the locale (JDK 17 would read the locale's charset).

/*
 * The most atomic way to train and sample a GPT in pure Java: the algorithm uses nothing but the JDK.
 * A line-by-line port of Andrej Karpathy's microgpt.py: same algorithm, same random numbers,
 * same printed output. Everything else is just efficiency.
 * What any engine needs beyond the algorithm (CPython's random, the command line, model files, the
 * loss log) is in support/, shared with microgpt_optimized.java.
 */
package mgpt;

import static mgpt.Python.*;

import java.io.PrintStream;
import java.util.*;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "microgpt", mixinStandardHelpOptions = true, version = "microgpt 1.0.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Train a tiny GPT on a list of names and sample new ones: a faithful Java port of "
                + "Karpathy's microgpt.py (same seed, same numbers).",
        footer = "%nWith no input.txt in the working directory and no --input, the makemore names file that "
                + "this script carries is written to input.txt first, where microgpt.py downloads it.")
public class microgpt implements Callable<Integer> {

    @Mixin Options o; // --input, --seed, --steps, the model's sizes, sampling, model files: support/Cli.java

    /** The //JAVA_OPTIONS above, for tools that start this engine in a JVM of their own (bench_compare). */
    static final String JAVA_OPTIONS = "-XX:+UseSerialGC -Xms128m -XX:NewRatio=1 -XX:MaxRAMPercentage=75 -XX:-UsePerfData";

    public static void main(String... args) { System.exit(Cli.run(new microgpt(), args)); }

    @Override
    public Integer call() throws Exception {
        try (TrainingRun run = new TrainingRun(o)) { // options checked; --load or --resume read; --loss-log opened
            PrintStream out = run.out;
            PyRandom random = new PyRandom(run.seed); // Let there be order among chaos

            // Let there be a dataset `docs`: a list of documents (e.g. names), shuffled once
            List<String> docs = run.docs(splitDocs(run.text())); // none when a loaded model only samples
            random.shuffle(docs);
            if (!docs.isEmpty()) out.println("num docs: " + docs.size());

            // Let there be a Tokenizer to translate strings to discrete symbols and back
            Tokenizer tok = new Tokenizer(docs, run.vocab()); // a model file's characters, or the data's
            int[] prompt = run.promptTokens(docs, tok.uchars);
            out.println("vocab size: " + tok.vocab_size);

            // Initialize the parameters, to store the knowledge of the model
            run.checkFits(GPT.heap_needed(run.config, tok.vocab_size)); // before allocating
            GPT model = new GPT(run.config, tok.vocab_size, random);
            run.loadWeights(model::setWeights); // --load, --resume
            out.println("num params: " + model.params.length);

            // Repeat in sequence: a batch of documents per step (one, as in the Python, by default), forward, backward, Adam
            Adam adam = new Adam(model.params);
            run.training(tok.uchars, random, model::weights, adam.m, adam.v); // what --save keeps and --resume restores
            run.watch(r -> sample(model, tok, new int[0], o.temperature, r), tokens -> logits(model, tokens), Adam.beta1); // --report's page
            for (int step = run.first_step; step < run.num_steps; step++) {
                int[][] batch = new int[run.batch_size][];
                for (int b = 0; b < batch.length; b++) batch[b] = tok.encode(docs.get(run.doc(step, b, docs.size())));
                double loss = trainStep(model, adam, batch, step, run.num_steps);
                out.print("step " + pad(step + 1, 4) + " / " + pad(run.num_steps, 4) + " | loss " + format4f(loss) + "\r");
                run.stepDone(step + 1, loss); // the loss log, --save-every, Ctrl-C
            }
            run.trainingDone();

            // Inference: may the model babble back to us
            out.println("\n--- inference (new, hallucinated names) ---");
            for (int sample_idx = 0; sample_idx < o.samples; sample_idx++)
                out.println("sample " + pad(sample_idx + 1, 2) + ": " + sample(model, tok, prompt, o.temperature, random));
            run.done();
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------
    // Dataset
    // ------------------------------------------------------------------------------------------

    /**
     * Python: [l.strip() for l in text.strip().split('\n') if l.strip()], after universal newlines:
     * lines() splits on the same three line endings (\n, \r\n, \r).
     */
    static List<String> splitDocs(String text) {
        return text.lines().map(Python::strip).filter(line -> !line.isEmpty()).collect(java.util.stream.Collectors.toCollection(ArrayList::new));
    }

    // ------------------------------------------------------------------------------------------
    // Tokenizer
    // ------------------------------------------------------------------------------------------

    /** Characters are code points: a name with an emoji counts it as one token, as in Python. */
    public static final class Tokenizer {
        public final int[] uchars; // unique characters in the dataset, sorted: token ids 0..n-1
        public final int BOS;      // token id of the special Beginning of Sequence token
        public final int vocab_size; // number of unique tokens, +1 for BOS

        /** vocab: a saved model's characters (--load, --resume), or null for the dataset's. */
        public Tokenizer(List<String> docs, int[] vocab) {
            uchars = vocab != null ? vocab : docs.stream().flatMapToInt(String::codePoints).distinct().sorted().toArray(); // sorted(set(''.join(docs)))
            BOS = uchars.length;
            vocab_size = uchars.length + 1;
        }

        /** [BOS] + [uchars.index(ch) for ch in doc] + [BOS]. The list search is the original's. */
        public int[] encode(String doc) {
            int[] cps = doc.codePoints().toArray();
            int[] tokens = new int[cps.length + 2];
            tokens[0] = BOS;
            for (int i = 0; i < cps.length; i++) tokens[i + 1] = index(cps[i]);
            tokens[cps.length + 1] = BOS;
            return tokens;
        }

        int index(int ch) { // uchars.index(ch): a linear scan
            for (int i = 0; i < uchars.length; i++) if (uchars[i] == ch) return i;
            throw new IllegalArgumentException("character not in vocabulary: " + new String(Character.toChars(ch)));
        }

        public String decode(int token_id) { return new String(Character.toChars(uchars[token_id])); }
    }

    // ------------------------------------------------------------------------------------------
    // Autograd: recursively apply the chain rule through a computation graph of scalars
    // ------------------------------------------------------------------------------------------

    public static final class Value {
        private static final Value[] NO_CHILDREN = {};
        private static final double[] NO_GRADS = {};
        private static final double[] ONE_ONE = {1, 1}; // every add's local grads: shared, never written

        public double data;          // scalar value of this node, computed in the forward pass
        public double grad;          // d(loss)/d(this node), computed in the backward pass
        final Value[] _children;     // children of this node in the computation graph
        final double[] _local_grads; // local derivative of this node w.r.t. each child
        Object visited;              // the mark of the backward pass that last visited it (Python: a set)

        public Value(double data) { this(data, NO_CHILDREN, NO_GRADS); }
        Value(double data, Value[] children, double[] local_grads) {
            this.data = data;
            this._children = children;
            this._local_grads = local_grads;
        }

        public Value add(Value other) { return new Value(data + other.data, new Value[]{this, other}, ONE_ONE); }
        public Value add(double other) { return add(new Value(other)); }
        public Value mul(Value other) { return new Value(data * other.data, new Value[]{this, other}, new double[]{other.data, data}); }
        public Value mul(double other) { return mul(new Value(other)); }
        public Value pow(double other) { return new Value(Math.pow(data, other), new Value[]{this}, new double[]{other * Math.pow(data, other - 1)}); }
        public Value log() { return new Value(Math.log(data), new Value[]{this}, new double[]{1 / data}); }
        public Value exp() { return new Value(Math.exp(data), new Value[]{this}, new double[]{Math.exp(data)}); }
        public Value relu() { return new Value(data > 0 ? data : 0, new Value[]{this}, new double[]{data > 0 ? 1 : 0}); }
        public Value neg() { return mul(-1); }                                // -a is a * -1
        public Value sub(Value other) { return add(other.neg()); }             // a - b is a + (-b)
        public Value sub(double other) { return add(-other); }
        public Value div(Value other) { return mul(other.pow(-1)); }           // a / b is a * b**-1
        public Value div(double other) { return mul(Math.pow(other, -1)); }

        /** As micrograd prints a Value, each number as Python's repr would print it. */
        @Override public String toString() { return "Value(data=" + repr(data) + ", grad=" + repr(grad) + ")"; }

        public void backward() {
            // topological order of all of the children in the graph: the post-order of a depth-first
            // walk, children in order. Python recurses; we keep an explicit stack (graphs are deep).
            Object pass = new Object(); // this pass's mark, instead of a set of visited nodes
            List<Value> topo = new ArrayList<>(), stack = new ArrayList<>();
            int[] next = new int[64];   // next[i]: the next child of stack[i] to visit
            stack.add(this);
            visited = pass;
            while (!stack.isEmpty()) {
                int top = stack.size() - 1;
                Value v = stack.get(top);
                if (next[top] < v._children.length) {
                    Value child = v._children[next[top]++];
                    if (child.visited != pass) {
                        child.visited = pass;
                        if (top + 1 == next.length) next = Arrays.copyOf(next, next.length * 2);
                        next[top + 1] = 0;
                        stack.add(child);
                    }
                } else {
                    stack.remove(top);
                    topo.add(v);
                }
            }
            // go one variable at a time and apply the chain rule to get its gradient
            grad = 1;
            for (int i = topo.size() - 1; i >= 0; i--) {
                Value v = topo.get(i);
                for (int c = 0; c < v._children.length; c++) v._children[c].grad += v._local_grads[c] * v.grad;
            }
        }
    }

    /** Python's sum(xs): starts from the integer 0, so the first node is xs[0] + 0. */
    static Value sum(Value[] xs) {
        Value total = xs[0].add(0);
        for (int i = 1; i < xs.length; i++) total = total.add(xs[i]);
        return total;
    }

    // ------------------------------------------------------------------------------------------
    // Parameters, to store the knowledge of the model
    // ------------------------------------------------------------------------------------------

    public static final class GPT {
        final int n_layer, n_embd, block_size, n_head, head_dim;
        final Map<String, Value[][]> state_dict = new LinkedHashMap<>();
        final Value[] params; // flattened, in state_dict order: Adam's order

        public GPT(Config config, int vocab_size, PyRandom random) {
            n_layer = config.n_layer(); n_embd = config.n_embd(); block_size = config.block_size();
            n_head = config.n_head(); head_dim = config.head_dim();
            state_dict.put("wte", matrix(vocab_size, n_embd, random));
            state_dict.put("wpe", matrix(block_size, n_embd, random));
            state_dict.put("lm_head", matrix(vocab_size, n_embd, random));
            for (int i = 0; i < n_layer; i++) {
                state_dict.put("layer" + i + ".attn_wq", matrix(n_embd, n_embd, random));
                state_dict.put("layer" + i + ".attn_wk", matrix(n_embd, n_embd, random));
                state_dict.put("layer" + i + ".attn_wv", matrix(n_embd, n_embd, random));
                state_dict.put("layer" + i + ".attn_wo", matrix(n_embd, n_embd, random));
                state_dict.put("layer" + i + ".mlp_fc1", matrix(4 * n_embd, n_embd, random));
                state_dict.put("layer" + i + ".mlp_fc2", matrix(n_embd, 4 * n_embd, random));
            }
            params = state_dict.values().stream().flatMap(Arrays::stream).flatMap(Arrays::stream).toArray(Value[]::new);
        }

        /**
         * About how many heap bytes this model needs: its parameters (a Value of ~40 bytes each) and
         * Adam's two doubles per parameter, plus the graph of one step over a full block (~80 bytes per
         * node with its child and local-gradient arrays). Each linear layer makes 2*nin+1 nodes per
         * output; attention at position t makes ~4*n_embd*(t+1) per layer.
         */
        static double heap_needed(Config c, int vocab_size) {
            double n = c.n_embd(), L = c.n_layer(), B = c.block_size(), V = vocab_size;
            double params = 2 * V * n + B * n + 12 * L * n * n;
            double graph = B * (2 * (V * n + 12 * L * n * n) + 8 * L * n + 3 * V) + 2 * L * n * B * B;
            return params * (40 + 16) + graph * 80;
        }

        /** The parameters' values, in state_dict order (model files). */
        public double[] weights() {
            double[] w = new double[params.length];
            for (int i = 0; i < w.length; i++) w[i] = params[i].data;
            return w;
        }

        public void setWeights(double[] w) {
            for (int i = 0; i < w.length; i++) params[i].data = w[i];
        }

        static Value[][] matrix(int nout, int nin, PyRandom random) {
            Value[][] m = new Value[nout][nin];
            for (Value[] row : m) for (int i = 0; i < nin; i++) row[i] = new Value(random.gauss(0, 0.08));
            return m;
        }

        /** A fresh, empty KV cache: one growing list of key (value) vectors per layer. */
        List<List<Value[]>> emptyCache() {
            List<List<Value[]>> cache = new ArrayList<>(n_layer);
            for (int i = 0; i < n_layer; i++) cache.add(new ArrayList<>());
            return cache;
        }
    }

    // ------------------------------------------------------------------------------------------
    // The model: GPT-2 with rmsnorm instead of layernorm, no biases, ReLU instead of GeLU
    // ------------------------------------------------------------------------------------------

    static Value[] linear(Value[] x, Value[][] w) {
        Value[] out = new Value[w.length];
        Value[] terms = new Value[x.length];
        for (int o = 0; o < w.length; o++) {
            for (int i = 0; i < x.length; i++) terms[i] = w[o][i].mul(x[i]);
            out[o] = sum(terms);
        }
        return out;
    }

    static Value[] softmax(Value[] logits) {
        double max_val = Double.NEGATIVE_INFINITY; // a plain number: no gradient flows through the max
        for (Value val : logits) max_val = Math.max(max_val, val.data);
        Value[] exps = new Value[logits.length];
        for (int i = 0; i < logits.length; i++) exps[i] = logits[i].sub(max_val).exp();
        Value total = sum(exps);
        Value[] probs = new Value[logits.length];
        for (int i = 0; i < logits.length; i++) probs[i] = exps[i].div(total);
        return probs;
    }

    static Value[] rmsnorm(Value[] x) {
        Value[] squares = new Value[x.length];
        for (int i = 0; i < x.length; i++) squares[i] = x[i].mul(x[i]);
        Value ms = sum(squares).div(x.length);
        Value scale = ms.add(1e-5).pow(-0.5);
        Value[] out = new Value[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i].mul(scale);
        return out;
    }

    /** Logits over the next token, given one token and its position; appends to the KV cache. */
    static Value[] gpt(GPT model, int token_id, int pos_id, List<List<Value[]>> keys, List<List<Value[]>> values) {
        Map<String, Value[][]> state_dict = model.state_dict; // the Python's globals
        int n_layer = model.n_layer, n_embd = model.n_embd, n_head = model.n_head, head_dim = model.head_dim;
        Value[] tok_emb = state_dict.get("wte")[token_id]; // token embedding
        Value[] pos_emb = state_dict.get("wpe")[pos_id];   // position embedding
        Value[] x = new Value[n_embd];                     // joint token and position embedding
        for (int i = 0; i < n_embd; i++) x[i] = tok_emb[i].add(pos_emb[i]);
        x = rmsnorm(x); // not redundant: the backward pass goes through the residual connection

        for (int li = 0; li < n_layer; li++) {
            // 1) Multi-head attention block
            Value[] x_residual = x;
            x = rmsnorm(x);
            Value[] q = linear(x, state_dict.get("layer" + li + ".attn_wq"));
            Value[] k = linear(x, state_dict.get("layer" + li + ".attn_wk"));
            Value[] v = linear(x, state_dict.get("layer" + li + ".attn_wv"));
            keys.get(li).add(k);
            values.get(li).add(v);
            List<Value[]> k_all = keys.get(li), v_all = values.get(li);
            Value[] x_attn = new Value[n_embd];
            double scale = Math.pow(head_dim, 0.5); // head_dim**0.5
            for (int h = 0; h < n_head; h++) {
                int hs = h * head_dim; // this head's slice is [hs, hs + head_dim)
                Value[] attn_logits = new Value[k_all.size()];
                for (int t = 0; t < k_all.size(); t++) {
                    Value[] terms = new Value[head_dim];
                    for (int j = 0; j < head_dim; j++) terms[j] = q[hs + j].mul(k_all.get(t)[hs + j]);
                    attn_logits[t] = sum(terms).div(scale);
                }
                Value[] attn_weights = softmax(attn_logits);
                if (TrainingReport.watching()) // --report's probes see each head's weights (support/TrainingReport.java)
                    TrainingReport.attention(li, h, Arrays.stream(attn_weights).mapToDouble(w -> w.data).toArray(), 0, attn_weights.length);
                for (int j = 0; j < head_dim; j++) {
                    Value[] terms = new Value[v_all.size()];
                    for (int t = 0; t < v_all.size(); t++) terms[t] = attn_weights[t].mul(v_all.get(t)[hs + j]);
                    x_attn[hs + j] = sum(terms); // head_out[j], concatenated
                }
            }
            x = linear(x_attn, state_dict.get("layer" + li + ".attn_wo"));
            for (int i = 0; i < n_embd; i++) x[i] = x[i].add(x_residual[i]);
            // 2) MLP block
            x_residual = x;
            x = rmsnorm(x);
            x = linear(x, state_dict.get("layer" + li + ".mlp_fc1"));
            for (int i = 0; i < x.length; i++) x[i] = x[i].relu();
            x = linear(x, state_dict.get("layer" + li + ".mlp_fc2"));
            for (int i = 0; i < n_embd; i++) x[i] = x[i].add(x_residual[i]);
        }
        return linear(x, state_dict.get("lm_head"));
    }

    // ------------------------------------------------------------------------------------------
    // Adam, the blessed optimizer, and its buffers
    // ------------------------------------------------------------------------------------------

    public static final class Adam {
        static final double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps_adam = 1e-8;
        final Value[] params;
        final double[] m; // first moment buffer
        final double[] v; // second moment buffer

        public Adam(Value[] params) {
            this.params = params;
            m = new double[params.length];
            v = new double[params.length];
        }

        public void step(int step, int num_steps) {
            double lr_t = learning_rate * (1 - (double) step / num_steps); // linear learning rate decay
            for (int i = 0; i < params.length; i++) {
                Value p = params[i];
                m[i] = beta1 * m[i] + (1 - beta1) * p.grad;
                v[i] = beta2 * v[i] + (1 - beta2) * Math.pow(p.grad, 2);
                double m_hat = m[i] / (1 - Math.pow(beta1, step + 1));
                double v_hat = v[i] / (1 - Math.pow(beta2, step + 1));
                p.data -= lr_t * m_hat / (Math.pow(v_hat, 0.5) + eps_adam);
                p.grad = 0;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Training
    // ------------------------------------------------------------------------------------------

    /** The average next-token loss over one document: the graph all the way from the parameters. */
    static Value loss(GPT model, int[] tokens) {
        int n = Math.min(model.block_size, tokens.length - 1);
        List<List<Value[]>> keys = model.emptyCache(), values = model.emptyCache();
        Value[] losses = new Value[n];
        for (int pos_id = 0; pos_id < n; pos_id++) {
            int token_id = tokens[pos_id], target_id = tokens[pos_id + 1];
            Value[] logits = gpt(model, token_id, pos_id, keys, values);
            Value[] probs = softmax(logits);
            losses[pos_id] = probs[target_id].log().neg();
        }
        return sum(losses).mul(1.0 / n); // (1 / n) * sum(losses): may yours be low
    }

    /**
     * One training step: forward and backward for each document of the batch, one after another, then Adam.
     * The batch's loss is the mean of the documents' losses, so each backward starts from loss / B and the
     * gradients add up in the parameters. Returns the mean loss.
     */
    static double trainStep(GPT model, Adam adam, int[][] batch, int step, int num_steps) {
        double total = 0;
        for (int[] tokens : batch) {
            Value loss = loss(model, tokens);
            loss.mul(1.0 / batch.length).backward();
            total += loss.data;
        }
        adam.step(step, num_steps);
        return total / batch.length;
    }

    // ------------------------------------------------------------------------------------------
    // Inference
    // ------------------------------------------------------------------------------------------

    /** The logits at each position of a document (its tokens from BOS on), no training: what --report's page shows. */
    static double[][] logits(GPT model, int[] tokens) {
        List<List<Value[]>> keys = model.emptyCache(), values = model.emptyCache();
        double[][] out = new double[tokens.length][];
        for (int pos_id = 0; pos_id < tokens.length; pos_id++)
            out[pos_id] = Arrays.stream(gpt(model, tokens[pos_id], pos_id, keys, values)).mapToDouble(v -> v.data).toArray();
        return out;
    }

    /** Samples one document, starting from BOS and the prompt's tokens, until BOS or block_size tokens. */
    public static String sample(GPT model, Tokenizer tok, int[] prompt, double temperature, PyRandom random) {
        List<List<Value[]>> keys = model.emptyCache(), values = model.emptyCache();
        int token_id = tok.BOS;
        StringBuilder sample = new StringBuilder();
        for (int pos_id = 0; pos_id < model.block_size; pos_id++) {
            Value[] logits = gpt(model, token_id, pos_id, keys, values);
            if (pos_id < prompt.length) { // the prompt is read, not sampled
                token_id = prompt[pos_id];
                sample.append(tok.decode(token_id));
                continue;
            }
            Value[] scaled = new Value[logits.length];
            for (int i = 0; i < logits.length; i++) scaled[i] = logits[i].div(temperature);
            Value[] probs = softmax(scaled);
            double[] weights = new double[probs.length];
            for (int i = 0; i < probs.length; i++) weights[i] = probs[i].data;
            token_id = random.choices(weights);
            if (token_id == tok.BOS) break;
            sample.append(tok.decode(token_id));
        }
        return sample.toString();
    }
}
