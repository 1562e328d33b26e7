package io.jmd.work;

import io.jmd.Env;
import io.jmd.sync.Completion;
import io.jmd.sync.ThreadRole;
import io.jmd.testutil.JmdEnvExtension;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A throwing task ends only itself: pools, daemons, work queues and the timer go on serving. */
final class SurviveTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension();

    @Test
    void workerPoolRunsTheNextTaskAfterOneThrew() {
        Env env = jmd.env();
        Completion done = new Completion(env.scheduler(), "after");
        env.ioWorkers().execute(() -> {
            throw new IllegalStateException("planted failure (expected in this test's output)");
        });
        env.ioWorkers().execute(() -> done.complete(1));
        assertTrue(done.await(TestThreads.HANG.toNanos()), "the pool went on");
    }

    @Test
    void daemonThreadHandlesTheNextWakeupAfterItsHandlerThrew() {
        Env env = jmd.env();
        AtomicInteger runs = new AtomicInteger();
        Completion second = new Completion(env.scheduler(), "second run");
        try (DaemonThread d = new DaemonThread(env.scheduler(), "survivor", EnumSet.noneOf(ThreadRole.class), Long.MAX_VALUE,
            () -> {
                if (runs.incrementAndGet() == 1) {
                    throw new IllegalStateException("planted failure (expected in this test's output)");
                }
                second.complete(0);
            })) {
            d.wakeup();
            while (runs.get() == 0) {
                Thread.onSpinWait();
            }
            d.wakeup();
            assertTrue(second.await(TestThreads.HANG.toNanos()), "the daemon went on");
        }
        assertEquals(2, runs.get());
    }

    @Test
    void workQueueAndTimerGoOn() {
        Env env = jmd.env();
        Completion wq = new Completion(env.scheduler(), "work after");
        Completion timer = new Completion(env.scheduler(), "timer after");
        try (WorkQueue q = new WorkQueue(env.scheduler(), "survivor-wq", EnumSet.noneOf(ThreadRole.class))) {
            q.queue(new Work("boom", () -> {
                throw new IllegalStateException("planted failure (expected in this test's output)");
            }));
            q.queue(new Work("after", () -> wq.complete(0)));
            assertTrue(wq.await(TestThreads.HANG.toNanos()));
        }
        env.timer().schedule(0, () -> {
            throw new IllegalStateException("planted failure (expected in this test's output)");
        });
        env.timer().schedule(1_000_000, () -> timer.complete(0));
        assertTrue(timer.await(TestThreads.HANG.toNanos()));
    }
}
