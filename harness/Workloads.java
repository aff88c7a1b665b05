package mgpt;

import java.util.ArrayList;
import java.util.List;

/**
 * The workloads of bench_compare.py, for each engine: microgpt.java (ORIG) and microgpt_optimized.java (MOD,
 * MOD_FLAT), each through its own classes and functions (no copies of their code). A workload's run returns a
 * checksum of what it computed, so that the variants of an area can be checked to compute the same.
 */
final class Workloads {
    private Workloads() { }

    /** bench_compare.py's sizes: documents tokenized, KV caches filled, loss rounds per run. */
    static final int TOKENIZATION_DOCS = 2000, TOKENIZATION_DISTINCT = 200, KV_ROUNDS = 800, LOSS_ROUNDS = 300;

    /** One run of a row's workload. It returns a checksum of what it computed, so variants can be compared. */
    interface Workload {
        double run();
        /** train-steps: the loss of every step of the latest run; null elsewhere. */
        default double[] losses() { return null; }
        /** The threads besides the caller's that a run works on (MOD's training step with --threads above 1). */
        default Thread[] helpers() { return new Thread[0]; }
    }

    /**
     * What the harness asks of an engine: one method per area, at the sizes the settings give. Each method does
     * its set-up (untimed: tokenizer, model, buffers) and returns the workload whose runs are timed.
     */
    abstract static class Engine {
        final List<String> docs;
        final Config config;
        final int nLayer, nEmbd, blockSize, steps, inferSamples, threads;

        Engine(List<String> docs, BenchSettings s) {
            this.docs = docs;
            this.config = s.model();
            this.nLayer = config.n_layer(); this.nEmbd = config.n_embd(); this.blockSize = config.block_size();
            this.steps = s.steps(); this.inferSamples = s.inferSamples(); this.threads = s.threads();
        }

        abstract Workload tokenization();
        abstract Workload kvAlloc();
        abstract Workload loss();
        abstract Workload trainSteps();
        abstract Workload inference();

        Workload workload(Area area) {
            return switch (area) {
                case TOKENIZATION -> tokenization();
                case KV_ALLOC -> kvAlloc();
                case LOSS -> loss();
                case TRAIN_STEPS -> trainSteps();
                case INFERENCE -> inference();
            };
        }
    }

    /** The checksum of a token sequence: position-weighted, so a wrong or misplaced id changes it. */
    static long tokenChecksum(int[] tokens, int n) {
        long s = 0;
        for (int i = 0; i < n; i++) s += (long) (i + 1) * tokens[i];
        return s;
    }

    /** The value a KV benchmark stores at element j of layer li's key (or value, kind 1) at position pos. */
    static double kvValue(int round, int li, int pos, int j, int kind) {
        return ((round % 7) * 1000 + li * 100 + pos) + (j + 1) * 1e-3 + kind * 0.5;
    }

    /** The checksum of a KV cache read back: each element weighted by where it should be. */
    static double kvTerm(int li, int pos, int j, double key, double value) {
        return (li + 1) * (pos + 1) * ((j + 1) * key + value);
    }

    /** microgpt.java, through its own classes and functions. */
    static final class Orig extends Engine {
        final microgpt.Tokenizer tok;

        Orig(List<String> docs, BenchSettings s) { super(docs, s); this.tok = new microgpt.Tokenizer(docs, null); }

        microgpt.GPT model() {
            return new microgpt.GPT(config, tok.vocab_size, new PyRandom(42));
        }

        Workload tokenization() {
            List<String> first = docs.subList(0, Math.min(TOKENIZATION_DISTINCT, docs.size()));
            return () -> {
                long sum = 0;
                for (int i = 0; i < TOKENIZATION_DOCS; i++) {
                    int[] tokens = tok.encode(first.get(i % first.size()));
                    sum += tokenChecksum(tokens, tokens.length);
                }
                return sum;
            };
        }

        Workload kvAlloc() {
            microgpt.GPT model = model();
            return new Workload() {
                int round;
                public double run() {
                    double sum = 0;
                    for (int r = 0; r < KV_ROUNDS; r++, round++) {
                        // ORIG: growing lists, one new vector of Value nodes per slot, as gpt() appends k and v
                        List<List<microgpt.Value[]>> keys = model.emptyCache(), values = model.emptyCache();
                        for (int pos = 0; pos < blockSize; pos++)
                            for (int li = 0; li < nLayer; li++) {
                                microgpt.Value[] k = new microgpt.Value[nEmbd], v = new microgpt.Value[nEmbd];
                                for (int j = 0; j < nEmbd; j++) {
                                    k[j] = new microgpt.Value(kvValue(round, li, pos, j, 0));
                                    v[j] = new microgpt.Value(kvValue(round, li, pos, j, 1));
                                }
                                keys.get(li).add(k);
                                values.get(li).add(v);
                            }
                        for (int li = 0; li < nLayer; li++)
                            for (int pos = 0; pos < blockSize; pos++)
                                for (int j = 0; j < nEmbd; j++)
                                    sum += kvTerm(li, pos, j, keys.get(li).get(pos)[j].data, values.get(li).get(pos)[j].data);
                    }
                    return sum;
                }
            };
        }

        Workload loss() {
            PyRandom random = new PyRandom(1);
            int target = random.randbelow(tok.vocab_size);
            return () -> {
                double sum = 0;
                for (int r = 0; r < LOSS_ROUNDS; r++) {
                    microgpt.Value[] logits = new microgpt.Value[tok.vocab_size];
                    for (int i = 0; i < logits.length; i++) logits[i] = new microgpt.Value(random.gauss(0, 1));
                    microgpt.Value loss = microgpt.softmax(logits)[target].log().neg();
                    loss.backward();
                    sum += loss.data;
                }
                return sum;
            };
        }

