package mgpt;

import java.io.*;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * Everything around a training run that is not the algorithm, behind one object: the options checked,
 * the input read (or the bundled names written to input.txt), a model file loaded (--load) or a run
 * resumed (--resume), the loss log (--loss-log), checkpoints (--save, --save-every), Ctrl-C and SIGTERM
 * (finish the step, save, print the command that resumes), and --timing. An engine calls it at the
 * points of its story; it knows nothing of the engine: weights and Adam's moments pass in as arrays.
 */
final class TrainingRun implements AutoCloseable {
    static final String DEFAULT_INPUT = "input.txt";

    final PrintStream out = Cli.stdout();
    final Config config;        // the model's shape: the options', or the model file's
    final long seed;            // the options', or the resumed run's
    final int first_step, num_steps; // steps first_step .. num_steps-1 are this run's
    final int batch_size;       // documents per step: the options', or the resumed run's
    private final boolean needsData; // false for a loaded model that only samples
    private final Options o;
    private final String name;  // the command's name, for messages
    private final ModelFile file; // --load or --resume, else null
    private final LossLog log;
    private final Timing time;
    private Interrupt interrupt = new Interrupt(false);
    private String data_hash = "";
    private int[] vocab;
    private PyRandom random;
    private Supplier<double[]> weights;
    private double[][] rows; // the weights in rows, when the engine keeps them so; else null
    private double[][] m, v;
    private boolean done;
    private double last_loss;
    private List<String> docs = List.of();
    private TrainingReport report; // --report, once the engine has said how to watch its model

    /** Checks the options (the same order and messages as ever), reads a --load or --resume file, opens the loss log. */
    TrainingRun(Options o) {
        this.o = o;
        name = o.spec.name();
        Config options = new Config(o.nLayer, o.nEmbd, o.blockSize, o.nHead);
        if (o.steps < 0) throw UserError.usage("--steps must be 0 or more (got " + o.steps + ")");
        if (!(o.temperature > 0) || Double.isInfinite(o.temperature))
            throw UserError.usage("--temperature must be a number > 0, such as 0.5 (got " + o.temperature + ")");
        if (o.samples < 0) throw UserError.usage("--samples must be 0 or more (got " + o.samples + ")");
        if (o.batchSize < 1) throw UserError.usage("--batch-size must be at least 1 (got " + o.batchSize + ")");
        CommandLine.ParseResult given = o.spec.commandLine().getParseResult();
        file = modelFile(given);
        config = file == null ? options : file.config(given, options);
        if (file != null) file.checkTensors(config, o.resume != null); // before anything is read or printed
        seed = o.resume != null ? file.metaLong("seed") : o.seed;
        num_steps = o.resume != null ? (int) file.metaLong("total_steps") : o.load != null && !given.hasMatchedOption("--steps") ? 0 : o.steps;
        first_step = o.resume != null ? (int) file.metaLong("step") : 0;
        batch_size = o.resume != null ? file.batchSize() : o.batchSize;
        needsData = file == null || num_steps > 0 || o.resume != null;
        log = LossLog.open(o.lossLog, first_step, o.resume != null ? file.meta.get("loss") : null); // fails now, not after training, if it cannot be written
        time = new Timing(o.timing);
    }

