import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
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

    /** Model size options needing more than the tests' 2 GiB heap and less than this machine's memory (24 GiB). */
    abstract String[] tooLargeForTheTestHeap();

    /** The engine's loadDocs(path, downloadIfMissing). */
    abstract List<String> loadDocs(Path path, boolean downloadIfMissing);

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
        TestSupport.Run r = run(TestSupport.concat(tooLargeForTheTestHeap(), "--input", TestSupport.tinyNames().toString(), "--steps", "1"));
        r.assertOneLineErrorAfter("num docs: 64\nvocab size: 24\n", 1, commandName() + ": this model needs about ", "more than this JVM's limit of ",
                " GiB; give Java more heap (./jbang --runtime-option=-Xmx", "g " + commandName().replace('-', '_') + ".java ...) "
                + "or choose a smaller model");
    }

    @Test
    void aModelThatCannotFitIsRefusedBeforeAllocating() { // after the data (the vocabulary sets the size), before the model
        // --n-embd 16384: ~3.2e9 parameters
        TestSupport.Run r = run("--input", TestSupport.tinyNames().toString(), "--n-embd", "16384", "--steps", "1");
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

    // ---- Data download, against a local server (never the network) ---------------------------

    @Test
    void missingDefaultInputIsDownloadedThroughATemporaryFile(@TempDir Path tmp) throws IOException {
        byte[] body = Files.readAllBytes(TestSupport.tinyNames());
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/names.txt", ex -> {
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/names.txt";
        System.setProperty("microgpt.namesUrl", url);
        try {
            Path target = tmp.resolve("input.txt");
            TestSupport.Run r = TestSupport.run((c, a) -> loadDocs(target, true).size(), null);
            assertEquals(64, r.exit());
            assertTrue(r.err().contains("downloading " + url), r.err());
            assertArrayEquals(body, Files.readAllBytes(target));
            assertEquals(Set.of("input.txt"), TestSupport.listing(tmp), "no temporary file left");
        } finally {
            System.clearProperty("microgpt.namesUrl");
            server.stop(0);
        }
    }

    @Test
    void failedDownloadNamesTheUrlAndTheFix(@TempDir Path tmp) throws IOException {
        String url = "http://127.0.0.1:9/names.txt"; // the discard port: connection refused
        System.setProperty("microgpt.namesUrl", url);
        try {
            TestSupport.Run r = TestSupport.run((c, a) -> {
                RuntimeException e = assertThrows(RuntimeException.class, () -> loadDocs(tmp.resolve("input.txt"), true));
                assertEquals("UserError", e.getClass().getSimpleName(), "a user error, not a crash");
                System.err.println(e.getMessage());
                return 1;
            }, null);
            assertEquals(1, r.exit());
            String[] lines = r.err().split("\n");
            assertEquals(2, lines.length, r.err());
            assertEquals("downloading " + url + " to " + tmp.resolve("input.txt") + " ...", lines[0]);
            assertTrue(lines[1].startsWith("could not download " + url) && lines[1].endsWith(
                    "put a names file at " + tmp.resolve("input.txt") + " or pass --input FILE"), lines[1]);
            assertEquals(Set.of(), TestSupport.listing(tmp), "no input.txt and no temporary file");
        } finally {
            System.clearProperty("microgpt.namesUrl");
        }
    }
}

class MicrogptCliTest extends CliContract {
    TestSupport.Run run(String... args) { return TestSupport.run(microgpt::run, new microgpt(), args); }
    String commandName() { return "microgpt"; }
    String formatFixed4(double x) { return microgpt.formatFixed4(x); }
    String defaultGolden() { return "microgpt_py_default.txt"; }
    String[] tooLargeForTheTestHeap() { return new String[]{"--n-embd", "256", "--n-layer", "2", "--block-size", "32"}; } // ~8 GB
    List<String> loadDocs(Path path, boolean download) { return microgpt.loadDocs(path, download); }
}

class MicrogptOptimizedCliTest extends CliContract {
    TestSupport.Run run(String... args) { return TestSupport.run(microgpt_optimized::run, new microgpt_optimized(), args); }
    String commandName() { return "microgpt-optimized"; }
    String formatFixed4(double x) { return microgpt_optimized.formatFixed4(x); }
    String defaultGolden() { return "microgpt_optimized_py_default.txt"; }
    String[] tooLargeForTheTestHeap() { return new String[]{"--n-embd", "1024", "--n-layer", "4", "--block-size", "64"}; } // ~6 GB
    List<String> loadDocs(Path path, boolean download) { return microgpt_optimized.loadDocs(path, download); }
}
