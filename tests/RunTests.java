///usr/bin/env jbang "$0" "$@" ; exit $?
//JAVA 17+
//DEPS org.junit.jupiter:junit-jupiter:5.14.1
//DEPS org.junit.platform:junit-platform-launcher:1.14.1
//SOURCES ../bench_compare.java
//SOURCES TestSupport.java
//SOURCES CliContract.java
//SOURCES MicrogptTest.java
//SOURCES MicrogptOptimizedTest.java
//SOURCES BenchCompareTest.java
//SOURCES SupportTest.java
//SOURCES LauncherTest.java
//SOURCES ReportTest.java
//COMPILE_OPTIONS -encoding UTF-8

package mgpt;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.*;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs every test of the project with the JUnit Platform and ends with "N passed, N failed". */
@Command(name = "run-tests", mixinStandardHelpOptions = true, version = "run-tests 1.0.0",
        description = "Runs the microgpt-java test suite (JUnit 5). Run it from the repository root.")
public class RunTests implements Callable<Integer> {

    static final List<Class<?>> TEST_CLASSES = List.of(
            MicrogptTest.class, MicrogptCliTest.class, MicrogptOptimizedTest.class, MicrogptOptimizedCliTest.class,
            SupportTest.class, ReportTest.class, LauncherTest.class, BenchCompareTest.class);

    @Option(names = "--only", paramLabel = "TEXT", description = "Run only the test classes whose name contains TEXT.")
    String only;

    /**
     * The JVM the tests run in, chosen here on purpose. JBang merges the //JAVA_OPTIONS of every file this
     * script //SOURCES, the engines' last (C1 only, small heaps: right for a half-second engine run, not for
     * a test suite), so a //JAVA_OPTIONS line here would be dead. main() therefore starts the suite in a JVM
     * of its own, as Maven Surefire forks one: the serial collector, room for the largest in-process model
     * the tests train (2 GiB), and full tiered compilation (C2 for the 1000-step golden runs).
     */
    static final List<String> TEST_JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-Xms256m", "-Xmx2g", "-XX:+TieredCompilation",
            "-XX:-UsePerfData", "-Dmicrogpt.tests.forked=true");

    public static void main(String... args) throws Exception {
        if (!Boolean.getBoolean("microgpt.tests.forked")) {
            String javaExe = ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            List<String> cmd = new ArrayList<>(List.of(javaExe));
            cmd.addAll(TEST_JVM_OPTIONS);
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RunTests.class.getName()));
            cmd.addAll(List.of(args));
            System.exit(new ProcessBuilder(cmd).inheritIO().start().waitFor());
        }
        System.exit(new CommandLine(new RunTests()).execute(args));
    }

    @Override
    public Integer call() {
        LauncherDiscoveryRequestBuilder request = LauncherDiscoveryRequestBuilder.request();
        TEST_CLASSES.stream().filter(c -> only == null || c.getSimpleName().contains(only))
                .forEach(c -> request.selectors(selectClass(c)));
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        launcher.execute(request.build(), summary, new Printer());
        TestExecutionSummary s = summary.getSummary();
        if (s.getTotalFailureCount() > 0) {
            System.out.println();
            s.printFailuresTo(new PrintWriter(System.out, true), 12);
        }
        long passed = s.getTestsSucceededCount(), failed = s.getTestsFailedCount() + s.getTestsAbortedCount();
        System.out.printf("%n%d passed, %d failed%s%n", passed, failed,
                s.getTestsSkippedCount() > 0 ? ", " + s.getTestsSkippedCount() + " skipped" : "");
        return failed == 0 && passed > 0 && s.getContainersFailedCount() == 0 ? 0 : 1;
    }

    /** One line per test: PASS/FAIL, class, name, time. */
    static final class Printer implements TestExecutionListener {
        private final java.util.Map<String, Long> started = new java.util.concurrent.ConcurrentHashMap<>();
        private TestPlan plan;

        @Override public void testPlanExecutionStarted(TestPlan testPlan) { plan = testPlan; }
        @Override public void executionStarted(TestIdentifier id) { started.put(id.getUniqueId(), System.nanoTime()); }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult result) {
            boolean failed = result.getStatus() != TestExecutionResult.Status.SUCCESSFUL;
            if (!id.isTest() && !failed) return;
            long ms = (System.nanoTime() - started.getOrDefault(id.getUniqueId(), System.nanoTime())) / 1_000_000;
            System.out.printf("%s %s (%d ms)%n", failed ? "FAIL" : "PASS", path(id), ms);
            if (failed) result.getThrowable().ifPresent(t -> System.out.println("     " + t));
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            System.out.printf("SKIP %s (%s)%n", path(id), reason);
        }

        /** Class > method > invocation, without the engine and without parameter types. */
        private String path(TestIdentifier id) {
            Deque<String> names = new ArrayDeque<>();
            for (Optional<TestIdentifier> t = Optional.of(id); t.isPresent() && t.get().getParentId().isPresent();
                 t = plan.getParent(t.get())) {
                String name = t.get().getDisplayName();
                names.addFirst(name.endsWith(")") && name.contains("(") ? name.substring(0, name.indexOf('(')) : name);
            }
            return String.join(" > ", names);
        }
    }
}
