package io.jmd;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The rule of the project: engine code waits, wakes and starts threads only through io.jmd.sync
 * (and the simulator, io.jmd.sim), so that the dependency checker sees every wait and the
 * simulator can run every thread. This test scans src/main/java and fails, naming file:line, on
 * any raw JDK concurrency primitive outside those two packages.
 *
 * <p>Comments and string literals are blanked before matching, so Javadoc may name the forbidden
 * things. Exceptions are explicit: {@link #ALLOWED} pairs a file with the reason it may; there is
 * no blanket exemption for any package (not cli, not nbd).
 */
class ArchitectureTest {
    /** Packages that own the raw primitives, as paths under src/main/java. */
    static final List<String> OWNERS = List.of("io/jmd/sync/", "io/jmd/sim/");

    /**
     * Files outside the owners that may use a forbidden primitive: path under src/main/java ->
     * why. Keep it short; every entry must still be needed (a stale entry fails the test).
     */
    static final Map<String, String> ALLOWED = Map.of();

    /** What is forbidden, with the pattern that finds it in comment- and string-free code. */
    static final Map<String, Pattern> FORBIDDEN = forbidden();

    private static Map<String, Pattern> forbidden() {
        Map<String, Pattern> m = new java.util.LinkedHashMap<>();
        m.put("synchronized", Pattern.compile("\\bsynchronized\\b"));
        m.put(".wait(", Pattern.compile("\\.\\s*wait\\s*\\(|(?<![\\w$.])wait\\s*\\(\\s*\\)"));
        m.put(".notify(", Pattern.compile("\\.\\s*notify\\s*\\(|(?<![\\w$.])notify\\s*\\(\\s*\\)"));
        m.put("notifyAll(", Pattern.compile("\\bnotifyAll\\s*\\("));
        m.put("java.util.concurrent.locks", Pattern.compile("java\\s*\\.\\s*util\\s*\\.\\s*concurrent\\s*\\.\\s*locks\\b"));
        for (String word : List.of("BlockingQueue", "BlockingDeque", "Semaphore", "CountDownLatch", "CyclicBarrier",
            "Phaser", "Exchanger", "ExecutorService", "ForkJoinPool", "CompletableFuture", "LockSupport")) {
            m.put(word, Pattern.compile(word));
        }
        m.put("Thread.sleep", Pattern.compile("\\bThread\\s*\\.\\s*sleep\\b"));
        m.put("new Thread(", Pattern.compile("\\bnew\\s+Thread\\s*\\("));
        m.put("Thread.ofPlatform", Pattern.compile("\\bThread\\s*\\.\\s*ofPlatform\\b"));
        m.put("Thread.ofVirtual", Pattern.compile("\\bThread\\s*\\.\\s*ofVirtual\\b"));
        m.put("Thread.startVirtualThread", Pattern.compile("\\bThread\\s*\\.\\s*startVirtualThread\\b"));
        m.put("Executors.", Pattern.compile("\\bExecutors\\s*\\."));
        return m;
    }

    /** One forbidden use: where, what, and the line as written. */
    record Violation(String file, int line, String what, String text) {
        @Override
        public String toString() {
            return file + ":" + line + ": " + what + ": " + text.strip();
        }
    }

    static Path projectDir() {
        return Path.of(System.getProperty("jmd.project.dir", System.getProperty("user.dir")));
    }

    @Test
    void engineCodeUsesOnlyJmdsOwnPrimitives() {
        Path sources = projectDir().resolve("src/main/java");
        assertTrue(Files.isDirectory(sources), "no sources at " + sources);
        List<Violation> found = scan(sources);
        List<Violation> forbidden = new ArrayList<>();
        Set<String> allowedUsed = new TreeSet<>();
        for (Violation v : found) {
            if (ALLOWED.containsKey(v.file())) {
                allowedUsed.add(v.file());
            } else {
                forbidden.add(v);
            }
        }
        if (!forbidden.isEmpty()) {
            fail(forbidden.size() + " raw concurrency primitive(s) outside io.jmd.sync / io.jmd.sim"
                + " (use jmd's WaitQueue, Mutex, Completion, CountedResource, WorkerPool, ThreadStarter,"
                + " Scheduler instead, or add a (file, reason) pair to ArchitectureTest.ALLOWED):\n  "
                + String.join("\n  ", forbidden.stream().map(Violation::toString).toList()));
        }
        Set<String> stale = new TreeSet<>(ALLOWED.keySet());
        stale.removeAll(allowedUsed);
        assertTrue(stale.isEmpty(), "allow-list entries no longer needed, remove them: " + stale);
    }

    /** Every forbidden use under {@code sources} (a src/main/java directory), owners excepted. */
    static List<Violation> scan(Path sources) {
        List<Violation> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                String rel = sources.relativize(f).toString().replace('\\', '/');
                if (OWNERS.stream().anyMatch(rel::startsWith)) {
                    continue;
                }
                out.addAll(scanFile(rel, Files.readString(f)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static List<Violation> scanFile(String rel, String source) {
        List<Violation> out = new ArrayList<>();
        String[] code = stripCommentsAndStrings(source).split("\n", -1);
        String[] original = source.split("\n", -1);
        assert code.length == original.length : "stripping must keep every line";
        for (int i = 0; i < code.length; i++) {
            for (Map.Entry<String, Pattern> e : FORBIDDEN.entrySet()) {
                if (e.getValue().matcher(code[i]).find()) {
                    out.add(new Violation(rel, i + 1, e.getKey(), original[i]));
                }
            }
        }
        return out;
    }

    /**
     * Blanks comments, string, text-block and char literals with spaces, keeping newlines (so line
     * numbers stay) and the quotes (so "x" stays a literal-shaped hole).
     */
    static String stripCommentsAndStrings(String s) {
        StringBuilder out = new StringBuilder(s.length());
        int i = 0;
        int n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == '/' && i + 1 < n && s.charAt(i + 1) == '/') {
                while (i < n && s.charAt(i) != '\n') {
                    out.append(' ');
                    i++;
                }
            } else if (c == '/' && i + 1 < n && s.charAt(i + 1) == '*') {
                int end = s.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                blank(s, i, end, out);
                i = end;
            } else if (s.startsWith("\"\"\"", i)) {
                int end = i + 3;
                while (end < n && !s.startsWith("\"\"\"", end)) {
                    end += s.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(n, end + 3);
                out.append("\"\"\"");
                blank(s, i + 3, Math.max(i + 3, end - 3), out);
                out.append(end - 3 > i + 3 ? "\"\"\"" : "");
                i = end;
            } else if (c == '"' || c == '\'') {
                int end = i + 1;
                while (end < n && s.charAt(end) != c && s.charAt(end) != '\n') {
                    end += s.charAt(end) == '\\' ? 2 : 1;
                }
                end = Math.min(n, end + 1);
                out.append(c);
                blank(s, i + 1, end - 1, out);
                out.append(c);
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static void blank(String s, int from, int to, StringBuilder out) {
        for (int k = from; k < to; k++) {
            out.append(s.charAt(k) == '\n' ? '\n' : ' ');
        }
    }

    // --- self-tests: the scanner itself ---

    @Test
    void selfTestCatchesAPlantedViolation(@TempDir Path dir) throws IOException {
        Path engine = dir.resolve("io/jmd/raid1");
        Files.createDirectories(engine);
        Files.writeString(engine.resolve("Bad.java"), """
            package io.jmd.raid1;

            /** Javadoc may say synchronized, Thread.sleep and new Thread( freely. */
            final class Bad {
                // a comment with LockSupport.park() is fine too
                private final Object lock = new Object();
                String s = "synchronized Thread.sleep(1) CountDownLatch";
                char q = '"';

                void run() throws Exception {
                    synchronized (lock) {
                        lock.wait();
                    }
                    Thread.sleep(10);
                    new Thread(() -> { }).start();
                    var e = java.util.concurrent.Executors.newFixedThreadPool(2);
                }
            }
            """);
        List<Violation> found = scan(dir);
        List<String> got = found.stream().map(v -> v.file() + ":" + v.line() + ":" + v.what()).toList();
        assertEquals(List.of(
            "io/jmd/raid1/Bad.java:11:synchronized",
            "io/jmd/raid1/Bad.java:12:.wait(",
            "io/jmd/raid1/Bad.java:14:Thread.sleep",
            "io/jmd/raid1/Bad.java:15:new Thread(",
            "io/jmd/raid1/Bad.java:16:Executors."), got);
        assertTrue(found.get(0).toString().contains("synchronized (lock) {"), "the report quotes the line");
    }

    @Test
    void selfTestExemptsOnlyTheOwningPackages(@TempDir Path dir) throws IOException {
        String body = "package p;\nclass X { void f() throws Exception { Thread.sleep(1); } }\n";
        for (String pkg : List.of("io/jmd/sync", "io/jmd/sim", "io/jmd/cli", "io/jmd/nbd", "io/jmd/synchronizer")) {
            Files.createDirectories(dir.resolve(pkg));
            Files.writeString(dir.resolve(pkg).resolve("X.java"), body);
        }
        List<String> files = scan(dir).stream().map(Violation::file).toList();
        assertEquals(List.of("io/jmd/cli/X.java", "io/jmd/nbd/X.java", "io/jmd/synchronizer/X.java"), files);
    }

    @Test
    void selfTestStrippingKeepsLinesAndCode() {
        String src = "a /* x\ny */ b // z\n\"s\\\"t\" 'c' \"\"\"\nblock \"q\"\n\"\"\" d";
        String stripped = stripCommentsAndStrings(src);
        assertEquals(src.split("\n", -1).length, stripped.split("\n", -1).length);
        assertTrue(stripped.startsWith("a "));
        assertTrue(stripped.contains(" b "));
        assertTrue(stripped.endsWith(" d"));
        for (String gone : List.of("x", "y", "z", "s", "t", "c", "block", "q")) {
            assertTrue(!stripped.replace("a ", "").replace(" b ", "").replace(" d", "").contains(gone),
                gone + " left in: " + stripped);
        }
    }

    @Test
    void selfTestFindsEveryForbiddenName() {
        String[] uses = {
            "synchronized (x) {", "x.wait();", "x.notify();", "x.notifyAll();",
            "import java.util.concurrent.locks.ReentrantLock;", "BlockingQueue<X> q;", "new Semaphore(1);",
            "new CountDownLatch(1);", "new CyclicBarrier(2);", "new Phaser();", "new Exchanger<>();",
            "Thread.sleep(1);", "new Thread(r);", "Thread.ofPlatform();", "Thread.ofVirtual();",
            "Thread.startVirtualThread(r);", "Executors.newCachedThreadPool();", "ExecutorService e;",
            "ForkJoinPool.commonPool();", "CompletableFuture.runAsync(r);", "LockSupport.park();",
            "new LinkedBlockingQueue<>();", "wait();",
        };
        for (String use : uses) {
            assertEquals(1, Math.min(1, scanFile("io/jmd/x/X.java", use).size()), "not caught: " + use);
        }
        for (String fine : List.of("q.waitUntil(c);", "awaitOutside(1);", "notifier.run();", "sleepNanos(1);",
            "threadStarter.requestStart(r);", "MyThread t;")) {
            assertEquals(List.of(), scanFile("io/jmd/x/X.java", fine), "false positive: " + fine);
        }
    }
}
