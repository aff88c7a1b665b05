package mgpt;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The command line: how a command runs and fails (one line, exit 2 for usage, 1 for input), and the checks its options share. */
public final class Cli {
    private Cli() { }

    /** Runs a picocli command with our error handling, and returns its exit code. */
    public static int run(Callable<Integer> command, String... args) {
        // Start-up: picocli reads the command's annotations through reflection, and the JDK makes a class for each
        // annotation type the first time; done first on the other core, it overlaps picocli's own set-up on this one.
        Thread warm = new Thread(new AnnotationReader(command.getClass()), "read-annotations");
        warm.setDaemon(true);
        warm.start();
        CommandLine cmd = new CommandLine(command);
        cmd.setOut(new java.io.PrintWriter(stdout(), true)); // --help and --version in UTF-8 too
        cmd.setErr(new java.io.PrintWriter(stderr(), true));
        cmd.setParameterExceptionHandler((ex, a) -> {
            stderr().println(cmd.getCommandName() + ": " + ex.getMessage() + " (see --help)");
            return 2;
        });
        cmd.setExecutionExceptionHandler((ex, c, parsed) -> {
            if (ex instanceof UserError) {
                stderr().println(c.getCommandName() + ": " + ex.getMessage());
                return ((UserError) ex).exitCode;
            }
            throw ex;
        });
        String jnu = System.getProperty("sun.jnu.encoding", "UTF-8");
        for (String arg : args)
            if (arg.indexOf('\uFFFD') >= 0 && !jnu.equalsIgnoreCase("UTF-8")) { // the JVM decoded it in the locale's charset
                cmd.getErr().println(cmd.getCommandName() + ": the command line has characters that this locale's charset ("
                        + jnu + ") cannot carry into Java; run it in a UTF-8 locale, such as LANG=C.UTF-8");
                return 2;
            }
        try {
            return cmd.execute(args);
        } catch (OutOfMemoryError e) { // what the estimate in checkFits missed: still one line, no stack trace
            stderr().println(cmd.getCommandName() + ": out of memory (" + e.getMessage() + ", heap limit "
                    + gib(Runtime.getRuntime().maxMemory()) + "); " + fix(2.0 * Runtime.getRuntime().maxMemory(), script(cmd.getCommandName())));
            return 1;
        }
    }

    /** Reads the annotations of a class, its superclasses, its fields and its fields' classes (picocli's mixins). */
    private static final class AnnotationReader implements Runnable {
        private final Class<?> command;

        AnnotationReader(Class<?> command) { this.command = command; }

        @Override
        public void run() {
            for (Class<?> c = command; c != null && c != Object.class; c = c.getSuperclass()) {
                c.getAnnotations();
                for (java.lang.reflect.Field f : c.getDeclaredFields()) {
                    f.getAnnotations();
                    if (f.getType().getClassLoader() == command.getClassLoader())
                        for (java.lang.reflect.Field g : f.getType().getDeclaredFields()) g.getAnnotations();
                }
            }
        }
    }

