package mgpt;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.*;
import org.junit.jupiter.api.io.TempDir;

/**
 * One command runs each script, as a user types it, through ./jbang in a process of its own: from another
 * working directory, through the catalog, from a URL, as an installed command, and as a JShell session.
 */
class LauncherTest {
    static final Path REPO = TestSupport.REPO;

    /** What a command printed (stdout and stderr together) and its exit code. */
    record Result(int exit, String out) { }

    /** Runs the command in dir with stdin, PATH and JBANG_DIR as given (null: as this JVM has them). */
    static Result sh(Path dir, String stdin, Map<String, String> env, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        try (var in = p.getOutputStream()) { in.write(stdin.getBytes(StandardCharsets.UTF_8)); }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "finished: " + out);
        return new Result(p.exitValue(), out);
    }

    static String launcher() { return REPO.resolve("jbang").toString(); }

    @Test
    void runsFromAnotherWorkingDirectoryAndThroughTheCatalog(@TempDir Path tmp) throws Exception {
        Path names = TestSupport.writeFile(tmp, "names.txt", "anna\nbob\n");
        Result r = sh(tmp, "", Map.of(), launcher(), REPO.resolve("microgpt.java").toString(), "--input", names.toString(),
                "--steps", "2", "--samples", "1");
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("num docs: 2\nvocab size: 5\n"), r.out());
        Result alias = sh(REPO, "", Map.of(), launcher(), "microgpt-optimized", "--input", names.toString(), "--steps", "2", "--samples", "1");
        assertEquals(0, alias.exit(), alias.out());
        assertTrue(alias.out().contains("num docs: 2\nvocab size: 5\n"), alias.out());
    }

    /**
     * Under any locale the scripts compile (javac on JDK 17 reads sources in the locale's charset unless told) and
     * write the same bytes. From a fresh JBang cache with no locale at all (no LANG, no LC_*: as `env -i` or a
     * minimal container), then C, C.UTF-8 and en_US.UTF-8 (which falls back to C where it is not installed): each
     * engine's stdout, loss log and model file, and an error line that quotes every character of the vocabulary
     * (é, ë, an emoji), are the bytes of the C.UTF-8 run; the test suite compiles there too.
     */
    @Test
    void everyScriptCompilesAndWritesTheSameBytesInAnyLocale(@TempDir Path tmp) throws Exception {
        Path jbangDir = tmp.resolve("jbang-home"); // a fresh cache: every script is compiled under no locale first
        Path names = TestSupport.writeFile(tmp, "names.txt", "zoë\nanna\nbob\uD83D\uDE00\nélise\nemma\n");
        for (String script : List.of("microgpt.java", "microgpt_optimized.java")) {
            Map<String, List<byte[]>> outputs = new LinkedHashMap<>();
            for (String lang : Arrays.asList(null, "C", "C.UTF-8", "en_US.UTF-8")) {
                Path dir = Files.createDirectories(tmp.resolve(script + "-" + lang));
                Result run = inLocale(dir, "run", lang, jbangDir, launcher(), REPO.resolve(script).toString(), "--input", names.toString(),
                        "--steps", "5", "--samples", "3", "--loss-log", "l.csv", "--save", "m.safetensors");
                assertEquals(0, run.exit(), lang + ": " + run.out());
                Result error = inLocale(dir, "error", lang, jbangDir, launcher(), REPO.resolve(script).toString(), "--input", names.toString(),
                        "--prompt", "x");
                assertEquals(2, error.exit(), lang + ": " + error.out());
                outputs.put(String.valueOf(lang), List.of(Files.readAllBytes(dir.resolve("run.out")), Files.readAllBytes(dir.resolve("l.csv")),
                        Files.readAllBytes(dir.resolve("m.safetensors")), Files.readAllBytes(dir.resolve("error.err"))));
            }
            List<byte[]> utf8 = outputs.get("C.UTF-8");
            String err = new String(utf8.get(3), StandardCharsets.UTF_8);
            assertTrue(err.endsWith("use only these: abeilmnosz\u00e9\u00eb\uD83D\uDE00\n"), err);
            long header = java.nio.ByteBuffer.wrap(utf8.get(2), 0, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, header % 8, "the model file's header is padded to 8 bytes, counted in bytes, not characters");
            outputs.forEach((lang, out) -> {
                for (int k = 0; k < out.size(); k++)
                    assertArrayEquals(utf8.get(k), out.get(k), script + ", LANG " + lang + ": " + List.of("stdout", "loss log", "model file", "stderr").get(k));
            });
        }
        Result tests = inLocale(tmp, "tests", null, jbangDir, launcher(), "build", REPO.resolve("tests/RunTests.java").toString());
        assertEquals(0, tests.exit(), tests.out());
    }

    /**
     * Runs cmd in dir with LANG=lang and no other locale variable (lang null: none at all); its stdout and stderr go
     * to NAME.out and NAME.err there. Returns the exit code and stderr.
     */
    static Result inLocale(Path dir, String name, String lang, Path jbangDir, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                .redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("LC_") || k.equals("LANG") || k.equals("LANGUAGE"));
        if (lang != null) pb.environment().put("LANG", lang);
        pb.environment().put("JBANG_DIR", jbangDir.toString());
        Process p = pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "finished");
        return new Result(p.exitValue(), Files.readString(dir.resolve(name + ".err"), StandardCharsets.UTF_8));
    }

    /**
     * A repeat run execs the java command JBang printed last time, with no JBang JVM, while nothing that decides the
     * build has changed; an edit to the script, to a file it //SOURCES or //FILES, or a //DEPS line, a deleted jar,
     * or a JBang option the launcher does not know (--fresh), runs JBang again. On a copy of the repository (its own
     * .tools/launch/, sharing the bootstrapped JBang) with a JBang cache of its own; MICROGPT_LAUNCHER_TRACE=1 makes
     * the launcher say which way each run went.
     */
    @Test
    void aRepeatRunStartsNoJbangJvmUntilSomethingThatDecidesTheBuildChanges(@TempDir Path tmp) throws Exception {
        Path repo = Files.createDirectories(tmp.resolve("repo")), work = Files.createDirectories(tmp.resolve("work"));
        List<String> copied = new ArrayList<>(List.of("jbang", "jbang-catalog.json", "microgpt.java", "data/names.txt"));
        try (var support = Files.list(REPO.resolve("support"))) { support.forEach(f -> copied.add("support/" + f.getFileName())); }
        for (String f : copied) {
            Files.createDirectories(repo.resolve(f).getParent());
            Files.copy(REPO.resolve(f), repo.resolve(f), StandardCopyOption.COPY_ATTRIBUTES);
        }
        Files.createDirectories(repo.resolve(".tools"));
        Files.createSymbolicLink(repo.resolve(".tools/jbang"), REPO.resolve(".tools/jbang"));
        Map<String, String> env = Map.of("JBANG_DIR", tmp.resolve("jbang-home").toString(), "MICROGPT_LAUNCHER_TRACE", "1");
        String script = repo.resolve("microgpt.java").toString(), launcher = repo.resolve("jbang").toString();
        String repeat = "jbang (launcher): a repeat run", changed = "jbang (launcher): JBang runs: the build or its files changed";

        Result first = sh(work, "", env, launcher, script, "--version");
        assertEquals(0, first.exit(), first.out());
        assertTrue(first.out().contains("jbang (launcher): JBang runs: no entry yet") && first.out().contains("microgpt 1.0.0"), first.out());
        Result again = sh(work, "", env, launcher, script, "--version");
        assertTrue(again.out().startsWith(repeat) && again.out().endsWith("\nmicrogpt 1.0.0\n"), again.out());
        assertTrue(sh(repo, "", env, launcher, "--quiet", "microgpt", "--version").out().contains("microgpt 1.0.0"));
        assertTrue(sh(repo, "", env, launcher, "--quiet", "microgpt", "--version").out().startsWith(repeat), "an alias, repeated");

        edit(repo.resolve("microgpt.java"), "version = \"microgpt 1.0.0\"", "version = \"microgpt 1.0.1\""); // the script
        Result edited = sh(work, "", env, launcher, script, "--version");
        assertTrue(edited.out().startsWith(changed) && edited.out().endsWith("\nmicrogpt 1.0.1\n"), edited.out());
        assertTrue(sh(work, "", env, launcher, script, "--version").out().startsWith(repeat));

        edit(repo.resolve("support/Config.java"), "must be divisible by", "must be a multiple of"); // a //SOURCES file
        Result sourced = sh(work, "", env, launcher, script, "--n-embd", "10");
        assertTrue(sourced.out().startsWith(changed) && sourced.out().contains("--n-embd (10) must be a multiple of --n-head (4)"), sourced.out());

        Files.writeString(repo.resolve("data/names.txt"), "\nzzzz\n", StandardOpenOption.APPEND); // a //FILES file (it ends with no newline)
        Result files = sh(work, "", env, launcher, script, "--steps", "1", "--samples", "0");
        assertTrue(files.out().startsWith(changed) && files.out().contains("num docs: 32034\n"), files.out());

        edit(repo.resolve("microgpt.java"), "//DEPS info.picocli:picocli:4.7.7\n", "//DEPS info.picocli:picocli:4.7.7\n//DEPS org.apache.commons:commons-math3:3.6.1\n");
        Result deps = sh(work, "", env, launcher, script, "--version");
        assertTrue(deps.out().startsWith(changed), deps.out());
        List<String> entries = new ArrayList<>();
        try (var list = Files.list(repo.resolve(".tools/launch"))) { for (Path e : list.toList()) entries.add(Files.readString(e)); }
        String entry = entries.stream().filter(e -> e.contains(script + "||")).findFirst().orElseThrow();
        assertTrue(entry.contains("commons-math3-3.6.1.jar"), "the new //DEPS on the class path: " + entry);
        assertTrue(sh(work, "", env, launcher, script, "--version").out().startsWith(repeat));

        Path jar = Path.of(entry.split("\n")[1].replaceAll(".* -classpath ([^:]*):.*", "$1")); // the cached jar, deleted
        Files.delete(jar);
        Result rebuilt = sh(work, "", env, launcher, script, "--version");
        assertTrue(rebuilt.out().startsWith(changed) && rebuilt.out().endsWith("\nmicrogpt 1.0.1\n") && Files.exists(jar), rebuilt.out());

        Result fresh = sh(work, "", env, launcher, "--fresh", script, "--version");
        assertTrue(fresh.out().startsWith("jbang (launcher): JBang runs: not a local script") && fresh.out().endsWith("\nmicrogpt 1.0.1\n"), fresh.out());
        assertTrue(sh(work, "", env, launcher, script, "--version").out().startsWith(repeat));
    }

    /**
     * An installed JBang (a `jbang` on the PATH with its jbang.jar beside it, as JBang's installer lays it out): the
     * launcher runs that jar with JBang's protocol, and a repeat run skips it. Here the jar is the bootstrapped JBang's
     * jars behind a manifest, and the `jbang` script beside it fails if anything runs it.
     */
    @Test
    void anInstalledJbangRunsThroughItsJarAndARepeatRunSkipsIt(@TempDir Path tmp) throws Exception {
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Files.writeString(bin.resolve("jbang"), "#!/bin/sh\necho 'the installed jbang script ran' >&2\nexit 3\n");
        bin.resolve("jbang").toFile().setExecutable(true);
        StringBuilder classPath = new StringBuilder();
        String version = Files.readString(REPO.resolve("jbang")).replaceAll("(?s).*\nJBANG_VERSION=(\\S+)\n.*", "$1");
        Path lib = REPO.resolve(".tools/jbang/" + version + "/lib");
        Assumptions.assumeTrue(Files.exists(lib.resolve(".complete")), "JBang bootstrapped by ./jbang in " + lib);
        try (var jars = Files.list(lib)) {
            for (Path jar : jars.filter(j -> j.toString().endsWith(".jar")).sorted().toList()) classPath.append(jar.toUri()).append(' ');
        }
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, classPath.toString().trim());
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(bin.resolve("jbang.jar")), manifest)) { }
        Map<String, String> env = Map.of("PATH", bin + ":/usr/bin:/bin", "JAVA_HOME", System.getProperty("java.home"),
                "MICROGPT_LAUNCHER_TRACE", "1");
        Result first = sh(tmp, "", env, launcher(), REPO.resolve("microgpt.java").toString(), "--version");
        assertEquals(0, first.exit(), first.out());
        assertTrue(first.out().startsWith("jbang (launcher): JBang runs") && first.out().endsWith("\nmicrogpt 1.0.0\n"), first.out());
        Result again = sh(tmp, "", env, launcher(), REPO.resolve("microgpt.java").toString(), "--version");
        assertTrue(again.out().startsWith("jbang (launcher): a repeat run") && again.out().endsWith("\nmicrogpt 1.0.0\n"), again.out());
    }

    static void edit(Path file, String from, String to) throws IOException {
        String text = Files.readString(file);
        assertTrue(text.contains(from), file + " has " + from);
        Files.writeString(file, text.replace(from, to));
    }

    /** Served over HTTP on 127.0.0.1, JBang fetches //SOURCES and //FILES relative to the script's URL. */
    @Test
    void runsFromAUrlWithItsSourcesAndTheBundledNames(@TempDir Path tmp) throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            Path file = REPO.resolve(ex.getRequestURI().getPath().substring(1)).normalize();
            byte[] body = file.startsWith(REPO) && Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
            ex.sendResponseHeaders(body == null ? 404 : 200, body == null ? -1 : body.length);
            if (body != null) ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        try {
            String base = "http://127.0.0.1:" + server.getAddress().getPort() + "/";
            for (String script : List.of("microgpt.java", "microgpt_optimized.java")) {
                Result r = sh(tmp, "", Map.of(), launcher(), base + script, "--steps", "3", "--samples", "1");
                assertEquals(0, r.exit(), r.out());
                assertTrue(r.out().contains("no input.txt: writing the bundled makemore names.txt there"), r.out());
                assertTrue(r.out().contains("num docs: 32033\nvocab size: 27\nnum params: 4192\n"), r.out());
                assertEquals(TestSupport.NAMES_SHA256, TestSupport.sha256(tmp.resolve("input.txt")));
                Files.delete(tmp.resolve("input.txt"));
            }
        } finally {
            server.stop(0);
        }
    }

    /** `./jbang app install`: the command runs from any directory on a PATH with no jbang but JBang's bin folder. */
    @Test
    void anInstalledCommandRunsWithNoJbangOnThePath(@TempDir Path tmp) throws Exception {
        Path jbangDir = tmp.resolve("jbang-home"), work = Files.createDirectories(tmp.resolve("elsewhere"));
        Map<String, String> env = Map.of("JBANG_DIR", jbangDir.toString(), "JAVA_HOME", System.getProperty("java.home"),
                "PATH", jbangDir.resolve("bin") + ":/usr/bin:/bin");
        Result install = sh(REPO, "", env, launcher(), "app", "install", "--name", "mgpt-test", "microgpt_optimized.java");
        assertEquals(0, install.exit(), install.out());
        assertTrue(Files.isExecutable(jbangDir.resolve("bin/jbang")), install.out());
        Path names = TestSupport.writeFile(work, "names.txt", "anna\nbob\n");
        Result r = sh(work, "", env, jbangDir.resolve("bin/mgpt-test").toString(), "--input", names.toString(), "--steps", "2", "--samples", "1");
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("num docs: 2\nvocab size: 5\n"), r.out());
    }

    /** `./jbang --interactive`: JShell with the engine ready; a Value prints as micrograd prints one. */
    @Test
    void jshellOpensWithTheEngineReady(@TempDir Path tmp) throws Exception {
        Path model = tmp.resolve("names.safetensors");
        Result train = sh(tmp, "", Map.of(), launcher(), REPO.resolve("microgpt_optimized.java").toString(), "--input",
                TestSupport.namesTxt().toString(), "--steps", "100", "--samples", "2", "--save", model.toString());
        assertEquals(0, train.exit(), train.out());
        String session = """
                var a = new Value(2.0);
                var b = a.mul(a).add(a);
                b.backward();
                a
                b
                var file = ModelFile.read(Path.of("names.safetensors"));
                var tok = new Tokenizer(List.of(), file.vocab());
                var random = new PyRandom(42);
                var model = new GPT(file.config(), tok.vocab_size, random);
                model.setWeights(file.weights());
                sample(model, tok, new int[0], 0.5, random)
                /exit
                """;
        Result r = sh(tmp, session, Map.of(), launcher(), "--interactive", REPO.resolve("microgpt.java").toString());
        assertEquals(0, r.exit(), r.out());
        assertTrue(r.out().contains("a ==> Value(data=2.0, grad=5.0)"), r.out());
        assertTrue(r.out().contains("b ==> Value(data=6.0, grad=1.0)"), r.out());
        assertFalse(r.out().contains("Error"), r.out());
        List<String> loaded = TestSupport.samplesOf(sh(tmp, "", Map.of(), launcher(), REPO.resolve("microgpt.java").toString(),
                "--load", model.toString(), "--samples", "1").out());
        assertTrue(r.out().contains("==> \"" + loaded.get(0) + "\""), "the name that --load samples first, " + loaded + ": " + r.out());

        String tape = """
                var t = new Tape(16);
                int a = t.leaf(2.0);
                int b = t.add(t.mul(a, a), a);
                t.backward(b);
                t.node(a)
                /exit
                """;
        Result o = sh(tmp, tape, Map.of(), launcher(), "--interactive", REPO.resolve("microgpt_optimized.java").toString());
        assertEquals(0, o.exit(), o.out());
        assertTrue(o.out().contains("==> \"Value(data=2.0, grad=5.0)\""), o.out());
        assertFalse(o.out().contains("Error"), o.out());
    }

    /**
     * On JDK 17 to 24, ./jbang makes an engine's static CDS archive after its first run, with picocli's classes in it
     * (Java 5 class files, which a dynamic archive leaves out), uses it after, and passes over one cut short.
     */
    @Test
    void onJdk17TheEnginesStartFromAStaticClassArchiveWithPicocliInIt(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Runtime.version().feature() < 25, "JDK 25 and later start from an AOT cache (the test below)");
        Path dir = REPO.resolve(".tools/aot");
        java.util.function.Supplier<Path> archive = () -> {
            try (var files = Files.list(dir)) {
                return files.filter(p -> p.getFileName().toString().matches("mgpt\\.microgpt-.*-static-\\d+\\.jsa")).findFirst().orElse(null);
            } catch (IOException e) { return null; }
        };
        if (Files.isDirectory(dir)) try (var files = Files.list(dir)) { // start from no archive for microgpt.java
            for (Path old : files.filter(p -> p.getFileName().toString().matches("mgpt\\.microgpt-.*\\.jsa")).toList()) Files.delete(old);
        }
        String script = REPO.resolve("microgpt.java").toString();
        String[] run = {launcher(), script, "--input", TestSupport.tinyNames().toAbsolutePath().toString(), "--steps", "3", "--samples", "2"};
        Result first = sh(tmp, "", Map.of(), run);
        assertEquals(0, first.exit(), first.out());
        Path made = null;
        for (long deadline = System.nanoTime() + 120_000_000_000L; made == null && System.nanoTime() < deadline; Thread.sleep(100))
            made = archive.get();
        assertNotNull(made, "a static archive for mgpt.microgpt in " + dir);
        String name = made.getFileName().toString();
        assertEquals(Files.size(made), Long.parseLong(name.substring(name.lastIndexOf('-') + 1, name.length() - 4)), "its size in its name");
        assertEquals(first, sh(tmp, "", Map.of(), run), "the same output from the archive");

        // the launcher runs the engine with it, and the engine's classes and picocli's come from it
        Result traced = sh(tmp, "", Map.of("MICROGPT_LAUNCHER_TRACE", "1"), run);
        java.util.regex.Matcher runs = java.util.regex.Pattern.compile("jbang \\(launcher\\): runs: (\\S+) .*-XX:SharedArchiveFile=(\\S+) .*-classpath (\\S+) ")
                .matcher(traced.out());
        assertTrue(runs.find(), traced.out());
        assertEquals(made.toString(), runs.group(2));
        Result loaded = sh(tmp, "", Map.of(), runs.group(1), "-Xshare:on", "-XX:SharedArchiveFile=" + made, "-Xlog:class+load", "-cp",
                runs.group(3), "mgpt.microgpt", "--version");
        assertEquals(0, loaded.exit(), loaded.out());
        assertTrue(loaded.out().contains("picocli.CommandLine source: shared objects file"), "picocli archived");
        assertTrue(loaded.out().contains("mgpt.microgpt source: shared objects file"), "the engine archived");

        byte[] whole = Files.readAllBytes(made);
        assertTrue(made.toFile().setWritable(true), "the JVM writes its archive read-only");
        Files.write(made, Arrays.copyOf(whole, whole.length / 2)); // cut short: a JDK 17 JVM would crash on it
        assertEquals(first, sh(tmp, "", Map.of(), run), "an archive cut short is passed over");
        Path remade = null; // and made anew, once the run has ended (its lock, NAME.making, gone)
        for (long deadline = System.nanoTime() + 120_000_000_000L; remade == null && System.nanoTime() < deadline; Thread.sleep(100)) {
            Path now = archive.get();
            boolean making;
            try (var files = Files.list(dir)) { making = files.anyMatch(p -> p.getFileName().toString().matches("mgpt\\.microgpt-.*\\.making")); }
            if (!making && now != null && Files.size(now) == Long.parseLong(now.getFileName().toString().replaceAll(".*-(\\d+)\\.jsa", "$1")))
                remade = now;
        }
        assertNotNull(remade, "a whole archive made again");
    }

    /** A JDK 25 or later on this machine (its release file says so), or null. */
    static Path jdk25() throws IOException {
        for (Path dir : List.of(Path.of("/usr/lib/jvm"), Path.of(System.getProperty("user.home"), ".jbang", "cache", "jdks"))) {
            if (!Files.isDirectory(dir)) continue;
            try (var homes = Files.list(dir)) {
                for (Path home : homes.sorted().toList()) {
                    Path release = home.resolve("release");
                    if (!Files.isRegularFile(release) || !Files.isExecutable(home.resolve("bin/java"))) continue;
                    java.util.regex.Matcher m = java.util.regex.Pattern.compile("JAVA_VERSION=\"(\\d+)").matcher(Files.readString(release));
                    if (m.find() && Integer.parseInt(m.group(1)) >= 25) return home;
                }
            }
        }
        return null;
    }

    /** On JDK 25, ./jbang makes an engine's AOT cache after its first run, uses it after, and ignores a damaged one. */
    @Test
    void onJdk25TheEnginesStartFromAnAotCacheMadeOnFirstUse(@TempDir Path tmp) throws Exception {
        Path jdk = jdk25();
        Assumptions.assumeTrue(jdk != null, "no JDK 25 or later on this machine");
        Path dir = REPO.resolve(".tools/aot");
        java.util.function.Supplier<Set<Path>> caches = () -> {
            try (var files = Files.list(dir)) { return new HashSet<>(files.filter(p -> p.toString().endsWith(".aot")).toList()); }
            catch (IOException e) { return new HashSet<>(); }
        };
        for (Path old : caches.get()) // start from no cache for microgpt.java (a cache is only ever a faster start)
            if (old.getFileName().toString().startsWith("mgpt.microgpt-")) Files.delete(old);
        Set<Path> before = caches.get();
        Map<String, String> env = Map.of("JAVA_HOME", jdk.toString());
        String[] run = {launcher(), REPO.resolve("microgpt.java").toString(), "--input", TestSupport.tinyNames().toAbsolutePath().toString(),
                "--steps", "3", "--samples", "2"};
        Result first = sh(tmp, "", env, run);
        assertEquals(0, first.exit(), first.out());
        Path made = null;
        for (long deadline = System.nanoTime() + 120_000_000_000L; made == null && System.nanoTime() < deadline; Thread.sleep(100)) {
            Set<Path> now = caches.get();
            now.removeAll(before);
            made = now.stream().filter(p -> p.getFileName().toString().startsWith("mgpt.microgpt-")).findFirst().orElse(null);
        }
        assertNotNull(made, "a cache for mgpt.microgpt in " + dir);
        try {
            assertEquals(first, sh(tmp, "", env, run), "the same output from the cache");
            Files.write(made, new byte[4096]); // damaged
            assertEquals(first, sh(tmp, "", env, run), "a damaged cache is ignored, silently");
        } finally {
            Files.deleteIfExists(made);
        }
    }
}
