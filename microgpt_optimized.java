///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//FILES names.txt=data/names.txt
//COMPILE_OPTIONS -XDstringConcat=inline
//JAVA_OPTIONS -XX:+UseSerialGC -Xms24m -XX:MaxRAMPercentage=75 -XX:TieredStopAtLevel=1 -XX:-UsePerfData
// CHANGE 11: javac compiles string concatenation to StringBuilder calls instead of invokedynamic,
// whose every call site builds code the first time it runs (~3 ms for the first sample line).
// CHANGE 15: the JVM for a half-second run: the serial collector (no GC threads) and a small initial heap
// that grows only if a larger model needs it (up to 75% of RAM), C1 only (a 1000-step run is over
// before C2's code would pay back its compiling).

/*
 * The same GPT as microgpt.java (and Karpathy's microgpt.py), trained and sampled far faster and
 * leaner. Same algorithm, same random numbers, same printed names; losses agree to ~1e-15.
 * Each optimization is marked where it happens with a `CHANGE n:` comment; README.md explains them.
 * Changes 1-6 are those of microgpt_optimized.py; 7-15 are the ones the JVM rewards.
 * `diff microgpt.java microgpt_optimized.java` reads as the list of changes.
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

@Command(name = "microgpt-optimized", mixinStandardHelpOptions = true, version = "microgpt-optimized 1.0.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Train a tiny GPT on a list of names and sample new ones: the same model as microgpt.java, "
                + "on a flat autograd tape, with every optimization documented.",
        footer = "%nWith no input.txt in the working directory and no --input, the makemore names file that "
                + "this script carries is written to input.txt first, where microgpt.py downloads it.")
public class microgpt_optimized implements Callable<Integer> {

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
    // CHANGE 4: the KV cache's layout, nested or flat, as the optimized Python's benchmark compares them
    @Option(names = "--kv-layout", paramLabel = "LAYOUT", description = "KV cache layout: ${COMPLETION-CANDIDATES} "
            + "(default: ${DEFAULT-VALUE}). Same results; the benchmark compares them.")
    KVLayout kvLayout = KVLayout.nested;

    enum KVLayout { nested, flat }

    /** The //JAVA_OPTIONS above, for tools that start this engine in a JVM of their own (bench_compare). */
    static final String JAVA_OPTIONS = "-XX:+UseSerialGC -Xms24m -XX:MaxRAMPercentage=75 -XX:TieredStopAtLevel=1 -XX:-UsePerfData";
    static final String SCRIPT = "microgpt_optimized.java";
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
            GPT model = new GPT(config, tok.vocab_size, random, kvLayout == KVLayout.flat); // CHANGE 4
            if (file != null) model.setWeights(flat(file, config, tok.vocab_size, ""));
            out.println("num params: " + model.num_params); // CHANGE 7: the parameters are the tape's first nodes

            time.phase("data and model");

            // Repeat in sequence: one document per step, forward, backward, Adam
            Adam adam = new Adam(model.tape, model.num_params); // CHANGE 7
            if (resume != null) restoreRun(file, config, tok.vocab_size, adam, random);
            interrupt = new Interrupt(save != null); // Ctrl-C or SIGTERM: finish the step, save, say how to resume
            int[] tokens = new int[tok.max_len + 2]; // CHANGE 8: one token buffer for every step
            for (int step = first_step; step < num_steps; step++) {
                String doc = docs.get(step % docs.size());
                double loss = trainStep(model, adam, tokens, tok.encode(doc, tokens), step, num_steps); // CHANGE 8
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
            // CHANGE 11: start-up code runs once, mostly in the interpreter, so it must do little.
            // String's own UTF-8 decoding is an intrinsic; the strict decoder runs only if the text
            // contains U+FFFD, which is what a malformed byte would have become.
            text = new String(bytes, StandardCharsets.UTF_8);
            if (text.indexOf('\uFFFD') >= 0)
                StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes));
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
     * the same lines as microgpt.java's lines(), found without a stream (CHANGE 11, below).
     */
    static List<String> splitDocs(String text) {
        // CHANGE 11: universal newlines as two bulk replaces, then lines found with indexOf (an
        // intrinsic) instead of a loop over every character
        if (text.indexOf('\r') >= 0) text = text.replace("\r\n", "\n").replace('\r', '\n');
        List<String> docs = new ArrayList<>();
        for (int start = 0, n = text.length(); start <= n; ) {
            int end = text.indexOf('\n', start);
            if (end < 0) end = n;
            if (end > start) {
                String line = pyStrip(text.substring(start, end));
                if (!line.isEmpty()) docs.add(line);
            }
            start = end + 1;
        }
        return docs;
    }

    // ------------------------------------------------------------------------------------------
    // Tokenizer
    // ------------------------------------------------------------------------------------------

    /** Characters are code points: a name with an emoji counts it as one token, as in Python. */
    static final class Tokenizer {
        final int[] uchars;   // unique characters in the dataset, sorted: token ids 0..n-1
        final int BOS;        // token id of the special Beginning of Sequence token
        final int vocab_size; // number of unique tokens, +1 for BOS
        final int max_len;    // the longest document, in code points (sizes the reusable token buffer)
        // CHANGE 1: stoi, a direct lookup from character to token id instead of uchars.index(ch).
        // A table indexed by code point covers the Basic Multilingual Plane; a map holds the rest.
        private final int[] stoi;
        private final Map<Integer, Integer> stoi_astral = new HashMap<>();

        /** vocab: a saved model's characters (--load, --resume), or null for the dataset's. */
        Tokenizer(List<String> docs, int[] vocab) {
            // CHANGE 11: the set of characters as a bit set, filled and read by plain loops (no streams, no boxing)
            BitSet set = new BitSet();
            int longest = 0;
            for (String doc : docs) {
                int count = 0;
                for (int i = 0; i < doc.length(); count++) {
                    char ch = doc.charAt(i);
                    if (Character.isSurrogate(ch)) {
                        int cp = doc.codePointAt(i);
                        set.set(cp);
                        i += Character.charCount(cp);
                    } else {
                        set.set(ch);
                        i++;
                    }
                }
                longest = Math.max(longest, count);
            }
            uchars = vocab != null ? vocab : new int[set.cardinality()]; // sorted by code point
            if (vocab == null) for (int i = 0, ch = set.nextSetBit(0); ch >= 0; ch = set.nextSetBit(ch + 1)) uchars[i++] = ch;
            BOS = uchars.length;
            vocab_size = uchars.length + 1;
            max_len = longest;
            // CHANGE 1: the stoi table, from the sorted characters
            int bmpMax = 0;
            for (int ch : uchars) if (ch <= 0xFFFF) bmpMax = Math.max(bmpMax, ch);
            stoi = new int[bmpMax + 1];
            Arrays.fill(stoi, -1);
            for (int i = 0; i < uchars.length; i++) {
                if (uchars[i] <= 0xFFFF) stoi[uchars[i]] = i; else stoi_astral.put(uchars[i], i);
            }
        }

        /** CHANGE 1, 8: [BOS] + [stoi[ch] for ch in doc] + [BOS] into a reused buffer; returns how many were written. */
        int encode(String doc, int[] tokens) {
            int n = 0;
            tokens[n++] = BOS;
            for (int i = 0; i < doc.length(); ) {
                int ch = doc.codePointAt(i);
                tokens[n++] = index(ch);
                i += Character.charCount(ch);
            }
            tokens[n++] = BOS;
            return n;
        }

        int index(int ch) { // CHANGE 1: stoi[ch], one array read
            int id = ch < stoi.length ? stoi[ch] : stoi_astral.getOrDefault(ch, -1);
            if (id < 0)
                throw new IllegalArgumentException("character not in vocabulary: " + new String(Character.toChars(ch)));
            return id;
        }

        String decode(int token_id) { return new String(Character.toChars(uchars[token_id])); }
    }

    // ------------------------------------------------------------------------------------------
    // Autograd: recursively apply the chain rule through a computation graph of scalars
    // ------------------------------------------------------------------------------------------

    /**
     * CHANGE 7: the graph is a tape. A node is a row of primitive arrays, not an object, and nodes
     * are appended in the order they are computed; every node's operands come before it, so the
     * reverse of the tape is already a topological order: the backward pass is one reverse loop,
     * with no recursion, no visited set and no sort.
     */
    static final class Tape {
        // CHANGE 2: a node stores what it computed (an op code and its operands), not one local
        // gradient per edge; the backward pass derives each local gradient from the node's op.
        static final byte LEAF = 0, ADD = 1, SUB = 2, MUL = 3, ADD_CONST = 4, MUL_CONST = 5, POW = 6, LOG = 7,
                EXP = 8, RELU = 9, NEG = 10, DOT = 11, DOT_GATHER = 12, SUM = 13, SUM_GATHER = 14, LSE = 15,
                DOT_ROWS4 = 16,
                // CHANGE 14: runs. An elementwise op over a vector is one node per element, as always,
                // but only the run's last node holds the op; the others are PART, done with it.
                PART = 17, ADD_VV = 18, ADD_VC = 19, MUL_VS = 20, MUL_VC = 21, EXP_V = 22, RELU_V = 23;

        double[] data;   // scalar value of each node, computed in the forward pass
        double[] grad;   // d(loss)/d(node), computed in the backward pass
        byte[] op;       // what the node computed
        int[] a, b, n;   // its operands: node indices, or a first node and a count for fused ops
        double[] c;      // a constant operand: the exponent of POW, the factor of MUL_CONST, ...
        int[] gather;    // node indices of gathered operands (DOT_GATHER, SUM_GATHER)
        double[] saved;  // floats a fused op keeps for its backward (LSE: the softmax)
        int size, gatherSize, savedSize;
        int mark;        // nodes below the mark (the parameters) survive reset()
        boolean grad_enabled = true; // CHANGE 6: when false, nodes get values but record no op

        Tape(int capacity) {
            data = new double[capacity]; grad = new double[capacity]; op = new byte[capacity];
            a = new int[capacity]; b = new int[capacity]; n = new int[capacity]; c = new double[capacity];
            gather = new int[256];
            saved = new double[256];
        }

        /** The index the next node will get: the start of the vector about to be computed. */
        int next() { return size; }

        /**
         * CHANGE 8: forget every node above the mark; the arrays are reused, nothing is freed or
         * allocated. Their gradients are zeroed here, in one fill, so recording a node stays cheap.
         */
        void reset() {
            Arrays.fill(grad, mark, size, 0.0);
            size = mark; gatherSize = 0; savedSize = 0;
        }

        /** Records a node: its value, and (with gradients on) its op and the operands that op uses. */
        private int push(byte o, double value, int ia, int ib) {
            int i = size;
            if (i == data.length) grow();
            size = i + 1;
            data[i] = value;
            if (grad_enabled) { op[i] = o; a[i] = ia; b[i] = ib; }
            else op[i] = LEAF; // no-grad: a value, and nothing for the backward pass to follow
            return i;
        }

        private int push(byte o, double value, int ia, double k) { // ops with a constant operand
            int i = push(o, value, ia, 0);
            c[i] = k;
            return i;
        }

        private int push(byte o, double value, int ia, int ib, int count) { // fused ops over count operands
            int i = push(o, value, ia, ib);
            n[i] = count;
            return i;
        }

        private void grow() {
            int cap = data.length * 2;
            data = Arrays.copyOf(data, cap); grad = Arrays.copyOf(grad, cap); op = Arrays.copyOf(op, cap);
            a = Arrays.copyOf(a, cap); b = Arrays.copyOf(b, cap); n = Arrays.copyOf(n, cap); c = Arrays.copyOf(c, cap);
        }

        /**
         * CHANGE 14: records a run of len nodes for an elementwise op; returns its first node. The op
         * and its operands go on the last node: the backward pass handles the whole run there, once
         * every node after the run (every user of its elements) has passed its gradient back.
         */
        private int run(byte o, int len, int ia, int ib, double k) {
            while (size + len > data.length) grow();
            int first = size;
            size += len;
            if (grad_enabled) {
                int last = first + len - 1;
                Arrays.fill(op, first, last, PART);
                op[last] = o; a[last] = ia; b[last] = ib; n[last] = len; c[last] = k;
            } else {
                Arrays.fill(op, first, first + len, LEAF);
            }
            return first;
        }

        private int gathered(int count) {
            if (gatherSize + count > gather.length) gather = Arrays.copyOf(gather, Math.max(2 * gather.length, gatherSize + count));
            int start = gatherSize;
            gatherSize += count;
            return start;
        }

        private int savedFloats(int count) {
            if (savedSize + count > saved.length) saved = Arrays.copyOf(saved, Math.max(2 * saved.length, savedSize + count));
            int start = savedSize;
            savedSize += count;
            return start;
        }

        int leaf(double value) { return push(LEAF, value, 0, 0); }
        int add(int x, int y) { return push(ADD, data[x] + data[y], x, y); }
        int sub(int x, int y) { return push(SUB, data[x] - data[y], x, y); } // CHANGE 2: a - b, not a + (-1 * b)
        int mul(int x, int y) { return push(MUL, data[x] * data[y], x, y); }
        int add(int x, double k) { return push(ADD_CONST, data[x] + k, x, k); }
        int mul(int x, double k) { return push(MUL_CONST, data[x] * k, x, k); }
        int pow(int x, double k) { return push(POW, Math.pow(data[x], k), x, k); }
        int log(int x) { return push(LOG, Math.log(data[x]), x, 0); }
        int exp(int x) { return push(EXP, Math.exp(data[x]), x, 0); }
        int relu(int x) { return push(RELU, data[x] > 0 ? data[x] : 0, x, 0); }
        int neg(int x) { return push(NEG, -data[x], x, 0); }                 // CHANGE 2: -a, not a * -1 (same values)

        // Elementwise ops over vectors of len nodes (CHANGE 14): x + y, x + k, x * s (s a node), x * k, exp, relu
        int add(int x, int y, int len) {
            int out = run(ADD_VV, len, x, y, 0);
            double[] d = data;
            for (int i = 0; i < len; i++) d[out + i] = d[x + i] + d[y + i];
            return out;
        }

        int add(int x, double k, int len) {
            int out = run(ADD_VC, len, x, 0, k);
            double[] d = data;
            for (int i = 0; i < len; i++) d[out + i] = d[x + i] + k;
            return out;
        }

        int mul(int x, int s, int len) {
            int out = run(MUL_VS, len, x, s, 0);
            double[] d = data;
            for (int i = 0; i < len; i++) d[out + i] = d[x + i] * d[s];
            return out;
        }

        int mul(int x, double k, int len) {
            int out = run(MUL_VC, len, x, 0, k);
            double[] d = data;
            for (int i = 0; i < len; i++) d[out + i] = d[x + i] * k;
            return out;
        }

        int exp(int x, int len) {
            int out = run(EXP_V, len, x, 0, 0);
            double[] d = data;
            for (int i = 0; i < len; i++) d[out + i] = Math.exp(d[x + i]);
            return out;
        }

        int relu(int x, int len) {
            int out = run(RELU_V, len, x, 0, 0);
            double[] d = data;
            for (int i = 0; i < len; i++) d[out + i] = d[x + i] > 0 ? d[x + i] : 0;
            return out;
        }

        /** CHANGE 3: one node for sum_i x[i]*y[i] over two vectors, instead of 2n-1 nodes. */
        int dot(int x, int y, int count) {
            double[] d = data; // CHANGE 12: arrays in locals, so even C1-compiled loops do not reload fields
            double s = 0.0;
            for (int i = 0; i < count; i++) s += d[x + i] * d[y + i];
            return push(DOT, s, x, y, count);
        }

        /**
         * CHANGE 13: the dot nodes of a matrix-vector product, W (nout rows of nin nodes from w)
         * times x, computed four rows at a time. Each row's sum is still 0.0 + w0*x0 + w1*x1 + ...
         * in that order, so every value is bit-for-bit what dot() gives; but four independent sums
         * are in flight at once, instead of one chain that waits for each addition to finish.
         */
        int matvec(int w, int nout, int nin, int x) {
            int out = size;
            int o = 0;
            for (; o + 4 <= nout; o += 4) {
                double[] d = data;
                int r0 = w + o * nin, r1 = r0 + nin, r2 = r1 + nin, r3 = r2 + nin;
                double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
                for (int i = 0; i < nin; i++) {
                    double xi = d[x + i];
                    s0 += d[r0 + i] * xi;
                    s1 += d[r1 + i] * xi;
                    s2 += d[r2 + i] * xi;
                    s3 += d[r3 + i] * xi;
                }
                push(PART, s0, r0, x, nin);
                push(PART, s1, r1, x, nin);
                push(PART, s2, r2, x, nin);
                push(DOT_ROWS4, s3, r0, x, nin); // backward does all four rows here, in one pass
            }
            for (; o < nout; o++) dot(w + o * nin, x, nin);
            return out;
        }

        /** CHANGE 3: sum_t x[t] * node(bases[off + t] + j): a dot whose second operand is scattered. */
        int dot_gather(int x, int[] bases, int off, int j, int count) {
            double[] d = data;
            double s = 0.0;
            for (int t = 0; t < count; t++) s += d[x + t] * d[bases[off + t] + j];
            if (!grad_enabled) return push(LEAF, s, 0, 0);
            int g = gathered(count);
            for (int t = 0; t < count; t++) gather[g + t] = bases[off + t] + j;
            return push(DOT_GATHER, s, x, g, count);
        }

        /** CHANGE 3: one node for the sum of a vector (sum_values), instead of a chain of adds. */
        int sum(int x, int count) {
            double s = 0.0;
            for (int i = 0; i < count; i++) s += data[x + i];
            return push(SUM, s, x, 0, count);
        }

        /** CHANGE 3: one node for the sum of nodes that are not consecutive. */
        int sum(int[] nodes, int count) {
            double s = 0.0;
            for (int i = 0; i < count; i++) s += data[nodes[i]];
            if (!grad_enabled) return push(LEAF, s, 0, 0);
            int g = gathered(count);
            System.arraycopy(nodes, 0, gather, g, count);
            return push(SUM_GATHER, s, 0, g, count);
        }

        /**
         * CHANGE 5: log(sum_i exp(z_i)) as one node, computed stably as m + log(sum_i exp(z_i - m)).
         * Its gradient is softmax(z), kept from the forward pass.
         */
        int lse(int z, int count) {
            double m = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < count; i++) m = Math.max(m, data[z + i]);
            double total = 0.0;
            for (int i = 0; i < count; i++) total += Math.exp(data[z + i] - m);
            double lse = m + Math.log(total);
            if (!grad_enabled) return push(LEAF, lse, 0, 0);
            int s = savedFloats(count);
            for (int i = 0; i < count; i++) saved[s + i] = Math.exp(data[z + i] - m) / total;
            return push(LSE, lse, z, s, count);
        }

        /** Backpropagates from node `out` (gradient 1): every node's gradient, in one reverse loop. */
        void backward(int out) {
            // CHANGE 12: the arrays in locals
            final double[] data = this.data, grad = this.grad, c = this.c, saved = this.saved;
            final int[] a = this.a, b = this.b, n = this.n, gather = this.gather;
            final byte[] op = this.op;
            grad[out] = 1;
            int start = out;
            while (op[start] == PART) start++; // out is inside a run: start where the run is done
            for (int i = start; i >= mark; i--) {
                double g = grad[i];
                int x = a[i], y = b[i];
                switch (op[i]) {
                    case ADD: grad[x] += g; grad[y] += g; break;
                    case SUB: grad[x] += g; grad[y] -= g; break;
                    case MUL: grad[x] += data[y] * g; grad[y] += data[x] * g; break;
                    case ADD_CONST: grad[x] += g; break;
                    case MUL_CONST: grad[x] += c[i] * g; break;
                    case POW: grad[x] += c[i] * Math.pow(data[x], c[i] - 1) * g; break;
                    case LOG: grad[x] += (1 / data[x]) * g; break;
                    case EXP: grad[x] += data[i] * g; break;
                    case RELU: if (data[x] > 0) grad[x] += g; break;
                    case NEG: grad[x] -= g; break;
                    case DOT:
                        for (int k = 0, cnt = n[i]; k < cnt; k++) {
                            grad[x + k] += data[y + k] * g;
                            grad[y + k] += data[x + k] * g;
                        }
                        break;
                    case DOT_ROWS4: { // CHANGE 13: nodes i-3..i, rows x, x+cnt, x+2cnt, x+3cnt of W, times vector y
                        int cnt = n[i], r1 = x + cnt, r2 = r1 + cnt, r3 = r2 + cnt;
                        double g0 = grad[i - 3], g1 = grad[i - 2], g2 = grad[i - 1];
                        for (int k = 0; k < cnt; k++) {
                            double yk = data[y + k];
                            grad[r3 + k] += yk * g;
                            grad[r2 + k] += yk * g2;
                            grad[r1 + k] += yk * g1;
                            grad[x + k] += yk * g0;
                            // the same additions, in the same order, as four DOT nodes visited in reverse
                            grad[y + k] = (((grad[y + k] + data[r3 + k] * g) + data[r2 + k] * g2) + data[r1 + k] * g1)
                                    + data[x + k] * g0;
                        }
                        i -= 3;
                        break;
                    }
                    case DOT_GATHER:
                        for (int k = 0, cnt = n[i]; k < cnt; k++) {
                            int yk = gather[y + k];
                            grad[x + k] += data[yk] * g;
                            grad[yk] += data[x + k] * g;
                        }
                        break;
                    case SUM: for (int k = 0, cnt = n[i]; k < cnt; k++) grad[x + k] += g; break;
                    case SUM_GATHER: for (int k = 0, cnt = n[i]; k < cnt; k++) grad[gather[y + k]] += g; break;
                    case LSE: for (int k = 0, cnt = n[i]; k < cnt; k++) grad[x + k] += saved[y + k] * g; break;
                    // a run (CHANGE 14): its elements from last to first, as separate nodes would be visited
                    case ADD_VV: { int o = i - n[i] + 1;
                        for (int k = n[i] - 1; k >= 0; k--) { grad[x + k] += grad[o + k]; grad[y + k] += grad[o + k]; }
                        i = o; break; }
                    case ADD_VC: { int o = i - n[i] + 1;
                        for (int k = n[i] - 1; k >= 0; k--) grad[x + k] += grad[o + k];
                        i = o; break; }
                    case MUL_VS: { int o = i - n[i] + 1;
                        for (int k = n[i] - 1; k >= 0; k--) { grad[x + k] += data[y] * grad[o + k]; grad[y] += data[x + k] * grad[o + k]; }
                        i = o; break; }
                    case MUL_VC: { int o = i - n[i] + 1;
                        for (int k = n[i] - 1; k >= 0; k--) grad[x + k] += c[i] * grad[o + k];
                        i = o; break; }
                    case EXP_V: { int o = i - n[i] + 1;
                        for (int k = n[i] - 1; k >= 0; k--) grad[x + k] += data[o + k] * grad[o + k];
                        i = o; break; }
                    case RELU_V: { int o = i - n[i] + 1;
                        for (int k = n[i] - 1; k >= 0; k--) if (data[x + k] > 0) grad[x + k] += grad[o + k];
                        i = o; break; }
                    default: break; // LEAF (parameters, constants) and PART (done at the end of its run)
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Parameters, to store the knowledge of the model
    // ------------------------------------------------------------------------------------------

    /**
     * CHANGE 9: a matrix of parameters is nout rows of nin consecutive nodes on the tape, and every
     * vector the model computes is a run of consecutive nodes, named by its first node: a dot
     * product reads two slices of one array, with no index lists and no objects in between.
     */
    record Matrix(int base, int nout, int nin) {
        int row(int o) { return base + o * nin; }
    }

    /**
     * CHANGE 4: a preallocated KV cache. For each layer and position it holds the first node of
     * that position's k and v vectors, written in place; nothing grows while a document is read.
     * nested (default) is keys[layer][pos]; flat is one array, keys_flat[layer * block_size + pos].
     */
    static final class KVCache {
        final boolean flat;
        final int block_size;
        final int[][] keys, values;
        final int[] keys_flat, values_flat;

        KVCache(int n_layer, int block_size, boolean flat) {
            this.flat = flat;
            this.block_size = block_size;
            keys = flat ? null : new int[n_layer][block_size];
            values = flat ? null : new int[n_layer][block_size];
            keys_flat = flat ? new int[n_layer * block_size] : null;
            values_flat = flat ? new int[n_layer * block_size] : null;
        }

        void put(int li, int pos, int k, int v) {
            if (flat) { keys_flat[li * block_size + pos] = k; values_flat[li * block_size + pos] = v; }
            else { keys[li][pos] = k; values[li][pos] = v; }
        }

        int key(int li, int pos) { return flat ? keys_flat[li * block_size + pos] : keys[li][pos]; }
        int[] valueArray(int li) { return flat ? values_flat : values[li]; } // v of position t is at
        int valueOffset(int li) { return flat ? li * block_size : 0; }       // valueArray[valueOffset + t]
    }

    static final class GPT {
        final int n_layer, n_embd, block_size, n_head, head_dim, vocab_size;
        final Tape tape;
        final int num_params; // the parameters are the first nodes of the tape, in microgpt.java's state_dict order
        // CHANGE 8: the matrices of each layer, looked up once instead of by name at every position
        final Matrix wte, wpe, lm_head;
        final Matrix[] attn_wq, attn_wk, attn_wv, attn_wo, mlp_fc1, mlp_fc2;
        final KVCache cache;
        final int[] head_weights; // first node of each head's attention weights
        final int[] losses;       // the loss node of each position
        final double[] probs;     // sampling probabilities

        GPT(Config config, int vocab_size, Random random, boolean flatCache) { // CHANGE 4: flatCache
            n_layer = config.n_layer(); n_embd = config.n_embd(); block_size = config.block_size();
            n_head = config.n_head(); head_dim = config.head_dim();
            // CHANGE 7, 9: each matrix is nout*nin consecutive leaf nodes at the start of the tape, in
            // microgpt.java's state_dict order; CHANGE 8: kept in fields, not looked up by name
            this.vocab_size = vocab_size;
            tape = new Tape(4096);
            wte = matrix(vocab_size, n_embd, random);
            wpe = matrix(block_size, n_embd, random);
            lm_head = matrix(vocab_size, n_embd, random);
            attn_wq = new Matrix[n_layer]; attn_wk = new Matrix[n_layer]; attn_wv = new Matrix[n_layer];
            attn_wo = new Matrix[n_layer]; mlp_fc1 = new Matrix[n_layer]; mlp_fc2 = new Matrix[n_layer];
            for (int i = 0; i < n_layer; i++) {
                attn_wq[i] = matrix(n_embd, n_embd, random); // CHANGE 8: "layer" + i + ".attn_wq", in a field
                attn_wk[i] = matrix(n_embd, n_embd, random);
                attn_wv[i] = matrix(n_embd, n_embd, random);
                attn_wo[i] = matrix(n_embd, n_embd, random);
                mlp_fc1[i] = matrix(4 * n_embd, n_embd, random);
                mlp_fc2[i] = matrix(n_embd, 4 * n_embd, random);
            }
            num_params = tape.size; // CHANGE 7, 8: no flattened list; buffers allocated once
            tape.mark = num_params;
            cache = new KVCache(n_layer, block_size, flatCache);
            head_weights = new int[n_head];
            losses = new int[block_size];
            probs = new double[vocab_size];
        }

        /**
         * CHANGE 7: about how many heap bytes this model needs: every node (parameters first, then one step's graph
         * over a full block) is 37 bytes of tape arrays, and growing the tape holds the old arrays and the
         * new, twice as large, at once (x3); plus Adam's two doubles per parameter. A linear layer is one
         * node per output; attention at position t adds ~3*n_head*(t+1) nodes per layer.
         */
        static double heap_needed(Config c, int vocab_size) {
            double n = c.n_embd(), L = c.n_layer(), B = c.block_size(), V = vocab_size, H = c.n_head(); // CHANGE 7
            double params = 2 * V * n + B * n + 12 * L * n * n;
            double graph = B * (3 * V + 20 * L * n + 10 * n) + 1.5 * L * H * B * B;
            return (params + graph) * 37 * 3 + params * 16; // CHANGE 7
        }

        /** The parameters' values, in state_dict order (model files). */
        double[] weights() { return Arrays.copyOf(tape.data, num_params); } // CHANGE 7

        void setWeights(double[] w) { System.arraycopy(w, 0, tape.data, 0, num_params); } // CHANGE 7

        private Matrix matrix(int nout, int nin, Random random) { // CHANGE 9
            Matrix m = new Matrix(tape.next(), nout, nin);
            for (int i = 0; i < nout * nin; i++) tape.leaf(random.gauss(0, 0.08)); // row by row
            return m;
        }

        // CHANGE 4: no emptyCache(): the KV cache is allocated once, with the model (the cache field)
    }

    // ------------------------------------------------------------------------------------------
    // The model: GPT-2 with rmsnorm instead of layernorm, no biases, ReLU instead of GeLU
    // ------------------------------------------------------------------------------------------

    static int linear(Tape t, int x, Matrix w) {
        return t.matvec(w.base(), w.nout(), w.nin(), x); // CHANGE 3, 13: one dot node per output, four rows at a time
    }

    static int softmax(Tape t, int logits, int len) { // CHANGE 7, 9, 14: on the tape
        double max_val = Double.NEGATIVE_INFINITY; // a plain number: no gradient flows through the max
        for (int i = 0; i < len; i++) max_val = Math.max(max_val, t.data[logits + i]);
        int exps = t.exp(t.add(logits, -max_val, len), len);
        int inv_total = t.pow(t.sum(exps, len), -1); // CHANGE 3: one sum node, and its **-1 taken once, not per element
        return t.mul(exps, inv_total, len);
    }

    static int rmsnorm(Tape t, int x, int len) {
        int ms = t.mul(t.dot(x, x, len), Math.pow(len, -1)); // CHANGE 3: dot(x, x) / len(x)
        int scale = t.pow(t.add(ms, 1e-5), -0.5);
        return t.mul(x, scale, len);
    }

    /**
     * Logits over the next token (the first of vocab_size nodes), given one token and its position.
     * CHANGE 7, 9, 14: line for line microgpt.java's gpt(), on the tape: a vector is the index of its
     * first node, and an elementwise op over a vector is one call (a run).
     */
    static int gpt(GPT model, int token_id, int pos_id, KVCache cache) {
        Tape t = model.tape; // CHANGE 8: the matrices below are looked up once, not by name at every position
        int n_layer = model.n_layer, n_embd = model.n_embd, n_head = model.n_head, head_dim = model.head_dim;
        int tok_emb = model.wte.row(token_id); // token embedding (CHANGE 9: a node index)
        int pos_emb = model.wpe.row(pos_id);   // position embedding
        int x = t.add(tok_emb, pos_emb, n_embd); // joint token and position embedding
        x = rmsnorm(t, x, n_embd); // not redundant: the backward pass goes through the residual connection

        for (int li = 0; li < n_layer; li++) {
            // 1) Multi-head attention block
            int x_residual = x;
            x = rmsnorm(t, x, n_embd);
            int q = linear(t, x, model.attn_wq[li]);
            int k = linear(t, x, model.attn_wk[li]);
            int v = linear(t, x, model.attn_wv[li]);
            cache.put(li, pos_id, k, v); // CHANGE 4: written in place
            int len = pos_id + 1;
            double inv_sqrt = 1.0 / Math.sqrt(head_dim); // CHANGE 3: as microgpt_optimized.py, times 1/sqrt(head_dim)
            for (int h = 0; h < n_head; h++) {
                int hs = h * head_dim; // this head's slice is [hs, hs + head_dim)
                int dots = t.next();
                for (int tt = 0; tt < len; tt++) t.dot(q + hs, cache.key(li, tt) + hs, head_dim); // CHANGE 3: dot
                int attn_logits = t.mul(dots, inv_sqrt, len);
                model.head_weights[h] = softmax(t, attn_logits, len);
            }
            int x_attn = t.next(); // the heads' outputs, concatenated
            int[] v_all = cache.valueArray(li);
            for (int h = 0; h < n_head; h++)
                for (int j = 0; j < head_dim; j++)
                    t.dot_gather(model.head_weights[h], v_all, cache.valueOffset(li), h * head_dim + j, len); // CHANGE 3
            x = linear(t, x_attn, model.attn_wo[li]);
            x = t.add(x, x_residual, n_embd);
            // 2) MLP block
            x_residual = x;
            x = rmsnorm(t, x, n_embd); // CHANGE 7, 8, 14 to the end of gpt()
            x = linear(t, x, model.mlp_fc1[li]);
            x = t.relu(x, 4 * n_embd);
            x = linear(t, x, model.mlp_fc2[li]);
            x = t.add(x, x_residual, n_embd);
        }
        return linear(t, x, model.lm_head); // CHANGE 8
    }

    // ------------------------------------------------------------------------------------------
    // Adam, the blessed optimizer, and its buffers
    // ------------------------------------------------------------------------------------------

    static final class Adam {
        static final double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps_adam = 1e-8;
        final Tape tape;      // CHANGE 7
        final int num_params; // the parameters are tape nodes 0 .. num_params-1
        final double[] m; // first moment buffer
        final double[] v; // second moment buffer

        Adam(Tape tape, int num_params) { // CHANGE 7
            this.tape = tape;
            this.num_params = num_params;
            m = new double[num_params];
            v = new double[num_params];
        }

        void step(int step, int num_steps) {
            final double[] data = tape.data, grad = tape.grad, m = this.m, v = this.v; // CHANGE 12
            double lr_t = learning_rate * (1 - (double) step / num_steps); // linear learning rate decay
            // CHANGE 10: the bias corrections depend on the step only: two pow calls per step, not
            // two per parameter; g*g and sqrt instead of pow(g, 2) and pow(v_hat, 0.5).
            double bias1 = 1 - Math.pow(beta1, step + 1), bias2 = 1 - Math.pow(beta2, step + 1);
            for (int i = 0; i < num_params; i++) {
                double g = grad[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g;
                v[i] = beta2 * v[i] + (1 - beta2) * (g * g);
                double m_hat = m[i] / bias1;
                double v_hat = v[i] / bias2;
                data[i] -= lr_t * m_hat / (Math.sqrt(v_hat) + eps_adam);
                grad[i] = 0;
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Training
    // ------------------------------------------------------------------------------------------

    /** The average next-token loss over one document: the node of the loss on the model's tape (CHANGE 4, 7, 8). */
    static int loss(GPT model, int[] tokens, int n_tokens) {
        Tape t = model.tape;
        int n = Math.min(model.block_size, n_tokens - 1);
        for (int pos_id = 0; pos_id < n; pos_id++) {
            int token_id = tokens[pos_id], target_id = tokens[pos_id + 1];
            int logits = gpt(model, token_id, pos_id, model.cache);
            // CHANGE 5: -log softmax(z)[target] = -(z[target] - logsumexp(z)): no probabilities on the graph
            model.losses[pos_id] = t.neg(t.sub(logits + target_id, t.lse(logits, model.vocab_size)));
        }
        return t.mul(t.sum(model.losses, n), 1.0 / n); // CHANGE 3: sum_values(losses) * (1/n): may yours be low
    }

    /** One training step: forward, backward, Adam. Returns the loss. */
    static double trainStep(GPT model, Adam adam, int[] tokens, int n_tokens, int step, int num_steps) {
        model.tape.reset(); // CHANGE 8: the previous step's graph is overwritten, not collected
        int loss = loss(model, tokens, n_tokens);
        model.tape.backward(loss);
        adam.step(step, num_steps);
        return model.tape.data[loss]; // CHANGE 7
    }

    // ------------------------------------------------------------------------------------------
    // Inference
    // ------------------------------------------------------------------------------------------

    /** Samples one document, starting from BOS and the prompt's tokens, until BOS or block_size tokens. */
    static String sample(GPT model, Tokenizer tok, int[] prompt, double temperature, Random random) {
        Tape t = model.tape;
        t.reset();
        t.grad_enabled = false; // CHANGE 6: no graph at inference, and the softmax in plain doubles
        try {
            int token_id = tok.BOS;
            StringBuilder sample = new StringBuilder();
            double[] probs = model.probs;
            for (int pos_id = 0; pos_id < model.block_size; pos_id++) {
                int logits = gpt(model, token_id, pos_id, model.cache);
                if (pos_id < prompt.length) { // the prompt is read, not sampled
                    token_id = prompt[pos_id];
                    sample.append(tok.decode(token_id));
                    continue;
                }
                // CHANGE 6: softmax(logits / temperature) in plain doubles, into one reused array
                double max_val = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < probs.length; i++) max_val = Math.max(max_val, t.data[logits + i]);
                double total = 0.0;
                for (int i = 0; i < probs.length; i++) total += probs[i] = Math.exp((t.data[logits + i] - max_val) / temperature);
                for (int i = 0; i < probs.length; i++) probs[i] = probs[i] / total;
                token_id = random.choices(probs);
                if (token_id == tok.BOS) break;
                sample.append(tok.decode(token_id));
            }
            return sample.toString();
        } finally {
            t.grad_enabled = true;
            t.reset();
        }
    }

    // ------------------------------------------------------------------------------------------
    // Everything else: the command line, errors, files, Python's exact behaviour
    // ------------------------------------------------------------------------------------------

    public static void main(String... args) {
        System.exit(run(new microgpt_optimized(), args));
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
