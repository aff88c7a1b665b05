package mgpt;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.*;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;

/**
 * --report FILE.html, the training page: the same data in both engines, nothing else changed by it, written on a
 * stop, and drawn in a real browser (headless Chromium) with no error, every panel drawn, and the step slider
 * changing what the panels show.
 */
class ReportTest {
    static final String[] RUN = {"--steps", "40", "--samples", "4", "--n-layer", "2", "--n-head", "2", "--seed", "5"};

    static TestSupport.Run orig(String... args) { return TestSupport.run(Cli::run, new microgpt(), args); }
    static TestSupport.Run opt(String... args) { return TestSupport.run(Cli::run, new microgpt_optimized(), args); }

    static String[] args(Path dir, String... more) {
        return TestSupport.concat(TestSupport.concat(RUN, "--input", TestSupport.tinyNames().toString()), more);
    }

    /** The page's data: the JSON in its script element of type application/json. */
    static JsonObject data(Path page) throws IOException {
        String html = Files.readString(page, StandardCharsets.UTF_8);
        String open = "<script type=\"application/json\" id=\"training-data\">";
        int from = html.indexOf(open) + open.length(), to = html.indexOf("</script>", from);
        assertTrue(from > open.length() && to > from, "the page holds its data");
        return JsonParser.parseString(html.substring(from, to)).getAsJsonObject();
    }

