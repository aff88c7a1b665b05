///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//FILES names.txt=data/names.txt
//JAVA_OPTIONS -XX:+UseSerialGC -Xms128m -XX:NewRatio=1 -XX:MaxRAMPercentage=75 -XX:-UsePerfData
// The JVM: the serial collector, and a young generation as large as the old one (NewRatio=1), so that
// each step's graph (~4 MB of garbage) dies young and costs a collection almost nothing; a 128 MB
// initial heap that grows only when a larger model needs it, up to 75% of the machine's memory.

/*
 * The most atomic way to train and sample a GPT in pure Java: the algorithm uses nothing but the JDK
 * (picocli reads the command line, Gson the JSON header of model files).
 * A line-by-line port of Andrej Karpathy's microgpt.py: same algorithm, same random numbers,
 * same printed output. Everything else is just efficiency.
 */

import java.io.*;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.*;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "microgpt", mixinStandardHelpOptions = true, version = "microgpt 1.0.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Train a tiny GPT on a list of names and sample new ones: a faithful Java port of "
                + "Karpathy's microgpt.py (same seed, same numbers).",
        footer = "%nWith no input.txt in the working directory and no --input, the makemore names file that "
                + "this script carries is written to input.txt first, where microgpt.py downloads it.")
public class microgpt implements Callable<Integer> {

    @Option(names = "--input", paramLabel = "FILE", description = "Text file, one document per line (default: input.txt, "
            + "written from the bundled names.txt if missing).")
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
    @Option(names = "--prompt", paramLabel = "TEXT", description = "Start every sample with TEXT (it is printed too).")
    String prompt = "";
    @Option(names = "--save", paramLabel = "FILE", description = "Write the model to FILE (safetensors) after training; on "
            + "Ctrl-C or SIGTERM, finish the step and write it there.")
    Path save;
    @Option(names = "--save-every", paramLabel = "N", description = "Also write it every N steps during training (default: never).")
    int saveEvery;
    @Option(names = "--load", paramLabel = "FILE", description = "Start from the model in FILE: without --steps, only sample; "
            + "with --steps N, train N more steps on --input.")
    Path load;
    @Option(names = "--resume", paramLabel = "FILE", description = "Continue the run saved in FILE exactly where it stopped, "
            + "to the steps it planned, then sample.")
    Path resume;
    @Spec
    CommandSpec spec;

    /** The //JAVA_OPTIONS above, for tools that start this engine in a JVM of their own (bench_compare). */
    static final String JAVA_OPTIONS = "-XX:+UseSerialGC -Xms128m -XX:NewRatio=1 -XX:MaxRAMPercentage=75 -XX:-UsePerfData";
    static final String SCRIPT = "microgpt.java";
    static final String DEFAULT_INPUT = "input.txt";

