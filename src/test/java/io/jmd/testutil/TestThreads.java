package io.jmd.testutil;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CyclicBarrier;
import java.util.function.BooleanSupplier;
import java.util.function.IntConsumer;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Raw-thread helpers for tests of the primitives themselves. Tests may use the JDK's threads and
 * latches: the architecture rule binds src/main only, and a test must not trust the primitive it
 * is testing to drive itself.
 */
public final class TestThreads {
    /** How long a test waits for something that should happen at once before calling it a hang. */
    public static final Duration HANG = Duration.ofSeconds(20);

    private TestThreads() {
    }

    /**
     * Runs {@code body(i)} on {@code n} fresh threads released together by a barrier; rethrows the
     * first failure of any of them; fails if they do not end within {@link #HANG}.
     */
    public static void runConcurrently(int n, IntConsumer body) {
        CyclicBarrier start = new CyclicBarrier(n);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int id = i;
            threads.add(Thread.ofPlatform().name("test-" + i).start(() -> {
                try {
                    start.await();
                    body.accept(id);
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        joinAll(threads);
        Throwable first = failures.peek();
        if (first != null) {
            AssertionError e = new AssertionError(failures.size() + " thread(s) failed", first);
            failures.stream().skip(1).forEach(e::addSuppressed);
            throw e;
        }
    }

    /**
     * Runs {@code rounds} rounds on {@code n} threads: before each round {@code setup} runs alone,
     * then every thread runs {@code body(i)} at once (released by a barrier, so that they really
     * race), then {@code check} runs alone. For races whose window is a few instructions wide.
     */
    public static void rounds(int n, int rounds, Runnable setup, IntConsumer body, Runnable check) {
        CyclicBarrier begin = new CyclicBarrier(n, setup);
        CyclicBarrier end = new CyclicBarrier(n, check);
        runConcurrently(n, i -> {
            try {
                for (int r = 0; r < rounds; r++) {
                    begin.await();
                    body.accept(i);
                    end.await();
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    public static void joinAll(List<Thread> threads) {
        long deadline = System.nanoTime() + HANG.toNanos();
        for (Thread t : threads) {
            try {
                t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
            if (t.isAlive()) {
                fail("thread " + t.getName() + " hung:\n" + stack(t));
            }
        }
    }

    /** Polls {@code condition} until it holds; fails after {@code timeout}. */
    public static void eventually(Duration timeout, String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out waiting for " + what);
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
    }

    public static void eventually(String what, BooleanSupplier condition) {
        eventually(HANG, what, condition);
    }

    /** Starts a daemon thread (so that a hung one cannot keep the test JVM alive). */
    public static Thread startDaemon(String name, Runnable body) {
        return Thread.ofPlatform().name(name).daemon(true).start(body);
    }

    public static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
    }

    private static String stack(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("    at ").append(e).append('\n');
        }
        return sb.toString();
    }
}