    /** --load, --resume, --save, --save-every: the conflicts, then the model file read and checked. */
    private ModelFile modelFile(CommandLine.ParseResult given) {
        if (o.load != null && o.resume != null)
            throw UserError.usage("--load and --resume cannot be combined: --resume continues a run, --load starts a new one from its weights");
        if (o.resume != null && given.hasMatchedOption("--steps"))
            throw UserError.usage("--steps cannot be combined with --resume: the run continues to the total planned in " + o.resume);
        if (o.saveEvery < 0) throw UserError.usage("--save-every must be 0 (never) or more (got " + o.saveEvery + ")");
        if (o.saveEvery > 0 && o.save == null) throw UserError.usage("--save-every needs --save FILE, the file to write");
        if (o.save != null) Cli.checkOutput("--save", o.save, "model.safetensors");
        if (o.report != null) Cli.checkOutput("--report", o.report, "training.html");
        if (o.load == null && o.resume == null) return null;
        ModelFile f = ModelFile.read(o.resume != null ? o.resume : o.load);
        if (o.resume != null && f.meta("data_sha256").isEmpty())
            throw UserError.usage(o.resume + " was saved by a run that trained on no data (--load without --steps): there is "
                    + "no run to resume; use --load " + o.resume);
        if (o.resume != null && given.hasMatchedOption("--seed") && o.seed != f.metaLong("seed"))
            throw UserError.usage("--seed " + o.seed + " contradicts " + o.resume + " (--seed " + f.metaLong("seed") + "); leave --seed out");
        if (o.resume != null && given.hasMatchedOption("--batch-size") && o.batchSize != f.batchSize())
            throw UserError.usage("--batch-size " + o.batchSize + " contradicts " + o.resume + " (--batch-size " + f.batchSize()
                    + "); leave --batch-size out");
        return f;
    }

    // ---- Data and vocabulary -------------------------------------------------------------------

    /** The input's text (--input, else input.txt); "" when a loaded model only samples, and needs no data. */
    String text() {
        return needsData ? readInput(inputPath(), o.input == null) : "";
    }

    /** The file text() reads; null when a loaded model only samples, and needs no data. */
    Path input() { return needsData ? inputPath() : null; }

    private Path inputPath() { return o.input == null ? Path.of(DEFAULT_INPUT) : o.input; }

    /** The documents, in file order, once checked: there are some (when data is needed), and a resumed run's are its own. */
    List<String> docs(List<String> docs) {
        if (!needsData) return docs;
        if (docs.isEmpty())
            throw UserError.input("input " + inputPath() + " has no documents (it is empty or only blank lines); put one document per line");
        if (o.save != null || o.resume != null) data_hash = dataHash(docs); // only a model file keeps it
        if (o.resume != null && !data_hash.equals(file.meta("data_sha256")))
            throw UserError.input("the training data is not the data of the run saved in " + o.resume + "; resume with the same --input");
        this.docs = docs; // the report's probes and marks (the same list, shuffled in place after this)
        return docs;
    }

    /** The text of an input file, strictly UTF-8. The default input.txt, if missing, is first written from the bundled names. */
    static String readInput(Path path, boolean isDefault) {
        if (!Files.exists(path)) {
            if (!isDefault) throw UserError.input("input file not found: " + path + "; pass an existing file with --input");
            writeBundledNames(path); // microgpt.py downloads it; the scripts carry it (no network needed)
        }
        if (Files.isDirectory(path))
            throw UserError.input("input " + path + " is a directory; pass a text file with one document per line");
        try {
            byte[] bytes = Files.readAllBytes(path);
            // String's own decoding is fast; the strict decoder runs only if the text contains U+FFFD,
            // which is what a malformed byte would have become
            String text = new String(bytes, StandardCharsets.UTF_8);
            if (text.indexOf('\uFFFD') >= 0)
                StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return text;
        } catch (CharacterCodingException e) {
            throw UserError.input("input " + path + " is not valid UTF-8; save it as UTF-8 text");
        } catch (IOException e) {
            throw UserError.input("cannot read input " + path + ": " + e.getMessage());
        }
    }

