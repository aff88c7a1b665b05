package mgpt;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * A team of threads, made once, that runs a task on every one of them, the calling thread included, and
 * returns when all are done. The task gets its thread's number: 0 for the caller, 1..count-1 for the
 * others. Nothing is allocated per run: a volatile counter starts a run, an atomic counter ends it, and a
 * waiting thread yields its core for a millisecond (a run lasts about that long) before it parks. It yields
 * rather than spins: in a virtual machine a core that spins (x86's PAUSE, Thread.onSpinWait) can lose its
 * turn on the host, and a two-thread step then waited for it, 2-3x a step in most JVMs on a 2-core VM.
 */
final class Workers implements AutoCloseable {
    private static final long YIELD_NS = 1_000_000; // a waiting thread yields its core this long, then parks
    final Thread[] threads; // the threads of numbers 1..count-1
    private final IntConsumer task;
    private final Thread caller = Thread.currentThread();
    private final AtomicInteger finished = new AtomicInteger();
    private volatile int generation; // a new run for the threads
    private volatile boolean closed;
    private volatile Throwable failure;

    Workers(int count, String name, IntConsumer task) {
        this.task = task;
        threads = new Thread[count - 1];
        for (int t = 1; t < count; t++) {
            int number = t;
            threads[t - 1] = new Thread(() -> loop(number), name + "-" + t);
            threads[t - 1].setDaemon(true);
            threads[t - 1].start();
        }
    }

    /** Runs the task on every thread, and returns when all are done; a task's failure is rethrown here. */
    void run() {
        finished.set(0);
        generation++;
        for (Thread th : threads) LockSupport.unpark(th);
        task.accept(0);
        for (long since = System.nanoTime(); finished.get() < threads.length; )
            if (System.nanoTime() - since < YIELD_NS) Thread.yield(); else LockSupport.parkNanos(this, 100_000);
        if (failure != null) throw new IllegalStateException("a thread of " + caller.getName() + "'s team failed", failure);
    }

    private void loop(int number) {
        int seen = 0;
        while (true) {
            for (long since = System.nanoTime(); generation == seen; ) {
                if (closed) return;
                if (System.nanoTime() - since < YIELD_NS) Thread.yield(); else LockSupport.park(this);
            }
            seen = generation; // before the task: the next run cannot start until this one has finished
            try {
                task.accept(number);
            } catch (Throwable e) {
                failure = e;
            }
            finished.incrementAndGet();
            LockSupport.unpark(caller);
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread th : threads) LockSupport.unpark(th);
    }
}
