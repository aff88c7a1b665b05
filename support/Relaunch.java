package mgpt;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One JVM configuration for short and long runs. A script whose //JAVA_OPTIONS stop at C1
 * (-XX:TieredStopAtLevel=1) starts fast and finishes a short run before C2 would have paid for itself; a
 * long run needs C2, which makes each step about twice as fast. A long run is therefore started again, once,
 * in a JVM of its own: the same java, options, class path and arguments, without the C1 limit. The first JVM
 * decides before anything else (no picocli, no data: the relaunch costs about 50 ms, a JVM's start and a spawn),
 * passes SIGINT and SIGTERM on, waits, and exits with the new JVM's exit code; the new JVM halts if the first
 * one is killed. A JVM that is not C1-only (the tests, JShell, a tool with options of its own) never relaunches.
 */
final class Relaunch {
    private Relaunch() { }

    static final String C1_ONLY = "-XX:TieredStopAtLevel=1";
    /** Set in a relaunched JVM: the first JVM's process id. */
    static final String FIRST = "mgpt.relaunched.by";
    /**
     * Work from which a run is long: documents trained (steps x batch size) x layers x width², about a twelfth
     * of the matrices' multiply-adds per position. At 3 million, C2 in a new JVM and C1 here take about as long
     * (0.7-0.9 s: 3,000 steps at 32 wide; docs/jvm.md has the measurements).
     */
    static final double LONG_RUN = 3e6;

    /** Returns if this JVM is to run the command; otherwise runs it in a new JVM and exits with that JVM's code. */
    static void ifLongRun(String[] args) {
        if (System.getProperty(TrainingRun.RELAUNCHED_AT) != null) { watchFirstJvm(); return; } // the new JVM
        if (work(args) < LONG_RUN) return;
        withC2(args, Arrays.asList(args).contains("--timing") // the JVM's start, to the millisecond, costs ~20 ms to read
                ? java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime() : System.currentTimeMillis());
    }

    /**
     * Runs this JVM's command (args: its words after the main class) in a new JVM without the C1 limit, passes SIGINT
     * and SIGTERM on, and exits with that JVM's code; returns if this JVM is not C1-only, its command line is not
     * known in full, or no new JVM starts. startedAt: what the new JVM's --timing counts from.
     */
    static void withC2(String[] args, long startedAt) {
        ProcessHandle.Info self = ProcessHandle.current().info();
        List<String> cmd = command(self.command().orElse(null), self.arguments().orElse(null), args, startedAt);
        if (cmd == null) return;
        Process run;
        try {
            run = new ProcessBuilder(cmd).inheritIO().start();
        } catch (java.io.IOException e) {
            return; // no new JVM: this one runs it, on C1
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> { // Ctrl-C or SIGTERM here: the new JVM stops as it would
            run.destroy();
            run.onExit().join();
        }));
        System.exit(run.onExit().join().exitValue());
    }

    /**
     * The new JVM's command: this one's (java, then `all`: its options, class path and main class, then `args`),
     * without the C1 limit; null if this JVM is not C1-only or its command line is not known in full.
     */
    static List<String> command(String java, String[] all, String[] args, long startedAt) {
        if (java == null || all == null || all.length < args.length) return null;
        List<String> jvm = Arrays.asList(all).subList(0, all.length - args.length);
        if (!Arrays.asList(all).subList(jvm.size(), all.length).equals(Arrays.asList(args)) || !c1Only(jvm)) return null;
        List<String> cmd = new ArrayList<>(List.of(java, "-D" + TrainingRun.RELAUNCHED_AT + "=" + startedAt, // --timing counts from it
                "-D" + FIRST + "=" + ProcessHandle.current().pid()));
        for (String option : jvm) if (!option.equals(C1_ONLY)) cmd.add(option);
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    /** The run's work as its options give it: documents x layers x width², with the options' defaults. */
    static double work(String[] args) {
        Options defaults = new Options();
        double documents = (double) intOption(args, "--steps", defaults.steps) * intOption(args, "--batch-size", defaults.batchSize);
        double width = intOption(args, "--n-embd", defaults.nEmbd);
        return documents * intOption(args, "--n-layer", defaults.nLayer) * width * width;
    }

    /** The value of an int option given as `--name V` or `--name=V`; `otherwise` if absent or not an int (picocli reports it). */
    static int intOption(String[] args, String name, int otherwise) {
        String v = Cli.lastValue(args, name);
        try { return v == null ? otherwise : Integer.parseInt(v); } catch (NumberFormatException e) { return otherwise; }
    }

    /** Whether these JVM options stop at C1: the last -XX:TieredStopAtLevel is 1. */
    static boolean c1Only(List<String> jvmOptions) {
        String level = null;
        for (String option : jvmOptions) if (option.startsWith("-XX:TieredStopAtLevel=")) level = option;
        return C1_ONLY.equals(level);
    }

    /** In the relaunched JVM: if the first JVM dies without passing a signal on (SIGKILL), this one stops too. */
    private static void watchFirstJvm() {
        Optional<ProcessHandle> first = ProcessHandle.of(Long.getLong(FIRST, -1));
        if (first.isEmpty()) Runtime.getRuntime().halt(137); // gone already
        first.get().onExit().thenRun(() -> Runtime.getRuntime().halt(137));
    }
}