    /**
     * Writes the makemore names.txt (commit 988aa59, 32,033 names) that the script's jar carries (//FILES) to
     * target, through a temporary file renamed into place, as microgpt.py writes its download to input.txt.
     */
    static void writeBundledNames(Path target) {
        Cli.stderr().println("no " + target + ": writing the bundled makemore names.txt there");
        try (InputStream in = TrainingRun.class.getResourceAsStream("/names.txt")) {
            if (in == null) throw new IOException("names.txt is missing from this script's jar");
            Cli.writeWhole(target, in::transferTo);
        } catch (IOException | SecurityException e) {
            throw UserError.input("cannot write " + target + " (" + e.getMessage() + "); pass a names file with --input FILE");
        }
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

    /** A model file's vocabulary (its characters, sorted), or null when the tokenizer takes the data's. */
    int[] vocab() { return file == null ? null : file.vocab(); }

    /**
     * The --prompt's tokens, which every sample starts with; first, with a model file, checks that the data has
     * no character its vocabulary lacks. uchars: the tokenizer's characters, sorted (token id = index).
     */
    int[] promptTokens(List<String> docs, int[] uchars) {
        String unknown = file == null ? "" : unknown(docs, uchars);
        if (!unknown.isEmpty())
            throw UserError.input("the training data has characters that model file " + file.file + " does not know: "
                    + unknown + "; train a new model on it instead of --load");
        int[] cps = new int[o.prompt.codePointCount(0, o.prompt.length())]; // a loop: String.codePoints() is a stream
        for (int i = 0, k = 0, ch; i < o.prompt.length(); i += Character.charCount(ch)) cps[k++] = ch = o.prompt.codePointAt(i);
        unknown = unknown(List.of(o.prompt), uchars);
        if (!unknown.isEmpty())
            throw UserError.usage("--prompt has characters that are not in the vocabulary: " + unknown
                    + "; use only these: " + new String(uchars, 0, uchars.length));
        if (cps.length >= config.block_size())
            throw UserError.usage("--prompt is " + cps.length + " characters; the model reads " + config.block_size()
                    + " tokens including the first, so at most " + (config.block_size() - 1));
        int[] tokens = new int[cps.length];
        for (int i = 0; i < cps.length; i++) tokens[i] = Arrays.binarySearch(uchars, cps[i]);
        return tokens;
    }

    /**
     * The characters of texts that the vocabulary lacks, sorted and quoted ('!', 'A'); "" if none. Plain loops, no
     * streams: a stream's first use costs a few milliseconds of start-up.
     */
    private static String unknown(List<String> texts, int[] uchars) {
        TreeSet<Integer> missing = new TreeSet<>();
        for (String text : texts)
            for (int i = 0, ch; i < text.length(); i += Character.charCount(ch))
                if (Arrays.binarySearch(uchars, ch = text.codePointAt(i)) < 0) missing.add(ch);
        StringJoiner s = new StringJoiner(", ");
        for (int ch : missing) s.add("'" + new String(Character.toChars(ch)) + "'");
        return s.toString();
    }

    // ---- The model and its training --------------------------------------------------------------

    /** Before allocating: does a model that needs this many bytes fit in the heap this JVM may use? */
    void checkFits(double heap_needed) { Cli.checkFits(heap_needed, config.block_size(), name); }

    /** --load, --resume: gives the model file's weights to the model (state_dict order). */
    void loadWeights(Consumer<double[]> setWeights) {
        if (file != null) setWeights.accept(file.weights());
    }

    /**
     * Training starts: what a model file holds (the vocabulary, the RNG, the weights, Adam's moments), which
     * --resume now restores (Adam's moments, and the RNG exactly where the saved run left it). With --save,
     * Ctrl-C and SIGTERM now finish the step and save.
     */
    void training(int[] vocab, PyRandom random, Supplier<double[]> weights, double[] m, double[] v) {
        training(vocab, random, weights, new double[][]{m}, new double[][]{v});
    }

    /** The same, with Adam's moments in rows (state_dict order, row after row). */
    void training(int[] vocab, PyRandom random, Supplier<double[]> weights, double[][] m, double[][] v) {
        training(vocab, random, weights, null, m, v);
    }

    /** The same, with the weights in rows too (state_dict order, row after row), which --report copies each step. */
    void training(int[] vocab, PyRandom random, double[][] weights, double[][] m, double[][] v) {
        training(vocab, random, () -> ModelFile.flat(weights), weights, m, v);
    }

    private void training(int[] vocab, PyRandom random, Supplier<double[]> weights, double[][] rows, double[][] m, double[][] v) {
        this.vocab = vocab; this.random = random; this.weights = weights; this.rows = rows; this.m = m; this.v = v;
        if (o.resume != null) {
            ModelFile.unflat(file.flat("adam.m."), m);
            ModelFile.unflat(file.flat("adam.v."), v);
            try {
                random.setstate((long[]) file.tensor("rng.mt", false, 625), (double[]) file.tensor("rng.gauss", true, 2));
            } catch (IllegalArgumentException e) {
                throw file.bad("its RNG state is invalid (" + e.getMessage() + ")");
            }
        }
        time.phase("data and model");
        interrupt = new Interrupt(o.save != null || o.report != null);
    }

    /**
     * --report: how the page watches the model (support/TrainingReport.java): a name sampled with a generator of the
     * page's own, and the logits at each position of a document; beta1 is Adam's, which gives each step's gradient
     * back from the first moment. A no-op without --report. Call it after training(...).
     */
    void watch(java.util.function.Function<PyRandom, String> sample, java.util.function.Function<int[], double[][]> logits, double beta1) {
        if (o.report == null) return;
        report = new TrainingReport(config, vocab, docs, seed, first_step, num_steps, batch_size, o.temperature, beta1,
                Cli.script(name), command(false), sample, logits, weights, rows, m);
    }

    /** Document b of step `step` (both from 0): the step's batch_size documents follow the last step's, wrapping around. */
    int doc(int step, int b, int num_docs) { return (int) (((long) step * batch_size + b) % num_docs); }

    /**
     * After each step (1-based): the loss log, a checkpoint when one is due, and a stop when one was asked for.
     * A checkpoint writes the loss log first and the model second, so that a kill at any instant leaves the log
     * on disk with at least the model file's steps: a resumed run keeps the log's rows up to the model's step.
     */
    void stepDone(int step, double loss) throws IOException, InterruptedException {
        out.flush();
        log.write(step, loss);
        last_loss = loss;
        if (report != null) report.step(step, loss);
        boolean stop = interrupt.requested();
        if (o.save != null && (stop || o.saveEvery > 0 && step % o.saveEvery == 0 && step < num_steps)) checkpoint(step);
        if (stop) { // with --save the checkpoint above wrote the page too; with --report alone, it is written here
            if (o.save == null && report != null) report.write(o.report, step);
            Cli.stderr().println("\n" + name + ": stopped after step " + step + " of " + num_steps + (o.save != null
                    ? " and saved the run to " + o.save + "; continue it with: " + resumeCommand() : "; wrote " + o.report));
            log.discard();
            interrupt.exit();
        }
    }

    /** Training is over: signals no longer wait for a save; --save writes the trained model (after the loss log). */
    void trainingDone() throws IOException {
        interrupt.off();
        if (o.save != null) checkpoint(num_steps);
        time.phase("training (" + (num_steps - first_step) + " steps)");
    }

    /** Sampling is over: the loss log is renamed into place, --report's page written, and --timing reports. */
    void done() throws IOException {
        out.flush();
        time.phase("sampling (" + o.samples + " samples)");
        log.commit();
        if (report != null) report.write(o.report, num_steps);
        time.report();
        done = true;
    }

    /** Whatever happened: no shutdown hook left, and no half-written loss log if the run did not finish. */
    @Override
    public void close() {
        interrupt.off();
        if (!done) log.discard();
    }

    /**
     * The command that continues this run: --resume and --save the checkpoint, and every option the run was
     * given but --steps, --load and --resume (the file keeps the steps, seed and sizes; the rest, such as
     * --input, --samples, --temperature, --prompt and --loss-log, are the run's own and are given again).
     */
    String resumeCommand() { return command(true); }

    /** The command that runs this run again (resume: the one that continues it from --save, as above). */
    private String command(boolean resume) {
        StringBuilder cmd = new StringBuilder("./jbang " + Cli.script(name) + (resume ? " --resume " + quote(o.save.toString()) : ""));
        for (CommandLine.Model.OptionSpec opt : o.spec.commandLine().getParseResult().matchedOptions()) {
            String option = opt.longestName();
            if (resume && List.of("--steps", "--load", "--resume").contains(option)) continue;
            cmd.append(' ').append(option);
            if (opt.arity().max() > 0) cmd.append(' ').append(quote(String.valueOf((Object) opt.getValue())));
        }
        return cmd.toString();
    }

    /** A word as the shell reads it back: as it is when it is plain, else in single quotes. */
    static String quote(String word) {
        return word.matches("[A-Za-z0-9_./=:,+@%-]+") ? word : "'" + word.replace("'", "'\\''") + "'";
    }

    /** The loss log's rows so far, then the model file: the log is never behind the model (a test may halt between). */
    private void checkpoint(int step) throws IOException {
        log.checkpoint();
        if (Long.getLong(HALT_BEFORE_SAVE, -1) == step) Runtime.getRuntime().halt(137); // the worst instant for a kill
        save(step);
        if (report != null) report.write(o.report, step); // a long run's page can be opened while it trains
    }

    /** Tests only: halts the JVM, as SIGKILL would, after the loss log's checkpoint at this step and before the model's. */
    static final String HALT_BEFORE_SAVE = "mgpt.test.halt-before-save";

    /** Writes the model, Adam's moments and the RNG's state to --save, as a run that has done `step` steps. */
    private void save(int step) throws IOException {
        ModelFile c = new ModelFile(o.save);
        c.meta.put("format", ModelFile.FORMAT);
        c.meta.put("format_version", ModelFile.VERSION);
        c.meta.put("engine", Cli.script(name));
        c.meta.put("n_layer", "" + config.n_layer());
        c.meta.put("n_embd", "" + config.n_embd());
        c.meta.put("n_head", "" + config.n_head());
        c.meta.put("block_size", "" + config.block_size());
        c.meta.put("vocab", new String(vocab, 0, vocab.length));
        c.meta.put("step", "" + step);
        c.meta.put("total_steps", "" + num_steps);
        c.meta.put("seed", "" + seed);
        c.meta.put("batch_size", "" + batch_size);
        c.meta.put("data_sha256", data_hash);
        // the loss of the last step: a resumed run checks the loss log's row for that step against it
        String loss = step > first_step ? Double.toString(last_loss) : o.resume != null ? file.meta.get("loss") : null;
        if (loss != null) c.meta.put("loss", loss);
        String[] prefixes = {"", "adam.m.", "adam.v."};
        double[][] values = {weights.get(), ModelFile.flat(m), ModelFile.flat(v)};
        for (int k = 0; k < prefixes.length; k++) {
            int at = 0;
            for (Map.Entry<String, long[]> e : ModelFile.stateDictShapes(config, vocab.length + 1).entrySet()) {
                int n = (int) ModelFile.count(e.getValue());
                c.put(prefixes[k] + e.getKey(), e.getValue(), Arrays.copyOfRange(values[k], at, at + n));
                at += n;
            }
        }
        c.put("rng.mt", new long[]{625}, random.getstate());
        c.put("rng.gauss", new long[]{2}, random.getgauss());
        c.write(o.save);
    }

    // ---- The helpers behind it -------------------------------------------------------------------

    /** Set by support/Relaunch.java in a JVM it starts for a long run: when the first JVM started (epoch ms). */
    static final String RELAUNCHED_AT = "mgpt.relaunched.at";

    /**
     * --timing: the time from JVM start to the options (from the first JVM's start when the run was relaunched
     * for C2: support/Relaunch.java), then the wall time of each phase; on stderr at the end. Only clock reads
     * until then: the JVM's start time (the management classes) and the text are looked up and made in
     * report(), after the last phase, so that no phase counts the timer's own first-use costs.
     */
    private static final class Timing {
        private final boolean on;
        private final long options_ms; // System.currentTimeMillis() when the options were parsed
        private final List<String> names = new ArrayList<>();
        private final List<Long> ends = new ArrayList<>(); // System.nanoTime() at the start, then at each phase's end

        Timing(boolean on) {
            this.on = on;
            options_ms = on ? System.currentTimeMillis() : 0;
            if (on) ends.add(System.nanoTime());
        }

        void phase(String name) {
            if (!on) return;
            ends.add(System.nanoTime());
            names.add(name);
        }

        void report() {
            if (!on) return;
            String relaunched = System.getProperty(RELAUNCHED_AT);
            long jvmStart = relaunched != null ? Long.parseLong(relaunched)
                    : java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
            StringBuilder line = new StringBuilder("timing: JVM and options ").append(options_ms - jvmStart).append(" ms")
                    .append(relaunched != null ? " (a long run: two JVMs, the second with C2)" : "");
            for (int i = 0; i < names.size(); i++)
                line.append(String.format(Locale.ROOT, ", %s %.1f ms", names.get(i), (ends.get(i + 1) - ends.get(i)) / 1e6));
            Cli.stderr().println(line);
        }
    }

    /**
     * The --loss-log CSV, written to a temporary file beside the target and renamed at the end. A resumed run
     * whose log is already there with the steps up to the checkpoint continues it, so the file ends up as the
     * uninterrupted run's: rows past the checkpoint (a kill between the log's checkpoint and the model's) are
     * dropped, and are computed again.
     */
    private static final class LossLog {
        private final Path target, tmp;
        private final BufferedWriter writer;

        private LossLog(Path target, Path tmp, BufferedWriter writer) { this.target = target; this.tmp = tmp; this.writer = writer; }

        static LossLog open(Path target, int first_step, String loss) {
            if (target == null) return new LossLog(null, null, null);
            Cli.checkOutput("--loss-log", target, "losses.csv");
            try {
                Cli.Temp tmp = Cli.tempBeside(target);
                BufferedWriter w = new BufferedWriter(new OutputStreamWriter(tmp.out(), StandardCharsets.UTF_8));
                w.write("step,loss\n");
                for (String row : earlierRows(target, first_step, loss)) w.write(row + "\n");
                return new LossLog(target, tmp.path(), w);
            } catch (IOException | SecurityException e) {
                throw UserError.usage("--loss-log " + target + " cannot be written (" + e.getMessage() + "); choose another path");
            }
        }

        /**
         * The rows of steps 1..first_step, if target is a loss log of steps 1..first_step or more whose row for
         * first_step holds `loss` (the checkpoint's last loss; null in a model file that predates it); else none.
         */
        private static List<String> earlierRows(Path target, int first_step, String loss) throws IOException {
            if (first_step == 0 || !Files.isRegularFile(target)) return List.of();
            List<String> lines = Files.readAllLines(target, StandardCharsets.UTF_8);
            if (lines.size() < first_step + 1 || !lines.get(0).equals("step,loss")) return List.of();
            for (int i = 1; i < lines.size(); i++) if (!lines.get(i).startsWith(i + ",")) return List.of();
            if (loss != null && !lines.get(first_step).equals(first_step + "," + loss)) return List.of();
            return lines.subList(1, first_step + 1);
        }

        /** One row; Double.toString parses back to the exact same double. */
        void write(int step, double loss) throws IOException {
            if (writer != null) writer.write(step + "," + loss + "\n");
        }

        /** At a checkpoint: the log on disk becomes the rows so far, through a copy renamed into place. */
        void checkpoint() throws IOException {
            if (writer == null) return;
            writer.flush();
            Cli.writeWhole(target, out -> Files.copy(tmp, out));
        }

        void commit() throws IOException {
            if (writer == null) return;
            writer.close();
            Cli.moveIntoPlace(tmp, target);
        }

        void discard() {
            if (writer == null) return;
            try { writer.close(); Files.deleteIfExists(tmp); } catch (IOException ignored) { }
        }
    }

    /**
     * SIGINT or SIGTERM during training with --save: the step in progress finishes, the model is saved,
     * one line says how to resume, and the JVM exits as the signal asks (130 for SIGINT, 143 for SIGTERM).
     * A shutdown hook, which the JVM runs on those signals, asks for the stop and waits for the save.
     */
    private static final class Interrupt {
        private volatile boolean requested;
        private final CountDownLatch saved = new CountDownLatch(1);
        private final Thread hook;
        private final boolean on;

        Interrupt(boolean on) {
            this.on = on;
            hook = !on ? null : new Thread(() -> {
                requested = true;
                try { saved.await(10, TimeUnit.MINUTES); } catch (InterruptedException ignored) { }
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
}