    @Override
    public Integer call() throws Exception {
        Config config = new Config(nLayer, nEmbd, blockSize, nHead);
        checkRunOptions(steps, temperature, samples);
        CommandLine.ParseResult given = spec.commandLine().getParseResult();
        Checkpoint file = checkModelOptions(given, load, resume, save, saveEvery, seed); // --load or --resume: read and checked now
        if (file != null) config = file.config(given, config); // the file's model shape
        if (file != null) file.checkTensors(config, resume != null); // before anything is read or printed
        long seed = resume != null ? file.metaLong("seed") : this.seed;
        int num_steps = resume != null ? (int) file.metaLong("total_steps") : load != null && !given.hasMatchedOption("--steps") ? 0 : steps;
        int first_step = resume != null ? (int) file.metaLong("step") : 0;
        LossLog log = LossLog.open(lossLog); // fails now, not after training, if it cannot be written
        Timing time = new Timing(timing);
        Interrupt interrupt = new Interrupt(false);
        try {
            PrintStream out = stdout();

            // Let there be a dataset `docs`: a list of documents (e.g. names), shuffled once
            Random random = new Random(seed); // Let there be order among chaos
            List<String> docs = List.of();
            String data_hash = "";
            if (file == null || num_steps > 0 || resume != null) { // a loaded model that only samples needs no data
                docs = input == null ? loadDocs(Path.of(DEFAULT_INPUT), true) : loadDocs(input, false);
                if (save != null || resume != null) data_hash = dataHash(docs); // only a model file keeps it
                if (resume != null && !data_hash.equals(file.meta("data_sha256")))
                    throw UserError.input("the training data is not the data of the run saved in " + resume
                            + "; resume with the same --input");
                random.shuffle(docs);
                out.println("num docs: " + docs.size());
            }

            // Let there be a Tokenizer to translate strings to discrete symbols and back
            Tokenizer tok = new Tokenizer(docs, file == null ? null : file.vocab());
            if (file != null) checkVocabulary(docs, tok, file);
            int[] prompt_tokens = promptTokens(prompt, tok, config.block_size());
            out.println("vocab size: " + tok.vocab_size);

            // Initialize the parameters, to store the knowledge of the model
            checkFits(config, tok.vocab_size); // before allocating: does it fit in the heap this JVM may use?
            GPT model = new GPT(config, tok.vocab_size, random);
            if (file != null) model.setWeights(flat(file, config, tok.vocab_size, ""));
            out.println("num params: " + model.params.length);

            time.phase("data and model");

            // Repeat in sequence: one document per step, forward, backward, Adam
            Adam adam = new Adam(model.params);
            if (resume != null) restoreRun(file, config, tok.vocab_size, adam, random);
            interrupt = new Interrupt(save != null); // Ctrl-C or SIGTERM: finish the step, save, say how to resume
            for (int step = first_step; step < num_steps; step++) {
                String doc = docs.get(step % docs.size());
                double loss = trainStep(model, adam, tok.encode(doc), step, num_steps);
                out.print("step " + pad(step + 1, 4) + " / " + pad(num_steps, 4) + " | loss " + formatFixed4(loss) + "\r");
                out.flush();
                log.write(step + 1, loss);
                boolean stop = interrupt.requested();
                if (save != null && (stop || saveEvery > 0 && (step + 1) % saveEvery == 0 && step + 1 < num_steps)) {
                    save(save, config, tok, model, adam, random, step + 1, num_steps, seed, data_hash);
                    log.checkpoint(); // the log on disk holds exactly the saved steps
                }
                if (stop) {
                    System.err.println("\n" + spec.name() + ": stopped after step " + (step + 1) + " of " + num_steps + " and saved the run to "
                            + save + "; continue it with: ./jbang " + SCRIPT + " --resume " + save + " --save " + save
                            + (input == null ? "" : " --input " + input));
                    log.discard();
                    interrupt.exit();
                }
            }
            interrupt.off();
            if (save != null) save(save, config, tok, model, adam, random, num_steps, num_steps, seed, data_hash);

            time.phase("training (" + (num_steps - first_step) + " steps)");

            // Inference: may the model babble back to us
            out.println("\n--- inference (new, hallucinated names) ---");
            for (int sample_idx = 0; sample_idx < samples; sample_idx++) {
                out.println("sample " + pad(sample_idx + 1, 2) + ": " + sample(model, tok, prompt_tokens, temperature, random));
            }
            out.flush();
            time.phase("sampling (" + samples + " samples)");
            log.commit();
            time.report();
        } finally {
            interrupt.off();
            log.discard(); // no half-written loss log if anything above failed
        }
        return 0;
    }

    // ------------------------------------------------------------------------------------------
    // Dataset
    // ------------------------------------------------------------------------------------------

