package mgpt;

import static org.junit.jupiter.api.Assertions.*;

import java.io.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.MessageDigest;
import java.util.*;
import java.util.concurrent.Callable;

/** Shared helpers for the test classes: where the fixtures are, golden traces, in-process runs. */
final class TestSupport {
    private TestSupport() { }

    /** The tests/ folder, whether the suite runs from the repo root or from tests/. */
    static final Path TESTS = Files.isDirectory(Path.of("tests", "golden")) ? Path.of("tests") : Path.of(".");

    /** The repository's root, absolute. */
    static final Path REPO = TESTS.toAbsolutePath().normalize().getParent();

    static final String NAMES_SHA256 = "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d";

    static Path golden(String file) { return TESTS.resolve("golden").resolve(file); }

    static Path tinyNames() { return TESTS.resolve("data").resolve("tiny_names.txt"); }

    /** The makemore names.txt that the repository carries (data/names.txt), checked by its sha256. */
    static Path namesTxt() {
        Path p = REPO.resolve("data").resolve("names.txt");
        assertEquals(NAMES_SHA256, sha256(p), p + " is the makemore names.txt of commit 988aa59");
        return p;
    }

    static String sha256(Path p) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (Exception e) { throw new RuntimeException(e); }
    }

    /** A golden trace: the loss of every step, and the sampled names. */
    record Golden(List<Double> losses, List<String> samples) { }

    static Golden readGolden(String file) throws IOException {
        List<Double> losses = new ArrayList<>();
        List<String> samples = new ArrayList<>();
        for (String line : Files.readAllLines(golden(file))) {
            if (line.startsWith("step ")) {
                String[] f = line.split(" ");
                assertEquals(losses.size() + 1, Integer.parseInt(f[1]));
                losses.add(Double.parseDouble(f[3]));
            } else if (line.startsWith("sample ")) {
                samples.add(line.substring(line.indexOf(": ") + 2));
            }
        }
        return new Golden(losses, samples);
    }

    /** The losses of a --loss-log CSV, checking its header and step numbers. */
    static List<Double> readLossLog(Path csv) throws IOException {
        List<String> lines = Files.readAllLines(csv);
        assertEquals("step,loss", lines.get(0));
        List<Double> losses = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).split(",");
            assertEquals(i, Integer.parseInt(f[0]), "step column");
            losses.add(Double.parseDouble(f[1]));
        }
        return losses;
    }

    /** The "sample NN: name" lines of a run's stdout. */
    static List<String> samplesOf(String stdout) {
        List<String> names = new ArrayList<>();
        for (String line : stdout.split("\n", -1))
            if (line.startsWith("sample ")) names.add(line.substring(line.indexOf(": ") + 2));
        return names;
    }

    static void assertRelClose(List<Double> expected, List<Double> actual, double rel, String what) {
        assertEquals(expected.size(), actual.size(), what + ": number of steps");
        for (int i = 0; i < expected.size(); i++) {
            double e = expected.get(i), a = actual.get(i);
            double err = Math.abs(a - e) / Math.abs(e);
            if (!(err <= rel))
                fail(what + ": step " + (i + 1) + " loss " + a + " vs " + e + " (relative error " + err + " > " + rel + ")");
        }
    }

    /** What one in-process run of a command printed, and its exit code. */
    record Run(int exit, String out, String err) {
        /** Bad input: one line on stderr, no stack trace, nothing on stdout. */
        void assertOneLineError(int code, String... fragments) {
            assertOneLineErrorAfter("", code, fragments);
        }

        /** Bad input found after the run printed stdout (no more): one line on stderr, no stack trace. */
        void assertOneLineErrorAfter(String stdout, int code, String... fragments) {
            assertEquals(code, exit, "exit code; stderr was: " + err);
            assertEquals(stdout, out, "stdout");
            assertTrue(err.endsWith("\n") && err.indexOf('\n') == err.length() - 1, "exactly one line on stderr: " + err);
            assertFalse(err.contains("Exception") || err.contains("\tat "), "no stack trace: " + err);
            for (String f : fragments) assertTrue(err.contains(f), "stderr should mention '" + f + "': " + err);
        }
    }

    /** Runs command with args through `runner` in this JVM, capturing stdout and stderr. */
    static synchronized Run run(java.util.function.BiFunction<Callable<Integer>, String[], Integer> runner,
                                Callable<Integer> command, String... args) {
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = runner.apply(command, args);
            System.out.flush();
            System.err.flush();
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    /** Central-difference derivative of f at x. */
    static double numericGrad(java.util.function.DoubleUnaryOperator f, double x) {
        double h = 1e-6 * Math.max(1, Math.abs(x));
        return (f.applyAsDouble(x + h) - f.applyAsDouble(x - h)) / (2 * h);
    }

    static void assertGradClose(double numeric, double analytic, String what) {
        double tol = 1e-6 * Math.max(1, Math.abs(numeric));
        assertEquals(numeric, analytic, tol, what + ": analytic gradient vs finite difference");
    }

    static Path writeFile(Path dir, String name, String content) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, content, StandardCharsets.UTF_8);
        return p;
    }

    /**
     * A run's JVM halted between a checkpoint's loss log (logRows rows on disk) and its model file (still the
     * checkpoint of modelStep); the run resumed from those files ends with the uninterrupted run's whole loss log
     * (full) in part, and its samples.
     */
    static void assertHaltedBetweenTheWritesAndResumed(Process p, Path output, Path part, int logRows, Path ck, int modelStep,
            java.util.function.Supplier<Run> resume, Path full, Run whole) throws Exception {
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(137, p.exitValue(), Files.readString(output));
        assertEquals(logRows, readLossLog(part).size(), "the loss log's checkpoint is on disk");
        assertEquals("" + modelStep, ModelFile.read(ck).meta.get("step"), "the model file is the checkpoint before");
        Run resumed = resume.get();
        assertEquals(0, resumed.exit(), resumed.err());
        assertEquals(Files.readAllLines(full), Files.readAllLines(part), "every step once, every loss to the last bit");
        assertEquals(samplesOf(whole.out()), samplesOf(resumed.out()));
    }

    /** A condition on files that a running process writes. */
    interface Condition { boolean holds() throws IOException; }

    /** Waits, looking every 5 ms, until the condition holds, the process has ended, or a minute has passed. */
    static void awaitWhileAlive(Process p, Condition ready) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!ready.holds() && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(5);
    }

    /** Names of the files in dir, to check that a failed run left nothing behind. */
    static Set<String> listing(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            Set<String> names = new TreeSet<>();
            s.forEach(p -> names.add(p.getFileName().toString()));
            return names;
        }
    }

    /** Tensors of two model files are equal bit for bit. */
    static void assertSameTensors(Path a, Path b, String... names) {
        ModelFile x = ModelFile.read(a), y = ModelFile.read(b);
        assertTrue(names.length > 0);
        for (String name : names) {
            double[] u = (double[]) x.tensors.get(name), v = (double[]) y.tensors.get(name);
            assertNotNull(u, name);
            assertEquals(u.length, v.length, name);
            for (int i = 0; i < u.length; i++)
                assertEquals(Double.doubleToRawLongBits(u[i]), Double.doubleToRawLongBits(v[i]), name + "[" + i + "]");
        }
    }

    /** Writes to bad a copy of the model file good, damaged one way (or, for "missing" and "directory", no file). */
    static void damageModelFile(Path good, Path bad, String damage) throws IOException {
        byte[] bytes = Files.readAllBytes(good);
        int n = (int) java.nio.ByteBuffer.wrap(bytes, 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, n, StandardCharsets.UTF_8);
        byte[] data = Arrays.copyOfRange(bytes, 8 + n, bytes.length);
        switch (damage) {
            case "missing" -> { return; }
            case "directory" -> { Files.createDirectory(bad); return; }
            case "truncated" -> { Files.write(bad, Arrays.copyOf(bytes, 8 + n / 2)); return; }
            case "random bytes" -> {
                byte[] r = new byte[4096];
                new java.util.Random(5).nextBytes(r);
                Files.write(bad, r);
                return;
            }
            case "not JSON" -> header = header.replaceFirst("\\{", "[");
            case "offsets beyond the data" -> header = header.replaceFirst("\"data_offsets\":\\[0,3072\\]", "\"data_offsets\":[0,99999999]");
            case "bytes after the last tensor" -> data = Arrays.copyOf(data, data.length + 8);
            case "overlapping tensors" -> header = header.replaceFirst("\"data_offsets\":\\[3072,5120\\]", "\"data_offsets\":[2048,4096]");
            case "wrong shape" -> header = header.replaceFirst("\"shape\":\\[16,16\\]", "\"shape\":[8,32]");
            case "wrong dtype" -> header = header.replaceFirst("\"F64\"", "\"F16\"");
            case "another format version" -> header = header.replace("\"format_version\":\"1\"", "\"format_version\":\"2\"");
            case "not a microgpt model" -> header = header.replace("\"format\":\"microgpt-checkpoint\"", "\"format\":\"other\"");
            default -> throw new IllegalArgumentException(damage);
        }
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        out.write(java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
        out.write(h);
        out.write(data);
        Files.write(bad, out.toByteArray());
    }
}
