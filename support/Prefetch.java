package mgpt;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.FutureTask;
import java.util.function.Function;

/**
 * The input read, and `work` done on its text, on a thread of its own while the command line is parsed (picocli
 * builds its model of the command for about 100 ms at start-up, while the other core has nothing to do). The file
 * is the one the words name, `--input FILE` or else input.txt: a guess, which TrainingRun checks against the parsed
 * options. A run whose input is another file, or that needs no data, or whose input is missing or not UTF-8, reads
 * it again itself, in its own order and with its own messages: nothing here prints, writes or fails.
 */
final class Prefetch<T> {
    private final Path path;
    private final FutureTask<T> task;

    private Prefetch(Path path, FutureTask<T> task) { this.path = path; this.task = task; }

    /** Starts reading the input that args name, then `work` of its text; null if the words name no readable file. */
    static <T> Prefetch<T> input(String[] args, Function<String, T> work) {
        String name = Cli.lastValue(args, "--input");
        Path path;
        try {
            path = Path.of(name != null ? name : TrainingRun.DEFAULT_INPUT);
            if (!Files.isRegularFile(path)) return null;
        } catch (RuntimeException e) { // not a path here: the options' own check reports it
            return null;
        }
        FutureTask<T> task = new FutureTask<>(new Callable<T>() { // a class, not a lambda: see microgpt_optimized.SPLIT_DOCS
            @Override public T call() { return work.apply(TrainingRun.readInput(path, false)); }
        });
        Thread thread = new Thread(task, "prefetch-input");
        thread.setDaemon(true);
        thread.start();
        return new Prefetch<>(path, task);
    }

    /** `work` of run.text(): from the prefetch when it read the very file that run.text() reads, else done now. */
    static <T> T text(Prefetch<T> prefetched, TrainingRun run, Function<String, T> work) {
        T done = prefetched == null || run.input() == null ? null : prefetched.get(run.input());
        return done != null ? done : work.apply(run.text());
    }

    /** What `work` made of the text of `input`, if this prefetch read that file and succeeded; else null. */
    T get(Path input) {
        if (!path.equals(input)) return null;
        try {
            return task.get();
        } catch (Exception failed) { // read again by the caller, who reports the problem in its place
            return null;
        }
    }
}