    /** Reads the documents: UTF-8, universal newlines, each line stripped, empty lines dropped. */
    static List<String> loadDocs(Path path, boolean isDefault) {
        if (!Files.exists(path)) {
            if (!isDefault)
                throw UserError.input("input file not found: " + path + "; pass an existing file with --input");
            writeBundledNames(path); // microgpt.py downloads it; this script carries it (no network needed)
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

        /** vocab: a saved model's characters (--load, --resume), or null for the dataset's. */
        Tokenizer(List<String> docs, int[] vocab) {
            uchars = vocab != null ? vocab : docs.stream().flatMapToInt(String::codePoints).distinct().sorted().toArray(); // sorted(set(''.join(docs)))
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

        /** The parameters' values, in state_dict order (model files). */
        double[] weights() {
            double[] w = new double[params.length];
            for (int i = 0; i < w.length; i++) w[i] = params[i].data;
            return w;
        }

        void setWeights(double[] w) {
            for (int i = 0; i < w.length; i++) params[i].data = w[i];
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

    /** Samples one document, starting from BOS and the prompt's tokens, until BOS or block_size tokens. */
    static String sample(GPT model, Tokenizer tok, int[] prompt, double temperature, Random random) {
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

    /**
     * Writes the makemore names.txt (commit 988aa59, 32,033 names) that the script's jar carries (//FILES) to
     * target, through a temporary file renamed into place, as microgpt.py writes its download to input.txt.
     */
    static void writeBundledNames(Path target) {
        System.err.println("no " + target + ": writing the bundled makemore names.txt there");
        Path tmp = null;
        try (InputStream in = UserError.class.getResourceAsStream("/names.txt")) {
            if (in == null) throw new IOException("names.txt is missing from this script's jar");
            tmp = Files.createTempFile(target.toAbsolutePath().getParent(), target.getFileName() + ".", ".part");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            readableByAll(tmp);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | SecurityException e) {
            throw UserError.input("cannot write " + target + " (" + e.getMessage() + "); pass a names file with --input FILE");
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

        /** random.getstate()'s numbers: the 624 words (unsigned) and the index. */
        long[] getstate() {
            long[] state = new long[625];
            for (int i = 0; i < 624; i++) state[i] = mt[i] & 0xffffffffL;
            state[624] = mti;
            return state;
        }

        /** The rest of the state: whether a gauss value is cached (1 or 0), and the value. */
        double[] getgauss() { return new double[]{has_gauss_next ? 1 : 0, gauss_next}; }

        /** random.setstate(): back to a state that getstate() and getgauss() returned. */
        void setstate(long[] state, double[] gauss) {
            if (state.length != 625 || state[624] < 0 || state[624] > 624 || gauss.length != 2)
                throw new IllegalArgumentException("the index must be 0..624");
            for (int i = 0; i < 624; i++) {
                if (state[i] < 0 || state[i] > 0xffffffffL) throw new IllegalArgumentException("word " + i + " is not 32 bits");
                mt[i] = (int) state[i];
            }
            mti = (int) state[624];
            has_gauss_next = gauss[0] != 0;
            gauss_next = gauss[1];
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
            checkOutput("--loss-log", target, "losses.csv");
            try {
                Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), target.getFileName() + ".", ".part");
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

        /** At a checkpoint: the log on disk becomes the rows so far, through a copy renamed into place. */
        void checkpoint() throws IOException {
            if (writer == null) return;
            writer.flush();
            Path copy = Files.createTempFile(tmp.toAbsolutePath().getParent(), target.getFileName() + ".", ".part");
            try {
                Files.copy(tmp, copy, StandardCopyOption.REPLACE_EXISTING);
                readableByAll(copy);
                Files.move(copy, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(copy);
            }
        }

        void commit() throws IOException {
            if (writer == null) return;
            writer.close();
            readableByAll(tmp);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }

        void discard() {
            if (writer == null) return;
            try { writer.close(); Files.deleteIfExists(tmp); } catch (IOException ignored) { }
        }
    }

    /** Fails now, not after training, if target cannot be written: one line naming the option and the fix. */
    static void checkOutput(String option, Path target, String example) {
        if (Files.isDirectory(target))
            throw UserError.usage(option + " " + target + " is a directory; give a file path such as " + example);
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir))
            throw UserError.usage(option + " " + target + ": folder " + dir + " does not exist; create it or choose another path");
        if (Files.exists(target) && !Files.isWritable(target) || !Files.isWritable(dir))
            throw UserError.usage(option + " " + target + " is not writable; choose another path");
    }

    /** A temporary file is created readable by its owner only; the file it becomes is readable by all (rw-r--r--). */
    static void readableByAll(Path tmp) {
        try {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException | IOException notPosix) { }
    }

    /** SHA-256 of the documents in file order, one per line: what a resumed run must train on again. */
    static String dataHash(List<String> docs) {
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            for (String doc : docs) sha.update((doc + "\n").getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * A model file, in the safetensors format (Hugging Face's): an 8-byte little-endian header length,
     * a JSON header giving each tensor's dtype, shape and byte range, then the tensors' raw little-endian
     * bytes. Tensors: the state_dict (F64, [nout, nin]), Adam's moments ("adam.m.NAME", "adam.v.NAME"),
     * the RNG ("rng.mt": I64 [625], the 624 words and the index, as Python's getstate(); "rng.gauss":
     * F64 [2], whether a gauss value is cached, and the value). "__metadata__" holds the rest, as strings.
     */
    static final class Checkpoint {
        static final String FORMAT = "microgpt-checkpoint", VERSION = "1";
        final Path file;
        final Map<String, String> meta = new LinkedHashMap<>();
        final Map<String, long[]> shapes = new LinkedHashMap<>();
        final Map<String, Object> tensors = new LinkedHashMap<>(); // double[] (F64) or long[] (I64)

        Checkpoint(Path file) { this.file = file; }

        void put(String name, long[] shape, Object values) { shapes.put(name, shape); tensors.put(name, values); }

        /** Writes to a temporary file beside target, then renames it into place: target is always a whole file. */
        void write(Path target) throws IOException {
            com.google.gson.JsonObject header = new com.google.gson.JsonObject();
            com.google.gson.JsonObject m = new com.google.gson.JsonObject();
            meta.forEach(m::addProperty);
            header.add("__metadata__", m);
            long offset = 0;
            for (String name : tensors.keySet()) {
                com.google.gson.JsonObject t = new com.google.gson.JsonObject();
                t.addProperty("dtype", tensors.get(name) instanceof double[] ? "F64" : "I64");
                com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
                for (long d : shapes.get(name)) shape.add(d);
                t.add("shape", shape);
                long bytes = 8L * count(shapes.get(name));
                com.google.gson.JsonArray range = new com.google.gson.JsonArray();
                range.add(offset);
                range.add(offset + bytes);
                t.add("data_offsets", range);
                header.add(name, t);
                offset += bytes;
            }
            StringBuilder json = new StringBuilder(header.toString());
            while (json.length() % 8 != 0) json.append(' '); // the header is padded to 8 bytes, as safetensors does
            byte[] h = json.toString().getBytes(StandardCharsets.UTF_8);
            Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), target.getFileName() + ".", ".part");
            try {
                try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                    out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
                    out.write(h);
                    for (String name : tensors.keySet()) {
                        Object v = tensors.get(name);
                        int n = (int) count(shapes.get(name));
                        ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
                        for (int i = 0; i < n; i++) {
                            if (v instanceof double[] d) b.putDouble(d[i]); else b.putLong(((long[]) v)[i]);
                        }
                        out.write(b.array());
                    }
                }
                readableByAll(tmp);
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }

        static long count(long[] shape) {
            long n = 1;
            for (long d : shape) n *= d;
            return n;
        }

        UserError bad(String problem) { return UserError.input("model file " + file + ": " + problem); }

        /** Reads and checks a model file; every problem is one line naming the file and the problem. */
        static Checkpoint read(Path file) {
            Checkpoint c = new Checkpoint(file);
            if (!Files.exists(file)) throw UserError.input("model file not found: " + file + "; pass a file written with --save");
            if (Files.isDirectory(file)) throw c.bad("it is a directory; pass a file written with --save");
            byte[] bytes;
            try {
                bytes = Files.readAllBytes(file);
            } catch (IOException e) {
                throw c.bad("cannot be read (" + e.getMessage() + ")");
            }
            if (bytes.length < 8) throw c.bad("it is " + bytes.length + " bytes long, too short for a safetensors file");
            long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (n < 2 || n > bytes.length - 8)
                throw c.bad("its header length (" + n + " bytes) does not fit in the file (" + bytes.length
                        + " bytes): it is truncated or not a safetensors file");
            com.google.gson.JsonObject header;
            try {
                String json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes, 8, (int) n)).toString();
                header = com.google.gson.JsonParser.parseString(json).getAsJsonObject();
            } catch (CharacterCodingException | RuntimeException e) {
                throw c.bad("its header is not JSON: it is damaged or not a safetensors file");
            }
            int dataStart = 8 + (int) n, dataLength = bytes.length - dataStart;
            List<long[]> ranges = new ArrayList<>();
            for (Map.Entry<String, com.google.gson.JsonElement> e : header.entrySet()) {
                String name = e.getKey();
                try {
                    com.google.gson.JsonObject t = e.getValue().getAsJsonObject();
                    if (name.equals("__metadata__")) {
                        for (Map.Entry<String, com.google.gson.JsonElement> kv : t.entrySet())
                            c.meta.put(kv.getKey(), kv.getValue().getAsString());
                        continue;
                    }
                    String dtype = t.get("dtype").getAsString();
                    if (!dtype.equals("F64") && !dtype.equals("I64"))
                        throw c.bad("tensor '" + name + "' is " + dtype + "; this format stores F64 and I64 tensors");
                    com.google.gson.JsonArray s = t.getAsJsonArray("shape"), r = t.getAsJsonArray("data_offsets");
                    long[] shape = new long[s.size()];
                    for (int i = 0; i < shape.length; i++) shape[i] = s.get(i).getAsLong();
                    long begin = r.get(0).getAsLong(), end = r.get(1).getAsLong(), count = count(shape);
                    if (r.size() != 2 || Arrays.stream(shape).anyMatch(d -> d < 0) || count > Integer.MAX_VALUE / 8
                            || begin < 0 || end > dataLength || end - begin != 8 * count)
                        throw c.bad("tensor '" + name + "' claims bytes " + begin + ".." + end + " for shape "
                                + Arrays.toString(shape) + " in " + dataLength + " bytes of data: the header lies or the file is truncated");
                    ranges.add(new long[]{begin, end});
                    ByteBuffer b = ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                    if (dtype.equals("F64")) {
                        double[] v = new double[(int) count];
                        for (int i = 0; i < v.length; i++) v[i] = b.getDouble();
                        c.put(name, shape, v);
                    } else {
                        long[] v = new long[(int) count];
                        for (int i = 0; i < v.length; i++) v[i] = b.getLong();
                        c.put(name, shape, v);
                    }
                } catch (UserError u) {
                    throw u;
                } catch (RuntimeException x) {
                    throw c.bad("tensor '" + name + "' has a malformed header entry: it is damaged or not a safetensors file");
                }
            }
            ranges.sort(Comparator.comparingLong(x -> x[0]));
            long at = 0;
            for (long[] r : ranges) {
                if (r[0] != at) throw c.bad("its tensors' byte ranges overlap or leave gaps: the header lies");
                at = r[1];
            }
            if (at != dataLength) throw c.bad("it has " + (dataLength - at) + " bytes after its last tensor: the header lies");
            if (!FORMAT.equals(c.meta.get("format")))
                throw c.bad("it is not a microgpt model (a safetensors file without format \"" + FORMAT + "\" in its metadata)");
            if (!VERSION.equals(c.meta.get("format_version")))
                throw c.bad("it is format version " + c.meta.get("format_version") + "; this program reads version " + VERSION);
            return c;
        }

        String meta(String key) {
            String v = meta.get(key);
            if (v == null) throw bad("its metadata has no '" + key + "'");
            return v;
        }

        long metaLong(String key) {
            try {
                return Long.parseLong(meta(key));
            } catch (NumberFormatException e) {
                throw bad("its metadata '" + key + "' is not a number: " + meta(key));
            }
        }

        /** A tensor that must be there, with this dtype and shape. */
        Object tensor(String name, boolean f64, long... shape) {
            Object v = tensors.get(name);
            if (v == null) throw bad("it has no tensor '" + name + "'");
            if ((v instanceof double[]) != f64) throw bad("tensor '" + name + "' is " + (f64 ? "I64" : "F64") + ", expected " + (f64 ? "F64" : "I64"));
            if (!Arrays.equals(shapes.get(name), shape))
                throw bad("tensor '" + name + "' has shape " + Arrays.toString(shapes.get(name)) + ", expected " + Arrays.toString(shape));
            return v;
        }

        /** The model's shape from the metadata; a size option given on the command line must agree. */
        Config config(CommandLine.ParseResult given, Config options) {
            int n_layer = (int) metaLong("n_layer"), n_embd = (int) metaLong("n_embd"), n_head = (int) metaLong("n_head"),
                    block_size = (int) metaLong("block_size");
            String[][] sizes = {{"--n-layer", "" + n_layer, "" + options.n_layer()}, {"--n-embd", "" + n_embd, "" + options.n_embd()},
                    {"--n-head", "" + n_head, "" + options.n_head()}, {"--block-size", "" + block_size, "" + options.block_size()}};
            for (String[] s : sizes)
                if (given.hasMatchedOption(s[0]) && !s[1].equals(s[2]))
                    throw UserError.usage(s[0] + " " + s[2] + " contradicts model file " + file + " (" + s[0] + " " + s[1]
                            + "); leave " + s[0] + " out");
            try {
                return new Config(n_layer, n_embd, block_size, n_head);
            } catch (UserError e) {
                throw bad("its model shape is invalid (" + e.getMessage() + ")");
            }
        }

        /** Every tensor the model needs is there with its dtype and shape (and, for a run to resume, the optimizer's and RNG's). */
        void checkTensors(Config config, boolean run) {
            for (String prefix : run ? List.of("", "adam.m.", "adam.v.") : List.of(""))
                stateDictShapes(config, vocab().length + 1).forEach((name, shape) -> tensor(prefix + name, true, shape));
            if (run) {
                tensor("rng.mt", false, 625);
                tensor("rng.gauss", true, 2);
                metaLong("step");
                metaLong("total_steps");
                if (metaLong("step") > metaLong("total_steps") || metaLong("step") < 0)
                    throw bad("its step " + metaLong("step") + " is not within its " + metaLong("total_steps") + " planned steps");
            }
        }

        /** The vocabulary: the characters in token-id order. */
        int[] vocab() {
            int[] v = meta("vocab").codePoints().toArray();
            for (int i = 1; i < v.length; i++)
                if (v[i - 1] >= v[i]) throw bad("its vocabulary is not sorted and distinct, as a saved vocabulary is");
            if (v.length == 0) throw bad("its vocabulary is empty");
            return v;
        }
    }

    /**
     * SIGINT or SIGTERM during training with --save: the step in progress finishes, the model is saved,
     * one line says how to resume, and the JVM exits as the signal asks (130 for SIGINT, 143 for SIGTERM).
     * A shutdown hook, which the JVM runs on those signals, asks for the stop and waits for the save.
     */
    static final class Interrupt {
        private volatile boolean requested;
        private final java.util.concurrent.CountDownLatch saved = new java.util.concurrent.CountDownLatch(1);
        private final Thread hook;
        private final boolean on;

        Interrupt(boolean on) {
            this.on = on;
            hook = !on ? null : new Thread(() -> {
                requested = true;
                try { saved.await(10, java.util.concurrent.TimeUnit.MINUTES); } catch (InterruptedException ignored) { }
            }, "save-on-interrupt");
            if (on) Runtime.getRuntime().addShutdownHook(hook);
        }

        boolean requested() { return requested; }

        /** After the checkpoint is written: lets the JVM finish exiting, and never returns. */
        void exit() throws InterruptedException {
            saved.countDown();
            Thread.sleep(Long.MAX_VALUE);
        }

        /** Training is over: signals no longer wait for a save. */
        void off() {
            if (!on) return;
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                saved.countDown();
            }
        }
    }

    /** --load, --resume, --save, --save-every: the conflicts, then the model file read and checked. */
    static Checkpoint checkModelOptions(CommandLine.ParseResult given, Path load, Path resume, Path save, int saveEvery, long seed) {
        if (load != null && resume != null)
            throw UserError.usage("--load and --resume cannot be combined: --resume continues a run, --load starts a new one from its weights");
        if (resume != null && given.hasMatchedOption("--steps"))
            throw UserError.usage("--steps cannot be combined with --resume: the run continues to the total planned in " + resume);
        if (saveEvery < 0) throw UserError.usage("--save-every must be 0 (never) or more (got " + saveEvery + ")");
        if (saveEvery > 0 && save == null) throw UserError.usage("--save-every needs --save FILE, the file to write");
        if (save != null) checkOutput("--save", save, "model.safetensors");
        if (load == null && resume == null) return null;
        Checkpoint file = Checkpoint.read(resume != null ? resume : load);
        if (resume != null && file.meta("data_sha256").isEmpty())
            throw UserError.usage(resume + " was saved by a run that trained on no data (--load without --steps): there is "
                    + "no run to resume; use --load " + resume);
        if (resume != null && given.hasMatchedOption("--seed") && seed != file.metaLong("seed"))
            throw UserError.usage("--seed " + seed + " contradicts " + resume + " (--seed " + file.metaLong("seed") + "); leave --seed out");
        return file;
    }

    /** --load with training: every character of the data must be in the loaded model's vocabulary. */
    static void checkVocabulary(List<String> docs, Tokenizer tok, Checkpoint file) {
        String unknown = unknown(docs.stream().flatMapToInt(String::codePoints), tok);
        if (!unknown.isEmpty())
            throw UserError.input("the training data has characters that model file " + file.file + " does not know: "
                    + unknown + "; train a new model on it instead of --load");
    }

    /** --prompt: its tokens, which every sample starts with. */
    static int[] promptTokens(String prompt, Tokenizer tok, int block_size) {
        int[] cps = prompt.codePoints().toArray();
        String unknown = unknown(Arrays.stream(cps), tok);
        if (!unknown.isEmpty())
            throw UserError.usage("--prompt has characters that are not in the vocabulary: " + unknown
                    + "; use only these: " + new String(tok.uchars, 0, tok.uchars.length));
        if (cps.length >= block_size)
            throw UserError.usage("--prompt is " + cps.length + " characters; the model reads " + block_size
                    + " tokens including the first, so at most " + (block_size - 1));
        int[] tokens = new int[cps.length];
        for (int i = 0; i < cps.length; i++) tokens[i] = Arrays.binarySearch(tok.uchars, cps[i]);
        return tokens;
    }

    /** The characters that the vocabulary lacks, sorted and quoted ('!', 'A'); "" if none. */
    static String unknown(java.util.stream.IntStream chars, Tokenizer tok) {
        StringJoiner s = new StringJoiner(", ");
        chars.filter(ch -> Arrays.binarySearch(tok.uchars, ch) < 0).distinct().sorted()
                .forEach(ch -> s.add("'" + new String(Character.toChars(ch)) + "'"));
        return s.toString();
    }

    /** Writes the model, Adam's moments and the RNG's state to target (--save, --save-every). */
    static void save(Path target, Config config, Tokenizer tok, GPT model, Adam adam, Random random, int step, int total_steps,
                     long seed, String data_hash) throws IOException {
        Checkpoint c = new Checkpoint(target);
        c.meta.put("format", Checkpoint.FORMAT);
        c.meta.put("format_version", Checkpoint.VERSION);
        c.meta.put("engine", SCRIPT);
        c.meta.put("n_layer", "" + config.n_layer());
        c.meta.put("n_embd", "" + config.n_embd());
        c.meta.put("n_head", "" + config.n_head());
        c.meta.put("block_size", "" + config.block_size());
        c.meta.put("vocab", new String(tok.uchars, 0, tok.uchars.length));
        c.meta.put("step", "" + step);
        c.meta.put("total_steps", "" + total_steps);
        c.meta.put("seed", "" + seed);
        c.meta.put("data_sha256", data_hash);
        String[] prefixes = {"", "adam.m.", "adam.v."};
        double[][] values = {model.weights(), adam.m, adam.v};
        for (int k = 0; k < prefixes.length; k++) {
            int at = 0;
            for (Map.Entry<String, long[]> e : stateDictShapes(config, tok.vocab_size).entrySet()) {
                int n = (int) Checkpoint.count(e.getValue());
                c.put(prefixes[k] + e.getKey(), e.getValue(), Arrays.copyOfRange(values[k], at, at + n));
                at += n;
            }
        }
        c.put("rng.mt", new long[]{625}, random.getstate());
        c.put("rng.gauss", new long[]{2}, random.getgauss());
        c.write(target);
    }

    /** The state_dict's names and shapes [nout, nin], in the Python's order: the weight tensors of a model file. */
    static Map<String, long[]> stateDictShapes(Config c, int vocab_size) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long n = c.n_embd();
        shapes.put("wte", new long[]{vocab_size, n});
        shapes.put("wpe", new long[]{c.block_size(), n});
        shapes.put("lm_head", new long[]{vocab_size, n});
        for (int i = 0; i < c.n_layer(); i++) {
            for (String w : List.of("attn_wq", "attn_wk", "attn_wv", "attn_wo")) shapes.put("layer" + i + "." + w, new long[]{n, n});
            shapes.put("layer" + i + ".mlp_fc1", new long[]{4 * n, n});
            shapes.put("layer" + i + ".mlp_fc2", new long[]{n, 4 * n});
        }
        return shapes;
    }

    /** The tensors named prefix + each state_dict name, in state_dict order, as one flat array. */
    static double[] flat(Checkpoint file, Config config, int vocab_size, String prefix) {
        Map<String, long[]> shapes = stateDictShapes(config, vocab_size);
        long total = 0;
        for (long[] shape : shapes.values()) total += Checkpoint.count(shape);
        double[] all = new double[(int) total];
        int at = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            double[] t = (double[]) file.tensor(prefix + e.getKey(), true, e.getValue());
            System.arraycopy(t, 0, all, at, t.length);
            at += t.length;
        }
        return all;
    }

    /** --resume: Adam's moments, and the RNG exactly where the saved run left it. */
    static void restoreRun(Checkpoint file, Config config, int vocab_size, Adam adam, Random random) {
        System.arraycopy(flat(file, config, vocab_size, "adam.m."), 0, adam.m, 0, adam.m.length);
        System.arraycopy(flat(file, config, vocab_size, "adam.v."), 0, adam.v, 0, adam.v.length);
        try {
            random.setstate((long[]) file.tensor("rng.mt", false, 625), (double[]) file.tensor("rng.gauss", true, 2));
        } catch (IllegalArgumentException e) {
            throw file.bad("its RNG state is invalid (" + e.getMessage() + ")");
        }
    }
}
