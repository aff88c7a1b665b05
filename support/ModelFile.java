package mgpt;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import picocli.CommandLine;

/**
 * A model file, in the safetensors format (Hugging Face's): an 8-byte little-endian header length,
 * a JSON header giving each tensor's dtype, shape and byte range, then the tensors' raw little-endian
 * bytes. Tensors: the state_dict (F64, [nout, nin]), Adam's moments ("adam.m.NAME", "adam.v.NAME"),
 * the RNG ("rng.mt": I64 [625], the 624 words and the index, as Python's getstate(); "rng.gauss":
 * F64 [2], whether a gauss value is cached, and the value). "__metadata__" holds the rest, as strings.
 */
public final class ModelFile {
    static final String FORMAT = "microgpt-checkpoint", VERSION = "1";
    final Path file;
    final Map<String, String> meta = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    final Map<String, Object> tensors = new LinkedHashMap<>(); // double[] (F64) or long[] (I64)

    ModelFile(Path file) { this.file = file; }

    void put(String name, long[] shape, Object values) { shapes.put(name, shape); tensors.put(name, values); }

    /** Writes to a temporary file beside target, then renames it into place: target is always a whole file. */
    void write(Path target) throws IOException {
        com.google.gson.JsonObject header = new com.google.gson.JsonObject();
        com.google.gson.JsonObject m = new com.google.gson.JsonObject();
        meta.forEach(m::addProperty);
        header.add("__metadata__", m);
        long offset = 0;
        for (String name : tensors.keySet()) {
            com.google.gson.JsonObject t = new com.google.gson.JsonObject();
            t.addProperty("dtype", tensors.get(name) instanceof double[] ? "F64" : "I64");
            com.google.gson.JsonArray shape = new com.google.gson.JsonArray();
            for (long d : shapes.get(name)) shape.add(d);
            t.add("shape", shape);
            long bytes = 8L * count(shapes.get(name));
            com.google.gson.JsonArray range = new com.google.gson.JsonArray();
            range.add(offset);
            range.add(offset + bytes);
            t.add("data_offsets", range);
            header.add(name, t);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8); // a vocabulary beyond ASCII: more bytes than chars
        byte[] h = Arrays.copyOf(json, (json.length + 7) / 8 * 8); // the header is padded to 8 bytes, as safetensors does
        Arrays.fill(h, json.length, h.length, (byte) ' ');
        Cli.writeWhole(target, file -> {
            OutputStream out = new BufferedOutputStream(file);
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            out.write(h);
            for (String name : tensors.keySet()) {
                Object v = tensors.get(name);
                int n = (int) count(shapes.get(name));
                ByteBuffer b = ByteBuffer.allocate(8 * n).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    if (v instanceof double[] d) b.putDouble(d[i]); else b.putLong(((long[]) v)[i]);
                }
                out.write(b.array());
            }
            out.flush();
        });
    }

    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    UserError bad(String problem) { return UserError.input("model file " + file + ": " + problem); }

    /** What JShell shows: the file, who wrote it, how far it trained, and the model's shape. */
    @Override
    public String toString() {
        return "ModelFile(" + file + ": " + meta.get("engine") + ", step " + meta.get("step") + " of " + meta.get("total_steps")
                + ", n_layer=" + meta.get("n_layer") + ", n_embd=" + meta.get("n_embd") + ", n_head=" + meta.get("n_head")
                + ", block_size=" + meta.get("block_size") + ", vocab=" + meta.get("vocab") + ")";
    }

    /** Reads and checks a model file; every problem is one line naming the file and the problem. */
    public static ModelFile read(Path file) {
        ModelFile c = new ModelFile(file);
        if (!Files.exists(file)) throw UserError.input("model file not found: " + file + "; pass a file written with --save");
        if (Files.isDirectory(file)) throw c.bad("it is a directory; pass a file written with --save");
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw c.bad("cannot be read (" + e.getMessage() + ")");
        }
        if (bytes.length < 8) throw c.bad("it is " + bytes.length + " bytes long, too short for a safetensors file");
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > bytes.length - 8)
            throw c.bad("its header length (" + n + " bytes) does not fit in the file (" + bytes.length
                    + " bytes): it is truncated or not a safetensors file");
        com.google.gson.JsonObject header;
        try {
            String json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes, 8, (int) n)).toString();
            header = com.google.gson.JsonParser.parseString(json).getAsJsonObject();
        } catch (CharacterCodingException | RuntimeException e) {
            throw c.bad("its header is not JSON: it is damaged or not a safetensors file");
        }
        int dataStart = 8 + (int) n, dataLength = bytes.length - dataStart;
        List<long[]> ranges = new ArrayList<>();
        for (Map.Entry<String, com.google.gson.JsonElement> e : header.entrySet()) {
            String name = e.getKey();
            try {
                com.google.gson.JsonObject t = e.getValue().getAsJsonObject();
                if (name.equals("__metadata__")) {
                    for (Map.Entry<String, com.google.gson.JsonElement> kv : t.entrySet())
                        c.meta.put(kv.getKey(), kv.getValue().getAsString());
                    continue;
                }
                String dtype = t.get("dtype").getAsString();
                if (!dtype.equals("F64") && !dtype.equals("I64"))
                    throw c.bad("tensor '" + name + "' is " + dtype + "; this format stores F64 and I64 tensors");
                com.google.gson.JsonArray s = t.getAsJsonArray("shape"), r = t.getAsJsonArray("data_offsets");
                long[] shape = new long[s.size()];
                for (int i = 0; i < shape.length; i++) shape[i] = s.get(i).getAsLong();
                long begin = r.get(0).getAsLong(), end = r.get(1).getAsLong(), count = count(shape);
                if (r.size() != 2 || Arrays.stream(shape).anyMatch(d -> d < 0) || count > Integer.MAX_VALUE / 8
                        || begin < 0 || end > dataLength || end - begin != 8 * count)
                    throw c.bad("tensor '" + name + "' claims bytes " + begin + ".." + end + " for shape "
                            + Arrays.toString(shape) + " in " + dataLength + " bytes of data: the header lies or the file is truncated");
                ranges.add(new long[]{begin, end});
                ByteBuffer b = ByteBuffer.wrap(bytes, dataStart + (int) begin, (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                if (dtype.equals("F64")) {
                    double[] v = new double[(int) count];
                    for (int i = 0; i < v.length; i++) v[i] = b.getDouble();
                    c.put(name, shape, v);
                } else {
                    long[] v = new long[(int) count];
                    for (int i = 0; i < v.length; i++) v[i] = b.getLong();
                    c.put(name, shape, v);
                }
            } catch (UserError u) {
                throw u;
            } catch (RuntimeException x) {
                throw c.bad("tensor '" + name + "' has a malformed header entry: it is damaged or not a safetensors file");
            }
        }
        ranges.sort(Comparator.comparingLong(x -> x[0]));
        long at = 0;
        for (long[] r : ranges) {
            if (r[0] != at) throw c.bad("its tensors' byte ranges overlap or leave gaps: the header lies");
            at = r[1];
        }
        if (at != dataLength) throw c.bad("it has " + (dataLength - at) + " bytes after its last tensor: the header lies");
        if (!FORMAT.equals(c.meta.get("format")))
            throw c.bad("it is not a microgpt model (a safetensors file without format \"" + FORMAT + "\" in its metadata)");
        if (!VERSION.equals(c.meta.get("format_version")))
            throw c.bad("it is format version " + c.meta.get("format_version") + "; this program reads version " + VERSION);
        return c;
    }

    String meta(String key) {
        String v = meta.get(key);
        if (v == null) throw bad("its metadata has no '" + key + "'");
        return v;
    }

    long metaLong(String key) {
        try {
            return Long.parseLong(meta(key));
        } catch (NumberFormatException e) {
            throw bad("its metadata '" + key + "' is not a number: " + meta(key));
        }
    }

    /** A tensor that must be there, with this dtype and shape. */
    Object tensor(String name, boolean f64, long... shape) {
        Object v = tensors.get(name);
        if (v == null) throw bad("it has no tensor '" + name + "'");
        if ((v instanceof double[]) != f64) throw bad("tensor '" + name + "' is " + (f64 ? "I64" : "F64") + ", expected " + (f64 ? "F64" : "I64"));
        if (!Arrays.equals(shapes.get(name), shape))
            throw bad("tensor '" + name + "' has shape " + Arrays.toString(shapes.get(name)) + ", expected " + Arrays.toString(shape));
        return v;
    }

    /** Documents per step of the saved run (files written before batches existed trained on one). */
    int batchSize() {
        if (!meta.containsKey("batch_size")) return 1;
        long b = metaLong("batch_size");
        if (b < 1 || b > Integer.MAX_VALUE) throw bad("its batch_size " + b + " is not a number of documents");
        return (int) b;
    }

    /** The model's shape, from the metadata. */
    public Config config() {
        try {
            return new Config((int) metaLong("n_layer"), (int) metaLong("n_embd"), (int) metaLong("block_size"), (int) metaLong("n_head"));
        } catch (UserError e) {
            throw bad("its model shape is invalid (" + e.getMessage() + ")");
        }
    }

    /** The model's shape; a size option given on the command line must agree with it. */
    Config config(CommandLine.ParseResult given, Config options) {
        Config c = config();
        String[][] sizes = {{"--n-layer", "" + c.n_layer(), "" + options.n_layer()}, {"--n-embd", "" + c.n_embd(), "" + options.n_embd()},
                {"--n-head", "" + c.n_head(), "" + options.n_head()}, {"--block-size", "" + c.block_size(), "" + options.block_size()}};
        for (String[] s : sizes)
            if (given.hasMatchedOption(s[0]) && !s[1].equals(s[2]))
                throw UserError.usage(s[0] + " " + s[2] + " contradicts model file " + file + " (" + s[0] + " " + s[1]
                        + "); leave " + s[0] + " out");
        return c;
    }

    /** Every tensor the model needs is there with its dtype and shape (and, for a run to resume, the optimizer's and RNG's). */
    void checkTensors(Config config, boolean run) {
        for (String prefix : run ? List.of("", "adam.m.", "adam.v.") : List.of(""))
            stateDictShapes(config, vocab().length + 1).forEach((name, shape) -> tensor(prefix + name, true, shape));
        if (run) {
            tensor("rng.mt", false, 625);
            tensor("rng.gauss", true, 2);
            metaLong("step");
            metaLong("total_steps");
            if (metaLong("step") > metaLong("total_steps") || metaLong("step") < 0)
                throw bad("its step " + metaLong("step") + " is not within its " + metaLong("total_steps") + " planned steps");
        }
    }

    /** The vocabulary: the characters in token-id order. */
    public int[] vocab() {
        int[] v = meta("vocab").codePoints().toArray();
        for (int i = 1; i < v.length; i++)
            if (v[i - 1] >= v[i]) throw bad("its vocabulary is not sorted and distinct, as a saved vocabulary is");
        if (v.length == 0) throw bad("its vocabulary is empty");
        return v;
    }

    /** The model's weights, in state_dict order: what GPT.setWeights takes. */
    public double[] weights() { return flat(""); }

    /** Rows (the state_dict's, row after row) as one flat array, in order: what a model file holds. */
    static double[] flat(double[][] rows) {
        int count = 0;
        for (double[] r : rows) count += r.length; // a loop, not a stream: --report calls this every step
        double[] all = new double[count];
        for (int r = 0, at = 0; r < rows.length; at += rows[r++].length) System.arraycopy(rows[r], 0, all, at, rows[r].length);
        return all;
    }

    /** A flat array back into rows of their lengths, in order. */
    static void unflat(double[] all, double[][] rows) {
        for (int r = 0, at = 0; r < rows.length; at += rows[r++].length) System.arraycopy(all, at, rows[r], 0, rows[r].length);
    }

    /** The state_dict's names and shapes [nout, nin], in the Python's order: the weight tensors of a model file. */
    static Map<String, long[]> stateDictShapes(Config c, int vocab_size) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        long n = c.n_embd();
        shapes.put("wte", new long[]{vocab_size, n});
        shapes.put("wpe", new long[]{c.block_size(), n});
        shapes.put("lm_head", new long[]{vocab_size, n});
        for (int i = 0; i < c.n_layer(); i++) {
            for (String w : List.of("attn_wq", "attn_wk", "attn_wv", "attn_wo")) shapes.put("layer" + i + "." + w, new long[]{n, n});
            shapes.put("layer" + i + ".mlp_fc1", new long[]{4 * n, n});
            shapes.put("layer" + i + ".mlp_fc2", new long[]{n, 4 * n});
        }
        return shapes;
    }

    /** The tensors named prefix + each state_dict name, in state_dict order, as one flat array. */
    double[] flat(String prefix) {
        Map<String, long[]> shapes = stateDictShapes(config(), vocab().length + 1);
        long total = 0;
        for (long[] shape : shapes.values()) total += count(shape);
        double[] all = new double[(int) total];
        int at = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            double[] t = (double[]) tensor(prefix + e.getKey(), true, e.getValue());
            System.arraycopy(t, 0, all, at, t.length);
            at += t.length;
        }
        return all;
    }
}