    /** Every number within 1e-9 relative (or 1e-12 absolute, for numbers near 0), every string and shape equal. */
    static void assertClose(JsonElement a, JsonElement b, String path) {
        if (a.isJsonPrimitive() && a.getAsJsonPrimitive().isNumber()) {
            assertTrue(b.isJsonPrimitive() && b.getAsJsonPrimitive().isNumber(), path);
            double x = a.getAsDouble(), y = b.getAsDouble();
            assertTrue(Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)) + 1e-12, path + ": " + x + " vs " + y);
        } else if (a.isJsonArray()) {
            assertEquals(a.getAsJsonArray().size(), b.getAsJsonArray().size(), path + " size");
            for (int i = 0; i < a.getAsJsonArray().size(); i++) assertClose(a.getAsJsonArray().get(i), b.getAsJsonArray().get(i), path + "[" + i + "]");
        } else if (a.isJsonObject()) {
            assertEquals(a.getAsJsonObject().keySet(), b.getAsJsonObject().keySet(), path + " keys");
            for (String k : a.getAsJsonObject().keySet())
                if (!k.equals("engine") && !k.equals("command")) assertClose(a.getAsJsonObject().get(k), b.getAsJsonObject().get(k), path + "." + k);
        } else {
            assertEquals(a, b, path);
        }
    }

    @Test
    void bothEnginesPagesHoldTheSameData(@TempDir Path tmp) throws IOException {
        Path a = tmp.resolve("a.html"), b = tmp.resolve("b.html");
        assertEquals(0, orig(args(tmp, "--report", a.toString())).exit());
        assertEquals(0, opt(args(tmp, "--report", b.toString(), "--batch-size", "1")).exit());
        JsonObject x = data(a), y = data(b);
        assertClose(x, y, "data");
        assertEquals("microgpt.java", x.get("engine").getAsString());
        assertTrue(x.get("command").getAsString().startsWith("./jbang microgpt.java --steps 40 "), x.get("command").getAsString());
        // the schema of docs/report.md, and what a 2-layer, 2-head model over 40 steps gives
        assertEquals(40, x.getAsJsonArray("loss").size());
        assertEquals(3 + 6 * 2, x.getAsJsonArray("matrices").size());
        assertEquals(x.getAsJsonArray("matrices").size(), x.getAsJsonArray("grad_norm").size());
        assertEquals(40, x.getAsJsonArray("grad_norm").get(0).getAsJsonArray().size());
        JsonArray snapshots = x.getAsJsonArray("snapshots");
        assertEquals(0, snapshots.get(0).getAsJsonObject().get("step").getAsInt());
        assertEquals(40, snapshots.get(snapshots.size() - 1).getAsJsonObject().get("step").getAsInt());
        JsonObject probe = snapshots.get(0).getAsJsonObject().getAsJsonArray("probes").get(0).getAsJsonObject();
        int positions = x.getAsJsonArray("probes").get(0).getAsString().length() + 1;
        assertEquals(positions, probe.getAsJsonArray("logits").size());
        JsonArray head = probe.getAsJsonArray("attention").get(1).getAsJsonArray().get(1).getAsJsonArray(); // layer 1, head 1
        for (int q = 0; q < positions; q++) {
            double sum = 0;
            for (JsonElement w : head.get(q).getAsJsonArray()) sum += w.getAsDouble();
            assertEquals(q + 1, head.get(q).getAsJsonArray().size(), "a query reads itself and what came before");
            assertEquals(1.0, sum, 1e-10, "weights sum to 1 (each written to 12 digits)");
        }
        assertEquals(snapshots.size(), x.getAsJsonArray("embedding").size());
        assertEquals(Math.log(x.getAsJsonArray("vocab").size()), x.get("uniform_loss").getAsDouble(), 1e-15);
    }

    /** The page's numbers: 12 significant digits, valid JSON, parsed back to within 5e-12 relative. */
    @Test
    void numbersKeepTwelveDigits() {
        double[] v = {0, 1, -1, 0.1, 2.5, 123456.789012345, 9.99999999999951, 9.9999999999995, 1e-300, -3.14159265358979e-7, 1e22, 4.9e-324,
                Double.NaN, Double.POSITIVE_INFINITY, Math.log(27), 0.30000000000000004};
        JsonArray parsed = JsonParser.parseString(TrainingReport.json(v)).getAsJsonArray();
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) { assertTrue(parsed.get(i).isJsonNull(), "null for " + v[i]); continue; }
            double back = parsed.get(i).getAsDouble();
            assertTrue(Math.abs(back - v[i]) <= 5e-12 * Math.abs(v[i]), v[i] + " came back as " + back);
        }
        assertEquals("[0,1,-1,1e-1,2.5,1.234e-5]", TrainingReport.json(new double[]{0, 1, -1, 0.1, 2.5, 1.234e-5}));
    }

    /** A sample is in the data, one edit away from a name in it, or new. */
    @Test
    void samplesAreMarkedAgainstTheData() throws IOException {
        TrainingReport r = new TrainingReport(new Config(1, 4, 8, 2), "abemn".codePoints().toArray(), List.of("emma", "anna"), 1, 0, 0, 1,
                0.5, 0.85, "x", "x", random -> "", tokens -> new double[tokens.length][6], () -> new double[272], null, new double[][]{new double[272]}); // 272 parameters: wte, wpe, lm_head and one layer
        r.drain(); // the data's names are read on the report's thread
        assertEquals("data", r.mark("emma"));
        assertEquals("edit", r.mark("ema"));   // a deletion
        assertEquals("edit", r.mark("emmaa")); // an insertion
        assertEquals("edit", r.mark("amma"));  // a substitution
        assertEquals("new", r.mark("bebe"));
    }

    /** Without --report and with it: the same stdout, loss log and model file, to the byte (both engines). */
    @Test
    void theReportChangesNothingElse(@TempDir Path tmp) throws IOException {
        for (boolean optimized : new boolean[]{false, true}) {
            List<byte[]> outputs = new ArrayList<>();
            for (String report : new String[]{null, tmp.resolve("page.html").toString()}) {
                Path log = tmp.resolve("l.csv"), model = tmp.resolve("m.safetensors");
                String[] a = args(tmp, "--loss-log", log.toString(), "--save", model.toString());
                if (report != null) a = TestSupport.concat(a, "--report", report);
                TestSupport.Run r = optimized ? opt(a) : orig(a);
                assertEquals(0, r.exit(), r.err());
                outputs.add(r.out().getBytes(StandardCharsets.UTF_8));
                outputs.add(Files.readAllBytes(log));
                outputs.add(Files.readAllBytes(model));
            }
            for (int k = 0; k < 3; k++) assertArrayEquals(outputs.get(k), outputs.get(k + 3), (optimized ? "optimized " : "") + "output " + k);
        }
    }

    @Test
    void aBadReportPathIsOneLineAndNothingRuns(@TempDir Path tmp) {
        opt(args(tmp, "--report", tmp.resolve("no/such/dir/r.html").toString())).assertOneLineError(2, "--report", "does not exist");
    }

    /** SIGTERM to a run with --report (no --save): it finishes the step, writes the page so far, and exits 143. */
    @Test
    void aStoppedRunWritesItsPage(@TempDir Path tmp) throws Exception {
        Path page = tmp.resolve("page.html");
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), microgpt_optimized.class.getName(), "--input", TestSupport.tinyNames().toString(),
                "--steps", "1000000", "--report", page.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile()).start();
        // stopped once it has printed a step (a fixed wait could end before training on a busy machine)
        TestSupport.awaitWhileAlive(p, () -> Files.readString(tmp.resolve("out.txt")).contains("| loss"));
        p.destroy();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        String out = Files.readString(tmp.resolve("out.txt"));
        assertEquals(143, p.exitValue(), out);
        assertTrue(out.matches("(?s).*microgpt-optimized: stopped after step \\d+ of 1000000; wrote " + java.util.regex.Pattern.quote(page.toString()) + "\n"), out);
        JsonObject d = data(page);
        JsonArray stepsDone = d.getAsJsonArray("steps");
        int steps = stepsDone.get(stepsDone.size() - 1).getAsInt(), bucket = d.get("bucket").getAsInt();
        assertTrue(steps > 0 && steps < 1000000, "steps so far: " + steps);
        assertEquals(stepsDone.size(), d.getAsJsonArray("loss").size());
        assertEquals((steps + bucket - 1) / bucket, stepsDone.size(), "every step, or averages of " + bucket + " past " + TrainingReport.MAX_POINTS);
        JsonArray snapshots = d.getAsJsonArray("snapshots");
        assertEquals(steps, snapshots.get(snapshots.size() - 1).getAsJsonObject().get("step").getAsInt(), "a snapshot of the last step");
        assertEquals(Set.of("page.html", "out.txt"), TestSupport.listing(tmp));
    }

    // ---- In a browser ---------------------------------------------------------------------------------------------

    static Path chromium() {
        for (String c : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"))
            if (Files.isExecutable(Path.of(c))) return Path.of(c);
        return null;
    }

    /** The page's DOM after its script ran, at `hash`, in headless Chromium; the browser's stderr in errLog. */
    static String dom(Path page, String hash, Path profile, Path errLog) throws Exception {
        List<String> cmd = List.of(chromium().toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0",
                "--user-data-dir=" + profile, "--dump-dom", page.toUri() + "#" + hash);
        Process p = new ProcessBuilder(cmd).redirectError(errLog.toFile()).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium finished");
        return out;
    }

    @Test
    void thePageDrawsEveryPanelInABrowserAndTheSliderMovesThem(@TempDir Path tmp) throws Exception {
        if (chromium() == null) {
            System.out.println("SKIP ReportTest > the browser test: no Chromium here; install it with 'apt-get install chromium' (CI does)");
            Assumptions.abort("no Chromium: apt-get install chromium");
        }
        Path page = tmp.resolve("page.html");
        assertEquals(0, opt(args(tmp, "--report", page.toString())).exit());
        Map<String, String> doms = new LinkedHashMap<>();
        for (String step : List.of("0", "20", "40")) {
            Path err = tmp.resolve("chromium-" + step + ".log");
            String dom = dom(page, "step=" + step + "&probe=1&temperature=0.7", tmp.resolve("profile"), err);
            doms.put(step, dom);
            int error = dom.indexOf("data-error=");
            assertEquals(-1, error, () -> "no script error: " + dom.substring(error, Math.min(dom.length(), error + 300)));
            String log = Files.readString(err);
            assertFalse(log.contains("Uncaught") || log.contains(":ERROR:CONSOLE"), "console: " + log);
            for (String panel : List.of("loss", "samples", "attention", "next", "embedding", "gradients", "settings"))
                assertTrue(dom.contains("id=\"panel-" + panel + "\" data-drawn=\"" + step + "\""), panel + " drawn at step " + step);
            assertEquals(TrainingReport.SAMPLES, count(dom, "data-mark=\""), "the names of a snapshot");
            assertEquals(2 * 2, count(dom, "class=\"attn\""), "a grid per layer and head");
            assertEquals(data(page).getAsJsonArray("vocab").size(), count(dom, "class=\"tok\""), "a label per token");
            assertTrue(dom.contains("id=\"loss-cursor\""), "the loss chart's cursor");
            assertTrue(dom.contains("data-step=\"" + step + "\""), "the heatmaps' cursor");
        }
        assertNotEquals(section(doms.get("0"), "samples"), section(doms.get("40"), "samples"), "other names at another step");
        assertNotEquals(section(doms.get("0"), "next"), section(doms.get("40"), "next"), "other probabilities");
        assertNotEquals(section(doms.get("20"), "embedding"), section(doms.get("40"), "embedding"), "embeddings moved");
    }

    static int count(String s, String part) { return s.split(java.util.regex.Pattern.quote(part), -1).length - 1; }

    static String section(String dom, String panel) {
        int from = dom.indexOf("id=\"panel-" + panel + "\"");
        return dom.substring(from, dom.indexOf("</section>", from));
    }
}
