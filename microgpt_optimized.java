///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS info.picocli:picocli:4.7.7
//DEPS com.google.code.gson:gson:2.13.2
//SOURCES support/Cli.java support/Config.java support/ModelFile.java support/PyRandom.java support/Python.java support/TrainingRun.java
//SOURCES support/TrainingReport.java support/Svg.java
//SOURCES support/Workers.java support/Relaunch.java support/Prefetch.java
//FILES names.txt=data/names.txt training-report.html=support/training-report.html
//COMPILE_OPTIONS -encoding UTF-8 -XDstringConcat=inline
//JAVA_OPTIONS -XX:+UseSerialGC -Xms24m -XX:MaxRAMPercentage=75 -XX:TieredStopAtLevel=1 -XX:-UsePerfData
// CHANGE 11: javac compiles string concatenation to StringBuilder calls instead of invokedynamic,
// whose every call site builds code the first time it runs (~3 ms for the first sample line).
// CHANGE 15: serial GC, a small heap that grows, C1 only (C2 would not pay in a short run); a long run restarts with C2.
// -encoding UTF-8: javac reads the sources as UTF-8 whatever the locale (JDK 17 would read the locale's charset).

/*
 * The same GPT as microgpt.java (and Karpathy's microgpt.py), trained and sampled far faster and
 * leaner. Same algorithm, same random numbers, same printed names; losses agree to ~1e-15.
 * Each optimization is marked where it happens with a `CHANGE n:` comment; docs/optimizations.md explains
 * them. Changes 1-6 are those of microgpt_optimized.py; 7-15 and 17-26 are the ones the JVM rewards; 16 trains
 * a step's documents on every core.
 * `diff microgpt.java microgpt_optimized.java` reads as the list of changes.
 */
package mgpt;

import static mgpt.Python.*;

import java.io.PrintStream;
import java.util.*;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option; // CHANGE 4: --kv-layout

@Command(name = "microgpt-optimized", mixinStandardHelpOptions = true, version = "microgpt-optimized 1.0.0",
        sortOptions = false, usageHelpAutoWidth = true,
        description = "Train a tiny GPT on a list of names and sample new ones: the same model as microgpt.java, "
                + "on a flat autograd tape, with every optimization documented.",
        footer = "%nWith no input.txt in the working directory and no --input, the makemore names file that "
                + "this script carries is written to input.txt first, where microgpt.py downloads it.")
public class microgpt_optimized implements Callable<Integer> {

    @Mixin Options o; // --input, --seed, --steps, the model's sizes, sampling, model files: support/Cli.java
    // CHANGE 4: the KV cache's layout, nested or flat, as the optimized Python's benchmark compares them
    @Option(names = "--kv-layout", paramLabel = "LAYOUT", description = "KV cache layout: ${COMPLETION-CANDIDATES} "
            + "(default: ${DEFAULT-VALUE}). Same results; the benchmark compares them.")
    KVLayout kvLayout = KVLayout.nested;
    // CHANGE 16, 27: a step's documents, and a wide model's Adam, on several threads, with the same results on any number of them
    @Option(names = "--threads", paramLabel = "T", description = "Threads for a step's documents and for a wide model's Adam "
            + "(default: the available processors, at most --batch-size). The results are the same for any number.")
    Integer threads;

    enum KVLayout { nested, flat }

    /** CHANGE 15: the //JAVA_OPTIONS above, for tools that start this engine in a JVM of their own (bench_compare). */
    static final String JAVA_OPTIONS = "-XX:+UseSerialGC -Xms24m -XX:MaxRAMPercentage=75 -XX:TieredStopAtLevel=1 -XX:-UsePerfData";

    /** CHANGE 18: the documents and their characters, read, split and counted on another thread while picocli parses the command line. */
    static Prefetch<Dataset> prefetched;
    record Dataset(List<String> docs, Tokenizer.Chars chars) { }
    /**
     * CHANGE 18: splitDocs and the tokenizer's count of characters, for the prefetch and for a run that reads its input
     * itself; a class, not a lambda: the JVM's first lambda costs ~15 ms, here on the critical path, where picocli's
     * own would pay it on the other core.
     */
    static final java.util.function.Function<String, Dataset> SPLIT_DOCS = new java.util.function.Function<>() {
        @Override public Dataset apply(String text) {
            List<String> docs = splitDocs(text);
            return new Dataset(docs, Tokenizer.Chars.of(docs));
        }
    };

    /**
     * CHANGE 19, 23: inference and training's forward read each matrix transposed, in loops that C2 runs in SIMD lanes;
     * C1 does not, and runs them no faster than the rows, so the copy would not pay. main() runs on C1 unless the run
     * was relaunched with C2 (change 15); tools that call the engine's code (the harness, the tests, JShell) run
     * tiered. Either way the values are the same, bit for bit.
     */
    static boolean transposedForward = true;

    public static void main(String... args) {
        Relaunch.ifLongRun(args); // CHANGE 15: a long run goes on in a new JVM with C2 (support/Relaunch.java)
        transposedForward = System.getProperty(TrainingRun.RELAUNCHED_AT) != null; // CHANGE 19, 23
        prefetched = Prefetch.input(args, SPLIT_DOCS); // CHANGE 18 (support/Prefetch.java)
        System.exit(Cli.run(new microgpt_optimized(), args));
    }

