package mgpt;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.file.*;
import java.util.*;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** support/: CPython's random, Python's formats, the bundled dataset, the resume command's quoting. */
class SupportTest {

    // ---- Prefetch: the input read while picocli parses (CHANGE 18) ------------------------------

    /** It reads the file the words name, and only a run that asks for that very file gets what it made. */
    @Test
    void aPrefetchServesOnlyTheFileItRead(@TempDir Path tmp) throws Exception {
        Path names = TestSupport.writeFile(tmp, "names.txt", "anna\nbob\n"), other = TestSupport.writeFile(tmp, "other.txt", "x\n");
        for (String[] args : List.of(new String[]{"--steps", "3", "--input", names.toString()}, new String[]{"--input=" + names})) {
            Prefetch<List<String>> p = Prefetch.input(args, microgpt_optimized::splitDocs);
            assertEquals(List.of("anna", "bob"), p.get(names));
            assertNull(p.get(other), "another file is read by the run itself");
        }
        assertNull(Prefetch.input(new String[]{"--input", tmp.resolve("missing.txt").toString()}, microgpt_optimized::splitDocs),
                "a missing file: the run writes the bundled names or says it is missing, itself");
        Path bad = tmp.resolve("bad.txt");
        Files.write(bad, new byte[]{'a', (byte) 0xff, '\n'});
        assertNull(Prefetch.input(new String[]{"--input", bad.toString()}, microgpt_optimized::splitDocs).get(bad),
                "not UTF-8: the run reads it again and reports it in its place");
    }

    // ---- Python's random, against values printed by CPython 3.11.7 ----------------------------

    @Test
    void randomMatchesCPython() {
        assertEquals(0.6394267984578837, new PyRandom(42).random());
        Map<Long, double[]> first3 = Map.of(
                42L, new double[]{0.6394267984578837, 0.025010755222666936, 0.27502931836911926},
                0L, new double[]{0.8444218515250481, 0.7579544029403025, 0.420571580830845},
                3L, new double[]{0.23796462709189137, 0.5442292252959519, 0.36995516654807925},
                4294967301L, new double[]{0.15727238718789782, 0.2824866316461999, 0.6044540318498407},
                -7L, new double[]{0.32383276483316237, 0.15084917392450192, 0.6509344730398537},
                123456789L, new double[]{0.6414006161858726, 0.5421892680969495, 0.9931750662832721});
        first3.forEach((seed, expected) -> {
            PyRandom r = new PyRandom(seed);
            for (double e : expected) assertEquals(e, r.random(), "seed " + seed);
        });
    }

