package mgpt;

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

/** microgpt.java: autograd, tokenizer, data (its CLI and golden parity: CliContract; the RNG: SupportTest). */
class MicrogptTest {

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
        PyRandom random = new PyRandom(7);
        microgpt.GPT model = new microgpt.GPT(new Config(2, 8, 8, 2), 6, random);
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
        List<String> docs = microgpt.splitDocs(TrainingRun.readInput(TestSupport.namesTxt(), false));
        assertEquals(32033, docs.size());
        microgpt.Tokenizer tok = new microgpt.Tokenizer(docs, null);
        assertEquals(27, tok.vocab_size);
        assertEquals(4192, new microgpt.GPT(new Config(1, 16, 16, 4), 27, new PyRandom(42)).params.length);
    }
}
