package io.jmd.sync;

import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WaitQueueTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    /** A clock the test moves by hand; the wall clock is unused. */
    static final class FakeClock implements Clock {
        final AtomicLong nowNanos = new AtomicLong(1_000);

        @Override
        public long nanoTime() {
            return nowNanos.get();
        }

        @Override
        public long wallMillis() {
            return 0;
        }
    }

    @Test
    void aTrueConditionReturnsAtOnceWithoutQueueing() {
        WaitQueue q = new WaitQueue(scheduler, "q");
        q.waitUntil(() -> true);
        assertTrue(q.waitUntil(() -> true, 0));
        assertFalse(q.hasWaiters());
    }

    @Test
    void wakeAllWakesEveryWaiterAndTheyLeaveTheQueue() {
        WaitQueue q = new WaitQueue(scheduler, "q");
        AtomicBoolean go = new AtomicBoolean();
        AtomicInteger woke = new AtomicInteger();
        Thread[] ts = new Thread[6];
        for (int i = 0; i < ts.length; i++) {
            ts[i] = TestThreads.startDaemon("w" + i, () -> {
                q.waitUntil(go::get);
                woke.incrementAndGet();
            });
        }
        TestThreads.eventually("all queued", () -> q.waiters().size() == ts.length);
        assertTrue(q.waiters().stream().allMatch(t -> t.waitingOn() == q), "waiting-on recorded for wait-for chains");
        go.set(true);
        q.wakeAll();
        TestThreads.joinAll(List.of(ts));
        assertEquals(ts.length, woke.get());
        assertFalse(q.hasWaiters());
    }

    @Test
    void timeoutOnTheRealClock() {
        WaitQueue q = new WaitQueue(scheduler, "q");
        long t0 = System.nanoTime();
        assertFalse(q.waitUntil(() -> false, 20_000_000L));
        assertTrue(System.nanoTime() - t0 >= 20_000_000L);
        assertFalse(q.hasWaiters(), "a timed-out waiter leaves the queue");
    }

    /**
     * Bug: a negative timeout made a deadline before now, which the overflow check mistook for an
     * overflow and turned into "wait for ever". Timeouts computed from a passed deadline are
     * negative, so a late caller hung instead of timing out.
     */
    @Test
    void negativeTimeoutsReturnAtOnce() {
        WaitQueue q = new WaitQueue(scheduler, "q");
        AtomicBoolean done = new AtomicBoolean();
        Thread t = TestThreads.startDaemon("late", () -> {
            assertFalse(q.waitUntil(() -> false, -1));
            assertFalse(q.waitUntil(() -> false, Long.MIN_VALUE));
            assertFalse(q.waitUntil(() -> false, 0));
            done.set(true);
        });
        TestThreads.joinAll(List.of(t));
        assertTrue(done.get());
    }

    @Test
    void timeoutHonoursAnInjectedClock() {
        FakeClock clock = new FakeClock();
        RealScheduler s = new RealScheduler(clock, scheduler.checker());
        WaitQueue q = new WaitQueue(s, "q");
        AtomicBoolean result = new AtomicBoolean(true);
        Thread t = TestThreads.startDaemon("waiter", () -> result.set(q.waitUntil(() -> false, 5_000_000_000L)));
        // Five simulated seconds do not pass in real time: it must still wait after real 100 ms.
        TestThreads.sleepMillis(100);
        assertTrue(t.isAlive(), "a 5 s timeout on a stopped clock expired early");
        clock.nowNanos.addAndGet(5_000_000_000L);
        q.wakeAll(); // whoever moves the clock wakes the sleepers (as a simulator does)
        TestThreads.joinAll(List.of(t));
        assertFalse(result.get(), "timed out by the injected clock");
    }

    @Test
    void noLostWakeUpsUnderAPingPong() {
        // Two threads hand a token back and forth 50k times; a single lost wake-up hangs it.
        WaitQueue q = new WaitQueue(scheduler, "pingpong");
        AtomicLong token = new AtomicLong();
        int rounds = 50_000;
        TestThreads.runConcurrently(2, i -> {
            for (int r = 0; r < rounds; r++) {
                long mine = 2L * r + i;
                q.waitUntil(() -> token.get() == mine);
                token.incrementAndGet();
                q.wakeAll();
            }
        });
        assertEquals(2L * rounds, token.get());
    }

    @Test
    void outsideWaitTimesOut() {
        WaitQueue q = new WaitQueue(scheduler, "client");
        assertFalse(q.waitOutside(() -> false, 1_000_000L));
    }

    @Test
    void providersAreReported() {
        JmdThread me = scheduler.current();
        WaitQueue q = new WaitQueue(scheduler, "q", () -> List.of(me));
        assertSame(me, q.providers().getFirst());
        assertEquals("q", q.waitName());
    }
}
