package mgpt;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What every engine's command line must do, whatever its insides: reproduce the Python reference's
 * numbers, print what microgpt.py prints, and answer bad input with one line on stderr, a non-zero
 * exit and nothing written.
 * One subclass per engine runs all of it.
 */
abstract class CliContract {

    /** Runs the engine's command line in this JVM. */
    abstract TestSupport.Run run(String... args);

    /** The engine's command name, as its messages and --version print it. */
    abstract String commandName();

    /** The engine's own %.4f formatter. */
    abstract String formatFixed4(double x);

    /** The golden trace of the Python script this engine ports, for the default run. */
    abstract String defaultGolden();

    /** The engine's estimate of the heap a model needs (GPT.heap_needed), in bytes. */
    abstract double heapNeeded(int n_embd, int vocab_size);

    /** This machine's memory, as the engines read it. */
    static double machineMemory() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
    }

    /** The smallest --n-embd (4 heads) whose model, on tiny_names.txt (vocab 24), needs more than `bytes` of heap. */
    int nEmbdNeedingMoreThan(double bytes) {
        int n = 16;
        while (heapNeeded(n, 24) <= bytes) n += 4;
        return n;
    }


    /** The engine's main class, to run it in a JVM of its own (signals). */
    abstract String mainClass();

    /** Training steps that take a few seconds on tiny_names.txt, for the interrupted-run test. */
    abstract int longRunSteps();

    // ---- Golden parity with the Python references ----------------------------------------------

    /** Runs the engine on names.txt with args, and compares every loss (1e-12) and every name with a trace. */
    void assertMatchesGolden(String golden, Path tmp, String... args) throws IOException {
        TestSupport.Golden expected = TestSupport.readGolden(golden);
        Path csv = tmp.resolve("loss.csv");
        List<String> argv = new ArrayList<>(List.of("--input", TestSupport.namesTxt().toString(), "--loss-log", csv.toString()));
        argv.addAll(List.of(args));
        TestSupport.Run r = run(argv.toArray(String[]::new));
        assertEquals(0, r.exit(), r.err());
        TestSupport.assertRelClose(expected.losses(), TestSupport.readLossLog(csv), 1e-12, golden);
        assertEquals(expected.samples(), TestSupport.samplesOf(r.out()));
    }

    @Test
    void defaultRunMatchesItsPythonReference(@TempDir Path tmp) throws IOException {
        assertMatchesGolden(defaultGolden(), tmp);
    }

    @Test
    void seed3Run100StepsMatchesMicrogptPy(@TempDir Path tmp) throws IOException {
        assertMatchesGolden("microgpt_py_seed3_100steps.txt", tmp, "--seed", "3", "--steps", "100");
    }

    // ---- Model sizes: what fits in memory trains, what cannot is refused at once ----------------

    @Test
    void aLargerModelOnLongDocumentsTrainsAndSamples(@TempDir Path tmp) throws IOException {
        // 64 wide, 2 layers, a 32-character block filled by every document: ~104k parameters, and in
        // microgpt.java ~0.5 GB of graph per step (it ran out of a fixed 128 MB heap before)
        String line = "the quick brown fox jumps over the lazy dog again";
        Path prose = TestSupport.writeFile(tmp, "prose.txt", line + "\n" + line.toUpperCase() + "\n");
        TestSupport.Run r = run("--input", prose.toString(), "--n-embd", "64", "--n-layer", "2", "--block-size", "32",
                "--steps", "1", "--samples", "2");
        assertEquals(0, r.exit(), r.err());
        int vocab = (int) (line + line.toUpperCase()).chars().distinct().count() + 1;
        assertTrue(r.out().contains("vocab size: " + vocab + "\nnum params: " + (2 * vocab * 64 + 32 * 64 + 2 * 12 * 64 * 64) + "\n"), r.out());
        assertTrue(r.out().contains("step    1 /    1 | loss "), r.out());
        assertEquals(2, TestSupport.samplesOf(r.out()).size(), r.out());
    }

    @Test
    void aModelThatFitsTheMachineButNotTheHeapIsToldHowToGetMoreHeap() {
        // sizes from the machine the tests run on: just over this JVM's heap, and then still within the machine's memory
        int n_embd = nEmbdNeedingMoreThan(Runtime.getRuntime().maxMemory());
        Assumptions.assumeTrue(heapNeeded(n_embd, 24) <= 0.9 * machineMemory(), "this machine has no memory beyond the test heap");
        TestSupport.Run r = run("--n-embd", "" + n_embd, "--input", TestSupport.tinyNames().toString(), "--steps", "1");
        r.assertOneLineErrorAfter("num docs: 64\nvocab size: 24\n", 1, commandName() + ": this model needs about ", "more than this JVM's limit of ",
                " GiB; give Java more heap (./jbang --runtime-option=-Xmx", "g " + commandName().replace('-', '_') + ".java ...) "
                + "or choose a smaller model");
    }

    @Test
    void aModelThatCannotFitIsRefusedBeforeAllocating() { // after the data (the vocabulary sets the size), before the model
        int n_embd = nEmbdNeedingMoreThan(Math.max(machineMemory(), Runtime.getRuntime().maxMemory())); // more than this machine has
        TestSupport.Run r = run("--input", TestSupport.tinyNames().toString(), "--n-embd", "" + n_embd, "--steps", "1");
        r.assertOneLineErrorAfter("num docs: 64\nvocab size: 24\n", 1, commandName() + ": this model needs about ", " GiB of heap (parameters, Adam's buffers and "
                + "one step's graph at --block-size 16), more than this JVM's limit of ", "that is more than this machine's ",
                " of memory: choose a smaller model (--n-embd, --n-layer, --block-size)");
    }

    // ---- Output format -------------------------------------------------------------------------

    @Test
    void printsWhatMicrogptPyPrints(@TempDir Path tmp) throws IOException {
        Path csv = tmp.resolve("l.csv");
        TestSupport.Run r = run("--input", TestSupport.tinyNames().toString(), "--steps", "3", "--samples", "2",
                "--loss-log", csv.toString());
        assertEquals(0, r.exit(), r.err());
        assertEquals("", r.err());
        List<Double> losses = TestSupport.readLossLog(csv);
        assertEquals(3, losses.size());
        String expected = "num docs: 64\nvocab size: 24\nnum params: " + (24 * 16 * 2 + 16 * 16 + 12 * 16 * 16) + "\n"
                + "step    1 /    3 | loss " + formatFixed4(losses.get(0)) + "\r"
                + "step    2 /    3 | loss " + formatFixed4(losses.get(1)) + "\r"
                + "step    3 /    3 | loss " + formatFixed4(losses.get(2)) + "\r"
                + "\n--- inference (new, hallucinated names) ---\n";
        assertTrue(r.out().startsWith(expected), r.out());
        String[] tail = r.out().substring(expected.length()).split("\n", -1);
        assertEquals(3, tail.length, r.out());
        assertTrue(tail[0].matches("sample  1: [a-z]*"), tail[0]);
        assertTrue(tail[1].matches("sample  2: [a-z]*"), tail[1]);
        assertEquals("", tail[2]);
    }

    @ParameterizedTest
    @CsvSource({"2.00005,2.0000", "5e-05,0.0001", "1.23445,1.2345", "3.3659669475848504,3.3660", "0.0,0.0000",
                "1e-05,0.0000", "12345.678949999,12345.6789", "0.00015,0.0001", "NaN,nan", "Infinity,inf"})
    void formatsLikePythonPercent4f(double x, String python) {
        assertEquals(python, formatFixed4(x));
    }

    @Test
    void zeroStepsSamplesFromTheInitialWeights(@TempDir Path tmp) throws IOException {
        Path csv = tmp.resolve("l.csv");
        TestSupport.Run r = run("--input", TestSupport.tinyNames().toString(), "--steps", "0", "--samples", "3",
                "--loss-log", csv.toString());
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.out().contains("step "));
        assertEquals(3, TestSupport.samplesOf(r.out()).size());
        assertEquals(List.of("step,loss"), Files.readAllLines(csv));
    }

    @Test
    void timingGoesToStderrAndChangesNothingElse() {
        String[] args = {"--input", TestSupport.tinyNames().toString(), "--steps", "4", "--samples", "3"};
        TestSupport.Run plain = run(args);
        TestSupport.Run timed = run(TestSupport.concat(args, "--timing"));
        assertEquals(0, timed.exit(), timed.err());
        assertEquals(plain.out(), timed.out());
        assertTrue(timed.err().matches("timing: JVM and options [0-9]+ ms, data and model [0-9.]+ ms, "
                + "training \\(4 steps\\) [0-9.]+ ms, sampling \\(3 samples\\) [0-9.]+ ms\n"), timed.err());
    }

    @Test
    void helpAndVersion() {
        TestSupport.Run help = run("--help");
        assertEquals(0, help.exit());
        for (String opt : List.of("--input", "--seed", "--steps", "--n-layer", "--n-embd", "--n-head", "--block-size",
                "--temperature", "--samples", "--loss-log", "--timing", "--version"))
            assertTrue(help.out().contains(opt), "help lists " + opt);
        assertTrue(help.out().contains("default: 42"), help.out());
        TestSupport.Run version = run("--version");
        assertEquals(0, version.exit());
        assertTrue(version.out().startsWith(commandName() + " "), version.out());
    }

    // ---- Bad input: one line on stderr, non-zero exit, nothing started or written ---------------

    @Test
    void badInputFiles(@TempDir Path tmp) throws IOException {
        run("--input", tmp.resolve("nope.txt").toString()).assertOneLineError(1, "input file not found", "nope.txt", "--input");
        run("--input", tmp.toString()).assertOneLineError(1, "is a directory");
        Path empty = TestSupport.writeFile(tmp, "empty.txt", "");
        run("--input", empty.toString()).assertOneLineError(1, "has no documents");
        Path blank = TestSupport.writeFile(tmp, "blank.txt", "\n  \r\n\t\n");
        run("--input", blank.toString()).assertOneLineError(1, "has no documents");
        Path latin1 = tmp.resolve("latin1.txt");
        Files.write(latin1, "zo\u00eb\n".getBytes(StandardCharsets.ISO_8859_1));
        run("--input", latin1.toString()).assertOneLineError(1, "not valid UTF-8");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--n-embd 10 --n-head 4|must be divisible by --n-head",
        "--temperature 0|--temperature must be a number > 0",
        "--temperature -1|--temperature must be a number > 0",
        "--temperature NaN|--temperature must be a number > 0",
        "--temperature abc|'abc' is not a double",
        "--steps -1|--steps must be 0 or more",
        "--steps many|'many' is not an int",
        "--n-layer 0|--n-layer must be at least 1",
        "--n-embd 0|--n-embd must be at least 1",
        "--n-head 0|--n-head must be at least 1",
        "--block-size 0|--block-size must be at least 1",
        "--samples -1|--samples must be 0 or more",
        "--batch-size 0|--batch-size must be at least 1 (got 0)",
        "--batch-size -2|--batch-size must be at least 1 (got -2)",
        "--batch-size many|'many' is not an int",
        "--bogus|Unknown option: '--bogus'",
    })
    void badOptionsAreUsageErrors(String args, String message, @TempDir Path tmp) throws IOException {
        List<String> argv = new ArrayList<>(List.of("--input", TestSupport.tinyNames().toString(),
                "--loss-log", tmp.resolve("l.csv").toString()));
        argv.addAll(List.of(args.split(" ")));
        run(argv.toArray(String[]::new)).assertOneLineError(2, message);
        assertEquals(Set.of(), TestSupport.listing(tmp), "no loss log written");
    }

    @Test
    void unwritableLossLogIsRejectedBeforeTraining(@TempDir Path tmp) throws IOException {
        String input = TestSupport.tinyNames().toString();
        run("--input", input, "--loss-log", tmp.resolve("missing/dir/l.csv").toString())
                .assertOneLineError(2, "--loss-log", "does not exist");
        run("--input", input, "--loss-log", tmp.toString()).assertOneLineError(2, "--loss-log", "is a directory");
        assertEquals(Set.of(), TestSupport.listing(tmp));
    }

    @Test
    void failedRunLeavesNoLossLog(@TempDir Path tmp) throws IOException {
        Path csv = tmp.resolve("l.csv");
        run("--input", tmp.resolve("nope.txt").toString(), "--loss-log", csv.toString()).assertOneLineError(1, "not found");
        assertEquals(Set.of(), TestSupport.listing(tmp));
    }

    // ---- Model files: --save, --load, --resume, --prompt ----------------------------------------

    String tiny() { return TestSupport.tinyNames().toString(); }

    @Test
    void saveThenLoadKeepsEveryWeightBitForBit(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        TestSupport.Run first = run("--input", tiny(), "--steps", "5", "--samples", "3", "--save", a.toString());
        assertEquals(0, first.exit(), first.err());
        TestSupport.Run again = run("--load", a.toString(), "--samples", "3", "--save", b.toString());
        assertEquals(0, again.exit(), again.err());
        assertTrue(again.out().startsWith("vocab size: 24\nnum params: 4096\n\n--- inference"), "no data, no training: " + again.out());
        TestSupport.assertSameTensors(a, b, "wte", "wpe", "lm_head", "layer0.attn_wq", "layer0.mlp_fc2");
        ModelFile c = ModelFile.read(a);
        assertEquals(commandName().replace('-', '_') + ".java", c.meta.get("engine"));
        assertEquals("5", c.meta.get("step"));
        assertEquals("5", c.meta.get("total_steps"));
        assertArrayEquals(new long[]{24, 16}, c.shapes.get("wte"));
        assertArrayEquals(new long[]{625}, c.shapes.get("rng.mt"));
        assertArrayEquals(new long[]{64, 16}, c.shapes.get("adam.m.layer0.mlp_fc1"));
    }

    @Test
    void anInterruptedRunResumedIsTheRunThatWasNeverInterrupted(@TempDir Path tmp) throws Exception {
        assertResumesExactly(tmp, longRunSteps(), new String[0], new String[0]);
    }

    /** With batches: the resumed run (and, in the optimized engine, on other thread counts) is the uninterrupted one. */
    @Test
    void aBatchedInterruptedRunResumedIsTheRunThatWasNeverInterrupted(@TempDir Path tmp) throws Exception {
        assertResumesExactly(tmp, longRunSteps() / 3, batchArgs(1), batchArgs(2));
    }

    /** --batch-size 3, and for an engine with threads, on this many of them. */
    abstract String[] batchArgs(int threads);

    /**
     * Runs `extraWhole` uninterrupted in this JVM, and `extraPart` in a JVM of its own stopped by SIGTERM after a
     * checkpoint; then resumes it by hand and by the printed resume line: both give the uninterrupted run.
     */
    void assertResumesExactly(Path tmp, int n, String[] extraWhole, String[] extraPart) throws Exception {
        Path full = tmp.resolve("full.csv"), part = tmp.resolve("part.csv"), rest = tmp.resolve("rest.csv");
        Path ck = tmp.resolve("ck.safetensors");
        String[] sampling = {"--samples", "4", "--temperature", "0.8", "--prompt", "a"};
        TestSupport.Run whole = run(TestSupport.concat(TestSupport.concat(sampling, extraWhole), "--input", tiny(), "--steps", "" + n,
                "--loss-log", full.toString()));
        assertEquals(0, whole.exit(), whole.err());

        // the same run in a JVM of its own, stopped with SIGTERM once it has saved a checkpoint
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), mainClass(), "--input", tiny(), "--steps", "" + n));
        cmd.addAll(List.of(sampling));
        cmd.addAll(List.of(extraPart));
        cmd.addAll(List.of("--loss-log", part.toString(), "--save", ck.toString(), "--save-every", "" + Math.max(1, n / 1000)));
        Process p = new ProcessBuilder(cmd).redirectOutput(tmp.resolve("out.txt").toFile()).redirectError(tmp.resolve("err.txt").toFile()).start();
        TestSupport.awaitWhileAlive(p, () -> Files.exists(ck));
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        String err = Files.readString(tmp.resolve("err.txt"));
        assertEquals(143, p.exitValue(), "stopped by SIGTERM, after saving: " + err);
        String line = commandName() + ": stopped after step \\d+ of " + n + " and saved the run to " + ck + "; continue it with: ";
        String resume = "./jbang " + commandName().replace('-', '_') + ".java --resume " + ck + " --input " + tiny()
                + " --samples 4 --temperature 0.8 --prompt a" + (extraPart.length == 0 ? "" : " " + String.join(" ", extraPart))
                + " --loss-log " + part + " --save " + ck + " --save-every " + Math.max(1, n / 1000);
        assertTrue(err.matches("(?s)\\s*" + line + java.util.regex.Pattern.quote(resume) + "\n"), err);
        assertEquals(Set.of("ck.safetensors", "full.csv", "part.csv", "out.txt", "err.txt"), TestSupport.listing(tmp), "no temporary file left");

        // resumed by hand, with a new loss log: it holds the steps after the checkpoint
        TestSupport.Run resumed = run(TestSupport.concat(TestSupport.concat(sampling, extraWhole), "--input", tiny(), "--resume",
                ck.toString(), "--loss-log", rest.toString()));
        assertEquals(0, resumed.exit(), resumed.err());
        List<Double> before = TestSupport.readLossLog(part);
        List<String> restRows = Files.readAllLines(rest).subList(1, Files.readAllLines(rest).size());
        assertTrue(before.size() >= 1 && before.size() < n, "stopped part-way: " + before.size());
        assertEquals(n - before.size(), restRows.size());
        List<String> joined = new ArrayList<>(Files.readAllLines(part));
        joined.addAll(restRows);
        assertEquals(Files.readAllLines(full), joined, "every loss, to the last bit, and every step number");
        assertEquals(TestSupport.samplesOf(whole.out()), TestSupport.samplesOf(resumed.out()), "the same names");

        // resumed by the printed command, word for word: the uninterrupted run's samples, and its whole loss log in part.csv
        TestSupport.Run printed = run(resume.substring(resume.indexOf(" --resume ") + 1).split(" "));
        assertEquals(0, printed.exit(), printed.err());
        assertEquals(whole.out().substring(whole.out().indexOf("\n--- inference")), printed.out().substring(printed.out().indexOf("\n--- inference")));
        assertEquals(Files.readAllLines(full), Files.readAllLines(part), "the loss log continued to the uninterrupted run's");
    }

    /**
     * SIGKILL at the worst instant of a checkpoint, deterministically: the JVM halts (TrainingRun.HALT_BEFORE_SAVE)
     * after the loss log's rows are on disk and before the model file is: at a --save-every checkpoint (step 40),
     * and at the final save (step 60). The resumed run's loss log is the uninterrupted run's, row for row.
     */
    @ParameterizedTest(name = "halted before the model file of step {0}")
    @CsvSource({"40", "60"})
    void aKillBetweenTheLossLogAndTheModelFileLosesNoStep(int haltAt, @TempDir Path tmp) throws Exception {
        Path full = tmp.resolve("full.csv"), part = tmp.resolve("part.csv"), ck = tmp.resolve("ck.safetensors");
        String[] run = {"--input", tiny(), "--samples", "3"};
        TestSupport.Run whole = run(TestSupport.concat(run, "--steps", "60", "--loss-log", full.toString()));
        assertEquals(0, whole.exit(), whole.err());

        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
                "-D" + TrainingRun.HALT_BEFORE_SAVE + "=" + haltAt, "-cp", System.getProperty("java.class.path"), mainClass()));
        cmd.addAll(List.of(run));
        cmd.addAll(List.of("--steps", "60", "--loss-log", part.toString(), "--save", ck.toString(), "--save-every", "20"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile()).start();
        TestSupport.assertHaltedBetweenTheWritesAndResumed(p, tmp.resolve("out.txt"), part, haltAt, ck, haltAt - 20,
                () -> run(TestSupport.concat(run, "--resume", ck.toString(), "--loss-log", part.toString())), full, whole);
    }

    /** SIGTERM to a run without --save: it stops at once (143), and leaves no loss log and no temporary file. */
    @Test
    void aRunStoppedWithoutSaveLeavesNoFile(@TempDir Path tmp) throws Exception {
        List<String> cmd = List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
                mainClass(), "--input", tiny(), "--steps", "10000000", "--loss-log", tmp.resolve("l.csv").toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        TestSupport.awaitWhileAlive(p, () -> !TestSupport.listing(tmp).isEmpty());
        assertTrue(TestSupport.listing(tmp).stream().anyMatch(f -> f.startsWith("l.csv.") && f.endsWith(".part")), "training, its log open");
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(143, p.exitValue());
        assertEquals(Set.of(), TestSupport.listing(tmp));
    }

    @Test
    void aLoadedModelTrainsOnInBatchesAndItsBatchSizeIsSaved(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        assertEquals(0, run("--input", tiny(), "--steps", "2", "--samples", "0", "--save", a.toString()).exit());
        assertEquals("1", ModelFile.read(a).meta.get("batch_size"));
        TestSupport.Run r = run("--input", tiny(), "--load", a.toString(), "--steps", "3", "--batch-size", "2", "--samples", "1",
                "--save", b.toString());
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("step    3 /    3 | loss "), r.out());
        assertEquals("2", ModelFile.read(b).meta.get("batch_size"));
        run("--input", tiny(), "--resume", b.toString(), "--batch-size", "5").assertOneLineError(2,
                "--batch-size 5 contradicts " + b + " (--batch-size 2); leave --batch-size out");
    }

    @Test
    void promptStartsEverySample() {
        TestSupport.Run r = run("--input", tiny(), "--steps", "20", "--samples", "5", "--prompt", "ma");
        assertEquals(0, r.exit(), r.err());
        List<String> names = TestSupport.samplesOf(r.out());
        assertEquals(5, names.size());
        for (String name : names) assertTrue(name.startsWith("ma"), name);
    }

    @Test
    void promptCharactersOutsideTheVocabularyAreUsageErrors() {
        run("--input", tiny(), "--steps", "1", "--prompt", "mA!").assertOneLineErrorAfter("num docs: 64\n", 2,
                "--prompt has characters that are not in the vocabulary: '!', 'A'; use only these: abcdefghiklmnoprstuvwyz");
        run("--input", tiny(), "--steps", "1", "--prompt", "abcdefghiklmnopr").assertOneLineErrorAfter("num docs: 64\n", 2,
                "--prompt is 16 characters; the model reads 16 tokens including the first, so at most 15");
    }

    @Test
    void modelOptionConflictsAreUsageErrors(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a.safetensors");
        assertEquals(0, run("--input", tiny(), "--steps", "2", "--samples", "0", "--save", a.toString()).exit());
        run("--load", a.toString(), "--resume", a.toString()).assertOneLineError(2, "--load and --resume cannot be combined");
        run("--resume", a.toString(), "--steps", "5").assertOneLineError(2, "--steps cannot be combined with --resume");
        run("--input", tiny(), "--save-every", "3").assertOneLineError(2, "--save-every needs --save FILE");
        run("--load", a.toString(), "--n-embd", "32").assertOneLineError(2, "--n-embd 32 contradicts model file " + a
                + " (--n-embd 16); leave --n-embd out");
        run("--resume", a.toString(), "--seed", "7").assertOneLineError(2, "--seed 7 contradicts " + a + " (--seed 42)");
        run("--input", tiny(), "--save", tmp.toString()).assertOneLineError(2, "--save " + tmp + " is a directory");
        Path other = TestSupport.writeFile(tmp, "other.txt", "bob\nann\n");
        run("--input", other.toString(), "--resume", a.toString()).assertOneLineErrorAfter("", 1,
                "the training data is not the data of the run saved in " + a + "; resume with the same --input");
        Path foreign = TestSupport.writeFile(tmp, "foreign.txt", "zoë\n");
        run("--input", foreign.toString(), "--load", a.toString(), "--steps", "1").assertOneLineErrorAfter("num docs: 1\n", 1,
                "the training data has characters that model file " + a + " does not know: 'ë'");
    }

    /** A good model file, then the same bytes damaged in one way each. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "missing|model file not found: ",
        "directory|: it is a directory",
        "truncated|: its header length (",
        "random bytes|: its header length (",
        "not JSON|: its header is not JSON",
        "offsets beyond the data|: tensor 'wte' claims bytes",
        "bytes after the last tensor|: it has 8 bytes after its last tensor: the header lies",
        "overlapping tensors|: its tensors' byte ranges overlap or leave gaps: the header lies",
        "wrong shape|: tensor 'wpe' has shape [8, 32], expected [16, 16]",
        "wrong dtype|: tensor 'wte' is F16; this format stores F64 and I64 tensors",
        "another format version|: it is format version 2; this program reads version 1",
        "not a microgpt model|: it is not a microgpt model",
    })
    void aBadModelFileIsOneLineAndChangesNothing(String damage, String message, @TempDir Path tmp) throws IOException {
        Path good = tmp.resolve("good.safetensors"), bad = tmp.resolve("bad.safetensors"), keep = tmp.resolve("keep.safetensors");
        assertEquals(0, run("--input", tiny(), "--steps", "1", "--samples", "0", "--save", good.toString()).exit());
        Files.copy(good, keep);
        byte[] keepBytes = Files.readAllBytes(keep);
        TestSupport.damageModelFile(good, bad, damage);
        for (String option : List.of("--load", "--resume")) {
            TestSupport.Run r = run("--input", tiny(), option, bad.toString(), "--save", keep.toString());
            r.assertOneLineError(1, commandName() + ": ", message);
            if (!damage.equals("missing")) assertTrue(r.err().contains(bad.toString()), "names the file: " + r.err());
            assertArrayEquals(keepBytes, Files.readAllBytes(keep), "the --save target is not touched by a failed run");
        }
    }
}

class MicrogptCliTest extends CliContract {
    TestSupport.Run run(String... args) { return TestSupport.run(Cli::run, new microgpt(), args); }
    String commandName() { return "microgpt"; }
    String formatFixed4(double x) { return Python.format4f(x); }
    String defaultGolden() { return "microgpt_py_default.txt"; }
    double heapNeeded(int n_embd, int vocab_size) { return microgpt.GPT.heap_needed(new Config(1, n_embd, 16, 4), vocab_size); }
    String mainClass() { return microgpt.class.getName(); }
    String[] batchArgs(int threads) { return new String[]{"--batch-size", "3"}; }
    int longRunSteps() { return 1500; }
}

class MicrogptOptimizedCliTest extends CliContract {
    TestSupport.Run run(String... args) { return TestSupport.run(Cli::run, new microgpt_optimized(), args); }
    String commandName() { return "microgpt-optimized"; }
    String formatFixed4(double x) { return Python.format4f(x); }
    String defaultGolden() { return "microgpt_optimized_py_default.txt"; }
    double heapNeeded(int n_embd, int vocab_size) {
        return microgpt_optimized.GPT.heap_needed(new Config(1, n_embd, 16, 4), vocab_size);
    }
    String mainClass() { return microgpt_optimized.class.getName(); }
    String[] batchArgs(int threads) { return new String[]{"--batch-size", "3", "--threads", "" + threads}; }
    int longRunSteps() { return 20000; }
}
