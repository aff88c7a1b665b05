import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.function.Function;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** microgpt.java: the RNG, autograd, tokenizer, data, download (its CLI and golden parity: CliContract). */
class MicrogptTest {

    // ---- Python's random, against values printed by CPython 3.11.7 ----------------------------

    @Test
    void randomMatchesCPython() {
        assertEquals(0.6394267984578837, new microgpt.Random(42).random());
        Map<Long, double[]> first3 = Map.of(
                42L, new double[]{0.6394267984578837, 0.025010755222666936, 0.27502931836911926},
                0L, new double[]{0.8444218515250481, 0.7579544029403025, 0.420571580830845},
                3L, new double[]{0.23796462709189137, 0.5442292252959519, 0.36995516654807925},
                4294967301L, new double[]{0.15727238718789782, 0.2824866316461999, 0.6044540318498407},
                -7L, new double[]{0.32383276483316237, 0.15084917392450192, 0.6509344730398537},
                123456789L, new double[]{0.6414006161858726, 0.5421892680969495, 0.9931750662832721});
        first3.forEach((seed, expected) -> {
            microgpt.Random r = new microgpt.Random(seed);
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
        microgpt.Random r = new microgpt.Random(seed);
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
        assertEquals(0, microgpt.Random.bisect_right(cum, 0.2));
        assertEquals(1, microgpt.Random.bisect_right(cum, 0.5), "right of an equal running sum");
        assertEquals(2, microgpt.Random.bisect_right(cum, 1.0), "u equal to the total: capped at n-1, never n");
        assertEquals(2, microgpt.Random.bisect_right(cum, 7.0), "capped at n-1");
        assertEquals(0, microgpt.Random.bisect_right(new double[]{3.0}, 3.0), "one weight: always index 0");
    }

    // ---- Autograd: every operation's gradient against a finite difference ----------------------

    static final double[] POINTS = {-1.7, -0.3, 0.4, 1.3, 2.9};

    @Test
    void unaryGradientsMatchFiniteDifferences() {
        Map<String, Function<microgpt.Value, microgpt.Value>> ops = new LinkedHashMap<>();
        ops.put("exp", microgpt.Value::exp);
        ops.put("neg", microgpt.Value::neg);
        ops.put("relu", microgpt.Value::relu);
        ops.put("pow 2", v -> v.pow(2));
        ops.put("pow 3", v -> v.pow(3));
        ops.put("add const", v -> v.add(2.5));
        ops.put("sub const", v -> v.sub(2.5));
        ops.put("mul const", v -> v.mul(-1.5));
        ops.put("div const", v -> v.div(4.0));
        for (var op : ops.entrySet()) for (double x : POINTS) checkUnary(op.getKey(), op.getValue(), x);
        // functions defined only for x > 0
        Map<String, Function<microgpt.Value, microgpt.Value>> positive = new LinkedHashMap<>();
        positive.put("log", microgpt.Value::log);
        positive.put("pow -1", v -> v.pow(-1));
        positive.put("pow -0.5", v -> v.pow(-0.5));
        positive.put("pow 0.5", v -> v.pow(0.5));
        for (var op : positive.entrySet()) for (double x : POINTS) checkUnary(op.getKey(), op.getValue(), Math.abs(x));
    }

    static void checkUnary(String name, Function<microgpt.Value, microgpt.Value> f, double x) {
        microgpt.Value a = new microgpt.Value(x);
        f.apply(a).backward();
        double numeric = TestSupport.numericGrad(t -> f.apply(new microgpt.Value(t)).data, x);
        TestSupport.assertGradClose(numeric, a.grad, name + " at " + x);
    }

    @Test
    void binaryGradientsMatchFiniteDifferences() {
        Map<String, java.util.function.BinaryOperator<microgpt.Value>> ops = new LinkedHashMap<>();
        ops.put("add", microgpt.Value::add);
        ops.put("sub", microgpt.Value::sub);
        ops.put("mul", microgpt.Value::mul);
        ops.put("div", microgpt.Value::div);
        for (var op : ops.entrySet()) {
            for (double x : POINTS) {
                for (double y : new double[]{-2.2, 0.7, 1.9}) {
                    microgpt.Value a = new microgpt.Value(x), b = new microgpt.Value(y);
                    op.getValue().apply(a, b).backward();
                    var f = op.getValue();
                    TestSupport.assertGradClose(TestSupport.numericGrad(t -> f.apply(new microgpt.Value(t), new microgpt.Value(y)).data, x),
                            a.grad, op.getKey() + " d/da at " + x + "," + y);
                    TestSupport.assertGradClose(TestSupport.numericGrad(t -> f.apply(new microgpt.Value(x), new microgpt.Value(t)).data, y),
                            b.grad, op.getKey() + " d/db at " + x + "," + y);
                }
            }
        }
    }

    @Test
    void gradientsAccumulateThroughSharedNodes() {
        // f = a*a + a*b + exp(a): a is used three times, so its gradient is a sum of three paths
        microgpt.Value a = new microgpt.Value(0.7), b = new microgpt.Value(-1.3);
        a.mul(a).add(a.mul(b)).add(a.exp()).backward();
        assertEquals(2 * 0.7 + -1.3 + Math.exp(0.7), a.grad, 1e-15);
        assertEquals(0.7, b.grad, 1e-15);
    }

    @Test
    void deepGraphsDoNotOverflowTheStack() {
        microgpt.Value x = new microgpt.Value(1.0), acc = x;
        for (int i = 0; i < 200_000; i++) acc = acc.add(x);
        acc.backward();
        assertEquals(200_001.0, x.grad);
    }

    @Test
    void modelLossGradientMatchesFiniteDifferences() {
        microgpt.Random random = new microgpt.Random(7);
        microgpt.GPT model = new microgpt.GPT(new microgpt.Config(2, 8, 8, 2), 6, random);
        int[] tokens = {5, 0, 3, 1, 4, 2, 5};
        microgpt.Value loss = microgpt.loss(model, tokens);
        loss.backward();
        for (int i = 0; i < model.params.length; i += 37) {
            microgpt.Value p = model.params[i];
            double original = p.data;
            double numeric = TestSupport.numericGrad(t -> {
                p.data = t;
                double l = microgpt.loss(model, tokens).data;
                p.data = original;
                return l;
            }, original);
            TestSupport.assertGradClose(numeric, p.grad, "param " + i);
        }
    }

    // ---- Dataset and tokenizer -----------------------------------------------------------------

    @Test
    void docsSplitOnUniversalNewlinesAndAreStripped() {
        String text = "  emma \r\nolivia\rava\n\n \t \n\u00a0zoë\u3000\r\n\r\nx\n";
        assertEquals(List.of("emma", "olivia", "ava", "zoë", "x"), microgpt.splitDocs(text));
        assertEquals(List.of(), microgpt.splitDocs(" \n\r\n\t\n"));
        assertEquals(List.of("a b"), microgpt.splitDocs("a b")); // inner spaces stay; no trailing newline
    }

    @Test
    void tokenizerCountsCodePointsAndSortsByCodePoint() {
        // U+1F642 is one token (two UTF-16 chars); sorted by code point it comes after U+FF21,
        // although its first UTF-16 unit (0xD83D) is smaller.
        microgpt.Tokenizer tok = new microgpt.Tokenizer(List.of("b\uD83D\uDE42a", "\uFF21é"), null);
        assertArrayEquals(new int[]{'a', 'b', 'é', 0xFF21, 0x1F642}, tok.uchars);
        assertEquals(5, tok.BOS);
        assertEquals(6, tok.vocab_size);
        assertArrayEquals(new int[]{5, 1, 4, 0, 5}, tok.encode("b\uD83D\uDE42a"));
        assertEquals("\uD83D\uDE42", tok.decode(4));
    }

    @Test
    void namesDatasetGivesTheReferenceCounts() {
        List<String> docs = microgpt.loadDocs(TestSupport.namesTxt(), false);
        assertEquals(32033, docs.size());
        microgpt.Tokenizer tok = new microgpt.Tokenizer(docs, null);
        assertEquals(27, tok.vocab_size);
        assertEquals(4192, new microgpt.GPT(new microgpt.Config(1, 16, 16, 4), 27, new microgpt.Random(42)).params.length);
    }
}
