package mgpt;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.*;
import java.io.IOException;
import java.io.StringReader;
import java.nio.file.*;
import java.util.*;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.w3c.dom.Document;
import org.xml.sax.InputSource;

/** bench_compare.java: statistics, the child-to-parent report, JSON, the HTML report, real runs, failing children, bad knobs. */
class BenchCompareTest {

    static TestSupport.Run bench(String... args) {
        return TestSupport.run(Cli::run, new bench_compare(), args);
    }

    /** The smallest real run: no warm-up, two measured runs. */
    static String[] tiny(String... more) {
        List<String> a = new ArrayList<>(List.of("--input", TestSupport.tinyNames().toString(), "--steps", "3", "--reps", "2",
                "--infer-samples", "2", "--warmup", "0", "--warmup-time", "0", "--forks", "1"));
        a.addAll(List.of(more));
        return a.toArray(String[]::new);
    }

    static JsonObject parseJson(Path file) throws IOException {
        com.google.gson.stream.JsonReader r = new com.google.gson.stream.JsonReader(new StringReader(Files.readString(file)));
        r.setStrictness(Strictness.STRICT); // NaN, Infinity or a trailing comma would fail here
        return JsonParser.parseReader(r).getAsJsonObject();
    }

    static ChildReport report(String area, String variant, double checksum, double... seconds) {
        return new ChildReport(area, variant, 4242, List.of("-Xmx1g", "-Dx=a b"), 100, 0.5, seconds, 7, true, 0,
                123456789012L, 5L << 30, 2048, 3_000_000, 512, -77, -4096, 1L << 33, checksum, new double[]{3.3, 2.5});
    }

    // ---- statistics ----

    @Test
    void medianAndConfidenceIntervalOfKnownSamples() {
        assertEquals(2.0, Stats.median(new double[]{3, 1, 2}));
        assertEquals(2.5, Stats.median(new double[]{4, 1, 3, 2}));
        // geometric mean of 1, 2, 4 is 2; t(0.975, 2) = 4.302652729911275 on the log-times
        Stats.Interval ci = Stats.geoMeanCi(new double[]{1, 2, 4});
        assertEquals(0.35746212356632706, ci.low(), 1e-10);
        assertEquals(11.189996747327557, ci.high(), 1e-8);
        assertEquals(2.0, Stats.geoMean(new double[]{1, 2, 4}), 1e-15);
        assertTrue(Double.isNaN(Stats.geoMeanCi(new double[]{1}).low()), "one run has no interval");
    }

    @Test
    void ratioConfidenceIntervalAndVerdict() {
        // b = a / 10 with the same spread: Welch's df = 2(n-1) = 6, t(0.975, 6) = 2.4469118511449692
        double[] a = {10, 12, 11, 13}, b = {1.0, 1.2, 1.1, 1.3};
        Stats.RatioCi r = Stats.ratioCi(a, b);
        assertEquals(0.1, r.ratio(), 1e-12);
        assertEquals(0.08225063982772504, r.ci().low(), 1e-10);
        assertEquals(0.12157960133738926, r.ci().high(), 1e-10);
        assertEquals("faster", Stats.verdict(r.ci().low(), r.ci().high()));
        assertEquals("slower", Stats.verdict(1.1, 3));
        assertEquals("no clear difference", Stats.verdict(0.9, 1.2));
        Stats.RatioCi same = Stats.ratioCi(new double[]{2, 2}, new double[]{2, 2});
        assertEquals(new Stats.RatioCi(1, new Stats.Interval(1, 1)), same, "no spread: the interval is the point");
    }

    // ---- the child's report ----

