///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//JAVA_OPTIONS -XX:+UseSerialGC -Xms128m -XX:NewRatio=1 -XX:MaxRAMPercentage=75 -XX:-UsePerfData
// The JVM: the serial collector, and a young generation as large as the old one (NewRatio=1), so that
// each step's graph (~4 MB of garbage) dies young and costs a collection almost nothing; a 128 MB
// initial heap that grows only when a larger model needs it, up to 75% of the machine's memory.

/*
 * The most atomic way to train and sample a GPT in pure Java: the algorithm uses nothing but the JDK
 * (picocli, the one dependency, only reads the command line).
 * A line-by-line port of Andrej Karpathy's microgpt.py: same algorithm, same random numbers,
 * same printed output. Everything else is just efficiency.
 */

import java.io.*;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.ByteBuffer;
import java.nio.charset.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.*;

@Command(name = "microgpt", mixinStandardHelpOptions = true, version = "microgpt 1.0.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Train a tiny GPT on a list of names and sample new ones: a faithful Java port of "
                + "Karpathy's microgpt.py (same seed, same numbers).",
        footer = "%nWith no input.txt in the working directory and no --input, the makemore names file is "
                + "downloaded to input.txt first, as microgpt.py does.")
public class microgpt implements Callable<Integer> {

    @Option(names = "--input", paramLabel = "FILE", description = "Text file, one document per line (default: input.txt, "
            + "downloaded if missing).")
    Path input;
    @Option(names = "--seed", paramLabel = "SEED", description = "Random seed, as Python's random.seed (default: ${DEFAULT-VALUE}).")
    long seed = 42;
    @Option(names = "--steps", paramLabel = "N", description = "Training steps, one document each (default: ${DEFAULT-VALUE}).")
    int steps = 1000;
    @Option(names = "--n-layer", paramLabel = "N", description = "Transformer layers (default: ${DEFAULT-VALUE}).")
    int nLayer = 1;
    @Option(names = "--n-embd", paramLabel = "N", description = "Embedding width (default: ${DEFAULT-VALUE}).")
    int nEmbd = 16;
    @Option(names = "--n-head", paramLabel = "N", description = "Attention heads; must divide --n-embd (default: ${DEFAULT-VALUE}).")
    int nHead = 4;
    @Option(names = "--block-size", paramLabel = "N", description = "Maximum context length (default: ${DEFAULT-VALUE}).")
    int blockSize = 16;
    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature, > 0 (default: ${DEFAULT-VALUE}).")
    double temperature = 0.5;
    @Option(names = "--samples", paramLabel = "N", description = "Names to sample after training (default: ${DEFAULT-VALUE}).")
    int samples = 20;
    @Option(names = "--loss-log", paramLabel = "FILE", description = "Write a CSV 'step,loss' with every step's exact loss.")
    Path lossLog;
    @Option(names = "--timing", description = "Print on stderr how long start-up, data, training and sampling took.")
    boolean timing;

    /** The //JAVA_OPTIONS above, for tools that start this engine in a JVM of their own (bench_compare). */
    static final String JAVA_OPTIONS = "-XX:+UseSerialGC -Xms128m -XX:NewRatio=1 -XX:MaxRAMPercentage=75 -XX:-UsePerfData";
    static final String SCRIPT = "microgpt.java";
    static final String DEFAULT_INPUT = "input.txt";
    static final String NAMES_URL = "https://raw.githubusercontent.com/karpathy/makemore/988aa59/names.txt";