    @Override
    public Integer call() throws Exception {
        if (threads != null && threads < 1) throw UserError.usage("--threads must be at least 1 (got " + threads + ")"); // CHANGE 16
        try (TrainingRun run = new TrainingRun(o)) { // options checked; --load or --resume read; --loss-log opened
            PrintStream out = run.out;
            PyRandom random = new PyRandom(run.seed); // Let there be order among chaos

            // Let there be a dataset `docs`: a list of documents (e.g. names), shuffled once
            Dataset data = Prefetch.text(prefetched, run, SPLIT_DOCS); // CHANGE 18
            List<String> docs = run.docs(data.docs()); // none when a loaded model only samples
            random.shuffle(docs);
            if (!docs.isEmpty()) out.println("num docs: " + docs.size());

            // Let there be a Tokenizer to translate strings to discrete symbols and back
            Tokenizer tok = new Tokenizer(data.chars(), run.vocab()); // a model file's characters, or the data's; CHANGE 18
            int[] prompt = run.promptTokens(docs, tok.uchars);
            out.println("vocab size: " + tok.vocab_size);

            // Initialize the parameters, to store the knowledge of the model
            // CHANGE 16, 27: by default no more threads than documents: with Adam's shares on two threads, a 64-wide 3000-step
            // run as shipped took 4-46% longer on two cores (six pairs), its waiting thread spinning where C2 compiles
            int team = threads != null ? threads : Math.min(Runtime.getRuntime().availableProcessors(), run.batch_size);
            run.checkFits(GPT.heap_needed(run.config, tok.vocab_size) * Math.min(team, run.batch_size)); // before allocating; CHANGE 16: a tape per document thread
            GPT model = new GPT(run.config, tok.vocab_size, random, kvLayout == KVLayout.flat); // CHANGE 4
            run.loadWeights(model::setWeights); // --load, --resume
            out.println("num params: " + model.num_params); // CHANGE 17: the parameters are the tape's rows

            // Repeat in sequence: a batch of documents per step (one, as in the Python, by default), forward, backward, Adam
            Adam adam = new Adam(model.tape); // CHANGE 7
            run.training(tok.uchars, random, model.tape.rows, adam.m, adam.v); // what --save keeps and --resume restores; CHANGE 17: rows
            run.watch(r -> sample(model, tok, new int[0], o.temperature, r), tokens -> logits(model, tokens), Adam.beta1); // --report's page
            Batch batch = new Batch(model, run.batch_size, team, tok.max_len + 2); // CHANGE 8, 16, 27: buffers, tapes, threads made once
            for (int step = run.first_step; step < run.num_steps; step++) {
                for (int b = 0; b < batch.size; b++) // CHANGE 8: into the batch's token buffers
                    batch.n_tokens[b] = tok.encode(docs.get(run.doc(step, b, docs.size())), batch.tokens[b]);
                double loss = trainStep(batch, adam, step, run.num_steps); // CHANGE 16
                out.print("step " + pad(step + 1, 4) + " / " + pad(run.num_steps, 4) + " | loss " + format4f(loss) + "\r");
                run.stepDone(step + 1, loss); // the loss log, --save-every, Ctrl-C
            }
            batch.close(); // CHANGE 16
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
                String line = strip(text.substring(start, end));
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
    public static final class Tokenizer {
        public final int[] uchars; // unique characters in the dataset, sorted: token ids 0..n-1
        public final int BOS;      // token id of the special Beginning of Sequence token
        public final int vocab_size; // number of unique tokens, +1 for BOS
        final int max_len;    // the longest document, in code points (sizes the reusable token buffer)
        // CHANGE 1: stoi, a direct lookup from character to token id instead of uchars.index(ch).
        // A table indexed by code point covers the Basic Multilingual Plane; a map holds the rest.
        private final int[] stoi;
        private final Map<Integer, Integer> stoi_astral = new HashMap<>();

        /** The characters that documents use (by code point), and the longest document, in code points. */
        public record Chars(BitSet set, int longest) {
            public static Chars of(List<String> docs) {
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
                return new Chars(set, longest);
            }
        }

        /** vocab: a saved model's characters (--load, --resume), or null for the dataset's. */
        public Tokenizer(List<String> docs, int[] vocab) { this(Chars.of(docs), vocab); }

        /** CHANGE 18: from the documents' characters, counted on the prefetch thread. */
        public Tokenizer(Chars chars, int[] vocab) {
            BitSet set = chars.set();
            uchars = vocab != null ? vocab : new int[set.cardinality()]; // sorted by code point
            if (vocab == null) for (int i = 0, ch = set.nextSetBit(0); ch >= 0; ch = set.nextSetBit(ch + 1)) uchars[i++] = ch;
            BOS = uchars.length;
            vocab_size = uchars.length + 1;
            max_len = chars.longest();
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
        public int encode(String doc, int[] tokens) {
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

        public String decode(int token_id) { return new String(Character.toChars(uchars[token_id])); }
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
    public static final class Tape {
        // CHANGE 2: a node stores what it computed (an op code and its operands), not one local
        // gradient per edge; the backward pass derives each local gradient from the node's op.
        static final byte LEAF = 0, ADD = 1, SUB = 2, MUL = 3, ADD_CONST = 4, MUL_CONST = 5, POW = 6, LOG = 7,
                EXP = 8, RELU = 9, NEG = 10, DOT = 11, DOT_GATHER = 12, SUM = 13, SUM_GATHER = 14, LSE = 15,
                // CHANGE 14: runs. An elementwise op over a vector is one node per element, as always,
                // but only the run's last node holds the op; the others are PART, done with it.
                PART = 17, ADD_VV = 18, ADD_VC = 19, MUL_VS = 20, MUL_VC = 21, EXP_V = 22, RELU_V = 23,
                MATVEC = 24, ROW = 25, // CHANGE 13, 17: a matrix-vector product's outputs; a row of parameters
                MATMAT = 26; // CHANGE 29: a product's outputs at every position of a document

        public double[] data; // scalar value of each node, computed in the forward pass
        public double[] grad; // d(loss)/d(node), computed in the backward pass
        byte[] op;       // what the node computed
        int[] a, b, n;   // its operands: node indices, or a first node and a count for fused ops
        double[] c;      // a constant operand: the exponent of POW, the factor of MUL_CONST, ...
        int[] gather;    // node indices of gathered operands (DOT_GATHER, SUM_GATHER)
        double[] saved;  // floats a fused op keeps for its backward (LSE: the softmax)
        int size, gatherSize, savedSize;
        private int grad_size; // CHANGE 33: the nodes whose gradients a backward pass may have written since reset
        boolean grad_enabled = true; // CHANGE 6: when false, nodes get values but record no op
        // CHANGE 17: the parameters are not nodes: each row of each matrix is an array of its own, its values
        // in rows and its gradients in row_grads (a matrix is a range of rows). The products' backward loops
        // then run over whole arrays from index 0, the shape C2 vectorizes; over slices of one array at two
        // offsets, a loop stays scalar (docs/jvm.md). xs and gxs hold a product's input and its gradient.
        public double[][] rows, row_grads;
        private double[] xs = new double[0], gxs = new double[0];
        private int[] live = new int[0]; // CHANGE 25: the rows of a product whose backward pass adds something
        private int[] live_rows = new int[0]; // CHANGE 34: a position's rows whose output has a gradient
        // CHANGE 19: with gradients off (inference), products read each matrix transposed: cols[first_row][i][o] is
        // rows[first_row + o][i]; version counts the changes of the weights, cols_version the one cols were made from
        double[][][] cols;
        int version, cols_version = -1;
        // CHANGE 35: by a matrix's first row, whether its columns lag its rows: 0 no, COPY to be copied, COPYING
        // being copied (null until a step leaves one to copy)
        java.util.concurrent.atomic.AtomicIntegerArray stale_cols;
        static final int COPY = 1, COPYING = 2;
        private double[] ys = new double[0];
        private double[][] xm = new double[0][], gxm = new double[0][], ym = new double[0][]; // CHANGE 29: matmat's scratch
        java.util.function.IntConsumer finished; // CHANGE 30: told each product's last node once its backward pass is done
        boolean weights_apart; // CHANGE 31: the products' backward passes leave their weights' gradients to matmatWeights
        // CHANGE 26: finite[first_row]: every value of that matrix was finite when cols was made; nz, a product's
        // inputs that are not zero; relu_out, the first node of the last ReLU's outputs (-1: none since reset)
        boolean[] finite = new boolean[0];
        private int[] nz = new int[0];
        int relu_out = -1;

        public Tape(int capacity) {
            data = new double[capacity]; grad = new double[capacity]; op = new byte[capacity];
            a = new int[capacity]; b = new int[capacity]; n = new int[capacity]; c = new double[capacity];
            gather = new int[256];
            saved = new double[256];
        }

        /** The index the next node will get: the start of the vector about to be computed. */
        int next() { return size; }

        /**
         * CHANGE 8: forget every node; the arrays are reused, nothing is freed or allocated. Their
         * gradients are zeroed here, in one fill, so recording a node stays cheap. CHANGE 33: only those a backward
         * pass may have written: sampling (no backward) fills nothing, where the fill of every node it made, twice
         * a sample, cost a tenth of its time at 64 wide.
         */
        void reset() {
            Arrays.fill(grad, 0, grad_size, 0.0);
            size = 0; grad_size = 0; gatherSize = 0; savedSize = 0;
            relu_out = -1; // CHANGE 26
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

        public int leaf(double value) { return push(LEAF, value, 0, 0); }
        public int add(int x, int y) { return push(ADD, data[x] + data[y], x, y); }
        public int sub(int x, int y) { return push(SUB, data[x] - data[y], x, y); } // CHANGE 2: a - b, not a + (-1 * b)
        public int mul(int x, int y) { return push(MUL, data[x] * data[y], x, y); }
        public int add(int x, double k) { return push(ADD_CONST, data[x] + k, x, k); }
        public int mul(int x, double k) { return push(MUL_CONST, data[x] * k, x, k); }
        public int pow(int x, double k) { return push(POW, Math.pow(data[x], k), x, k); }
        public int log(int x) { return push(LOG, Math.log(data[x]), x, 0); }
        public int exp(int x) { return push(EXP, Math.exp(data[x]), x, 0); }
        public int relu(int x) { return push(RELU, data[x] > 0 ? data[x] : 0, x, 0); }
        public int neg(int x) { return push(NEG, -data[x], x, 0); }                 // CHANGE 2: -a, not a * -1 (same values)

        /** CHANGE 7: node i shown as microgpt.java shows a Value (data, then grad, as Python's repr prints them). */
        public String node(int i) { return "Value(data=" + repr(data[i]) + ", grad=" + repr(grad[i]) + ")"; }

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
            for (int i = 0; i < len; i++) d[out + i] = Double.longBitsToDouble(Double.doubleToRawLongBits(d[x + i]) & positive(d[x + i])); // CHANGE 21
            relu_out = out; // CHANGE 26
            return out;
        }

        /**
         * CHANGE 21: all ones if v > 0, else zero: the bits of a double above 0 (and not NaN) are the longs from 1
         * to those of +infinity. x > 0 ? x : 0 and its backward, as masks: half of a fresh model's inputs to a ReLU
         * are negative, at random, and a branch on each mispredicts every other time (1.5 us for 256 of them here).
         */
        static long positive(double v) {
            long b = Double.doubleToRawLongBits(v) - 1;
            return ((b - 0x7ff0000000000000L) & ~b) >> 63;
        }

        /** CHANGE 3: one node for sum_i x[i]*y[i] over two vectors, instead of 2n-1 nodes. */
        int dot(int x, int y, int count) {
            double[] d = data; // CHANGE 12: arrays in locals, so even C1-compiled loops do not reload fields
            double s = 0.0;
            for (int i = 0; i < count; i++) s += d[x + i] * d[y + i];
            return push(DOT, s, x, y, count);
        }

        /** CHANGE 17: row r of the parameters as a vector of nodes (an embedding); its gradients go back to the row. */
        int row(int r) {
            int out = run(ROW, rows[r].length, r, 0, 0);
            System.arraycopy(rows[r], 0, data, out, rows[r].length);
            return out;
        }

        /**
         * CHANGE 3, 13: the nout outputs of a matrix-vector product, rows first_row.. of the parameters times
         * x, each one node (a dot product), computed four rows at a time. Each row's sum is still
         * 0.0 + w0*x0 + w1*x1 + ... in that order, so every value is bit-for-bit what dot() gives; but four
         * independent sums are in flight at once, instead of one chain that waits for each addition to finish.
         * CHANGE 26: from the transposed matrix, an input that is zero (mlp_fc2's, where the ReLU was off: half of
         * them in a fresh model, most once it has trained) is left out. Its terms w * 0 are zeros, and adding a zero
         * changes no sum here: a sum that starts at +0.0 is never -0.0 (only -0.0 + -0.0 is), and +0.0 + -0.0 is
         * +0.0. That holds when w is finite (infinity times 0 is NaN), so only for a matrix whose values all are.
         * Only a ReLU's outputs are looked at: other inputs are seldom zero, and looking costs time.
         */
        int matvec(int first_row, int nout, int x) {
            int out = run(MATVEC, nout, x, first_row, 0), nin = rows[first_row].length;
            if (xs.length < nin) { xs = new double[nin]; gxs = new double[nin]; } // the backward pass's scratch
            if (live.length < nout) live = new int[nout];
            sums(out, nout, x, first_row, x == relu_out);
            return out;
        }

        /** matvec's sums into nodes out..out+nout-1; relu: x is a ReLU's outputs (CHANGE 26). */
        private void sums(int out, int nout, int x, int first_row, boolean relu) {
            int nin = rows[first_row].length, o = 0;
            double[] d = data;
            if (columnsFor(first_row, nout)) { // CHANGE 19, 23: y[o] += wT[i][o] * x[i], i in order
                double[][] wT = cols[first_row];
                if (ys.length < nout) ys = new double[nout];
                double[] y = ys;
                Arrays.fill(y, 0, nout, 0.0);
                if (relu && finite[first_row]) { nonzeroSums(out, nout, x, wT, nin); return; } // CHANGE 26
                int i = 0;
                for (; i + 4 <= nin; i += 4) { // CHANGE 20: four inputs a pass, y read and written once for four: each y[k] the same sums
                    double x0 = d[x + i], x1 = d[x + i + 1], x2 = d[x + i + 2], x3 = d[x + i + 3];
                    double[] c0 = wT[i], c1 = wT[i + 1], c2 = wT[i + 2], c3 = wT[i + 3];
                    for (int k = 0; k < nout; k++) y[k] = (((y[k] + c0[k] * x0) + c1[k] * x1) + c2[k] * x2) + c3[k] * x3;
                }
                for (; i < nin; i++) {
                    double xi = d[x + i];
                    double[] c = wT[i];
                    for (int k = 0; k < nout; k++) y[k] += c[k] * xi;
                }
                System.arraycopy(y, 0, d, out, nout);
                return;
            }
            for (; o + 4 <= nout; o += 4) {
                double[] w0 = rows[first_row + o], w1 = rows[first_row + o + 1], w2 = rows[first_row + o + 2], w3 = rows[first_row + o + 3];
                double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
                for (int i = 0; i < nin; i++) {
                    double xi = d[x + i];
                    s0 += w0[i] * xi;
                    s1 += w1[i] * xi;
                    s2 += w2[i] * xi;
                    s3 += w3[i] * xi;
                }
                d[out + o] = s0; d[out + o + 1] = s1; d[out + o + 2] = s2; d[out + o + 3] = s3;
            }
            for (; o < nout; o++) {
                double[] w = rows[first_row + o];
                double s = 0.0;
                for (int i = 0; i < nin; i++) s += w[i] * d[x + i];
                d[out + o] = s;
            }
        }

        /**
         * CHANGE 29: matvec at each of count positions (inputs from nodes x[0..count-1]), one run of count * nout
         * nodes: position p's outputs from out + p * nout. From the transposed matrix, four of its columns are read
         * once for every position's sums, and stay in cache meanwhile; each sum is the same, term by term. relu: the
         * inputs are a ReLU's outputs (CHANGE 26: their zeros left out, position by position).
         */
        int matmat(int first_row, int nout, int[] x, int count, boolean relu) {
            int g = gathered(count), nin = rows[first_row].length;
            System.arraycopy(x, 0, gather, g, count);
            int out = run(MATMAT, count * nout, g, first_row, count);
            if (live.length < count) live = new int[count]; // the backward pass's list of positions
            if (live_rows.length < nout) live_rows = new int[nout]; // CHANGE 34: and of rows
            xm = atLeast(xm, count, nin); gxm = atLeast(gxm, count, nin); ym = atLeast(ym, count, nout);
            if (columnsFor(first_row, nout) && !(relu && finite[first_row])) blockedSums(out, nout, first_row, g, count);
            else for (int p = 0; p < count; p++) sums(out + p * nout, nout, gather[g + p], first_row, relu);
            return out;
        }

        /** CHANGE 29: scratch of at least rows arrays of at least len, the same one once it is large enough. */
        private static double[][] atLeast(double[][] a, int rows, int len) {
            if (a.length >= rows && (rows == 0 || a[0].length >= len)) return a;
            return new double[Math.max(rows, a.length)][Math.max(len, a.length > 0 ? a[0].length : 0)];
        }

        /** CHANGE 29: matmat's sums from the transposed matrix, four inputs a pass (CHANGE 20) for every position. */
        private void blockedSums(int out, int nout, int first_row, int g, int count) {
            double[][] wT = cols[first_row], Y = ym;
            double[] d = data;
            int nin = wT.length, i = 0;
            for (int p = 0; p < count; p++) Arrays.fill(Y[p], 0, nout, 0.0);
            for (; i + 4 <= nin; i += 4) {
                double[] c0 = wT[i], c1 = wT[i + 1], c2 = wT[i + 2], c3 = wT[i + 3];
                for (int p = 0; p < count; p++) {
                    int x = gather[g + p] + i;
                    double x0 = d[x], x1 = d[x + 1], x2 = d[x + 2], x3 = d[x + 3];
                    double[] y = Y[p];
                    for (int k = 0; k < nout; k++) y[k] = (((y[k] + c0[k] * x0) + c1[k] * x1) + c2[k] * x2) + c3[k] * x3;
                }
            }
            for (; i < nin; i++) {
                double[] c = wT[i];
                for (int p = 0; p < count; p++) {
                    double xi = d[gather[g + p] + i];
                    double[] y = Y[p];
                    for (int k = 0; k < nout; k++) y[k] += c[k] * xi;
                }
            }
            for (int p = 0; p < count; p++) System.arraycopy(Y[p], 0, d, out + p * nout, nout);
        }

        /**
         * CHANGE 22: the dots of x with node(bases[off + t] + shift), t from 0 to len: the attention's scores, each one
         * DOT node as dot() makes it; four at a time, as matvec's rows (CHANGE 13): the same sums, four chains of
         * additions in flight instead of one. Returns the first node.
         */
        int dots(int x, int[] bases, int off, int shift, int count, int len) {
            double[] d = data;
            int first = size, t = 0;
            for (; t + 4 <= len; t += 4) {
                int y0 = bases[off + t] + shift, y1 = bases[off + t + 1] + shift, y2 = bases[off + t + 2] + shift, y3 = bases[off + t + 3] + shift;
                double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
                for (int i = 0; i < count; i++) {
                    double xi = d[x + i];
                    s0 += xi * d[y0 + i];
                    s1 += xi * d[y1 + i];
                    s2 += xi * d[y2 + i];
                    s3 += xi * d[y3 + i];
                }
                push(DOT, s0, x, y0, count); push(DOT, s1, x, y1, count); push(DOT, s2, x, y2, count); push(DOT, s3, x, y3, count);
            }
            for (; t < len; t++) dot(x, bases[off + t] + shift, count);
            return first;
        }

        /**
         * CHANGE 22: dot_gather for j = j0 .. j0 + nj - 1 (a head's outputs), one node each, in that order; four j at
         * a time, so four sums are in flight and each gathered position is read once for four of them.
         */
        void dot_gathers(int x, int[] bases, int off, int j0, int nj, int count) {
            double[] d = data;
            int j = j0, end = j0 + nj;
            for (; j + 4 <= end; j += 4) {
                double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
                for (int t = 0; t < count; t++) {
                    double xt = d[x + t];
                    int y = bases[off + t] + j;
                    s0 += xt * d[y];
                    s1 += xt * d[y + 1];
                    s2 += xt * d[y + 2];
                    s3 += xt * d[y + 3];
                }
                gathered_node(x, bases, off, j, count, s0); gathered_node(x, bases, off, j + 1, count, s1);
                gathered_node(x, bases, off, j + 2, count, s2); gathered_node(x, bases, off, j + 3, count, s3);
            }
            for (; j < end; j++) dot_gather(x, bases, off, j, count);
        }

        /** CHANGE 3: sum_t x[t] * node(bases[off + t] + j): a dot whose second operand is scattered. */
        int dot_gather(int x, int[] bases, int off, int j, int count) {
            double[] d = data;
            double s = 0.0;
            for (int t = 0; t < count; t++) s += d[x + t] * d[bases[off + t] + j];
            return gathered_node(x, bases, off, j, count, s);
        }

        /** The node of a dot_gather whose sum is s: with gradients on, the gathered nodes are kept for the backward pass. */
        private int gathered_node(int x, int[] bases, int off, int j, int count, double s) {
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
        public void backward(int out) {
            // CHANGE 12: the arrays in locals
            final double[] data = this.data, grad = this.grad, c = this.c, saved = this.saved;
            final int[] a = this.a, b = this.b, n = this.n, gather = this.gather;
            final byte[] op = this.op;
            int start = out;
            while (op[start] == PART) start++; // out is inside a run: start where the run is done
            grad_size = Math.max(grad_size, start + 1); // CHANGE 33: every gradient it writes is of a node up to start
            grad[out] = 1;
            for (int i = start; i >= 0; i--) {
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
                        for (int k = n[i] - 1; k >= 0; k--) { // CHANGE 21: grad[x+k] += grad[o+k] where data[x+k] > 0, no branch
                            long keep = positive(data[x + k]), gx = Double.doubleToRawLongBits(grad[x + k]);
                            grad[x + k] = Double.longBitsToDouble(Double.doubleToRawLongBits(grad[x + k] + grad[o + k]) & keep | gx & ~keep);
                        }
                        i = o; break; }
                    case ROW: { int o = i - n[i] + 1; double[] rg = row_grads[x]; // CHANGE 17
                        for (int k = n[i] - 1; k >= 0; k--) rg[k] += grad[o + k];
                        i = o; break; }
                    case MATVEC: i = matvecBackward(i - n[i] + 1, n[i], x, y); break; // CHANGE 17
                    case MATMAT: { // CHANGE 29
                        int last = i;
                        i = matmatBackward(i - n[i] + 1, n[i], x, y, (int) c[i]);
                        if (finished != null) finished.accept(last); // CHANGE 30
                        break; }
                    default: break; // LEAF (inputs, constants) and PART (done at the end of its run)
                }
            }
        }

        /**
         * CHANGE 26: matvec's sums from the transposed matrix wT over the ReLU's outputs from node x that are not
         * zero, in order. A method of its own: in matvec, and reading every input through such a list, it made the
         * products whose inputs are never zero slower.
         */
        private void nonzeroSums(int out, int nout, int x, double[][] wT, int nin) {
            if (nz.length < nin) nz = new int[nin];
            double[] d = data, y = ys;
            int[] in = nz;
            int n = 0;
            for (int i = 0; i < nin; i++) { in[n] = i; n += d[x + i] != 0 ? 1 : 0; }
            int j = 0;
            for (; j + 4 <= n; j += 4) {
                int i0 = in[j], i1 = in[j + 1], i2 = in[j + 2], i3 = in[j + 3];
                double x0 = d[x + i0], x1 = d[x + i1], x2 = d[x + i2], x3 = d[x + i3];
                double[] c0 = wT[i0], c1 = wT[i1], c2 = wT[i2], c3 = wT[i3];
                for (int k = 0; k < nout; k++) y[k] = (((y[k] + c0[k] * x0) + c1[k] * x1) + c2[k] * x2) + c3[k] * x3;
            }
            for (; j < n; j++) {
                double xi = d[x + in[j]];
                double[] ci = wT[in[j]];
                for (int k = 0; k < nout; k++) y[k] += ci[k] * xi;
            }
            System.arraycopy(y, 0, d, out, nout);
        }

        /** CHANGE 19: the matrix at first_row, nout rows, transposed into cols. */
        void transpose(int first_row, int nout) { transpose(first_row, nout, 0, nout); }

        /**
         * CHANGE 19: rows o0..o1-1 of the matrix at first_row (nout rows) transposed into its columns. CHANGE 23: eight
         * rows at a time, which writes each column's eight values together (40% less time than a row at a time at 64
         * wide, here). CHANGE 32: called with the rows o0..o1-1 Adam has just updated, while they are in cache.
         */
        void transpose(int first_row, int nout, int o0, int o1) {
            int nin = rows[first_row].length, o = o0;
            if (cols[first_row] == null) cols[first_row] = new double[nin][nout];
            if (finite.length < rows.length) finite = new boolean[rows.length];
            double[][] t = cols[first_row], w = rows;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0; // CHANGE 26: see finite below
            for (; o + 8 <= o1; o += 8) {
                int r = first_row + o;
                double[] w0 = w[r], w1 = w[r + 1], w2 = w[r + 2], w3 = w[r + 3], w4 = w[r + 4], w5 = w[r + 5], w6 = w[r + 6], w7 = w[r + 7];
                for (int i = 0; i < nin; i++) {
                    double[] c = t[i];
                    double v0 = w0[i], v1 = w1[i], v2 = w2[i], v3 = w3[i], v4 = w4[i], v5 = w5[i], v6 = w6[i], v7 = w7[i];
                    c[o] = v0; c[o + 1] = v1; c[o + 2] = v2; c[o + 3] = v3;
                    c[o + 4] = v4; c[o + 5] = v5; c[o + 6] = v6; c[o + 7] = v7;
                    s0 += v0; s1 += v1; s2 += v2; s3 += v3; s4 += v4; s5 += v5; s6 += v6; s7 += v7;
                }
            }
            for (; o < o1; o++) {
                double[] r = w[first_row + o];
                for (int i = 0; i < nin; i++) { t[i][o] = r[i]; s0 += r[i]; }
            }
            // CHANGE 26: a sum with an infinity or NaN in it is not finite; one that overflows is not either, which
            // only keeps the zero inputs in (the same values, more work); the matrix is finite if each block of it is
            boolean f = Double.isFinite(((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7)));
            finite[first_row] = o0 == 0 ? f : finite[first_row] && f;
        }

        /** CHANGE 23: a worker's tape reads the columns of the tape whose parameters it shares, while they are current. */
        void sharesColumnsOf(Tape main) {
            cols = main.cols; version = main.version; cols_version = main.cols_version; finite = main.finite;
        }

        /**
         * CHANGE 19, 23: whether the products read the matrix at first_row (nout rows) from its columns: they are in use
         * and made from the current weights; CHANGE 35: then made current first, if a step left them to copy.
         */
        private boolean columnsFor(int first_row, int nout) {
            if (cols == null || cols_version != version) return false;
            columnsOf(first_row, nout);
            return true;
        }

        /** CHANGE 35: the rows of the matrix at first_row have changed and its columns are left to copy, by columnsOf. */
        void leaveColumns(int first_row) { stale_cols.set(first_row, COPY); }

        /**
         * CHANGE 35: the columns of the matrix at first_row (nout rows) made current before they are read: copied
         * here if they were left to copy and no thread has started on them, else waited for while another thread
         * copies them. Any thread may call it; each copy is made once. A thread that waits may see the matrix left
         * to copy again (with three threads or more, another may have copied and updated it meanwhile): it copies
         * it then, rather than wait for a copy no other thread will make.
         */
        void columnsOf(int first_row, int nout) {
            java.util.concurrent.atomic.AtomicIntegerArray s = stale_cols;
            if (s == null) return;
            for (int state = s.get(first_row); state != 0; state = s.get(first_row)) {
                if (state == COPY && s.compareAndSet(first_row, COPY, COPYING)) {
                    transpose(first_row, nout);
                    s.set(first_row, 0);
                    return;
                }
                Thread.yield(); // not a spin (support/Workers.java says why)
            }
        }

        /**
         * CHANGE 13, 17: the backward pass of a product (outputs from node out, rows first_row.., input x), the last
         * row first, as separate dot nodes would be visited; two rows at a time (after the top one if their number
         * is odd). Each row adds x * g to its gradients and its values * g to x's, in loops over whole arrays (x and
         * its gradient copied to xs and gxs) that C2 vectorizes: the same additions in the same order.
         * CHANGE 25: a row whose output has the gradient 0 (where the ReLU after mlp_fc1 was off: half of that
         * product's rows in a fresh model, most once it has trained) adds x * 0 and w * 0, which changes nothing: the
         * row is left out. That holds when the output is finite, as then its row and x are finite (an infinity or
         * NaN among them makes the sum one), and a gradient on this tape is never -0.0 (they start at +0.0 and only
         * ever add: +0.0 + -0.0 is +0.0).
         */
        private int matvecBackward(int out, int nout, int x, int first_row) {
            int nin = rows[first_row].length, nl = 0;
            double[] xs = this.xs, gxs = this.gxs;
            int[] live = this.live;
            for (int r = nout - 1; r >= 0; r--) // CHANGE 25: the rows that add something, last first
                if (adds(out + r)) live[nl++] = r;
            if (nl == 0) return out;
            System.arraycopy(data, x, xs, 0, nin);
            System.arraycopy(grad, x, gxs, 0, nin);
            int j = 0;
            if (nl % 2 == 1) { // the top row alone, if their number is odd (1 included)
                int r = live[j++];
                double g = grad[out + r];
                double[] w = rows[first_row + r], wg = row_grads[first_row + r];
                for (int k = 0; k < nin; k++) { wg[k] += xs[k] * g; gxs[k] += w[k] * g; }
            }
            for (; j < nl; j += 2) {
                int r1 = live[j], r0 = live[j + 1];
                double g1 = grad[out + r1], g0 = grad[out + r0];
                double[] w1 = rows[first_row + r1], w0 = rows[first_row + r0];
                double[] wg1 = row_grads[first_row + r1], wg0 = row_grads[first_row + r0];
                for (int k = 0; k < nin; k++) {
                    double xk = xs[k];
                    wg1[k] += xk * g1;
                    wg0[k] += xk * g0;
                    gxs[k] = (gxs[k] + w1[k] * g1) + w0[k] * g0;
                }
            }
            System.arraycopy(gxs, 0, grad, x, nin);
            return out;
        }

        /**
         * CHANGE 29: matmat's backward pass, the additions of count matvecBackward calls (the last position first),
         * in another order: row by row, the last first, each row over the positions whose output there has a
         * gradient (CHANGE 25), the last first, two at a time. A row's gradients get position after position, each
         * input's gradient row after row, as before; the row, its gradient and two positions' inputs stay in cache.
         */
        private int matmatBackward(int out, int len, int g, int first_row, int count) {
            int nout = len / count, nin = rows[first_row].length;
            boolean weights = !weights_apart; // CHANGE 31: else the inputs' gradients only
            double[][] X = xm, GX = gxm;
            int[] live = this.live;
            for (int p = 0; p < count; p++) {
                if (weights) System.arraycopy(data, gather[g + p], X[p], 0, nin);
                System.arraycopy(grad, gather[g + p], GX[p], 0, nin);
            }
            if (!weights) inputGradients(out, nout, nin, first_row, count, GX); // CHANGE 34: four of its live rows a pass
            else {
                for (int r = nout - 1; r >= 0; r--) {
                    int nl = livePositions(out, nout, r, count, live);
                    if (nl == 0) continue;
                    double[] w = rows[first_row + r];
                    int j = 0;
                    double[] wg = row_grads[first_row + r];
                    if (nl % 2 == 1) { // the last position alone, if their number is odd (1 included)
                        int p = live[j++];
                        double gp = grad[out + p * nout + r];
                        double[] x = X[p], gx = GX[p];
                        for (int k = 0; k < nin; k++) { wg[k] += x[k] * gp; gx[k] += w[k] * gp; }
                    }
                    for (; j < nl; j += 2) {
                        int p1 = live[j], p0 = live[j + 1];
                        double g1 = grad[out + p1 * nout + r], g0 = grad[out + p0 * nout + r];
                        double[] x1 = X[p1], x0 = X[p0], gx1 = GX[p1], gx0 = GX[p0];
                        for (int k = 0; k < nin; k++) {
                            double wk = w[k];
                            wg[k] = (wg[k] + x1[k] * g1) + x0[k] * g0;
                            gx1[k] += wk * g1;
                            gx0[k] += wk * g0;
                        }
                    }
                }
            }
            for (int p = 0; p < count; p++) System.arraycopy(GX[p], 0, grad, gather[g + p], nin);
            return out;
        }

        /**
         * CHANGE 34: the inputs' gradients of a product over count positions (CHANGE 31: its weights' are added apart),
         * into GX[p] (nin each). Each input's gradient gets the same terms as matmatBackward's loop over rows gives it: those of
         * the rows whose output has a gradient (or is not finite), the last row first. Here position by position,
         * four of those rows a pass, so GX[p] is read and written once for four terms instead of once for each (as
         * matvec's sums from the columns, CHANGE 20); row after row, two positions a pass, that loop was 18% of the
         * main thread's time in a 64-wide step on two threads.
         */
        private void inputGradients(int out, int nout, int nin, int first_row, int count, double[][] GX) {
            final double[] grad = this.grad, data = this.data;
            final double[][] rows = this.rows;
            final int[] rl = live_rows;
            for (int p = 0; p < count; p++) {
                int o = out + p * nout, nl = 0;
                for (int r = nout - 1; r >= 0; r--) { rl[nl] = r; nl += adds(o + r) ? 1 : 0; }
                double[] gx = GX[p];
                int j = 0;
                for (; j + 4 <= nl; j += 4) {
                    int r0 = rl[j], r1 = rl[j + 1], r2 = rl[j + 2], r3 = rl[j + 3];
                    double g0 = grad[o + r0], g1 = grad[o + r1], g2 = grad[o + r2], g3 = grad[o + r3];
                    double[] w0 = rows[first_row + r0], w1 = rows[first_row + r1], w2 = rows[first_row + r2], w3 = rows[first_row + r3];
                    for (int k = 0; k < nin; k++) gx[k] = (((gx[k] + w0[k] * g0) + w1[k] * g1) + w2[k] * g2) + w3[k] * g3;
                }
                for (; j < nl; j++) {
                    int r = rl[j];
                    double gr = grad[o + r];
                    double[] w = rows[first_row + r];
                    for (int k = 0; k < nin; k++) gx[k] += w[k] * gr;
                }
            }
        }

        /**
         * CHANGE 25: whether a product's output node o adds anything in the backward pass: it has a gradient, or it is
         * not finite (then its row or input may hold an infinity or a NaN, which times a gradient of 0 is NaN, not 0).
         */
        private boolean adds(int o) { return grad[o] != 0 || !Double.isFinite(data[o]); }

        /** CHANGE 25, 29: the positions whose output of row r has a gradient (or is not finite), the last first; how many. */
        private int livePositions(int out, int nout, int r, int count, int[] live) {
            int nl = 0;
            for (int p = count - 1; p >= 0; p--) {
                int o = out + p * nout + r;
                if (adds(o)) live[nl++] = p;
            }
            return nl;
        }

        /**
         * CHANGE 31: the weights' gradients of the product whose run ends at node i, once its backward pass is done
         * (with weights_apart): each row's, position after position, the last first, as matmatBackward adds them.
         * They depend on the outputs' gradients and the inputs alone, so another thread can add them while the
         * backward pass goes on; X and live are the calling thread's scratch.
         */
        void matmatWeights(int i, double[][] X, int[] live) {
            int len = n[i], out = i - len + 1, g = a[i], first_row = b[i], count = (int) c[i];
            int nout = len / count, nin = rows[first_row].length;
            for (int p = 0; p < count; p++) System.arraycopy(data, gather[g + p], X[p], 0, nin);
            for (int r = nout - 1; r >= 0; r--) {
                int nl = livePositions(out, nout, r, count, live);
                if (nl == 0) continue;
                double[] wg = row_grads[first_row + r];
                int j = 0;
                if (nl % 2 == 1) {
                    int p = live[j++];
                    double gp = grad[out + p * nout + r];
                    double[] x = X[p];
                    for (int k = 0; k < nin; k++) wg[k] += x[k] * gp;
                }
                for (; j < nl; j += 2) {
                    int p1 = live[j], p0 = live[j + 1];
                    double g1 = grad[out + p1 * nout + r], g0 = grad[out + p0 * nout + r];
                    double[] x1 = X[p1], x0 = X[p0];
                    for (int k = 0; k < nin; k++) wg[k] = (wg[k] + x1[k] * g1) + x0[k] * g0;
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Parameters, to store the knowledge of the model
    // ------------------------------------------------------------------------------------------

    /**
     * CHANGE 9: every vector the model computes is a run of consecutive nodes, named by its first node:
     * a dot product reads two slices of one array, with no index lists and no objects in between.
     * CHANGE 17: a matrix of parameters is nout consecutive rows of the tape's rows, each an array of nin.
     */
    record Matrix(int first_row, int nout, int nin) {
        int row(int o) { return first_row + o; }
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

        int[] keyArray(int li) { return flat ? keys_flat : keys[li]; }       // k of position t is at
        int[] valueArray(int li) { return flat ? values_flat : values[li]; } // keyArray[offset + t], v at
        int offset(int li) { return flat ? li * block_size : 0; }            // valueArray[offset + t]
    }

    public static final class GPT {
        final int n_layer, n_embd, block_size, n_head, head_dim, vocab_size;
        final Tape tape;
        final int num_params; // in the tape's rows, in microgpt.java's state_dict order (CHANGE 17)
        // CHANGE 8: the matrices of each layer, looked up once instead of by name at every position
        final Matrix wte, wpe, lm_head;
        final Matrix[] attn_wq, attn_wk, attn_wv, attn_wo, mlp_fc1, mlp_fc2;
        final Matrix[] matrices;  // CHANGE 27: all of them, in state_dict order; all but wte and wpe multiply vectors
        final KVCache cache;
        final int[] head_weights; // first node of each head's attention weights
        final int[] losses;       // the loss node of each position
        final int[] x, x_residual, y, q, k, v, logits; // CHANGE 29: each position's vectors (first nodes), layer by layer
        final double[] probs;     // sampling probabilities

        public GPT(Config config, int vocab_size, PyRandom random, boolean flatCache) { // CHANGE 4: flatCache
            n_layer = config.n_layer(); n_embd = config.n_embd(); block_size = config.block_size();
            n_head = config.n_head(); head_dim = config.head_dim();
            // CHANGE 17: each matrix is nout rows of the tape's rows, in microgpt.java's state_dict order;
            // CHANGE 8: kept in fields, not looked up by name
            this.vocab_size = vocab_size;
            tape = new Tape(4096);
            List<double[]> rows = new ArrayList<>();
            wte = matrix(vocab_size, n_embd, random, rows);
            wpe = matrix(block_size, n_embd, random, rows);
            lm_head = matrix(vocab_size, n_embd, random, rows);
            attn_wq = new Matrix[n_layer]; attn_wk = new Matrix[n_layer]; attn_wv = new Matrix[n_layer];
            attn_wo = new Matrix[n_layer]; mlp_fc1 = new Matrix[n_layer]; mlp_fc2 = new Matrix[n_layer];
            for (int i = 0; i < n_layer; i++) {
                attn_wq[i] = matrix(n_embd, n_embd, random, rows); // CHANGE 8: "layer" + i + ".attn_wq", in a field
                attn_wk[i] = matrix(n_embd, n_embd, random, rows);
                attn_wv[i] = matrix(n_embd, n_embd, random, rows);
                attn_wo[i] = matrix(n_embd, n_embd, random, rows);
                mlp_fc1[i] = matrix(4 * n_embd, n_embd, random, rows);
                mlp_fc2[i] = matrix(n_embd, 4 * n_embd, random, rows);
            }
            matrices = new Matrix[3 + 6 * n_layer]; // CHANGE 27
            matrices[0] = wte; matrices[1] = wpe; matrices[2] = lm_head;
            for (int i = 0; i < n_layer; i++) {
                matrices[3 + 6 * i] = attn_wq[i]; matrices[4 + 6 * i] = attn_wk[i]; matrices[5 + 6 * i] = attn_wv[i];
                matrices[6 + 6 * i] = attn_wo[i]; matrices[7 + 6 * i] = mlp_fc1[i]; matrices[8 + 6 * i] = mlp_fc2[i];
            }
            tape.rows = rows.toArray(new double[0][]); // CHANGE 7, 8: no flattened list; buffers allocated once
            tape.row_grads = zerosLike(tape.rows);
            int count = 0;
            for (double[] row : tape.rows) count += row.length; // CHANGE 11: a plain loop at start-up, no stream
            num_params = count;
            cache = new KVCache(n_layer, block_size, flatCache);
            head_weights = new int[n_head];
            losses = new int[block_size];
            probs = new double[vocab_size];
            x = new int[block_size]; x_residual = new int[block_size]; y = new int[block_size]; // CHANGE 29
            q = new int[block_size]; k = new int[block_size]; v = new int[block_size]; logits = new int[block_size];
        }

        /** CHANGE 16: a worker for another thread: the same parameters (CHANGE 17: shared), a tape and gradients of its own. */
        GPT(GPT model) {
            n_layer = model.n_layer; n_embd = model.n_embd; block_size = model.block_size;
            n_head = model.n_head; head_dim = model.head_dim; vocab_size = model.vocab_size;
            tape = new Tape(model.tape.data.length);
            tape.rows = model.tape.rows;
            tape.row_grads = zerosLike(model.tape.rows);
            wte = model.wte; wpe = model.wpe; lm_head = model.lm_head;
            attn_wq = model.attn_wq; attn_wk = model.attn_wk; attn_wv = model.attn_wv;
            attn_wo = model.attn_wo; mlp_fc1 = model.mlp_fc1; mlp_fc2 = model.mlp_fc2; matrices = model.matrices;
            num_params = model.num_params;
            cache = new KVCache(n_layer, block_size, model.cache.flat);
            head_weights = new int[n_head]; losses = new int[block_size]; probs = new double[vocab_size];
            x = new int[block_size]; x_residual = new int[block_size]; y = new int[block_size]; // CHANGE 29
            q = new int[block_size]; k = new int[block_size]; v = new int[block_size]; logits = new int[block_size];
        }

        /**
         * CHANGE 7: about how many heap bytes this model needs: every node of one step's graph over a full block
         * is 37 bytes of tape arrays, and growing the tape holds the old arrays and the new, twice as large, at
         * once (x3); a parameter is four doubles (value, gradient, Adam's two). A linear layer is one node per
         * output; attention at position t adds ~3*n_head*(t+1) nodes per layer.
         */
        static double heap_needed(Config c, int vocab_size) {
            double n = c.n_embd(), L = c.n_layer(), B = c.block_size(), V = vocab_size, H = c.n_head(); // CHANGE 7
            double params = 2 * V * n + B * n + 12 * L * n * n;
            double graph = B * (3 * V + 20 * L * n + 10 * n) + 1.5 * L * H * B * B;
            return graph * 37 * 3 + params * 32; // CHANGE 7, 17
        }

        /** The parameters' values, in state_dict order (model files); and their gradients. CHANGE 17: row after row */
        public double[] weights() { return ModelFile.flat(tape.rows); }
        public double[] gradients() { return ModelFile.flat(tape.row_grads); }
        public void setWeights(double[] w) { ModelFile.unflat(w, tape.rows); tape.version++; } // CHANGE 19: version

        /** CHANGE 19: every product's matrix transposed, if the weights changed since the last time. */
        void transposed() { transposed(true); }

        /** CHANGE 35: all: the columns a step left to copy too; else those are copied when a product reads them. */
        void transposed(boolean all) {
            Tape t = tape;
            if (t.cols_version == t.version && t.cols != null) {
                if (all) copyColumnsLeft();
                return;
            }
            if (t.cols == null) t.cols = new double[t.rows.length][][];
            for (int k = 2; k < matrices.length; k++) // lm_head on: every product's; CHANGE 23: nothing allocated
                t.transpose(matrices[k].first_row(), matrices[k].nout());
            if (t.stale_cols != null) for (int r = 0; r < t.rows.length; r++) t.stale_cols.set(r, 0); // CHANGE 35: all copied
            t.cols_version = t.version;
        }

        /**
         * CHANGE 35: the columns a step left to copy, copied in the order the forward reads the matrices (the layers'
         * from the first, lm_head last); a product that reaches one first copies it itself (Tape.columnsOf).
         */
        void copyColumnsLeft() {
            for (int k = 3; k < matrices.length; k++) tape.columnsOf(matrices[k].first_row(), matrices[k].nout());
            tape.columnsOf(matrices[2].first_row(), matrices[2].nout()); // lm_head
        }

        static double[][] zerosLike(double[][] rows) { // CHANGE 17: gradients, or Adam's moments, row for row
            double[][] z = new double[rows.length][];
            for (int r = 0; r < rows.length; r++) z[r] = new double[rows[r].length];
            return z;
        }

        private static Matrix matrix(int nout, int nin, PyRandom random, List<double[]> rows) { // CHANGE 9, 17
            Matrix m = new Matrix(rows.size(), nout, nin);
            for (int o = 0; o < nout; o++) {
                double[] row = new double[nin];
                for (int i = 0; i < nin; i++) row[i] = random.gauss(0, 0.08);
                rows.add(row);
            }
            return m;
        }

        // CHANGE 4: no emptyCache(): the KV cache is allocated once, with the model (the cache field)
    }

    // ------------------------------------------------------------------------------------------
    // The model: GPT-2 with rmsnorm instead of layernorm, no biases, ReLU instead of GeLU
    // ------------------------------------------------------------------------------------------

    static int linear(Tape t, int x, Matrix w) {
        return t.matvec(w.first_row(), w.nout(), x); // CHANGE 3, 13: one dot node per output, four rows at a time
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
        int tok_emb = t.row(model.wte.row(token_id)); // token embedding (CHANGE 9, 17: a run of nodes)
        int pos_emb = t.row(model.wpe.row(pos_id));   // position embedding
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
                int dots = t.dots(q + hs, cache.keyArray(li), cache.offset(li), hs, head_dim, len); // CHANGE 3, 22: a dot each
                int attn_logits = t.mul(dots, inv_sqrt, len);
                model.head_weights[h] = softmax(t, attn_logits, len);
                if (TrainingReport.watching()) // --report's probes see each head's weights (support/TrainingReport.java)
                    TrainingReport.attention(li, h, t.data, model.head_weights[h], len); // CHANGE 7: on the tape
            }
            int x_attn = t.next(); // the heads' outputs, concatenated
            int[] v_all = cache.valueArray(li);
            for (int h = 0; h < n_head; h++) // CHANGE 3, 22: a dot_gather for each j of the head, four at a time
                t.dot_gathers(model.head_weights[h], v_all, cache.offset(li), h * head_dim, head_dim, len);
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

    /**
     * CHANGE 29: gpt() for positions 0..n-1 of a document at once, layer by layer: each product over every position
     * (linears), then the next. The values are gpt()'s. So are the gradients: the backward pass adds into each
     * gradient the same terms in the same order. A parameter's terms come position by position, last first, as
     * before; a position's vectors get theirs from that position's nodes, in their order, and from the attention
     * of the positions after it, last first, as before. Leaves the first node of each position's logits in model.logits.
     */
    static void gpt_document(GPT model, int[] tokens, int n, KVCache cache) {
        Tape t = model.tape;
        int n_layer = model.n_layer, n_embd = model.n_embd, n_head = model.n_head, head_dim = model.head_dim;
        int[] x = model.x, x_residual = model.x_residual, y = model.y;
        for (int p = 0; p < n; p++) {
            int tok_emb = t.row(model.wte.row(tokens[p])); // token embedding
            int pos_emb = t.row(model.wpe.row(p));         // position embedding
            x[p] = rmsnorm(t, t.add(tok_emb, pos_emb, n_embd), n_embd);
        }
        for (int li = 0; li < n_layer; li++) {
            // 1) Multi-head attention block
            for (int p = 0; p < n; p++) { x_residual[p] = x[p]; x[p] = rmsnorm(t, x[p], n_embd); }
            int[] q = model.q, k = model.k, v = model.v;
            linears(t, x, model.attn_wq[li], q, n, false);
            linears(t, x, model.attn_wk[li], k, n, false);
            linears(t, x, model.attn_wv[li], v, n, false);
            for (int p = 0; p < n; p++) cache.put(li, p, k[p], v[p]);
            double inv_sqrt = 1.0 / Math.sqrt(head_dim);
            int[] v_all = cache.valueArray(li);
            for (int p = 0; p < n; p++) {
                int len = p + 1;
                for (int h = 0; h < n_head; h++) {
                    int hs = h * head_dim;
                    int dots = t.dots(q[p] + hs, cache.keyArray(li), cache.offset(li), hs, head_dim, len);
                    model.head_weights[h] = softmax(t, t.mul(dots, inv_sqrt, len), len);
                }
                y[p] = t.next(); // the heads' outputs, concatenated
                for (int h = 0; h < n_head; h++)
                    t.dot_gathers(model.head_weights[h], v_all, cache.offset(li), h * head_dim, head_dim, len);
            }
            linears(t, y, model.attn_wo[li], x, n, false);
            for (int p = 0; p < n; p++) x[p] = t.add(x[p], x_residual[p], n_embd);
            // 2) MLP block
            for (int p = 0; p < n; p++) { x_residual[p] = x[p]; x[p] = rmsnorm(t, x[p], n_embd); }
            linears(t, x, model.mlp_fc1[li], y, n, false);
            for (int p = 0; p < n; p++) y[p] = t.relu(y[p], 4 * n_embd);
            linears(t, y, model.mlp_fc2[li], x, n, true);
            for (int p = 0; p < n; p++) x[p] = t.add(x[p], x_residual[p], n_embd);
        }
        linears(t, x, model.lm_head, model.logits, n, false);
    }

    /** CHANGE 29: out[p] = linear(x[p], w) for p = 0..n-1, one product over them all; relu: x are a ReLU's outputs. */
    static void linears(Tape t, int[] x, Matrix w, int[] out, int n, boolean relu) {
        int first = t.matmat(w.first_row(), w.nout(), x, n, relu);
        for (int p = 0; p < n; p++) out[p] = first + p * w.nout();
    }

    // ------------------------------------------------------------------------------------------
    // Adam, the blessed optimizer, and its buffers
    // ------------------------------------------------------------------------------------------

    public static final class Adam {
        static final double learning_rate = 0.01, beta1 = 0.85, beta2 = 0.99, eps_adam = 1e-8;
        final Tape tape;      // CHANGE 7, 17: the parameters are the tape's rows
        final double[][] m; // first moment buffer
        final double[][] v; // second moment buffer
        // CHANGE 28: by row, the step of its last look, and the indices of its m below TINY then (near[r] null: none yet)
        static final double TINY = 0x1p-1000; // m * 0.85^64 is still normal (above 0x1p-1022)
        static final int LOOK = 64;           // steps between two looks at a row
        static boolean set_aside = true;      // false only to measure Adam without CHANGE 28 (docs/SubnormalMoments.java)
        private final int[] looked, n_near;
        private final int[][] near;
        private final double[][] m_near;     // their new values, while the formula runs over the row

        public Adam(Tape tape) { // CHANGE 7, 17: a row of each buffer per row of parameters
            this.tape = tape;
            m = GPT.zerosLike(tape.rows);
            v = GPT.zerosLike(tape.rows);
            looked = new int[m.length]; // CHANGE 28
            Arrays.fill(looked, -LOOK);
            n_near = new int[m.length];
            near = new int[m.length][];
            m_near = new double[m.length][];
        }

        public void step(int step, int num_steps) {
            tape.version++; // CHANGE 19: the weights change
            rows(step, num_steps, 0, m.length);
        }

        /** CHANGE 27: the update of rows from..to-1 only, a thread's share of step(); the same arithmetic for each. */
        void rows(int step, int num_steps, int from, int to) {
            begin(step, num_steps);
            range(from, to);
        }

        private int step;
        private double lr_t, bias1, bias2;
        private boolean skip;

        /** CHANGE 32: what a step's updates share, worked out once, before any thread updates rows with range(). */
        void begin(int step, int num_steps) {
            this.step = step;
            lr_t = learning_rate * (1 - (double) step / num_steps); // linear learning rate decay
            // CHANGE 10: the bias corrections depend on the step only: two pow calls per step, not
            // two per parameter; g*g and sqrt instead of pow(g, 2) and pow(v_hat, 0.5).
            bias1 = 1 - Math.pow(beta1, step + 1); bias2 = 1 - Math.pow(beta2, step + 1);
            skip = set_aside && bias1 == 1 && Math.abs(lr_t) <= 1; // CHANGE 28: see setAside
        }

        /** CHANGE 32: rows from..to-1, with the step's constants from begin(). */
        void range(int from, int to) {
            final int step = this.step;
            final double lr_t = this.lr_t, bias1 = this.bias1, bias2 = this.bias2;
            final boolean skip = this.skip;
            // CHANGE 24: from step 230 on, 1 - 0.85^(step+1) rounds to 1.0 (from step 3724, 1 - 0.99^(step+1) too), and
            // dividing by 1.0 changes no bit: those steps skip the division, one of the three that bound Adam's time
            // (a test the loop leaves, as C2 makes a copy of the loop for each outcome)
            boolean look = from < to && (step - looked[from] >= LOOK || step < looked[from]); // CHANGE 28: a range's rows are looked at together
            final int[] n_near = this.n_near;
            for (int r = from; r < to; r++) {
                if (look) look(r, step); // CHANGE 28
                int n = skip ? n_near[r] : 0;
                if (n > 0) {
                    if (n == this.m[r].length && wholeRow(r)) continue;
                    n = setAside(r, n);
                }
                final double[] data = tape.rows[r], grad = tape.row_grads[r], m = this.m[r], v = this.v[r]; // CHANGE 12
                for (int i = 0; i < data.length; i++) {
                    double g = grad[i];
                    m[i] = beta1 * m[i] + (1 - beta1) * g;
                    v[i] = beta2 * v[i] + (1 - beta2) * (g * g);
                    double m_hat = bias1 == 1 ? m[i] : m[i] / bias1; // CHANGE 24: x / 1 is x
                    double v_hat = bias2 == 1 ? v[i] : v[i] / bias2;
                    data[i] -= lr_t * m_hat / (Math.sqrt(v_hat) + eps_adam);
                    grad[i] = 0;
                }
                for (int j = 0; j < n; j++) m[near[r][j]] = m_near[r][j]; // CHANGE 28: not 0, but beta1 * m
            }
        }

        /** CHANGE 28: row r's m that are not 0 and below TINY, listed; the lists are made once for a row, when needed. */
        private void look(int r, int step) {
            double[] m = this.m[r];
            int n = 0;
            for (int i = 0; i < m.length; i++)
                if (m[i] != 0 && Math.abs(m[i]) < TINY) {
                    if (near[r] == null) { near[r] = new int[m.length]; m_near[r] = new double[m.length]; }
                    near[r][n++] = i;
                }
            n_near[r] = n;
            looked[r] = step;
        }

        /**
         * CHANGE 28: a product or quotient with a subnormal operand or result costs an x86 CPU a microcode assist
         * (tens of nanoseconds for each SIMD operation that holds one), and a wide model has many after some
         * thousand steps: a neuron whose ReLU is always off gets the gradient 0 for its mlp_fc1 row and mlp_fc2
         * column, and their m decays by 0.85 a step into the subnormals, where it sticks at 1, 2 or 3 times the
         * smallest one (0.85 k rounds to k). For a subnormal m with g = 0 (bias1 = 1, |lr_t| <= 1), the update is:
         * m becomes beta1 * m (computed here in integers), v as always, and the weight keeps its value if |w| >=
         * 2^-940 and v >= 0, as lr_t * m_hat / (sqrt(v_hat) + eps) is then below 1e8 * 2^-1022, less than half a
         * unit in the last place of w. Those m of row r's list are set to 0 for the formula, which then does the same
         * to v and w with no subnormal operand; their new values go to the front of the list, for after the formula.
         * Returns how many.
         */
        private int setAside(int r, int listed) {
            final double[] data = tape.rows[r], grad = tape.row_grads[r], m = this.m[r], v = this.v[r];
            int[] at = near[r];
            double[] new_m = m_near[r];
            int n = 0;
            for (int j = 0; j < listed; j++) {
                int i = at[j];
                double mi = m[i];
                if (known(grad[i], mi, data[i], v[i])) {
                    new_m[n] = beta1Times(mi);
                    m[i] = 0;
                    at[j] = at[n]; at[n++] = i; // the list keeps its indices, in another order
                }
            }
            return n;
        }

        /** CHANGE 28: whether the update of a value is known without arithmetic on its m (see setAside). */
        private static boolean known(double g, double m, double w, double v) {
            return g == 0 && m != 0 && Math.abs(m) < Double.MIN_NORMAL && Math.abs(w) >= 0x1p-940 && v >= 0;
        }

        /**
         * CHANGE 28: a row whose every value would be set aside (a dead neuron's mlp_fc1 row) needs no formula at all:
         * m becomes beta1 * m, v is updated, the weights keep their values. Returns false, having changed nothing, if
         * some value would not be.
         */
        private boolean wholeRow(int r) {
            final double[] data = tape.rows[r], grad = tape.row_grads[r], m = this.m[r], v = this.v[r];
            for (int i = 0; i < m.length; i++)
                if (!known(grad[i], m[i], data[i], v[i])) return false;
            for (int i = 0; i < m.length; i++) {
                m[i] = beta1Times(m[i]);
                v[i] = beta2 * v[i] + (1 - beta2) * (grad[i] * grad[i]);
                grad[i] = 0;
            }
            return true;
        }

        private static final long SIGN = Long.MIN_VALUE, BETA1 = (long) (beta1 * 0x1p53); // beta1 = BETA1 / 2^53 exactly

        /**
         * CHANGE 28: beta1 * m for a subnormal m, rounded as the CPU rounds it (to nearest), in integers. There is no
         * tie to round to even: rest = 2^52 would need k * BETA1 = 2^52 mod 2^53, so k a multiple of 2^52 (BETA1 is odd).
         */
        static double beta1Times(double m) {
            long bits = Double.doubleToRawLongBits(m), k = bits & ~SIGN; // |m| = k * 2^-1074, k < 2^52
            long hi = Math.multiplyHigh(k, BETA1), lo = k * BETA1;       // k * BETA1 < 2^105, in two halves
            long q = hi << 11 | lo >>> 53, rest = lo & (1L << 53) - 1;    // k * beta1 = q + rest / 2^53
            return Double.longBitsToDouble(bits & SIGN | (rest > 1L << 52 ? q + 1 : q));
        }
    }

    // ------------------------------------------------------------------------------------------
    // Training
    // ------------------------------------------------------------------------------------------

    static boolean by_layer = true; // CHANGE 29; false only to measure without it (docs/LayerByLayer.java)

    /** CHANGE 29: with C2 (which runs the columns' loops in SIMD lanes), the document layer by layer; --report's probes see gpt(). */
    static boolean layers() { return by_layer && transposedForward && !TrainingReport.watching(); }

    /** The average next-token loss over one document: the node of the loss on the model's tape (CHANGE 4, 7, 8). */
    static int loss(GPT model, int[] tokens, int n_tokens) {
        Tape t = model.tape;
        int n = Math.min(model.block_size, n_tokens - 1);
        boolean layers = layers(); // CHANGE 29
        if (layers) gpt_document(model, tokens, n, model.cache);
        for (int pos_id = 0; pos_id < n; pos_id++) {
            int token_id = tokens[pos_id], target_id = tokens[pos_id + 1];
            int logits = layers ? model.logits[pos_id] : gpt(model, token_id, pos_id, model.cache);
            // CHANGE 5: -log softmax(z)[target] = -(z[target] - logsumexp(z)): no probabilities on the graph
            model.losses[pos_id] = t.neg(t.sub(logits + target_id, t.lse(logits, model.vocab_size)));
        }
        return t.mul(t.sum(model.losses, n), 1.0 / n); // CHANGE 3: sum_values(losses) * (1/n): may yours be low
    }

    /**
     * One training step: forward and backward for each document of the batch, CHANGE 16: on the batch's
     * threads, then Adam (CHANGE 27: a wide model's on the batch's threads too). The batch's loss is the mean
     * of the documents' losses, so each backward starts from loss / B and the gradients add up in the
     * parameters. Returns the mean loss.
     */
    static double trainStep(Batch batch, Adam adam, int step, int num_steps) {
        if (batch.overlaps()) batch.runAndUpdate(adam, step, num_steps); // CHANGE 30
        else {
            batch.run(); // CHANGE 16
            batch.update(adam, step, num_steps); // CHANGE 27
        }
        double total = 0;
        for (int b = 0; b < batch.size; b++) total += batch.losses[b];
        return total / batch.size;
    }

    /**
     * CHANGE 16: a step's B documents on T threads, the same bits for any T. Each thread has a GPT of its own
     * (its tape holds a copy of the parameters); a document's loss and gradient come from the parameters and
     * the document alone, whichever thread takes it. Each gradient goes to a buffer of its own, and the
     * buffers are added up in document order. With one document, its gradient is computed in place.
     * CHANGE 27: Adam on the threads too, each thread a share of the matrices, when a share is at least
     * PARAMS_A_THREAD parameters (a 64-wide model, whatever B): a parameter's update reads and writes that
     * parameter alone, so any split gives the same bits. A thread then copies its matrices' columns for the next
     * forward (CHANGE 23) while their rows are in its cache. Adam and the copy are half of a 64-wide step.
     */
    static final class Batch implements AutoCloseable {
        static final int PARAMS_A_THREAD = 16_384; // CHANGE 27: below this, a hand-over costs about what a share saves
        private static final int DOCUMENTS = 0, SUMS = 1, UPDATE = 2, STEP = 3; // what the team does in a run
        final int size;          // B, documents per step
        final int[][] tokens;    // CHANGE 8: each document's token buffer
        final int[] n_tokens;
        final double[] losses;   // each document's loss
        final Workers team;      // the threads, made once (support/Workers.java)
        private final GPT[] workers;     // the GPT of each thread that takes documents, min(T, B); workers[0] is the model
        private final double[][][] grads; // each document's gradient (CHANGE 17: row by row), when B > 1
        private final java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger(); // document
        private final int shares;        // CHANGE 27: the threads that share Adam
        private final int[] share;       // CHANGE 27: the thread that updates each of the model's matrices
        private int phase;
        private Adam adam;               // CHANGE 27: the update's (its step's constants: Adam.begin)
        private boolean columns;         // CHANGE 27: whether the update copies the columns too (they are in use)
        // CHANGE 30: the matrices in the order their gradients were done, how many are, and how many a thread has taken
        private final int[] done_order;
        private volatile int done_count;
        private volatile boolean started; // the other thread has started its part of the step
        private volatile boolean backward_done; // CHANGE 35: the main thread's backward pass of the step is over
        boolean leave = true; // CHANGE 35; false only to measure without it
        private final java.util.concurrent.atomic.AtomicInteger taken = new java.util.concurrent.atomic.AtomicInteger();
        private final boolean[] is_done;
        private final java.util.function.IntConsumer finished = this::finished; // made once
        // CHANGE 31: each matrix's product (its run's last node) while its weights' gradients are still to be added
        // (-1: none), and each thread's scratch for adding them
        boolean weights_apart = true; // false only to measure change 30 without change 31 (docs/AdamThreads.java)
        boolean blocks = true; // CHANGE 32; false only to measure without it
        private final int[] product;
        private final double[][][] inputs;
        private final int[][] positions;

        Batch(GPT model, int size, int threads, int max_tokens) {
            this.size = size;
            tokens = new int[size][max_tokens];
            n_tokens = new int[size];
            losses = new double[size];
            workers = new GPT[Math.min(threads, size)];
            workers[0] = model;
            for (int t = 1; t < workers.length; t++) workers[t] = new GPT(model);
            grads = size == 1 ? null : new double[size][][];
            if (grads != null) for (int b = 0; b < size; b++) grads[b] = GPT.zerosLike(model.tape.rows);
            // CHANGE 27: each matrix, the largest first, to the thread with the fewest parameters so far
            shares = Math.max(1, Math.min(threads, model.num_params / PARAMS_A_THREAD));
            Matrix[] matrices = model.matrices;
            share = new int[matrices.length];
            Arrays.fill(share, -1);
            long[] load = new long[shares];
            for (int n = 0; n < matrices.length; n++) {
                int k = -1, least = 0;
                for (int j = 0; j < matrices.length; j++) // the largest matrix not yet given (CHANGE 11: loops, no lambda)
                    if (share[j] < 0 && (k < 0 || matrices[j].nout() * matrices[j].nin() > matrices[k].nout() * matrices[k].nin())) k = j;
                for (int t = 1; t < shares; t++) if (load[t] < load[least]) least = t;
                share[k] = least;
                load[least] += (long) matrices[k].nout() * matrices[k].nin();
            }
            team = new Workers(Math.max(workers.length, shares), "batch", this::work);
            done_order = new int[matrices.length]; // CHANGE 30
            is_done = new boolean[matrices.length];
            product = new int[matrices.length]; // CHANGE 31
            Arrays.fill(product, -1);
            int nin = 0, room = oneDocumentInShares() ? model.block_size : 0; // where overlaps() can be true
            for (Matrix m : matrices) nin = Math.max(nin, m.nin());
            inputs = new double[shares][room][nin];
            positions = new int[shares][room];
        }

        /**
         * CHANGE 30: whether a step's update starts during its backward pass: one document (its gradients are the
         * model's, done once the backward pass has been through them) and Adam in shares (CHANGE 27), layer by layer
         * (CHANGE 29: each matrix is one product node, so its gradients are done when that node's backward is).
         */
        boolean overlaps() { return oneDocumentInShares() && layers(); }

        private boolean oneDocumentInShares() { return workers.length == 1 && shares > 1; }

        /**
         * CHANGE 30: run() and update() in one: as the backward pass finishes each product (lm_head first, then the
         * layers from the last), the other thread updates that matrix (and copies its columns), while this one goes
         * on; then both take what is left (the embeddings after them), the next first. Each matrix's update reads its
         * gradients once they are done and nothing reads the matrix after its product's backward pass, so every bit
         * is update()'s.
         */
        void runAndUpdate(Adam adam, int step, int num_steps) {
            Tape tape = workers[0].tape;
            workers[0].transposed(false); // as run(): made by the last update, unless the weights were loaded since
            columns = tape.cols != null && tape.cols_version == tape.version;
            if (columns && tape.stale_cols == null) tape.stale_cols = new java.util.concurrent.atomic.AtomicIntegerArray(tape.rows.length); // CHANGE 35
            backward_done = false;
            this.adam = adam;
            adam.begin(step, num_steps); // CHANGE 32
            Arrays.fill(is_done, false);
            Arrays.fill(product, -1); // CHANGE 31
            done_count = 0;
            taken.set(0);
            phase = STEP;
            team.run();
            tape.version++; // CHANGE 19: the weights changed
            if (columns) tape.cols_version = tape.version;
        }

        /** CHANGE 30: the backward pass is done with the product whose run ends at node i; the other thread may take its matrix. */
        private void finished(int i) {
            Tape tape = workers[0].tape;
            int first_row = tape.b[i];
            Matrix[] matrices = workers[0].matrices;
            for (int k = 0; k < matrices.length; k++)
                if (matrices[k].first_row() == first_row) {
                    if (tape.weights_apart) product[k] = i; // CHANGE 31: its weights' gradients come first
                    done(k);
                    return;
                }
        }

        private void done(int k) {
            if (is_done[k]) return;
            is_done[k] = true;
            done_order[done_count] = k;
            done_count = done_count + 1; // only this thread writes it; the other reads the order up to it
        }

        /** CHANGE 30: the next done matrix no thread has taken, updated (and its columns copied); until all are. */
        private void takeUpdates(int t) {
            int all = workers[0].matrices.length;
            while (true) {
                int k = taken.get();
                if (k >= all) return;
                if (k >= done_count) { // none done that no thread has taken
                    Thread.yield(); // not a spin (support/Workers.java says why)
                    continue;
                }
                if (taken.compareAndSet(k, k + 1)) updateMatrix(done_order[k], t);
            }
        }

        /** CHANGE 27: Adam's update of the model's matrix k, and its columns for the next forward if they are in use. */
        private void updateMatrix(int k, int t) {
            GPT model = workers[0];
            Matrix w = model.matrices[k];
            int i = product[k], first = w.first_row(), nout = w.nout();
            if (i >= 0) { // CHANGE 31: its weights' gradients first, on this thread
                product[k] = -1;
                model.tape.matmatWeights(i, inputs[t], positions[t]);
            }
            if (!columns || k < 2) adam.range(first, first + nout); // the columns: lm_head on, the products'
            else if (leave && phase == STEP && t > 0 && !backward_done) { // CHANGE 35: their copy left for the next forward
                adam.range(first, first + nout);
                model.tape.leaveColumns(first);
            }
            else if (!blocks) { // as before change 32
                adam.range(first, first + nout);
                model.tape.transpose(first, nout);
            } else for (int o = 0; o < nout; o += 8) { // CHANGE 32: eight rows at a time, then their columns
                int hi = Math.min(o + 8, nout);
                adam.range(first + o, first + hi);
                model.tape.transpose(first, nout, o, hi);
            }
        }

        /** Every document's loss and gradient; then the gradients added into the model's, in document order. */
        void run() {
            if (transposedForward) { // CHANGE 23: the forward reads the matrices transposed, as inference does (CHANGE 19)
                workers[0].transposed(); // CHANGE 27: with shares, made by the last update, unless the weights were loaded since
                for (int t = 1; t < workers.length; t++) workers[t].tape.sharesColumnsOf(workers[0].tape);
            }
            phase = DOCUMENTS;
            next.set(0);
            team.run();
            if (grads == null) return;
            phase = SUMS;
            team.run();
        }

        /**
         * Adam's update of the parameters; CHANGE 27: each thread its share of the matrices, when there are shares.
         * CHANGE 32: with the columns in use, matrix by matrix on one thread too, the columns copied as they change.
         */
        void update(Adam adam, int step, int num_steps) {
            Tape tape = workers[0].tape;
            columns = transposedForward && tape.cols != null && tape.cols_version == tape.version; // in use and current: they follow the update
            if (shares == 1 && (!columns || !blocks)) { adam.step(step, num_steps); return; }
            tape.version++; // CHANGE 19: the weights change, as in Adam.step
            this.adam = adam;
            adam.begin(step, num_steps); // CHANGE 32
            if (shares == 1) for (int k = 0; k < share.length; k++) updateMatrix(k, 0);
            else {
                phase = UPDATE;
                team.run();
            }
            if (columns) tape.cols_version = tape.version;
        }

        /** Thread t's part: the next documents no thread has taken; its slice of the gradients' sums; its share of Adam. */
        private void work(int t) {
            if (phase == STEP) { // CHANGE 30
                if (t > 0) {
                    started = true;
                    workers[0].copyColumnsLeft(); // CHANGE 35: while the main thread's forward starts with the embeddings
                    takeUpdates(t);
                    return;
                }
                // the forward starts once the other thread has: one that starts late (its core busy, or waking) takes
                // nothing, and on two cores it then ran late step after step (in 2 JVMs of 4 here: 1.5-2x a step)
                while (!started) Thread.yield();
                started = false;
                Tape tape = workers[0].tape;
                tape.finished = finished;
                tape.weights_apart = weights_apart; // CHANGE 31
                try {
                    document(0, 0);
                } finally {
                    tape.finished = null;
                    tape.weights_apart = false;
                    backward_done = true; // CHANGE 35
                    for (int k = 0; k < is_done.length; k++) done(k); // the rest: the embeddings, and any not done yet
                }
                takeUpdates(t);
                return;
            }
            if (phase == UPDATE) { // CHANGE 27: its matrices, and their columns for the next forward if they are in use
                for (int k = 0; k < share.length; k++) if (share[k] == t) updateMatrix(k, t);
                return;
            }
            if (t >= workers.length) return; // CHANGE 27: a thread for Adam only, when there are fewer documents
            Tape tape = workers[t].tape;
            int rows = tape.rows.length;
            if (phase == SUMS) {
                for (int r = rows * t / workers.length, hi = rows * (t + 1) / workers.length; r < hi; r++) {
                    double[] g = workers[0].tape.row_grads[r];
                    System.arraycopy(grads[0][r], 0, g, 0, g.length);
                    for (int b = 1; b < size; b++)
                        for (int i = 0; i < g.length; i++) g[i] += grads[b][r][i];
                }
                return;
            }
            for (int b = next.getAndIncrement(); b < size; b = next.getAndIncrement()) {
                document(t, b);
                if (grads != null) for (int r = 0; r < rows; r++) {
                    System.arraycopy(tape.row_grads[r], 0, grads[b][r], 0, tape.row_grads[r].length);
                    Arrays.fill(tape.row_grads[r], 0.0);
                }
            }
        }

        /** Document b's loss and gradient on thread t's tape: the backward pass from loss / B (see trainStep). */
        private void document(int t, int b) {
            Tape tape = workers[t].tape;
            tape.reset(); // CHANGE 8: the previous document's graph is overwritten, not collected
            int loss = loss(workers[t], tokens[b], n_tokens[b]);
            tape.backward(tape.mul(loss, 1.0 / size));
            losses[b] = tape.data[loss]; // CHANGE 7
        }

        @Override public void close() { team.close(); }
    }

    // ------------------------------------------------------------------------------------------
    // Inference
    // ------------------------------------------------------------------------------------------

    /** The logits at each position of a document (its tokens from BOS on), no training: what --report's page shows. */
    static double[][] logits(GPT model, int[] tokens) {
        Tape t = model.tape;
        t.reset();
        t.grad_enabled = false; // CHANGE 6: no graph
        try {
            double[][] out = new double[tokens.length][];
            for (int pos_id = 0; pos_id < tokens.length; pos_id++) {
                int logits = gpt(model, tokens[pos_id], pos_id, model.cache);
                out[pos_id] = Arrays.copyOfRange(t.data, logits, logits + model.vocab_size);
            }
            return out;
        } finally {
            t.grad_enabled = true;
            t.reset();
        }
    }

    /** Samples one document, starting from BOS and the prompt's tokens, until BOS or block_size tokens. */
    public static String sample(GPT model, Tokenizer tok, int[] prompt, double temperature, PyRandom random) {
        Tape t = model.tape;
        t.reset();
        t.grad_enabled = false; // CHANGE 6: no graph at inference, and the softmax in plain doubles
        if (transposedForward) model.transposed(); // CHANGE 19: with C2, which runs the transposed sums in SIMD lanes
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
}