    @Test
    void reportRoundTrips() {
        ChildReport r = report("train-steps", "MOD_FLAT", 3.356922085493591, 0.1, 1.5e-7, 3.0);
        ChildReport back = ChildReport.parse(r.toLine());
        assertEquals(r.toLine(), back.toLine());
        assertArrayEquals(r.seconds(), back.seconds());
        assertEquals(List.of("-Xmx1g", "-Dx=a b"), back.jvm_args());
        assertEquals(-4096, back.rss_delta_bytes());
        assertEquals(1.5e-7, back.min());
        assertEquals(0.1, back.median());
        assertArrayEquals(new double[]{3.3, 2.5}, back.losses());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "not a report|not a report line",
        "BENCH-REPORT {\"area\":\"loss\"}|report has no field 'variant'",
        "BENCH-REPORT garbage|report is not a JSON object: garbage",
    })
    void malformedReportsAreRejectedWithTheReason(String line, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChildReport.parse(line));
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    @Test
    void aMalformedChildReportFailsOnlyItsRow(@TempDir Path tmp) throws Exception {
        String good = report("loss", "ORIG", 1.5, 0.2, 0.21).toLine();
        String bad = report("loss", "MOD", 1.5, 0.01, 0.011).toLine().replace("\"seconds\":[0.01,", "\"seconds\":[\"zero\",");
        List<String> jvm = List.of("-Xmx1g");
        Row orig = Row.outcome(Area.LOSS, "ORIG", jvm, 1, 0, "noise\n" + good + "\n", "");
        Row mod = Row.outcome(Area.LOSS, "MOD", jvm, 2, 0, bad + "\n", "");
        Row crashed = Row.outcome(Area.TRAIN_STEPS, "ORIG", jvm, 3, 1, "",
                "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat x.y(z)\n");
        assertTrue(orig.ok());
        assertEquals("malformed report: malformed report field 'seconds': [\"zero\",0.011] (pid 2)", mod.failure());
        assertEquals("exit code 1: Exception in thread \"main\" java.lang.IllegalStateException: boom (pid 3)", crashed.failure());

        List<Row> rows = List.of(orig, mod, crashed);
        assertEquals(List.of(), Ratio.of(rows), "no ratio from a failed row");
        bench_compare b = new bench_compare();
        Path json = tmp.resolve("r.json");
        Files.writeString(json, JsonResults.toJson(b.settings(), rows, Ratio.of(rows)));
        JsonArray results = parseJson(json).getAsJsonArray("results");
        assertEquals(3, results.size());
        assertTrue(results.get(0).getAsJsonObject().get("failed").isJsonNull());
        assertEquals(0.5, results.get(0).getAsJsonObject().get("seconds_first").getAsDouble());
        assertTrue(results.get(1).getAsJsonObject().get("failed").getAsString().startsWith("malformed report"));
        assertTrue(results.get(1).getAsJsonObject().get("seconds_median").isJsonNull());
    }

    @Test
    void forksArePooled() {
        List<String> jvm = List.of("-Xmx1g");
        Row a = new Row(Area.LOSS, "MOD", jvm, 11L, report("loss", "MOD", 2.5, 0.1, 0.3), null);
        ChildReport rb = new ChildReport("loss", "MOD", 12, jvm, 300, 0.9, new double[]{0.2, 0.4}, 3, false, 30,
                100, 7, 9000, 3_000_000, 600, -5, 10, 1L << 34, 2.5, null);
        Row b = new Row(Area.LOSS, "MOD", jvm, 12L, rb, null);
        Row m = Row.merge(List.of(a, b));
        assertTrue(m.ok());
        assertArrayEquals(new double[]{0.1, 0.3, 0.2, 0.4}, m.report().seconds(), "every measured run of every fork");
        assertEquals(0.7, m.report().seconds_first(), 1e-15, "the median of the forks' first runs (0.5 and 0.9)");
        assertArrayEquals(new double[]{0.5, 0.9}, m.firsts());
        assertEquals(List.of(11L, 12L), m.pids());
        assertEquals(3, m.report().warmup_runs());
        assertFalse(m.report().jit_settled(), "settled only if every fork settled");
        assertEquals(30, m.report().jit_cpu_ms(), "the JIT's most CPU time in one fork's measured runs");
        assertEquals(9000, m.report().live_peak_bytes(), "the largest live peak");
        assertEquals((123456789012L + 100) / 2, m.report().allocated_bytes(), "the mean allocation");
        Row c = new Row(Area.LOSS, "MOD", jvm, 13L, report("loss", "MOD", 2.6, 0.1, 0.3), null);
        Row bad = Row.merge(List.of(a, c));
        assertEquals("its forks computed different results (2.5 and 2.6)", bad.failure());
    }

    @Test
    void nanAndInfinitiesStayValidJson(@TempDir Path tmp) throws Exception {
        Row orig = new Row(Area.LOSS, "ORIG", List.of(), 1L,
                report("loss", "ORIG", Double.NaN, 0.2, 0.3), null);
        Row mod = new Row(Area.LOSS, "MOD", List.of(), 2L,
                report("loss", "MOD", Double.POSITIVE_INFINITY, 0.1, 0.1), null);
        List<Row> rows = List.of(orig, mod);
        List<Ratio> ratios = Ratio.of(rows);
        Path json = tmp.resolve("nan.json");
        Files.writeString(json, JsonResults.toJson(new bench_compare().settings(), rows, ratios));
        JsonObject root = parseJson(json);
        assertTrue(root.getAsJsonArray("results").get(0).getAsJsonObject().get("checksum").isJsonNull());
        assertTrue(root.getAsJsonArray("results").get(1).getAsJsonObject().get("checksum").isJsonNull());
        JsonObject ratio = root.getAsJsonArray("ratios").get(0).getAsJsonObject();
        assertTrue(ratio.get("same_result").isJsonNull(), "a NaN checksum is not a result that was checked");
        assertEquals(1.0, ratio.get("alloc_ratio").getAsDouble(), "the other numbers are still there");
    }

    @Test
    void aRowWhoseJitRanDuringTheMeasuredRunsIsMarked() {
        List<String> jvm = List.of("-Xmx1g");
        ChildReport busy = new ChildReport("loss", "MOD", 12, jvm, 300, 0.9, new double[]{0.2, 0.4}, 3, true, 40,
                100, 7, 9000, 3_000_000, 600, -5, 10, 1L << 34, 2.5, null);
        List<Row> rows = List.of(new Row(Area.LOSS, "ORIG", jvm, 11L, report("loss", "ORIG", 2.5, 0.1, 0.3), null),
                new Row(Area.LOSS, "MOD", jvm, 12L, busy, null));
        var text = new java.io.ByteArrayOutputStream();
        Tables.print(new java.io.PrintStream(text, true, java.nio.charset.StandardCharsets.UTF_8), new bench_compare().settings(), rows, Ratio.of(rows));
        String out = text.toString(java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(out.matches("(?s).*\nLoss ORIG .* 7\n.*"), "a quiet row unmarked: " + out);
        assertTrue(out.matches("(?s).*\nLoss MOD .* 3\\+\n.*"), "the busy row marked: " + out);
        assertTrue(out.contains("+ the JIT's threads ran during the measured runs (at most 40 ms of CPU in one JVM)"), out);
    }

    @Test
    void numbersPrintTheSameInEveryLocale() {
        Locale old = Locale.getDefault();
        try {
            Locale.setDefault(Locale.GERMANY);
            assertEquals("1.50 ms", Tables.seconds(0.0015));
            assertEquals("1.5 KiB", Tables.bytes(1536));
            assertEquals("0.125", Tables.ratio(0.125));
        } finally {
            Locale.setDefault(old);
        }
    }

    // ---- real runs ----

    static final String[] ROWS = {"Tokenization ORIG", "Tokenization MOD", "KV alloc ORIG", "KV alloc MOD", "KV alloc MOD_FLAT",
            "Loss ORIG", "Loss MOD", "Train steps ORIG", "Train steps MOD", "Train steps MOD_FLAT",
            "Inference ORIG", "Inference MOD", "Inference MOD_FLAT"};

    @Test
    void tinyRunProducesEveryRowInItsOwnJvmWithValidJsonAndReport(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("bench.json"), html = tmp.resolve("bench.html");
        TestSupport.Run r = bench(tiny("--json", json.toString(), "--report", html.toString()));
        for (Path written : List.of(json, html))
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(written)),
                    "readable by all, as the model files");
        assertEquals(0, r.exit(), r.err());
        for (int i = 0; i < ROWS.length; i++) {
            assertTrue(r.err().contains("[" + (i + 1) + "/13] " + ROWS[i] + " ... cold "), "progress for " + ROWS[i] + ": " + r.err());
            assertTrue(r.out().contains("\n" + ROWS[i] + " "), "table row " + ROWS[i]);
        }
        assertFalse(r.out().contains("FAILED"));
        assertTrue(r.out().contains("mode: same-jvm"), r.out());

        JsonObject root = parseJson(json);
        assertEquals("same-jvm", root.get("mode").getAsString());
        assertEquals(3, root.getAsJsonObject("config").get("steps").getAsInt());
        assertEquals(1, root.getAsJsonObject("config").get("threads").getAsInt(), "MOD's threads: the engine's default for one document");
        assertTrue(r.out().contains(" threads=1 "), r.out());
        JsonArray results = root.getAsJsonArray("results");
        assertEquals(13, results.size());
        Set<Long> pids = new HashSet<>();
        Map<String, Integer> work = Map.of("tokenization", 2000, "kv-alloc", 800, "loss", 300, "train-steps", 3, "inference", 2);
        for (int i = 0; i < 13; i++) {
            JsonObject o = results.get(i).getAsJsonObject();
            assertEquals(ROWS[i], o.get("name").getAsString());
            for (String key : List.of("area", "variant", "pid", "jvm_args", "work_per_run", "reps", "seconds_first", "seconds_median",
                    "seconds_min", "seconds_max", "seconds_ci_low", "seconds_ci_high", "allocated_bytes", "heap_peak_bytes",
                    "live_peak_bytes", "heap_delta_bytes", "rss_delta_bytes", "rss_peak_bytes", "checksum", "failed"))
                assertTrue(o.has(key), ROWS[i] + " has " + key);
            assertTrue(o.get("failed").isJsonNull());
            assertEquals(work.get(o.get("area").getAsString()), o.get("work_per_run").getAsInt());
            assertEquals(2, o.get("reps").getAsInt());
            double min = o.get("seconds_min").getAsDouble(), max = o.get("seconds_max").getAsDouble();
            double median = o.get("seconds_median").getAsDouble();
            assertTrue(0 < min && min <= median && median <= max, o.toString());
            assertTrue(o.get("seconds_ci_low").getAsDouble() <= o.get("seconds_ci_high").getAsDouble());
            assertTrue(o.get("heap_peak_bytes").getAsLong() <= 1L << 30,
                    "heap peak within the child's 1 GiB heap: " + o);
            List<String> jvmArgs = new ArrayList<>();
            o.getAsJsonArray("jvm_args").forEach(e -> jvmArgs.add(e.getAsString()));
            assertTrue(jvmArgs.containsAll(bench_compare.SAME_JVM_OPTIONS), "same-jvm options recorded: " + jvmArgs);
            pids.add(o.get("pid").getAsLong());
        }
        assertEquals(13, pids.size(), "13 distinct child pids");
        assertFalse(pids.contains(ProcessHandle.current().pid()));

        JsonArray ratios = root.getAsJsonArray("ratios");
        assertEquals(8, ratios.size());
        for (JsonElement e : ratios) {
            JsonObject q = e.getAsJsonObject();
            assertTrue(q.get("same_result").getAsBoolean(), "every variant computes what ORIG computes: " + q);
            assertTrue(Set.of("faster", "slower", "no clear difference").contains(q.get("verdict").getAsString()));
            for (String key : List.of("area", "variant", "time_ratio", "time_ratio_ci_low", "time_ratio_ci_high", "alloc_ratio", "live_peak_ratio"))
                assertTrue(q.has(key), key);
        }
        JsonObject train = results.get(7).getAsJsonObject(), trainMod = results.get(8).getAsJsonObject();
        assertEquals(3, train.getAsJsonArray("losses").size());
        for (int i = 0; i < 3; i++)
            assertEquals(train.getAsJsonArray("losses").get(i).getAsDouble(), trainMod.getAsJsonArray("losses").get(i).getAsDouble(), 1e-12);

        // the report: well-formed (it parses as XML), self-contained (no scripts, nothing fetched), with its charts
        String page = Files.readString(html);
        Document doc = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(page)));
        assertEquals("html", doc.getDocumentElement().getTagName());
        assertEquals(4, doc.getElementsByTagName("svg").getLength(), "speed-ups, times, memory, losses");
        assertEquals(0, doc.getElementsByTagName("script").getLength());
        assertEquals(0, doc.getElementsByTagName("link").getLength());
        assertFalse(page.contains("http://") || page.contains("https://") || page.contains("url(") || page.contains("@import"), "nothing fetched");
        assertEquals(3, page.split("<polyline", -1).length - 1, "a loss curve per train-steps row");
        assertTrue(page.contains("MOD lies on ORIG"), "the loss curves' agreement is stated");
        assertEquals(Set.of("bench.json", "bench.html"), TestSupport.listing(tmp), "no temporary file left");
    }

    @Test
    void asShippedModeRecordsEachEnginesOwnOptions(@TempDir Path tmp) throws Exception {
        Path json = tmp.resolve("s.json");
        TestSupport.Run r = bench(tiny("--areas", "loss", "--as-shipped", "--jvm-args", "-Dbench.test=1", "--json", json.toString()));
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("mode: as-shipped"), r.out());
        JsonObject root = parseJson(json);
        assertEquals("as-shipped", root.get("mode").getAsString());
        JsonArray results = root.getAsJsonArray("results");
        List<String> orig = new ArrayList<>(), mod = new ArrayList<>();
        results.get(0).getAsJsonObject().getAsJsonArray("jvm_args").forEach(e -> orig.add(e.getAsString()));
        results.get(1).getAsJsonObject().getAsJsonArray("jvm_args").forEach(e -> mod.add(e.getAsString()));
        List<String> expectOrig = new ArrayList<>(List.of(microgpt.JAVA_OPTIONS.split(" ")));
        expectOrig.add("-Dbench.test=1");
        List<String> expectMod = new ArrayList<>(List.of(microgpt_optimized.JAVA_OPTIONS.split(" ")));
        expectMod.add("-Dbench.test=1");
        assertEquals(expectOrig, orig);
        assertEquals(expectMod, mod);
        assertTrue(r.out().contains("jvm options (ORIG): " + microgpt.JAVA_OPTIONS + " -Dbench.test=1"), r.out());
        // and what a long run does instead (CHANGE 15), which no row's child is
        assertTrue(r.out().contains("long runs (MOD): a run of microgpt_optimized.java whose steps x batch size x layers x width^2 "
                + "reach 3e+06 restarts in a JVM without -XX:TieredStopAtLevel=1"), r.out());
        assertEquals(bench_compare.LONG_RUNS, root.getAsJsonObject("jvm").get("mod_long_runs").getAsString());
    }

    @Test
    void childThatCannotStartIsReportedAsFailed(@TempDir Path tmp) throws IOException {
        Path json = tmp.resolve("b.json");
        TestSupport.Run r = bench(tiny("--areas", "loss", "--jvm-args", "-XX:+NoSuchJvmOption", "--json", json.toString()));
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("Loss ORIG             FAILED: exit code 1"), r.out());
        assertTrue(r.out().contains("Loss MOD              FAILED: exit code 1"), r.out());
        assertTrue(r.err().contains("NoSuchJvmOption") && r.err().contains("2 of 2 rows failed"), r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace");
        JsonObject o = parseJson(json).getAsJsonArray("results").get(0).getAsJsonObject();
        assertTrue(o.get("failed").getAsString().startsWith("exit code 1: Unrecognized VM option 'NoSuchJvmOption'"), o.toString());
    }

    @Test
    void aJvmThatRefusesItsOptionsIsReportedWithItsOwnWords() { // HotSpot prints these on stdout, not stderr
        TestSupport.Run r = bench(tiny("--areas", "loss", "--jvm-args", "-XX:+UseParallelGC")); // besides the mode's -XX:+UseSerialGC
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("Loss ORIG             FAILED: exit code 1: Error occurred during initialization of VM: "
                + "Multiple garbage collectors selected (pid "), r.out());
    }

    @Test
    void childThatRunsOutOfMemoryIsReportedAsFailedInOneLine(@TempDir Path tmp) throws IOException {
        StringBuilder names = new StringBuilder();
        for (int i = 0; i < 200_000; i++) names.append("name").append(Integer.toString(i, 26)).append('\n');
        Path big = TestSupport.writeFile(tmp, "big.txt", names.toString()); // ~12 MB of documents once loaded
        TestSupport.Run r = bench("--input", big.toString(), "--areas", "kv-alloc", "--steps", "1", "--reps", "2",
                "--warmup", "0", "--warmup-time", "0", "--jvm-args", "-Xms8m -Xmx8m");
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("KV alloc ORIG         FAILED: out of memory: "), r.out());
        assertTrue(r.out().contains("give the children more heap with --jvm-args -Xmx"), r.out());
    }

    @Test
    void childThatTakesTooLongIsStoppedAndTheOthersStillRun() {
        TestSupport.Run r = bench(tiny("--areas", "kv-alloc,loss", "--timeout", "0.05"));
        assertEquals(1, r.exit());
        assertTrue(r.out().contains("KV alloc ORIG         FAILED: timed out after 0.05 s"), r.out());
        assertTrue(r.err().contains("[5/5] Loss MOD ..."), "every row was tried: " + r.err());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "--reps 1|--reps must be at least 2, for a confidence interval",
        "--forks 0|--forks must be at least 1",
        "--threads 0|--threads must be at least 1 (got 0)",
        "--warmup -1|--warmup must be 0 or more",
        "--warmup-time -1|--warmup-time must be a number of seconds, 0 or more",
        "--steps 0|--steps must be at least 1",
        "--infer-samples 0|--infer-samples must be at least 1",
        "--areas loss,bogus|unknown area 'bogus' in --areas; choose from tokenization, kv-alloc, loss, train-steps, inference",
        "--n-embd 10|--n-embd (10) must be divisible by --n-head (4)",
        "--timeout 0|--timeout must be a number of seconds > 0",
        "--reps x|'x' is not an int",
        "--json /no/such/dir/b.json|--json /no/such/dir/b.json: folder /no/such/dir does not exist",
        "--report /no/such/dir/b.html|--report /no/such/dir/b.html: folder /no/such/dir does not exist",
        "--engine-options|Unknown option: '--engine-options'",
    })
    void badKnobsAreUsageErrors(String args, String message) {
        List<String> argv = new ArrayList<>(List.of("--input", TestSupport.tinyNames().toString()));
        argv.addAll(List.of(args.split(" ")));
        TestSupport.Run r = bench(argv.toArray(String[]::new));
        r.assertOneLineError(2, message);
        assertTrue(r.err().startsWith("bench-compare: "), r.err());
    }

    @Test
    void helpIsCleanAndSaysWhatWarmUpIs() {
        TestSupport.Run r = bench("--help");
        assertEquals(0, r.exit());
        assertEquals("", r.err(), "no picocli warning");
        String help = r.out().replaceAll("\\s+", " ");
        assertTrue(help.contains("95% confidence intervals"), r.out());
        assertTrue(help.contains("then warm-up runs until at least --warmup runs and --warmup-time seconds have passed "
                + "and the JIT has been quiet (no compilation finished, its threads used no CPU) for 0.5 s"), r.out());
    }

    @Test
    void missingInputIsAnInputError(@TempDir Path tmp) {
        bench("--input", tmp.resolve("none.txt").toString()).assertOneLineError(1, "input file not found");
    }

    @Test
    void engineOptionsConstantsMatchTheScriptHeaders() throws IOException {
        Path repo = TestSupport.REPO;
        assertEquals("//JAVA_OPTIONS " + microgpt.JAVA_OPTIONS, javaOptionsLine(repo.resolve("microgpt.java")));
        assertEquals("//JAVA_OPTIONS " + microgpt_optimized.JAVA_OPTIONS, javaOptionsLine(repo.resolve("microgpt_optimized.java")));
        assertEquals(String.join(" ", bench_compare.SAME_JVM_OPTIONS), bench_compare.SAME_JVM_OPTIONS_TEXT);
    }

    @Test
    void testsRunInTheJvmRunTestsChoseForThem() {
        List<String> args = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        assertTrue(args.containsAll(RunTests.TEST_JVM_OPTIONS), "the forked test JVM's options: " + args);
        assertFalse(args.contains("-XX:TieredStopAtLevel=1"), "no engine option leaks into the tests: " + args);
    }

    static String javaOptionsLine(Path script) throws IOException {
        return Files.readAllLines(script).stream().filter(l -> l.startsWith("//JAVA_OPTIONS ")).findFirst().orElse("(none)");
    }
}
