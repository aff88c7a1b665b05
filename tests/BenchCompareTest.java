import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.*;
import java.util.*;
import java.util.regex.*;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** bench_compare.java: the child-to-parent report, a tiny real run, failing children, bad knobs. */
class BenchCompareTest {

    static TestSupport.Run bench(String... args) {
        return TestSupport.run(microgpt::run, new bench_compare(), args);
    }

    static final String[] TINY = {"--steps", "2", "--reps", "1", "--infer-samples", "2", "--warmup", "0"};

    static String[] tiny(String... more) {
        List<String> a = new ArrayList<>(List.of("--input", TestSupport.tinyNames().toString()));
        a.addAll(List.of(TINY));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    @Test
    void reportRoundTrips() {
        bench_compare.Report r = new bench_compare.Report("train-steps", "MOD_FLAT", 4242, 3,
                new double[]{0.1, 1.5e-7, 3.0}, 123456789012L, 5L << 30, -77, -4096, 1L << 33, 3.356922085493591);
        bench_compare.Report back = bench_compare.Report.parse(r.toLine());
        assertEquals(r.toLine(), back.toLine());
        assertArrayEquals(r.seconds(), back.seconds());
        assertEquals(r.checksum(), back.checksum());
        assertEquals(-4096, back.rss_delta_bytes());
        assertEquals(1.5e-7, back.min());
        assertEquals(0.1, back.median());
        assertThrows(IllegalArgumentException.class, () -> bench_compare.Report.parse("something else"));
    }

    @Test
    void tinyRunProducesEveryRowInItsOwnJvm(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("bench.json");
        TestSupport.Run r = bench(tiny("--json", json.toString()));
        assertEquals(0, r.exit(), r.err());
        String[] rows = {"Tokenization ORIG", "Tokenization MOD", "KV alloc ORIG", "KV alloc MOD", "KV alloc MOD_FLAT",
                "Loss ORIG", "Loss MOD", "Train steps ORIG", "Train steps MOD", "Train steps MOD_FLAT",
                "Inference ORIG", "Inference MOD", "Inference MOD_FLAT"};
        for (int i = 0; i < rows.length; i++) {
            assertTrue(r.err().contains("[" + (i + 1) + "/13] " + rows[i] + " ..."), "progress for " + rows[i] + ": " + r.err());
            assertTrue(r.out().contains("\n" + rows[i] + " "), "table row " + rows[i]);
        }
        assertFalse(r.out().contains("FAILED"));
        assertFalse(r.out().contains(" NO ("), "every variant computes what ORIG computes:\n" + r.out());
        assertTrue(r.out().contains("Train steps MOD/ORIG"), r.out());

        String text = Files.readString(json);
        for (String key : List.of("\"config\"", "\"jvm\"", "\"version\"", "\"args\"", "\"results\"", "\"steps\": 2", "\"reps\": 1"))
            assertTrue(text.contains(key), key + " in " + text);
        Matcher m = Pattern.compile("\\{\"name\": \"([^\"]+)\", \"area\": \"[a-z-]+\", \"variant\": \"[A-Z_]+\", \"pid\": (\\d+), "
                + "\"reps\": 1, \"seconds_median\": [0-9.E-]+, \"seconds_min\": [0-9.E-]+, \"seconds_max\": [0-9.E-]+, "
                + "\"allocated_bytes\": \\d+, \"heap_peak_bytes\": \\d+, \"heap_delta_bytes\": -?\\d+, "
                + "\"rss_delta_bytes\": -?\\d+, \"rss_peak_bytes\": -?\\d+, \"checksum\": [0-9.E-]+\\}").matcher(text);
        List<String> names = new ArrayList<>();
        Set<String> pids = new HashSet<>();
        while (m.find()) { names.add(m.group(1)); pids.add(m.group(2)); }
        assertEquals(List.of(rows), names);
        assertEquals(13, pids.size(), "13 distinct child pids");
        assertFalse(pids.contains(String.valueOf(ProcessHandle.current().pid())));
        assertEquals(Set.of("bench.json"), TestSupport.listing(tmp), "no temporary file left");
    }

    @Test
    void childThatCannotStartIsReportedAsFailed(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("b.json");
        TestSupport.Run r = bench(tiny("--areas", "loss", "--jvm-args", "-XX:+NoSuchJvmOption", "--json", json.toString()));
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("Loss ORIG              FAILED: exit code 1"), r.out());
        assertTrue(r.out().contains("Loss MOD               FAILED: exit code 1"), r.out());
        assertTrue(r.err().contains("NoSuchJvmOption") && r.err().contains("2 of 2 rows failed"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
        String text = Files.readString(json);
        assertTrue(text.contains("\"failed\": true, \"reason\": \"exit code 1"), text);
    }

    @Test
    void childThatRunsOutOfMemoryIsReportedAsFailed(@TempDir Path tmp) throws IOException {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < 200_000; i++) names.append("name").append(Integer.toString(i, 26)).append('\n');
        Path big = TestSupport.writeFile(tmp, "big.txt", names.toString()); // ~12 MB of documents once loaded
        TestSupport.Run r = bench("--input", big.toString(), "--areas", "kv-alloc", "--steps", "1", "--reps", "1",
                "--warmup", "0", "--jvm-args", "-Xmx8m -XX:+UseSerialGC");
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("KV alloc ORIG          FAILED: out of memory: "), r.out());
        assertTrue(r.out().contains("OutOfMemoryError"), r.out());
    }