    /** After three random() calls: getrandbits, shuffle, gauss (both halves), choices, randbelow. */
    @ParameterizedTest(name = "seed {0}")
    @CsvSource(delimiter = ';', value = {
        "42;0 17 1581559892 440213415;3 2 4 9 5 7 0 6 1 8;-0.11765489373981906 -0.04765088975878765 -0.025122273289252452;-0.48915600192618824;2 2 4 3 2 2 2 2;24 10 3 2 12",
        "0;0 123 1097954097 2087043557;9 0 3 5 1 8 2 7 4 6;0.004048669156289424 -0.11096784363465002 -0.0005582089841047699;5.886438969347654;4 4 4 2 3 4 3 2;3 11 13 10 19",
        "3;1 60 1343724115 2494740733;8 3 6 5 9 4 2 7 0 1;-0.09771641704340739 -0.025727677701143908 -0.12687769647028152;3.892969835135387;2 2 4 2 0 3 2 4;1 9 24 0 26",
        "4294967301;0 45 1348137722 735810335;0 6 9 4 1 8 2 3 5 7;0.04674742003683743 -0.10167280848190834 0.014618519226993771;-2.226716419333564;2 4 4 2 2 3 4 4;13 16 7 17 13",
        "-7;0 105 1150797845 404285457;1 2 9 4 7 6 8 3 0 5;0.07080449476123335 0.045380125331386405 0.01909789031259433;0.5893138571395021;2 3 4 2 2 4 0 4;9 13 4 17 3",
        "123456789;1 117 1743185331 2585712915;5 0 1 9 2 8 3 7 4 6;-0.10897992927081342 -0.21487283708451949 -0.006831939436646367;2.766767796341907;3 2 4 4 2 2 4 2;12 21 24 1 0",
    })
    void rngSequenceMatchesCPython(long seed, String bits, String shuffled, String gauss3, double gaussShifted,
                                   String choices, String below) {
        PyRandom r = new PyRandom(seed);
        for (int i = 0; i < 3; i++) r.random();
        int[] ks = {1, 7, 31, 32};
        long[] expectedBits = Arrays.stream(bits.split(" ")).mapToLong(Long::parseLong).toArray();
        for (int i = 0; i < ks.length; i++) assertEquals(expectedBits[i], r.getrandbits(ks[i]), "getrandbits(" + ks[i] + ")");
        List<Integer> x = new ArrayList<>(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
        r.shuffle(x);
        assertEquals(shuffled, x.stream().map(String::valueOf).reduce((a, b) -> a + " " + b).orElseThrow());
        // gauss x3 uses a fresh pair, its cached half, then a fresh pair; the 4th call is the cached half
        for (String g : gauss3.split(" ")) assertEquals(Double.parseDouble(g), r.gauss(0, 0.08));
        assertEquals(gaussShifted, r.gauss(1.5, 2));
        double[] weights = {0.1, 0.0, 0.5, 0.2, 0.2};
        for (String c : choices.split(" ")) assertEquals(Integer.parseInt(c), r.choices(weights));
        for (String b : below.split(" ")) assertEquals(Integer.parseInt(b), r.randbelow(27));
    }

    @Test
    void choicesBisectsRightAndCapsAtTheLastIndex() {
        double[] cum = {0.5, 1.0, 1.0}; // running sums of weights 0.5, 0.5, 0
        assertEquals(0, PyRandom.bisect_right(cum, 0.2));
        assertEquals(1, PyRandom.bisect_right(cum, 0.5), "right of an equal running sum");
        assertEquals(2, PyRandom.bisect_right(cum, 1.0), "u equal to the total: capped at n-1, never n");
        assertEquals(2, PyRandom.bisect_right(cum, 7.0), "capped at n-1");
        assertEquals(0, PyRandom.bisect_right(new double[]{3.0}, 3.0), "one weight: always index 0");
    }

    // ---- Python's formats ------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({"2.0,2.0", "5.0,5.0", "0.1,0.1", "1e-05,1e-05", "0.0001,0.0001", "1e16,1e+16", "1234567890123456.0,1234567890123456.0",
                "0.6666666666666666,0.6666666666666666", "100.0,100.0", "-0.0,-0.0", "4.9e-324,5e-324",
                "1.7976931348623157e308,1.7976931348623157e+308", "123456789.123,123456789.123", "0.002,0.002", "-3.5e-7,-3.5e-07",
                "1e22,1e+22", "0.30000000000000004,0.30000000000000004", "3.3659669475848504,3.3659669475848504",
                "NaN,nan", "-Infinity,-inf"})
    void reprPrintsWhatPythonPrints(double x, String python) { // the right column: CPython 3.11's repr(x)
        assertEquals(python, Python.repr(x));
    }

    @ParameterizedTest
    @CsvSource({"1.03125,1.0312", "1.09375,1.0938", "-2.5,-2.5000", "-1e-05,-0.0000", "-0.0,-0.0000", "-5e-05,-0.0001",
                "5e-324,0.0000", "0.99995,1.0000", "123.45675,123.4567", "2.00005,2.0000", "9.2e14,920000000000000.0000",
                "922337203685477.5,922337203685477.5000", "1e15,1000000000000000.0000", "-Infinity,-inf",
                "4503599627370496.0,4503599627370496.0000"})
    void percent4fPrintsWhatPythonPrints(double x, String python) { // the right column: CPython 3.11's format(x, '.4f')
        assertEquals(python, Python.format4f(x));
    }

    @Test
    void percent4fRoundsTheExactBinaryValueHalfToEven() { // against BigDecimal, which format4f leaves for |x| >= ~9e14
        Random r = new Random(4);
        for (int i = 0; i < 300_000; i++) {
            double x = switch (i % 3) {
                case 0 -> Math.scalb(r.nextDouble(), r.nextInt(80) - 40); // every scale, 2^-40 to 2^40
                case 1 -> (r.nextInt(2_000_000) + 0.5) / 10_000 * (1 + (r.nextInt(3) - 1) * 0x1p-52); // near ties
                default -> (2 * (r.nextLong() >>> (14 + r.nextInt(50))) + 1) * 0x1p-5; // ties: x * 10^4 = n + 1/2, to 2^46
            };
            double v = r.nextBoolean() ? -x : x;
            String s = new java.math.BigDecimal(v).setScale(4, java.math.RoundingMode.HALF_EVEN).toPlainString();
            if (v < 0 && !s.startsWith("-") || Double.doubleToRawLongBits(v) == Long.MIN_VALUE) s = "-" + s;
            assertEquals(s, Python.format4f(v), () -> "x = " + v);
        }
        assertEquals("0.0000", Python.format4f(Double.MIN_VALUE));
        assertEquals("179769313486231570814527423731704356798070567525844996598917476803157260780028538760589558632766878"
                + "17154045895351438246423432132688946418276846754670353751698604991057655128207624549009038932894407586"
                + "85084551339423045832369032229481658085593321233482747978262041447231687381771809192998812504040261841"
                + "24858368.0000", Python.format4f(Double.MAX_VALUE));
    }

    // ---- The bundled names.txt: the default input, written without the network -----------------

    @Test
    void missingDefaultInputIsWrittenFromTheBundledNamesThroughATemporaryFile(@TempDir Path tmp) throws IOException {
        Path target = tmp.resolve("input.txt");
        TestSupport.Run r = TestSupport.run((c, a) -> microgpt.splitDocs(TrainingRun.readInput(target, true)).size(), null);
        assertEquals(32033, r.exit(), "documents read");
        assertEquals("no " + target + ": writing the bundled makemore names.txt there\n", r.err());
        assertEquals(TestSupport.NAMES_SHA256, TestSupport.sha256(target), "the makemore file, byte for byte");
        assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(target)));
        assertEquals(Set.of("input.txt"), TestSupport.listing(tmp), "no temporary file left");
    }

    @Test
    void anUnwritableDefaultInputNamesTheProblemAndTheFix(@TempDir Path tmp) throws IOException {
        Path target = tmp.resolve("no-such-folder").resolve("input.txt");
        TestSupport.Run r = TestSupport.run((c, a) -> {
            RuntimeException e = assertThrows(RuntimeException.class, () -> TrainingRun.readInput(target, true));
            assertEquals("UserError", e.getClass().getSimpleName(), "a user error, not a crash");
            System.err.println(e.getMessage());
            return 1;
        }, null);
        String[] lines = r.err().split("\n");
        assertEquals(2, lines.length, r.err());
        assertTrue(lines[1].startsWith("cannot write " + target + " (") && lines[1].endsWith("); pass a names file with --input FILE"), lines[1]);
        assertEquals(Set.of(), TestSupport.listing(tmp), "nothing written");
    }

    // ---- A team of threads ------------------------------------------------------------------------

    @Test
    void aTeamRunsItsTaskOnEveryThreadEveryTimeAndPassesOnAFailure() {
        int[] runs = new int[3];
        try (Workers team = new Workers(3, "test", t -> runs[t]++)) {
            assertTimeoutPreemptively(java.time.Duration.ofSeconds(60), () -> {
                for (int i = 0; i < 2_000; i++) team.run(); // back to back: a thread that missed a run would hang here
            });
        }
        assertArrayEquals(new int[]{2_000, 2_000, 2_000}, runs);
        try (Workers failing = new Workers(2, "failing", t -> { if (t == 1) throw new ArithmeticException("boom"); })) {
            IllegalStateException e = assertThrows(IllegalStateException.class, failing::run);
            assertEquals("boom", e.getCause().getMessage());
        }
    }

    // ---- The command that resumes an interrupted run ---------------------------------------------

    @Test
    void resumeCommandWordsReadBackAsTheyWere() {
        assertEquals("run.st", TrainingRun.quote("run.st"));
        assertEquals("/tmp/a-b_c/x=1,2", TrainingRun.quote("/tmp/a-b_c/x=1,2"));
        assertEquals("''", TrainingRun.quote(""));
        assertEquals("'ma ri'", TrainingRun.quote("ma ri"));
        assertEquals("'it'\\''s'", TrainingRun.quote("it's"));
        assertEquals("'$HOME'", TrainingRun.quote("$HOME"));
    }

    /**
     * SIGTERM deletes a temporary file as the JVM exits, while the main thread may still be writing it (a run without
     * --save has no shutdown hook to wait for): the stream tempBeside gives writes the file it created, and nothing
     * opens it again by name, so nothing makes it again once deleted. (The loss log reopened it by name once: a
     * SIGTERM in that instant left NAME.<pid>.1.part.)
     */
    @Test
    void aTemporaryFileDeletedAtExitIsNotMadeAgainByItsWriter(@TempDir Path tmp) throws IOException {
        Path target = tmp.resolve("l.csv");
        Cli.Temp file = Cli.tempBeside(target);
        assertTrue(file.path().getFileName().toString().matches("l\\.csv\\." + ProcessHandle.current().pid() + "\\.\\d+\\.part"),
                file.path().toString());
        assertEquals(Set.of(file.path().getFileName().toString()), TestSupport.listing(tmp));
        Files.delete(file.path()); // what the exit hook does
        file.out().write("step,loss\n".getBytes());
        file.writeAndClose("1,3.3\n");
        assertEquals(Set.of(), TestSupport.listing(tmp));
        assertThrows(NoSuchFileException.class, () -> Cli.moveIntoPlace(file.path(), target));
        assertEquals(Set.of(), TestSupport.listing(tmp), "no target either");

        Cli.writeWhole(target, "step,loss\n"); // the normal path: written whole, renamed into place, nothing else left
        assertEquals(Set.of("l.csv"), TestSupport.listing(tmp));
        assertEquals("step,loss\n", Files.readString(target));
    }

    // ---- A long run relaunches with C2 --------------------------------------------------------------

    @Test
    void aRunsWorkComesFromItsOptionsAndTheirDefaults() {
        assertEquals(1000.0 * 16 * 16, Relaunch.work(new String[0])); // the default run: far below a long run
        assertTrue(Relaunch.work(new String[0]) < Relaunch.LONG_RUN);
        assertEquals(3000.0 * 4 * 2 * 64 * 64, Relaunch.work(new String[]{"--steps", "3000", "--batch-size=4", "--n-layer", "2", "--n-embd=64"}));
        assertEquals(1000.0 * 64 * 64, Relaunch.work(new String[]{"--n-embd", "32", "--n-embd", "64"}), "the last one counts, as in picocli");
        assertEquals(1000.0 * 16 * 16, Relaunch.work(new String[]{"--steps", "x", "--n-embd"}), "not an int: picocli will say so");
    }

    @Test
    void theNewJvmIsThisOneWithoutTheC1Limit() {
        String[] args = {"--steps", "5000", "--prompt", "-XX:TieredStopAtLevel=1"};
        String[] all = TestSupport.concat(new String[]{"-XX:+UseSerialGC", Relaunch.C1_ONLY, "-XX:-UsePerfData", "-cp", "a.jar",
                "mgpt.microgpt_optimized"}, args);
        assertEquals(List.of("/jdk/bin/java", "-D" + TrainingRun.RELAUNCHED_AT + "=123", "-D" + Relaunch.FIRST + "=" + ProcessHandle.current().pid(),
                "-XX:+UseSerialGC", "-XX:-UsePerfData", "-cp", "a.jar",
                "mgpt.microgpt_optimized", "--steps", "5000", "--prompt", "-XX:TieredStopAtLevel=1"), Relaunch.command("/jdk/bin/java", all, args, 123));
        String[] tiered = TestSupport.concat(new String[]{Relaunch.C1_ONLY, "-XX:TieredStopAtLevel=4", "-cp", "a.jar", "M"}, args);
        assertNull(Relaunch.command("/jdk/bin/java", tiered, args, 0), "already has C2");
        assertNull(Relaunch.command("/jdk/bin/java", TestSupport.concat(new String[]{"-cp", "a.jar", "M"}, args), args, 0), "already has C2");
        assertNull(Relaunch.command("/jdk/bin/java", new String[]{Relaunch.C1_ONLY, "-cp", "a.jar", "M", "--steps"}, args, 0),
                "its command line cut short");
        assertNull(Relaunch.command(null, all, args, 0), "no java to run");
    }
}
