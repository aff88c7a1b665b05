package mgpt;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.io.IOException;
import java.lang.management.*;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * The child's side of a row: what one fresh JVM does with its workload, and how each figure of its report is
 * taken. Time from System.nanoTime around each run; the JIT's CPU time during the runs from /proc/self/task;
 * allocation from the allocated-bytes counters of the threads the workload runs on; the heap peak from GC
 * notifications; RSS from /proc/self/status; the live peak from a pass with full collections forced about
 * every millisecond.
 */
final class Measurement {
    private Measurement() { }

    /** Warm-up ends once the JIT has been quiet for this long (and the minimums are met): see warmUp. */
    static final double JIT_QUIET_SECONDS = 0.5;

    /**
     * Measures one row's workload in this JVM: the cold run, the warm-up, the measured runs (time, allocation,
     * heap, RSS), then the memory pass; area and variant only label the report.
     */
    static ChildReport measure(Area area, String variant, Workloads.Workload work, BenchSettings s) throws Exception {
        // Cold: the first run of this fresh JVM (interpreter, class loading, JIT compiling)
        long t0 = System.nanoTime();
        double checksum = work.run();
        double secondsFirst = (System.nanoTime() - t0) / 1e9;
        double[] losses = work.losses() == null ? null : work.losses().clone();

        // Warm-up: until the minimums are met and the JIT has been quiet for a while (or a time cap)
        WarmUp warm = warmUp(work, s);

        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        Thread[] helpers = work.helpers();
        long[] helpersBefore = new long[helpers.length];
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();

        // Measured runs: time, allocation, the heap in use before every collection, RSS
        System.gc();
        long heapBefore = memory.getHeapMemoryUsage().getUsed();
        double[] seconds = new double[s.reps()];
        long allocated, heapPeak, jitMs;
        resetRssPeak();
        long rssBefore = procStatusBytes("VmRSS");
        try (GcWatch gcs = new GcWatch()) {
            long collections = GcWatch.collections();
            long ticksBefore = compilerTicks(); // it allocates: before the counters
            // reading another thread's counter allocates on this one: this thread's is read last before, first after
            for (int k = 0; k < helpers.length; k++) helpersBefore[k] = threads.getThreadAllocatedBytes(helpers[k].getId());
            long allocBefore = threads.getThreadAllocatedBytes(tid);
            for (int r = 0; r < s.reps(); r++) {
                if (s.gcBetweenReps()) System.gc();
                long t = System.nanoTime();
                work.run();
                seconds[r] = (System.nanoTime() - t) / 1e9;
            }
            allocated = threads.getThreadAllocatedBytes(tid) - allocBefore;
            for (int k = 0; k < helpers.length; k++) allocated += threads.getThreadAllocatedBytes(helpers[k].getId()) - helpersBefore[k];
            jitMs = (compilerTicks() - ticksBefore) * TICK_MS; // after the counters, as before them
            long heapEnd = memory.getHeapMemoryUsage().getUsed();
            gcs.await(collections);
            heapPeak = Math.max(Math.max(heapBefore, heapEnd), gcs.maxBefore.get());
        }
        long rssAfter = procStatusBytes("VmRSS"), rssPeak = procStatusBytes("VmHWM");
        long heapDelta = memory.getHeapMemoryUsage().getUsed() - heapBefore;

        // Memory pass: full collections forced about every millisecond while the workload runs; the most
        // heap still in use after one of them is the most data the workload kept reachable at once.
        // With an empty workload first: once to load the pass's own classes, once more for its noise floor
        // (what the pass itself keeps live: GC notifications in flight); then the workload.
        livePeak(() -> 0);
        LivePeak floor = livePeak(() -> 0);
        LivePeak live = livePeak(work);

        List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
        return new ChildReport(area.key, variant, ProcessHandle.current().pid(), jvmArgs, area.workPerRun(s), secondsFirst,
                seconds, warm.runs(), warm.settled(), jitMs, allocated / s.reps(), heapPeak, live.peak(), live.base(), floor.peak(), heapDelta,
                rssAfter - rssBefore, rssPeak, checksum, losses);
    }

    /**
     * Runs the workload until at least --warmup runs and --warmup-time seconds, and then until the JIT has
     * been quiet for JIT_QUIET_SECONDS, or 5 x --warmup-time has passed. Quiet: no compilation has finished
     * and the compiler threads have used no CPU time. The second is needed because the first moves only when
     * a compilation ends: a large method takes C2 hundreds of milliseconds, longer still when the workload's
     * threads keep every core busy, and warm-up would end in the middle of it.
     */
    static WarmUp warmUp(Workloads.Workload work, BenchSettings s) {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long start = System.nanoTime(), lastJitActivity = start, lastLook = start;
        long jitTime = jit.getTotalCompilationTime(), jitTicks = compilerTicks();
        int runs = 0;
        boolean quiet = false;
        while (true) {
            double elapsed = (System.nanoTime() - start) / 1e9;
            if (runs >= s.warmup() && elapsed >= s.warmupTime() && (quiet || elapsed >= 5 * s.warmupTime())) return new WarmUp(runs, quiet);
            work.run();
            runs++;
            long now = System.nanoTime();
            if (now - lastLook < LOOK_NS) continue; // the threads' CPU times move in clock ticks (10 ms)
            lastLook = now;
            long jt = jit.getTotalCompilationTime(), ticks = compilerTicks();
            if (jt != jitTime || ticks != jitTicks) { jitTime = jt; jitTicks = ticks; lastJitActivity = now; }
            quiet = (now - lastJitActivity) / 1e9 >= JIT_QUIET_SECONDS;
        }
    }

