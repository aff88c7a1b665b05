package mgpt;

import java.util.Arrays;
import java.util.List;

/**
 * The areas of bench_compare.py, each with the variants that differ in it: ORIG (microgpt.java), MOD
 * (microgpt_optimized.java) and MOD_FLAT (its flat KV cache), and the unit of its work.
 */
enum Area {
    TOKENIZATION("tokenization", "Tokenization", "documents", "ORIG", "MOD"),
    KV_ALLOC("kv-alloc", "KV alloc", "caches", "ORIG", "MOD", "MOD_FLAT"),
    LOSS("loss", "Loss", "losses", "ORIG", "MOD"),
    TRAIN_STEPS("train-steps", "Train steps", "steps", "ORIG", "MOD", "MOD_FLAT"),
    INFERENCE("inference", "Inference", "samples", "ORIG", "MOD", "MOD_FLAT");

    final String key, title, unit;
    final List<String> variants;

    Area(String key, String title, String unit, String... variants) {
        this.key = key; this.title = title; this.unit = unit; this.variants = List.of(variants);
    }

    static Area of(String key) {
        for (Area a : values()) if (a.key.equalsIgnoreCase(key.trim())) return a;
        throw UserError.usage("unknown area '" + key + "' in --areas; choose from "
                + String.join(", ", Arrays.stream(values()).map(a -> a.key).toList()));
    }

    /** How much work one run of this area does, in its unit (bench_compare.py's sizes, or the options'). */
    int workPerRun(BenchSettings s) {
        return switch (this) {
            case TOKENIZATION -> Workloads.TOKENIZATION_DOCS;
            case KV_ALLOC -> Workloads.KV_ROUNDS;
            case LOSS -> Workloads.LOSS_ROUNDS;
            case TRAIN_STEPS -> s.steps();
            case INFERENCE -> s.inferSamples();
        };
    }
}