    /**
     * The value of an option in the words of a command line, before picocli parses them: the last `NAME V` or
     * `NAME=V`; null if none. A guess about what picocli will read (Relaunch, Prefetch), which it then checks.
     */
    static String lastValue(String[] args, String name) {
        String value = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals(name) && i + 1 < args.length) value = args[i + 1];
            else if (args[i].startsWith(name + "=")) value = args[i].substring(name.length() + 1);
        }
        return value;
    }

    /** The script a command runs from: microgpt-optimized is microgpt_optimized.java. */
    static String script(String commandName) { return commandName.replace('-', '_') + ".java"; }

    /** Stops at once, with one line, when a model that needs `needed` bytes cannot fit in the heap this JVM will allow. */
    static void checkFits(double needed, int block_size, String commandName) {
        double limit = Runtime.getRuntime().maxMemory();
        if (needed > limit)
            throw UserError.input("this model needs about " + gib(needed) + " of heap (parameters, Adam's buffers and one "
                    + "step's graph at --block-size " + block_size + "), more than this JVM's limit of " + gib(limit)
                    + "; " + fix(needed, script(commandName)));
    }

    /** What to do when a model needs `needed` bytes of heap: more heap if the machine has the memory, else a smaller model. */
    static String fix(double needed, String script) {
        String smaller = "choose a smaller model (--n-embd, --n-layer, --block-size)";
        double ram = ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        if (needed > 0.9 * ram) return "that is more than this machine's " + gib(ram) + " of memory: " + smaller;
        return "give Java more heap (./jbang --runtime-option=-Xmx" + (long) Math.ceil(needed * 1.25 / (1L << 30))
                + "g " + script + " ...) or " + smaller;
    }

    static String gib(double bytes) { return String.format(Locale.ROOT, "%.1f GiB", bytes / (1L << 30)); }

    /** Fails now, not after training, if target cannot be written: one line naming the option and the fix. */
    static void checkOutput(String option, Path target, String example) {
        if (Files.isDirectory(target))
            throw UserError.usage(option + " " + target + " is a directory; give a file path such as " + example);
        Path dir = target.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir))
            throw UserError.usage(option + " " + target + ": folder " + dir + " does not exist; create it or choose another path");
        if (Files.exists(target) && !Files.isWritable(target) || !Files.isWritable(dir))
            throw UserError.usage(option + " " + target + " is not writable; choose another path");
    }

    /**
     * Every file the scripts write is written whole or not at all: to a temporary file beside the target
     * (tempBeside), then renamed into place (moveIntoPlace), readable by all (rw-r--r--; a temporary file is
     * created readable by its owner only).
     */
    record Temp(Path path, OutputStream out) {
        /** Writes text (UTF-8) and closes the file. */
        void writeAndClose(String text) throws IOException {
            try (OutputStream o = out) { o.write(text.getBytes(StandardCharsets.UTF_8)); }
        }
    }

    /**
     * A new temporary file beside target, NAME.<pid>.<n>.part, and the one stream that writes it. The file is
     * created open and never opened again by name: SIGINT or SIGTERM delete it as the JVM exits (after the shutdown
     * hooks, which may finish a save into it) while this thread may still be writing; a write by name (CREATE) at
     * that instant would make the file again and leave it behind.
     */
    static Temp tempBeside(Path target) throws IOException {
        // not Files.createTempFile: its random names cost ~27 ms the first time (SecureRandom)
        Path dir = target.toAbsolutePath().getParent();
        String base = target.getFileName() + "." + ProcessHandle.current().pid() + ".";
        while (true) {
            Path tmp = dir.resolve(base + TEMP_FILES.incrementAndGet() + ".part");
            // registered before the file exists: a signal between the two would otherwise leave it (a name taken by a
            // dead process with this pid is deleted at exit too); once renamed into place, nothing is left to delete
            tmp.toFile().deleteOnExit();
            java.util.Set<StandardOpenOption> create = java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            FileChannel file;
            try {
                try {
                    file = FileChannel.open(tmp, create, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
                } catch (UnsupportedOperationException notPosix) {
                    file = FileChannel.open(tmp, create);
                }
            } catch (java.nio.file.FileAlreadyExistsException leftByAnotherRun) {
                continue;
            }
            return new Temp(tmp, Channels.newOutputStream(file));
        }
    }

    private static final java.util.concurrent.atomic.AtomicLong TEMP_FILES = new java.util.concurrent.atomic.AtomicLong();

    /** What a file holds: written to the stream it is given (writeWhole closes that stream). */
    interface Body { void writeTo(OutputStream out) throws IOException; }

    /** Writes target whole or not at all: body into a temporary file beside it (tempBeside), then moveIntoPlace. */
    static void writeWhole(Path target, Body body) throws IOException {
        Temp tmp = tempBeside(target);
        try {
            try (OutputStream out = tmp.out()) { body.writeTo(out); }
            moveIntoPlace(tmp.path(), target);
        } finally {
            Files.deleteIfExists(tmp.path());
        }
    }

    /** Writes text (UTF-8) to target whole or not at all. */
    static void writeWhole(Path target, String text) throws IOException {
        writeWhole(target, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        } catch (UnsupportedOperationException | IOException notPosix) { }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Standard output in UTF-8, whatever the locale (JDK 17 would encode for the locale, and with no LANG print
     * '?' for every character beyond ASCII): names may be any Unicode.
     */
    static PrintStream stdout() {
        return new PrintStream(System.out, false, StandardCharsets.UTF_8);
    }

    /** Standard error in UTF-8, as stdout(): messages quote names, characters and paths. */
    static PrintStream stderr() {
        return new PrintStream(System.err, true, StandardCharsets.UTF_8);
    }
}

/** A problem with the user's input or options: reported as one line, never as a stack trace. */
final class UserError extends RuntimeException {
    final int exitCode;
    UserError(int exitCode, String message) { super(message); this.exitCode = exitCode; }
    static UserError usage(String message) { return new UserError(2, message); }
    static UserError input(String message) { return new UserError(1, message); }
}

/** The options both engines share, declared once (a picocli mixin); TrainingRun reads and checks them. */
final class Options {
    @Option(names = "--input", paramLabel = "FILE", description = "Text file, one document per line (default: input.txt, "
            + "written from the bundled names.txt if missing).")
    Path input;
    @Option(names = "--seed", paramLabel = "SEED", description = "Random seed, as Python's random.seed (default: ${DEFAULT-VALUE}).")
    long seed = 42;
    @Option(names = "--steps", paramLabel = "N", description = "Training steps (default: ${DEFAULT-VALUE}).")
    int steps = 1000;
    @Option(names = "--batch-size", paramLabel = "B", description = "Documents per step; the step's loss is their mean "
            + "(default: ${DEFAULT-VALUE}).")
    int batchSize = 1;
    @Option(names = "--n-layer", paramLabel = "N", description = "Transformer layers (default: ${DEFAULT-VALUE}).")
    int nLayer = 1;
    @Option(names = "--n-embd", paramLabel = "N", description = "Embedding width (default: ${DEFAULT-VALUE}).")
    int nEmbd = 16;
    @Option(names = "--n-head", paramLabel = "N", description = "Attention heads; must divide --n-embd (default: ${DEFAULT-VALUE}).")
    int nHead = 4;
    @Option(names = "--block-size", paramLabel = "N", description = "Maximum context length (default: ${DEFAULT-VALUE}).")
    int blockSize = 16;
    @Option(names = "--temperature", paramLabel = "T", description = "Sampling temperature, > 0 (default: ${DEFAULT-VALUE}).")
    double temperature = 0.5;
    @Option(names = "--samples", paramLabel = "N", description = "Names to sample after training (default: ${DEFAULT-VALUE}).")
    int samples = 20;
    @Option(names = "--loss-log", paramLabel = "FILE", description = "Write a CSV 'step,loss' with every step's exact loss.")
    Path lossLog;
    @Option(names = "--report", paramLabel = "FILE", description = "Write FILE, one HTML page that shows the model learning "
            + "step by step (loss, names, attention, next-character probabilities, embeddings, gradients): at the end, at "
            + "each --save-every checkpoint, and on Ctrl-C.")
    Path report;
    @Option(names = "--timing", description = "Print on stderr how long start-up, data, training and sampling took.")
    boolean timing;
    @Option(names = "--prompt", paramLabel = "TEXT", description = "Start every sample with TEXT (it is printed too).")
    String prompt = "";
    @Option(names = "--save", paramLabel = "FILE", description = "Write the model to FILE (safetensors) after training; on "
            + "Ctrl-C or SIGTERM, finish the step and write it there.")
    Path save;
    @Option(names = "--save-every", paramLabel = "N", description = "Also write it every N steps during training (default: never).")
    int saveEvery;
    @Option(names = "--load", paramLabel = "FILE", description = "Start from the model in FILE: without --steps, only sample; "
            + "with --steps N, train N more steps on --input.")
    Path load;
    @Option(names = "--resume", paramLabel = "FILE", description = "Continue the run saved in FILE exactly where it stopped, "
            + "to the steps it planned, then sample.")
    Path resume;
    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec; // the command these options belong to: its name, and which options were given
}