    @Override
    public Integer call() throws Exception {
        Config config = new Config(nLayer, nEmbd, blockSize, nHead);
        checkRunOptions(steps, temperature, samples);
        LossLog log = LossLog.open(lossLog); // fails now, not after training, if it cannot be written
        Timing time = new Timing(timing);
        try {
            PrintStream out = stdout();

            // Let there be a dataset `docs`: a list of documents (e.g. names), shuffled once
            Random random = new Random(seed); // Let there be order among chaos
            List<String> docs = input == null ? loadDocs(Path.of(DEFAULT_INPUT), true) : loadDocs(input, false);
            random.shuffle(docs);
            out.println("num docs: " + docs.size());

            // Let there be a Tokenizer to translate strings to discrete symbols and back
            Tokenizer tok = new Tokenizer(docs);
            out.println("vocab size: " + tok.vocab_size);

            // Initialize the parameters, to store the knowledge of the model
            checkFits(config, tok.vocab_size); // before allocating: does it fit in the heap this JVM may use?
            GPT model = new GPT(config, tok.vocab_size, random);
            out.println("num params: " + model.params.length);

            time.phase("data and model");

            // Repeat in sequence: one document per step, forward, backward, Adam
            Adam adam = new Adam(model.params);
            for (int step = 0; step < steps; step++) {
                String doc = docs.get(step % docs.size());
                double loss = trainStep(model, adam, tok.encode(doc), step, steps);
                out.print("step " + pad(step + 1, 4) + " / " + pad(steps, 4) + " | loss " + formatFixed4(loss) + "\r");
                out.flush();
                log.write(step + 1, loss);
            }

            time.phase("training (" + steps + " steps)");

            // Inference: may the model babble back to us
            out.println("\n--- inference (new, hallucinated names) ---");
            for (int sample_idx = 0; sample_idx < samples; sample_idx++) {
                out.println("sample " + pad(sample_idx + 1, 2) + ": " + sample(model, tok, temperature, random));
            }
            out.flush();
            time.phase("sampling (" + samples + " samples)");
            log.commit();
            time.report();
        } finally {
            log.discard(); // no half-written loss log if anything above failed
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------
    // Dataset
    // ------------------------------------------------------------------------------------------

    /** Reads the documents: UTF-8, universal newlines, each line stripped, empty lines dropped. */
    static List<String> loadDocs(Path path, boolean downloadIfMissing) {
        if (!Files.exists(path)) {
            if (!downloadIfMissing)
                throw UserError.input("input file not found: " + path + "; pass an existing file with --input");
            download(NAMES_URL, path);
        }
        if (Files.isDirectory(path))
            throw UserError.input("input " + path + " is a directory; pass a text file with one document per line");
        String text;
        try {
            byte[] bytes = Files.readAllBytes(path);
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw UserError.input("input " + path + " is not valid UTF-8; save it as UTF-8 text");
        } catch (IOException e) {
            throw UserError.input("cannot read input " + path + ": " + e.getMessage());
        }
        List<String> docs = splitDocs(text);
        if (docs.isEmpty())
            throw UserError.input("input " + path + " has no documents (it is empty or only blank lines); "
                    + "put one document per line");
        return docs;
    }

    /**
     * Python: [l.strip() for l in text.strip().split('\n') if l.strip()], after universal newlines:
     * lines() splits on the same three line endings (\n, \r\n, \r).
     */
    static List<String> splitDocs(String text) {
        return text.lines().map(microgpt::pyStrip).filter(line -> !line.isEmpty()).collect(java.util.stream.Collectors.toCollection(ArrayList::new));
    }

    // ------------------------------------------------------------------------------------------
    // Tokenizer
    // ------------------------------------------------------------------------------------------

    /** Characters are code points: a name with an emoji counts it as one token, as in Python. */
    static final class Tokenizer {
        final int[] uchars;   // unique characters in the dataset, sorted: token ids 0..n-1
        final int BOS;        // token id of the special Beginning of Sequence token
        final int vocab_size; // number of unique tokens, +1 for BOS

        Tokenizer(List<String> docs) {
            uchars = docs.stream().flatMapToInt(String::codePoints).distinct().sorted().toArray(); // sorted(set(''.join(docs)))
            BOS = uchars.length;
            vocab_size = uchars.length + 1;
        }

        /** [BOS] + [uchars.index(ch) for ch in doc] + [BOS]. The list search is the original's. */
        int[] encode(String doc) {
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

        String decode(int token_id) { return new String(Character.toChars(uchars[token_id])); }
    }

    // ------------------------------------------------------------------------------------------
    // Autograd: recursively apply the chain rule through a computation graph of scalars
    // ------------------------------------------------------------------------------------------

    static final class Value {
        private static final Value[] NO_CHILDREN = {};
        private static final double[] NO_GRADS = {};
        private static final double[] ONE_ONE = {1, 1}; // every add's local grads: shared, never written

        double data;                 // scalar value of this node, computed in the forward pass
        double grad;                 // d(loss)/d(this node), computed in the backward pass
        final Value[] _children;     // children of this node in the computation graph
        final double[] _local_grads; // local derivative of this node w.r.t. each child
        Object visited;              // the mark of the backward pass that last visited it (Python: a set)

        Value(double data) { this(data, NO_CHILDREN, NO_GRADS); }
        Value(double data, Value[] children, double[] local_grads) {
            this.data = data;
            this._children = children;
            this._local_grads = local_grads;
        }

        Value add(Value other) { return new Value(data + other.data, new Value[]{this, other}, ONE_ONE); }
        Value add(double other) { return add(new Value(other)); }
        Value mul(Value other) { return new Value(data * other.data, new Value[]{this, other}, new double[]{other.data, data}); }
        Value mul(double other) { return mul(new Value(other)); }
        Value pow(double other) { return new Value(Math.pow(data, other), new Value[]{this}, new double[]{other * Math.pow(data, other - 1)}); }
        Value log() { return new Value(Math.log(data), new Value[]{this}, new double[]{1 / data}); }
        Value exp() { return new Value(Math.exp(data), new Value[]{this}, new double[]{Math.exp(data)}); }
        Value relu() { return new Value(data > 0 ? data : 0, new Value[]{this}, new double[]{data > 0 ? 1 : 0}); }
        Value neg() { return mul(-1); }                                // -a is a * -1
        Value sub(Value other) { return add(other.neg()); }             // a - b is a + (-b)
        Value sub(double other) { return add(-other); }
        Value div(Value other) { return mul(other.pow(-1)); }           // a / b is a * b**-1
        Value div(double other) { return mul(Math.pow(other, -1)); }

        void backward() {
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

    static final class GPT {
        final int n_layer, n_embd, block_size, n_head, head_dim;
        final Map<String, Value[][]> state_dict = new LinkedHashMap<>();
        final Value[] params; // flattened, in state_dict order: Adam's order

        GPT(Config config, int vocab_size, Random random) {
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

        static Value[][] matrix(int nout, int nin, Random random) {
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

    static final class Adam {
        static final double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps_adam = 1e-8;
        final Value[] params;
        final double[] m; // first moment buffer
        final double[] v; // second moment buffer

        Adam(Value[] params) {
            this.params = params;
            m = new double[params.length];
            v = new double[params.length];
        }

        void step(int step, int num_steps) {
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

    /** One training step: forward, backward, Adam. Returns the loss. */
    static double trainStep(GPT model, Adam adam, int[] tokens, int step, int num_steps) {
        Value loss = loss(model, tokens);
        loss.backward();
        adam.step(step, num_steps);
        return loss.data;
    }

    // ------------------------------------------------------------------------------------------
    // Inference
    // ------------------------------------------------------------------------------------------

    /** Samples one document, starting from BOS, until BOS or block_size tokens. */
    static String sample(GPT model, Tokenizer tok, double temperature, Random random) {
        List<List<Value[]>> keys = model.emptyCache(), values = model.emptyCache();
        int token_id = tok.BOS;
        StringBuilder sample = new StringBuilder();
        for (int pos_id = 0; pos_id < model.block_size; pos_id++) {
            Value[] logits = gpt(model, token_id, pos_id, keys, values);
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

    // ------------------------------------------------------------------------------------------
    // Everything else: the command line, errors, files, Python's exact behaviour
    // ------------------------------------------------------------------------------------------

    public static void main(String... args) {
        System.exit(run(new microgpt(), args));
    }

    /** Runs the command with our error handling: one line on stderr, exit 2 for usage, 1 for input. */
    static int run(Callable<Integer> command, String... args) {
        CommandLine cmd = new CommandLine(command);
        cmd.setParameterExceptionHandler((ex, a) -> {
            System.err.println(cmd.getCommandName() + ": " + ex.getMessage() + " (see --help)");
            return 2;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof UserError) {
                System.err.println(c.getCommandName() + ": " + ex.getMessage());
                return ((UserError) ex).exitCode;
            }
            throw ex;
        });
        try {
            return cmd.execute(args);
        } catch (OutOfMemoryError e) { // what the estimate in checkFits missed: still one line, no stack trace
            System.err.println(cmd.getCommandName() + ": out of memory (" + e.getMessage() + ", heap limit "
                    + gib(Runtime.getRuntime().maxMemory()) + "); " + fix(2.0 * Runtime.getRuntime().maxMemory()));
            return 1;
        }
    }

    /** A problem with the user's input or options: reported as one line, never as a stack trace. */
    static final class UserError extends RuntimeException {
        final int exitCode;
        UserError(int exitCode, String message) { super(message); this.exitCode = exitCode; }
        static UserError usage(String message) { return new UserError(2, message); }
        static UserError input(String message) { return new UserError(1, message); }
    }

    /** The model's shape, checked once so every engine and tool rejects the same bad values. */
    record Config(int n_layer, int n_embd, int block_size, int n_head) {
        Config {
            if (n_layer < 1) throw UserError.usage("--n-layer must be at least 1 (got " + n_layer + ")");
            if (n_embd < 1) throw UserError.usage("--n-embd must be at least 1 (got " + n_embd + ")");
            if (n_head < 1) throw UserError.usage("--n-head must be at least 1 (got " + n_head + ")");
            if (block_size < 1) throw UserError.usage("--block-size must be at least 1 (got " + block_size + ")");
            if (n_embd % n_head != 0)
                throw UserError.usage("--n-embd (" + n_embd + ") must be divisible by --n-head (" + n_head
                        + "); try --n-head " + largestDivisorAtMost(n_embd, n_head));
        }
        int head_dim() { return n_embd / n_head; }
        static int largestDivisorAtMost(int n, int max) {
            for (int d = Math.min(n, max); d > 1; d--) if (n % d == 0) return d;
            return 1;
        }
    }

    static void checkRunOptions(int steps, double temperature, int samples) {
        if (steps < 0) throw UserError.usage("--steps must be 0 or more (got " + steps + ")");
        if (!(temperature > 0) || Double.isInfinite(temperature))
            throw UserError.usage("--temperature must be a number > 0, such as 0.5 (got " + temperature + ")");
        if (samples < 0) throw UserError.usage("--samples must be 0 or more (got " + samples + ")");
    }

    /** What to do when a model needs `needed` bytes of heap: more heap if the machine has the memory, else a smaller model. */
    static String fix(double needed) {
        String smaller = "choose a smaller model (--n-embd, --n-layer, --block-size)";
        double ram = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        if (needed > 0.9 * ram) return "that is more than this machine's " + gib(ram) + " of memory: " + smaller;
        return "give Java more heap (./jbang --runtime-option=-Xmx" + (long) Math.ceil(needed * 1.25 / (1L << 30))
                + "g " + SCRIPT + " ...) or " + smaller;
    }

    /** Stops at once, with one line, when the model cannot fit in the heap this JVM will allow. */
    static void checkFits(Config config, int vocab_size) {
        double needed = GPT.heap_needed(config, vocab_size), limit = Runtime.getRuntime().maxMemory();
        if (needed > limit)
            throw UserError.input("this model needs about " + gib(needed) + " of heap (parameters, Adam's buffers and one "
                    + "step's graph at --block-size " + config.block_size() + "), more than this JVM's limit of " + gib(limit)
                    + "; " + fix(needed));
    }

    static String gib(double bytes) { return String.format(Locale.ROOT, "%.1f GiB", bytes / (1L << 30)); }

    /** Downloads url to target through a temporary file that is renamed into place when complete. */
    static void download(String url, Path target) {
        url = System.getProperty("microgpt.namesUrl", url); // tests point this at a local server
        System.err.println("downloading " + url + " to " + target + " ...");
        Path tmp = null;
        try {
            Path dir = target.toAbsolutePath().getParent();
            tmp = Files.createTempFile(dir, target.getFileName() + ".", ".part");
            HttpURLConnection conn = (HttpURLConnection) new URL(url).openConnection();
            conn.setConnectTimeout(10_000);
            conn.setReadTimeout(30_000);
            if (conn.getResponseCode() != 200) throw new IOException("HTTP " + conn.getResponseCode());
            try (InputStream in = conn.getInputStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (Exception e) {
            throw UserError.input("could not download " + url + " (" + e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); put a names file at "
                    + target + " or pass --input FILE");
        } finally {
            if (tmp != null) try { Files.deleteIfExists(tmp); } catch (IOException ignored) { }
        }
    }

    /** Python's str.strip(): removes leading and trailing characters for which str.isspace() is true. */
    static String pyStrip(String s) {
        int b = 0, e = s.length();
        while (b < e && pyIsSpace(s.charAt(b))) b++;
        while (e > b && pyIsSpace(s.charAt(e - 1))) e--;
        return s.substring(b, e);
    }

    static boolean pyIsSpace(char c) {
        return (c >= '\t' && c <= '\r') || (c >= '\u001c' && c <= ' ') || c == '\u0085' || c == '\u00a0'
                || c == '\u1680' || (c >= '\u2000' && c <= '\u200a') || c == '\u2028' || c == '\u2029'
                || c == '\u202f' || c == '\u205f' || c == '\u3000';
    }

    // ------------------------------------------------------------------------------------------
    // CPython's random module: MT19937 and the few methods microgpt.py calls, bit for bit
    // ------------------------------------------------------------------------------------------

    static final class Random {
        private final int[] mt = new int[624];
        private int mti;
        private double gauss_next;
        private boolean has_gauss_next;

        /** random.seed(n) for an integer n: the key is the 32-bit words of |n|, least significant first. */
        Random(long seed) {
            BigInteger n = BigInteger.valueOf(seed).abs();
            int words = Math.max(1, (n.bitLength() + 31) / 32);
            int[] key = new int[words];
            for (int i = 0; i < words; i++) key[i] = n.shiftRight(32 * i).intValue();
            init_by_array(key);
        }

        private void init_genrand(int s) {
            mt[0] = s;
            for (mti = 1; mti < 624; mti++) mt[mti] = 1812433253 * (mt[mti - 1] ^ (mt[mti - 1] >>> 30)) + mti;
        }

        private void init_by_array(int[] key) {
            init_genrand(19650218);
            int i = 1, j = 0;
            for (int k = Math.max(624, key.length); k > 0; k--) {
                mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1664525)) + key[j] + j;
                i++; j++;
                if (i >= 624) { mt[0] = mt[623]; i = 1; }
                if (j >= key.length) j = 0;
            }
            for (int k = 623; k > 0; k--) {
                mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >>> 30)) * 1566083941)) - i;
                i++;
                if (i >= 624) { mt[0] = mt[623]; i = 1; }
            }
            mt[0] = 0x80000000;
            has_gauss_next = false;
        }

        /** The next 32 random bits, as an unsigned value in an int. */
        int genrand_uint32() {
            if (mti >= 624) {
                for (int kk = 0; kk < 624; kk++) {
                    int y = (mt[kk] & 0x80000000) | (mt[(kk + 1) % 624] & 0x7fffffff);
                    mt[kk] = mt[(kk + 397) % 624] ^ (y >>> 1) ^ ((y & 1) != 0 ? 0x9908b0df : 0);
                }
                mti = 0;
            }
            int y = mt[mti++];
            y ^= (y >>> 11);
            y ^= (y << 7) & 0x9d2c5680;
            y ^= (y << 15) & 0xefc60000;
            y ^= (y >>> 18);
            return y;
        }

        /** random.random(): 53 random bits in [0, 1). */
        double random() {
            long a = (genrand_uint32() >>> 5) & 0xffffffffL, b = (genrand_uint32() >>> 6) & 0xffffffffL;
            return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
        }

        /** random.getrandbits(k) for 0 <= k <= 32. */
        long getrandbits(int k) {
            if (k < 0 || k > 32) throw new IllegalArgumentException("k must be in [0, 32]");
            return k == 0 ? 0 : (genrand_uint32() & 0xffffffffL) >>> (32 - k);
        }

        /** random._randbelow(n): rejection sampling with the bit length of n itself. */
        int randbelow(int n) {
            int k = 32 - Integer.numberOfLeadingZeros(n); // n.bit_length()
            long r = getrandbits(k);
            while (r >= n) r = getrandbits(k);
            return (int) r;
        }

        /** random.shuffle(x): Fisher-Yates from the end. */
        <T> void shuffle(List<T> x) {
            for (int i = x.size() - 1; i > 0; i--) Collections.swap(x, i, randbelow(i + 1));
        }

        /** random.gauss(mu, sigma): returns the cos half now and caches the sin half for next call. */
        double gauss(double mu, double sigma) {
            double z;
            if (has_gauss_next) {
                z = gauss_next;
                has_gauss_next = false;
            } else {
                double x2pi = random() * (2 * Math.PI);
                double g2rad = Math.sqrt(-2.0 * Math.log(1.0 - random()));
                z = Math.cos(x2pi) * g2rad;
                gauss_next = Math.sin(x2pi) * g2rad;
                has_gauss_next = true;
            }
            return mu + z * sigma;
        }

        /** random.choices(range(n), weights)[0]: bisect_right on the running sums, capped at n-1. */
        int choices(double[] weights) {
            int n = weights.length;
            double[] cum = new double[n];
            double acc = 0;
            for (int i = 0; i < n; i++) cum[i] = acc = i == 0 ? weights[0] : acc + weights[i];
            double total = cum[n - 1] + 0.0;
            return bisect_right(cum, random() * total);
        }

        /** bisect_right(cum, u), capped at len(cum) - 1 as choices() caps it (u can round up to the total). */
        static int bisect_right(double[] cum, double u) {
            int lo = 0, hi = cum.length - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (u < cum[mid]) hi = mid; else lo = mid + 1;
            }
            return lo;
        }
    }

    // ------------------------------------------------------------------------------------------
    // Output, in Python's formats
    // ------------------------------------------------------------------------------------------

    static PrintStream stdout() {
        return new PrintStream(System.out, false, StandardCharsets.UTF_8); // names may be any Unicode
    }

    /** f"{n:{width}d}" */
    static String pad(int n, int width) {
        String s = Integer.toString(n);
        return s.length() >= width ? s : " ".repeat(width - s.length()) + s;
    }

    /** f"{x:.4f}": Python rounds the exact binary value half to even; String.format would not. */
    static String formatFixed4(double x) {
        if (Double.isNaN(x)) return "nan";
        if (Double.isInfinite(x)) return x > 0 ? "inf" : "-inf";
        String s = new BigDecimal(x).setScale(4, RoundingMode.HALF_EVEN).toPlainString();
        return (x < 0 || (x == 0 && 1 / x < 0)) && !s.startsWith("-") ? "-" + s : s;
    }

    /** --timing: the time from JVM start to the options, then the wall time of each phase; on stderr at the end. */
    static final class Timing {
        private final boolean on;
        private final StringBuilder report = new StringBuilder("timing:");
        private long last;

        Timing(boolean on) {
            this.on = on;
            if (!on) return;
            long jvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
            last = System.nanoTime();
            report.append(String.format(Locale.ROOT, " JVM and options %d ms,", System.currentTimeMillis() - jvmStart));
        }

        void phase(String name) {
            if (!on) return;
            long now = System.nanoTime();
            report.append(String.format(Locale.ROOT, " %s %.1f ms,", name, (now - last) / 1e6));
            last = now;
        }

        void report() {
            if (on) System.err.println(report.substring(0, report.length() - 1));
        }
    }

    /** The --loss-log CSV, written to a temporary file beside the target and renamed at the end. */
    static final class LossLog {
        private final Path target, tmp;
        private final BufferedWriter writer;

        private LossLog(Path target, Path tmp, BufferedWriter writer) { this.target = target; this.tmp = tmp; this.writer = writer; }

        static LossLog open(Path target) {
            if (target == null) return new LossLog(null, null, null);
            if (Files.isDirectory(target))
                throw UserError.usage("--loss-log " + target + " is a directory; give a file path such as losses.csv");
            Path dir = target.toAbsolutePath().getParent();
            if (dir == null || !Files.isDirectory(dir))
                throw UserError.usage("--loss-log " + target + ": folder " + dir + " does not exist; create it or choose another path");
            if (Files.exists(target) && !Files.isWritable(target))
                throw UserError.usage("--loss-log " + target + " is not writable; choose another path");
            try {
                Path tmp = Files.createTempFile(dir, target.getFileName() + ".", ".part");
                BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8);
                w.write("step,loss\n");
                return new LossLog(target, tmp, w);
            } catch (IOException | SecurityException e) {
                throw UserError.usage("--loss-log " + target + " cannot be written (" + e.getMessage() + "); choose another path");
            }
        }

        /** One row; Double.toString parses back to the exact same double. */
        void write(int step, double loss) throws IOException {
            if (writer != null) writer.write(step + "," + loss + "\n");
        }

        void commit() throws IOException {
            if (writer == null) return;
            writer.close();
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }

        void discard() {
            if (writer == null) return;
            try { writer.close(); Files.deleteIfExists(tmp); } catch (IOException ignored) { }
        }
    }
}
