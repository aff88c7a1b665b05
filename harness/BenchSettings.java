package mgpt;

import java.util.List;
import java.util.Locale;

/**
 * What bench_compare.java's command line decided, handed down to the harness's parts: the workloads' sizes
 * and model, the child's measurement (reps, warm-up, collections), and what the outputs state (mode, each
 * engine's JVM options). The parts read it; none of them reads the command line.
 */
record BenchSettings(boolean asShipped, int steps, int inferSamples, int reps, int forks, int warmup, double warmupTime,
                     Config model, int threads, boolean gcBetweenReps, String input, List<String> extraJvmArgs, List<String> origJvmArgs,
                     List<String> modJvmArgs, String longRuns) {

    String mode() { return asShipped ? "as-shipped" : "same-jvm"; }

    /** The JVM options every child of this variant starts with. */
    List<String> jvmArgs(String variant) { return variant.equals("ORIG") ? origJvmArgs : modJvmArgs; }

    /** The settings in one line, as the tables and the report print them. */
    String configLine() {
        return String.format(Locale.ROOT, "steps=%d infer-samples=%d forks=%d reps=%d warmup=%d warmup-time=%ss block-size=%d n-embd=%d "
                        + "n-layer=%d n-head=%d threads=%d gc-between-reps=%s", steps, inferSamples, forks, reps, warmup, Tables.fmt(warmupTime),
                model.block_size(), model.n_embd(), model.n_layer(), model.n_head(), threads, gcBetweenReps);
    }
}