    @Test
    void childThatTakesTooLongIsStoppedAndTheOthersStillRun() {
        TestSupport.Run r = bench(tiny("--areas", "kv-alloc,loss", "--timeout", "0.05"));
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("KV alloc ORIG          FAILED: timed out after 0.05 s"), r.out());
        assertTrue(r.err().contains("[5/5] Loss MOD ..."), "every row was tried: " + r.err());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--reps 0|--reps must be at least 1",
        "--warmup -1|--warmup must be 0 or more",
        "--steps 0|--steps must be at least 1",
        "--infer-samples 0|--infer-samples must be at least 1",
        "--areas loss,bogus|unknown area 'bogus' in --areas; choose from tokenization, kv-alloc, loss, train-steps, inference",
        "--n-embd 10|--n-embd (10) must be divisible by --n-head (4)",
        "--timeout 0|--timeout must be a number of seconds > 0",
        "--reps x|'x' is not an int",
        "--json /no/such/dir/b.json|--json /no/such/dir/b.json: folder /no/such/dir does not exist",
        "--frobnicate|Unknown option: '--frobnicate'",
    })
    void badKnobsAreUsageErrors(String args, String message) {
        List<String> argv = new ArrayList<>(List.of("--input", TestSupport.tinyNames().toString()));
        argv.addAll(List.of(args.split(" ")));
        TestSupport.Run r = bench(argv.toArray(String[]::new));
        r.assertOneLineError(2, message);
        assertTrue(r.err().startsWith("bench-compare: "), r.err());
    }

    @Test
    void missingInputIsAnInputError(@TempDir Path tmp) {
        bench("--input", tmp.resolve("none.txt").toString()).assertOneLineError(1, "input file not found");
    }

    @Test
    void engineOptionsConstantsMatchTheScriptHeaders() throws IOException {
        Path repo = TestSupport.TESTS.toAbsolutePath().normalize().getParent();
        assertEquals("//JAVA_OPTIONS " + microgpt.JAVA_OPTIONS, javaOptionsLine(repo.resolve("microgpt.java")));
        assertEquals("//JAVA_OPTIONS " + microgpt_optimized.JAVA_OPTIONS, javaOptionsLine(repo.resolve("microgpt_optimized.java")));
    }

    /** The README and the diff of the two engines rely on it: from the RNG on, they are the same text. */
    @Test
    void enginesShareTheirRngAndOutputCodeVerbatim() throws IOException {
        Path repo = TestSupport.TESTS.toAbsolutePath().normalize().getParent();
        String marker = "    // CPython's random module";
        String a = Files.readString(repo.resolve("microgpt.java")), b = Files.readString(repo.resolve("microgpt_optimized.java"));
        assertTrue(a.contains(marker) && b.contains(marker), "both engines have the RNG section");
        assertEquals(a.substring(a.indexOf(marker)), b.substring(b.indexOf(marker)));
    }

    static String javaOptionsLine(Path script) throws IOException {
        return Files.readAllLines(script).stream().filter(l -> l.startsWith("//JAVA_OPTIONS ")).findFirst().orElse("(none)");
    }
}
