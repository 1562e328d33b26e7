package io.jmd.sync;

import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CountedResourceTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    @Test
    void capacityMustBePositive() {
        assertThrows(IllegalArgumentException.class, () -> new CountedResource(scheduler, "x", 0));
    }

    @Test
    void neverOverAdmitsUnderContention() {
        long capacity = 5;
        CountedResource slots = new CountedResource(scheduler, "slots", capacity);
        AtomicLong inUse = new AtomicLong();
        AtomicLong maxInUse = new AtomicLong();
        TestThreads.runConcurrently(8, i -> {
            long n = 1 + i % 3; // mixed sizes: 1, 2 and 3 units
            for (int k = 0; k < 20_000; k++) {
                slots.acquire(n);
                long now = inUse.addAndGet(n);
                maxInUse.accumulateAndGet(now, Math::max);
                assertTrue(now <= capacity, "over-admitted: " + now);
                inUse.addAndGet(-n);
                slots.release(n);
            }
        });
        assertTrue(maxInUse.get() <= capacity);
        assertEquals(capacity, slots.available());
    }

    @Test
    void tryAcquireAndTimedAcquire() {
        CountedResource slots = new CountedResource(scheduler, "slots", 2);
        assertTrue(slots.tryAcquire(2));
        assertFalse(slots.tryAcquire(1));
        assertFalse(slots.acquire(1, 20_000_000L));
        AtomicBoolean got = new AtomicBoolean();
        Thread t = TestThreads.startDaemon("waiter", () -> got.set(slots.acquire(2, TestThreads.HANG.toNanos())));
        TestThreads.eventually("waiter parked", () -> t.getState() == Thread.State.TIMED_WAITING);
        slots.release(1);
        TestThreads.sleepMillis(20);
        assertFalse(got.get(), "one unit is not enough for a waiter of two");
        slots.release(1);
        TestThreads.joinAll(List.of(t));
        assertTrue(got.get());
        assertEquals(0, slots.available());
        slots.release(2);
    }

    @Test
    void releasePastCapacityIsAProgrammerError() {
        CountedResource slots = new CountedResource(scheduler, "slots", 2);
        assertThrows(AssertionError.class, () -> slots.release(1));
    }
}