        Workload trainSteps() {
            microgpt.GPT model = model();
            microgpt.Adam adam = new microgpt.Adam(model.params);
            return new Workload() {
                final double[] losses = new double[steps];
                public double run() {
                    double sum = 0;
                    for (int step = 0; step < steps; step++)
                        sum += losses[step] = microgpt.trainStep(model, adam, new int[][]{tok.encode(docs.get(step % docs.size()))}, step, steps);
                    return sum;
                }
                public double[] losses() { return losses; }
            };
        }

        Workload inference() {
            microgpt.GPT model = model();
            return () -> {
                PyRandom random = new PyRandom(7);
                long sum = 0;
                for (int i = 0; i < inferSamples; i++) sum += (long) (i + 1) * microgpt.sample(model, tok, new int[0], 0.5, random).hashCode();
                return sum;
            };
        }
    }

    /** microgpt_optimized.java, through its own classes and functions; flat selects its flat KV cache. */
    static final class Mod extends Engine {
        final boolean flat;
        final microgpt_optimized.Tokenizer tok;

        Mod(List<String> docs, BenchSettings s, boolean flat) {
            super(docs, s);
            this.flat = flat;
            this.tok = new microgpt_optimized.Tokenizer(docs, null);
        }

        microgpt_optimized.GPT model() {
            return new microgpt_optimized.GPT(config, tok.vocab_size,
                    new PyRandom(42), flat);
        }

        Workload tokenization() {
            List<String> first = docs.subList(0, Math.min(TOKENIZATION_DISTINCT, docs.size()));
            int[] tokens = new int[tok.max_len + 2]; // the engine's reused token buffer
            return () -> {
                long sum = 0;
                for (int i = 0; i < TOKENIZATION_DOCS; i++) sum += tokenChecksum(tokens, tok.encode(first.get(i % first.size()), tokens));
                return sum;
            };
        }

        Workload kvAlloc() {
            microgpt_optimized.Tape t = new microgpt_optimized.Tape(4096);
            return new Workload() {
                int round;
                public double run() {
                    double sum = 0;
                    for (int r = 0; r < KV_ROUNDS; r++, round++) {
                        // MOD: a preallocated cache whose slots are written in place; each vector is a run of tape nodes
                        t.reset();
                        microgpt_optimized.KVCache cache = new microgpt_optimized.KVCache(nLayer, blockSize, flat);
                        for (int pos = 0; pos < blockSize; pos++)
                            for (int li = 0; li < nLayer; li++) {
                                int k = t.next();
                                for (int j = 0; j < nEmbd; j++) t.leaf(kvValue(round, li, pos, j, 0));
                                int v = t.next();
                                for (int j = 0; j < nEmbd; j++) t.leaf(kvValue(round, li, pos, j, 1));
                                cache.put(li, pos, k, v);
                            }
                        for (int li = 0; li < nLayer; li++) {
                            int[] ks = cache.keyArray(li), vs = cache.valueArray(li);
                            int off = cache.offset(li);
                            for (int pos = 0; pos < blockSize; pos++)
                                for (int j = 0; j < nEmbd; j++)
                                    sum += kvTerm(li, pos, j, t.data[ks[off + pos] + j], t.data[vs[off + pos] + j]);
                        }
                    }
                    return sum;
                }
            };
        }

        Workload loss() {
            PyRandom random = new PyRandom(1);
            int target = random.randbelow(tok.vocab_size);
            microgpt_optimized.Tape t = new microgpt_optimized.Tape(4 * tok.vocab_size);
            return () -> {
                double sum = 0;
                for (int r = 0; r < LOSS_ROUNDS; r++) {
                    t.reset();
                    int logits = t.next();
                    for (int i = 0; i < tok.vocab_size; i++) t.leaf(random.gauss(0, 1));
                    int loss = t.neg(t.sub(logits + target, t.lse(logits, tok.vocab_size)));
                    t.backward(loss);
                    sum += t.data[loss];
                }
                return sum;
            };
        }

        Workload trainSteps() {
            microgpt_optimized.GPT model = model();
            microgpt_optimized.Adam adam = new microgpt_optimized.Adam(model.tape);
            microgpt_optimized.Batch batch = new microgpt_optimized.Batch(model, 1, threads, tok.max_len + 2); // one document a step
            return new Workload() {
                final double[] losses = new double[steps];
                public double run() {
                    double sum = 0;
                    for (int step = 0; step < steps; step++) {
                        batch.n_tokens[0] = tok.encode(docs.get(step % docs.size()), batch.tokens[0]);
                        sum += losses[step] = microgpt_optimized.trainStep(batch, adam, step, steps);
                    }
                    return sum;
                }
                public double[] losses() { return losses; }
                public Thread[] helpers() { return batch.team.threads; }
            };
        }

        Workload inference() {
            microgpt_optimized.GPT model = model();
            return () -> {
                PyRandom random = new PyRandom(7);
                long sum = 0;
                for (int i = 0; i < inferSamples; i++)
                    sum += (long) (i + 1) * microgpt_optimized.sample(model, tok, new int[0], 0.5, random).hashCode();
                return sum;
            };
        }
    }

    /** The engine of a variant, on the documents shuffled as bench_compare.py shuffles them. */
    static Engine engine(String variant, List<String> docsInFileOrder, BenchSettings s) {
        List<String> docs = new ArrayList<>(docsInFileOrder);
        // both engines shuffle with the same generator (CPython's, seed 42), as bench_compare.py does
        new PyRandom(42).shuffle(docs);
        return variant.equals("ORIG") ? new Orig(docs, s) : new Mod(docs, s, variant.equals("MOD_FLAT"));
    }
}
