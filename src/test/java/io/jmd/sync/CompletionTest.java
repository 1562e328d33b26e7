package io.jmd.sync;

import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CompletionTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    @Test
    void awaitReturnsTheResultOnceCompleted() {
        Completion c = new Completion(scheduler, "io");
        AtomicInteger got = new AtomicInteger(1);
        Thread t = TestThreads.startDaemon("waiter", () -> got.set(c.await()));
        TestThreads.eventually("waiter parked", () -> t.getState() == Thread.State.WAITING);
        assertFalse(c.isDone());
        c.complete(-5);
        TestThreads.joinAll(List.of(t));
        assertEquals(-5, got.get());
        assertEquals(-5, c.result());
        assertEquals(-5, c.await(), "await after completion returns at once");
    }

    @Test
    void onlyTheFirstCompleteCounts() {
        Completion c = new Completion(scheduler, "io");
        c.complete(0);
        c.complete(-5);
        assertEquals(0, c.result());
    }

    @Test
    void timedAwaitTimesOutThenSucceeds() {
        Completion c = new Completion(scheduler, "io");
        long t0 = System.nanoTime();
        assertFalse(c.await(30_000_000L));
        long waitedNanos = System.nanoTime() - t0;
        assertTrue(waitedNanos >= 30_000_000L, "waited the whole timeout: " + waitedNanos);
        assertFalse(c.await(0));
        assertFalse(c.await(-1), "a negative timeout is an immediate check");
        TestThreads.startDaemon("completer", () -> {
            TestThreads.sleepMillis(20);
            c.complete(3);
        });
        assertTrue(c.await(TestThreads.HANG.toNanos()));
        assertEquals(3, c.result());
    }

    @Test
    void manyWaitersAllWake() {
        Completion c = new Completion(scheduler, "barrier");
        AtomicInteger woke = new AtomicInteger();
        Thread completer = TestThreads.startDaemon("completer", () -> {
            TestThreads.sleepMillis(20);
            c.complete(7);
        });
        TestThreads.runConcurrently(16, i -> {
            assertEquals(7, c.await());
            woke.incrementAndGet();
        });
        TestThreads.joinAll(List.of(completer));
        assertEquals(16, woke.get());
    }

    /**
     * Bug: complete() read then wrote a volatile, so two racing completers both saw it pending:
     * each believed it set the result, and a waiter could return one value and later read the
     * other. Each completer reads the result right after completing; all must agree.
     */
    @Test
    void racingCompletersAgreeOnOneResult() {
        // Both threads sweep the same completions in lockstep, so they meet on many of them.
        int n = 400_000;
        Completion[] cs = new Completion[n];
        for (int k = 0; k < n; k++) {
            cs[k] = new Completion(scheduler, "race");
        }
        int[][] seen = new int[2][n];
        TestThreads.runConcurrently(2, i -> {
            for (int k = 0; k < n; k++) {
                cs[k].complete(i + 1);
                seen[i][k] = cs[k].result();
            }
        });
        for (int k = 0; k < n; k++) {
            assertEquals(seen[0][k], seen[1][k], "two completers saw different results at " + k);
            assertEquals(seen[0][k], cs[k].result());
        }
    }
}
