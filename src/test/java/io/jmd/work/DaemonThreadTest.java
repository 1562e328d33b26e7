package io.jmd.work;

import io.jmd.sync.Completion;
import io.jmd.sync.RealScheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DaemonThreadTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    @AfterEach
    void noViolations() {
        assertTrue(scheduler.checker().violations().isEmpty(), String.join("\n", scheduler.checker().violations()));
    }

    @Test
    void wakeupsCoalesce() {
        Completion gate = new Completion(scheduler, "gate");
        AtomicInteger runs = new AtomicInteger();
        DaemonThread md = new DaemonThread(scheduler, "md0_raid1", EnumSet.of(ThreadRole.IO_PROGRESS), Long.MAX_VALUE, () -> {
            runs.incrementAndGet();
            gate.await(); // hold the first run while wake-ups pile up
        });
        md.wakeup();
        TestThreads.eventually("first run", () -> runs.get() == 1);
        for (int i = 0; i < 1_000; i++) {
            md.wakeup();
        }
        gate.complete(0);
        TestThreads.eventually("second run", () -> runs.get() == 2);
        TestThreads.sleepMillis(50);
        assertEquals(2, runs.get(), "1000 wake-ups during a run coalesce into one more run");
        md.close();
    }

    @Test
    void aWakeupIsNeverLost() {
        AtomicInteger produced = new AtomicInteger();
        AtomicInteger consumed = new AtomicInteger();
        DaemonThread md = new DaemonThread(scheduler, "md", EnumSet.of(ThreadRole.IO_PROGRESS), Long.MAX_VALUE,
            () -> consumed.set(produced.get()));
        for (int i = 1; i <= 20_000; i++) {
            produced.set(i);
            md.wakeup();
        }
        TestThreads.eventually("the handler saw the last state", () -> consumed.get() == 20_000);
        md.close();
    }

    @Test
    void timeoutFires() {
        AtomicInteger runs = new AtomicInteger();
        DaemonThread md = new DaemonThread(scheduler, "md", EnumSet.of(ThreadRole.IO_PROGRESS), 5_000_000L,
            runs::incrementAndGet);
        TestThreads.eventually("runs on its timeout without wake-ups", () -> runs.get() >= 3);
        md.close();
    }

    /**
     * Bug: a new timeout woke the thread, but it went back to sleep until the deadline computed
     * from the old timeout: lowering "never" to 10 ms never took effect.
     */
    @Test
    void aNewTimeoutTakesEffectAtOnce() {
        AtomicInteger runs = new AtomicInteger();
        DaemonThread md = new DaemonThread(scheduler, "md", EnumSet.of(ThreadRole.IO_PROGRESS), Long.MAX_VALUE,
            runs::incrementAndGet);
        TestThreads.sleepMillis(20);
        assertEquals(0, runs.get());
        md.setTimeoutNanos(10_000_000L);
        TestThreads.eventually("runs on the new timeout", () -> runs.get() >= 1);
        md.close();
    }

    @Test
    void closeFromItsOwnHandlerDoesNotJoinItself() {
        DaemonThread[] self = new DaemonThread[1];
        Completion closed = new Completion(scheduler, "closed");
        self[0] = new DaemonThread(scheduler, "md", EnumSet.of(ThreadRole.IO_PROGRESS), Long.MAX_VALUE, () -> {
            self[0].close();
            closed.complete(0);
        });
        self[0].wakeup();
        assertEquals(0, closed.await());
        scheduler.join(self[0].thread());
    }
}
