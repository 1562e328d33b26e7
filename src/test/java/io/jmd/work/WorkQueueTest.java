package io.jmd.work;

import io.jmd.sync.Completion;
import io.jmd.sync.RealScheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkQueueTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    @AfterEach
    void noViolations() {
        assertTrue(scheduler.checker().violations().isEmpty(), String.join("\n", scheduler.checker().violations()));
    }

    @Test
    void aPendingWorkCoalesces() {
        WorkQueue wq = new WorkQueue(scheduler, "misc", EnumSet.noneOf(ThreadRole.class));
        Completion gate = new Completion(scheduler, "gate");
        Work blocker = new Work("blocker", gate::await);
        AtomicInteger runs = new AtomicInteger();
        Work w = new Work("w", runs::incrementAndGet);
        assertTrue(wq.queue(blocker));
        assertTrue(wq.queue(w));
        assertTrue(w.isPending());
        for (int i = 0; i < 10; i++) {
            assertFalse(wq.queue(w), "already pending: coalesced");
        }
        gate.complete(0);
        wq.flush();
        assertEquals(1, runs.get());
        assertFalse(w.isPending());
        assertTrue(wq.queue(w), "queueable again once it ran");
        wq.flush();
        assertEquals(2, runs.get());
        wq.close();
    }

    @Test
    void requeueFromItsOwnBodyRunsAgain() {
        WorkQueue wq = new WorkQueue(scheduler, "misc", EnumSet.noneOf(ThreadRole.class));
        AtomicInteger runs = new AtomicInteger();
        Work[] self = new Work[1];
        self[0] = new Work("again", () -> {
            if (runs.incrementAndGet() < 5) {
                assertTrue(wq.queue(self[0]), "pending is cleared before the body runs");
            }
        });
        wq.queue(self[0]);
        TestThreads.eventually("ran 5 times", () -> runs.get() == 5);
        wq.close();
        assertEquals(5, runs.get());
    }

    @Test
    void worksRunInQueueingOrder() {
        WorkQueue wq = new WorkQueue(scheduler, "misc", EnumSet.noneOf(ThreadRole.class));
        List<Integer> order = new CopyOnWriteArrayList<>();
        List<Work> works = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            int n = i;
            works.add(new Work("w" + i, () -> order.add(n)));
        }
        works.forEach(wq::queue);
        wq.flush();
        for (int i = 0; i < 100; i++) {
            assertEquals(i, order.get(i));
        }
        wq.close();
    }

    /**
     * Bug: flush() waited for "queue empty and nothing running", but the worker polls a work
     * before it marks it running: a flush that looked in between returned before the work ran.
     * A noise thread keeps the worker busy so the flushes land at every point of its loop.
     */
    @Test
    void flushWaitsForEverythingQueuedBefore() {
        WorkQueue wq = new WorkQueue(scheduler, "misc", EnumSet.noneOf(ThreadRole.class));
        AtomicBoolean stop = new AtomicBoolean();
        List<Work> noise = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            noise.add(new Work("noise" + i, Thread::onSpinWait));
        }
        Thread noiser = TestThreads.startDaemon("noise", () -> {
            while (!stop.get()) {
                noise.forEach(wq::queue);
                Thread.onSpinWait();
            }
        });
        try {
            for (int i = 0; i < 20_000; i++) {
                AtomicBoolean ran = new AtomicBoolean();
                wq.queue(new Work("mine", () -> ran.set(true)));
                wq.flush();
                assertTrue(ran.get(), "flush returned before work queued earlier ran (iteration " + i + ")");
            }
        } finally {
            stop.set(true);
            TestThreads.joinAll(List.of(noiser));
        }
        wq.close();
    }

    @Test
    void aQueueWithoutIoRoleMayStartThreads() {
        // Seed 000: the sync thread is started from a work queue, never the array thread.
        WorkQueue misc = new WorkQueue(scheduler, "md_misc", EnumSet.noneOf(ThreadRole.class));
        Completion started = new Completion(scheduler, "sync started");
        misc.queue(new Work("start sync", () -> scheduler.start("md0_resync", EnumSet.noneOf(ThreadRole.class),
            () -> started.complete(0))));
        assertEquals(0, started.await());
        misc.close();
    }

    @Test
    void closeRunsWhatWasQueued() {
        WorkQueue wq = new WorkQueue(scheduler, "misc", EnumSet.noneOf(ThreadRole.class));
        AtomicInteger runs = new AtomicInteger();
        for (int i = 0; i < 50; i++) {
            wq.queue(new Work("w" + i, runs::incrementAndGet));
        }
        wq.close();
        assertEquals(50, runs.get());
    }
}