    /** How often warm-up looks at the JIT: /proc's CPU times move in clock ticks of 10 ms. */
    static final long LOOK_NS = 10_000_000;

    /** A clock tick of /proc's CPU times (USER_HZ, 100 on Linux), in milliseconds. */
    static final int TICK_MS = 10;

    /**
     * The CPU time the JIT's compiler threads have used so far, in clock ticks, from /proc/self/task (HotSpot
     * names them "C1 CompilerThreadN" and "C2 CompilerThreadN", cut to 15 characters there); 0 where there
     * is no /proc, so that only the compilation time counts then.
     */
    static long compilerTicks() {
        long ticks = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path task : tasks) {
                String stat;
                try { stat = Files.readString(task.resolve("stat")); } catch (IOException ended) { continue; }
                int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                String name = stat.substring(open + 1, close);
                if (!name.startsWith("C1 CompilerThre") && !name.startsWith("C2 CompilerThre")) continue;
                String[] fields = stat.substring(close + 2).split(" "); // from the third field, the state, on
                ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime and stime, fields 14 and 15
            }
        } catch (IOException | RuntimeException noProc) {
            return 0;
        }
        return ticks;
    }

    /** How many warm-up runs there were, and whether the JIT had settled (been quiet for a while) by then. */
    record WarmUp(int runs, boolean settled) { }

    /** The most heap a workload kept live at once above what was live before it (peak), and that base. */
    record LivePeak(long peak, long base) { }

    /** Minimum forced full collections (and runs) of the memory pass. */
    static final int LIVE_SAMPLES = 50;

    /**
     * The live peak of a workload, above what was live before it ran. A daemon
     * thread forces a full collection (System.gc(): stop-the-world and complete with the serial and
     * parallel collectors), sleeps 1 ms, and again, while the workload runs, for at least one run and
     * LIVE_SAMPLES collections.
     */
    static LivePeak livePeak(Workloads.Workload work) throws InterruptedException {
        try (GcWatch gcs = new GcWatch()) {
            // the base, from the collection itself: the heap's "used" counts threads' allocation buffers too
            long collections = GcWatch.collections();
            System.gc();
            gcs.await(collections);
            long base = gcs.maxAfterFull.getAndSet(0);
            long startFull = gcs.fullCollections.get();
            Thread collector = new Thread(() -> {
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        System.gc();
                        Thread.sleep(1);
                    }
                } catch (InterruptedException ignored) { }
            }, "live-peak-collector");
            collector.setDaemon(true);
            collector.start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            do {
                work.run();
            } while (gcs.fullCollections.get() - startFull < LIVE_SAMPLES && System.nanoTime() < deadline);
            collector.interrupt();
            collector.join();
            gcs.await(collections);
            return new LivePeak(Math.max(0, gcs.maxAfterFull.get() - base), base);
        }
    }

    /** A field of /proc/self/status in bytes (VmRSS, VmHWM), or -1 where there is no /proc. */
    static long procStatusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status")))
                if (line.startsWith(field + ":")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        } catch (IOException | RuntimeException ignored) { }
        return -1;
    }

    /** Resets VmHWM to the current RSS (writing 5 to /proc/self/clear_refs), where allowed. */
    static void resetRssPeak() {
        try { Files.writeString(Path.of("/proc/self/clear_refs"), "5"); } catch (IOException | RuntimeException ignored) { }
    }

    /** Records, from GC notifications, the heap in use before each collection and after each full one. */
    static final class GcWatch implements AutoCloseable {
        final AtomicLong maxBefore = new AtomicLong(), maxAfterFull = new AtomicLong(), events = new AtomicLong();
        final AtomicLong fullCollections = new AtomicLong();
        private final List<NotificationEmitter> emitters = new ArrayList<>();
        private final javax.management.NotificationListener listener = (n, hb) -> {
            if (!n.getType().equals(GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION)) return;
            GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) n.getUserData());
            long before = heapUsed(info.getGcInfo().getMemoryUsageBeforeGc()), after = heapUsed(info.getGcInfo().getMemoryUsageAfterGc());
            maxBefore.accumulateAndGet(before, Math::max);
            if (info.getGcAction().contains("major")) {
                maxAfterFull.accumulateAndGet(after, Math::max);
                fullCollections.incrementAndGet();
            }
            events.incrementAndGet();
        };

        static final Set<String> HEAP_POOLS = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName).collect(java.util.stream.Collectors.toSet());

        /** The heap in use in one of a collection's snapshots: the sum over the heap's pools. */
        static long heapUsed(Map<String, MemoryUsage> pools) {
            return pools.entrySet().stream().filter(e -> HEAP_POOLS.contains(e.getKey())).mapToLong(e -> e.getValue().getUsed()).sum();
        }

        GcWatch() {
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans())
                if (gc instanceof NotificationEmitter e) { e.addNotificationListener(listener, null, null); emitters.add(e); }
        }

        static long collections() {
            long n = 0;
            for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, gc.getCollectionCount());
            return n;
        }

        /** Waits (up to 2 s) until every collection since `since` has been notified: notifications come on another thread. */
        void await(long since) throws InterruptedException {
            long deadline = System.nanoTime() + 2_000_000_000L;
            while (events.get() < collections() - since && System.nanoTime() < deadline) Thread.sleep(5);
        }

        @Override
        public void close() {
            for (NotificationEmitter e : emitters) try { e.removeNotificationListener(listener); } catch (Exception ignored) { }
        }
    }
}
