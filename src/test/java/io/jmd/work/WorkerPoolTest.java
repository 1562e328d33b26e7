package io.jmd.work;

import io.jmd.sync.Completion;
import io.jmd.sync.RealScheduler;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.SlowWakeScheduler;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerPoolTest {
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final RealScheduler scheduler = Schedulers.throwing(reports);
    private final ThreadStarter starter = new ThreadStarter(scheduler, "starter");

    @AfterEach
    void noViolations() {
        starter.close();
        assertTrue(scheduler.checker().violations().isEmpty(), String.join("\n", scheduler.checker().violations()));
    }

    private WorkerPool pool(int maxWorkers, long idleNanos) {
        return new WorkerPool(scheduler, starter, "pool", maxWorkers, 1 << 16, idleNanos, true);
    }

    @Test
    void growsOnDemandUpToMax() {
        WorkerPool pool = pool(4, 10_000_000_000L);
        Completion release = new Completion(scheduler, "release");
        AtomicInteger running = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            pool.execute(() -> {
                running.incrementAndGet();
                release.await();
                running.decrementAndGet();
            });
        }
        TestThreads.eventually("4 tasks running", () -> running.get() == 4);
        TestThreads.sleepMillis(50);
        assertEquals(4, running.get(), "never more than maxWorkers at once");
        assertEquals(4, pool.workerCount());
        assertEquals(6, pool.queuedCount());
        release.complete(0);
        pool.close();
        assertEquals(0, pool.workerCount());
        assertEquals(0, pool.queuedCount());
    }

    /**
     * Workers are I/O-progress threads; the checker throws if one starts a thread. Tasks that
     * execute more tasks from a worker (as completions queue follow-up I/O) make the pool grow
     * from its own workers: every start must go through the starter.
     */
    @Test
    void neverStartsAThreadOnItsOwnWorker() {
        WorkerPool pool = pool(8, 10_000_000_000L);
        AtomicInteger ran = new AtomicInteger();
        Completion done = new Completion(scheduler, "done");
        int fanOut = 4;
        int depth = 5; // 4 + 16 + 64 + 256 + 1024 tasks, each queued by a worker
        int total = 0;
        for (int d = 1; d <= depth; d++) {
            total += (int) Math.pow(fanOut, d);
        }
        int expected = total;
        class Spawn implements Runnable {
            final int level;

            Spawn(int level) {
                this.level = level;
            }

            @Override
            public void run() {
                if (level < depth) {
                    for (int i = 0; i < fanOut; i++) {
                        pool.execute(new Spawn(level + 1));
                    }
                }
                if (ran.incrementAndGet() == expected) {
                    done.complete(0);
                }
            }
        }
        for (int i = 0; i < fanOut; i++) {
            pool.execute(new Spawn(1));
        }
        assertTrue(done.await(TestThreads.HANG.toNanos()), "ran " + ran.get() + " of " + expected);
        pool.close();
        assertTrue(reports.isEmpty(), String.join("\n", reports));
    }

    @Test
    void workersStartingCountAgainstTheMaximum() {
        int max = 3;
        WorkerPool pool = pool(max, 10_000_000_000L);
        AtomicInteger maxSeen = new AtomicInteger();
        AtomicInteger ran = new AtomicInteger();
        TestThreads.runConcurrently(8, i -> {
            for (int n = 0; n < 2_000; n++) {
                pool.execute(() -> {
                    ran.incrementAndGet();
                    maxSeen.accumulateAndGet(pool.workerCount(), Math::max);
                });
                maxSeen.accumulateAndGet(pool.workerCount(), Math::max);
            }
        });
        TestThreads.eventually("all ran", () -> ran.get() == 16_000);
        assertTrue(maxSeen.get() <= max, "workers (running + starting) exceeded max: " + maxSeen.get());
        pool.close();
    }

    @Test
    void idleWorkersLeave() {
        WorkerPool pool = pool(4, 20_000_000L);
        Completion release = new Completion(scheduler, "release");
        for (int i = 0; i < 4; i++) {
            pool.execute(release::await);
        }
        TestThreads.eventually("4 workers", () -> pool.workerCount() == 4);
        release.complete(0);
        TestThreads.eventually("idle workers left", () -> pool.workerCount() == 0);
        AtomicInteger ran = new AtomicInteger();
        pool.execute(ran::incrementAndGet);
        TestThreads.eventually("a new worker started for new work", () -> ran.get() == 1);
        pool.close();
    }

    /**
     * The idle-exit race: a worker's idle wait times out just as a task is queued. Tiny idle
     * timeouts and bursts separated by pauses of about that length make workers leave and tasks
     * arrive at the same moments, thousands of times. Every task must run.
     */
    @Test
    void noTaskIsStrandedByIdleExits() {
        WorkerPool pool = pool(3, 200_000L);
        AtomicInteger ran = new AtomicInteger();
        int submitted = 0;
        for (int burst = 0; burst < 1_500; burst++) {
            int size = 1 + burst % 5;
            for (int i = 0; i < size; i++) {
                pool.execute(ran::incrementAndGet);
                submitted++;
            }
            long pauseNanos = (burst % 7) * 60_000L;
            long until = System.nanoTime() + pauseNanos;
            while (System.nanoTime() - until < 0) {
                Thread.onSpinWait();
            }
        }
        int expected = submitted;
        TestThreads.eventually("every task ran (" + expected + ")", () -> ran.get() == expected);
        pool.close();
        assertEquals(expected, ran.get());
    }

    /**
     * Bug: execute() grew the pool only when no worker was idle; tasks queued while one worker
     * was still waking all counted on that one. When the first task waited for the second (a
     * read that waits on a write queued just after it), the second was stranded behind it with
     * max workers far from reached.
     */
    @Test
    void aBurstGrowsThePoolEvenIfOneWorkerIsIdle() {
        // Workers come back from a park 5 ms late, so both tasks are queued while the one idle
        // worker is still waking, every run.
        SlowWakeScheduler slow = new SlowWakeScheduler(scheduler, name -> name.startsWith("slow/"), 5);
        ThreadStarter slowStarter = new ThreadStarter(slow, "slow-starter");
        WorkerPool pool = new WorkerPool(slow, slowStarter, "slow", 4, 1 << 10, 10_000_000_000L, true);
        Completion warm = new Completion(scheduler, "warm");
        pool.execute(() -> warm.complete(0));
        warm.await();
        TestThreads.sleepMillis(20); // the worker is parked, idle
        assertEquals(1, pool.workerCount());
        Completion second = new Completion(scheduler, "second ran");
        Completion first = new Completion(scheduler, "first ran");
        pool.execute(() -> {
            second.await(); // depends on the task queued right after it
            first.complete(0);
        });
        pool.execute(() -> second.complete(0));
        assertTrue(first.await(TestThreads.HANG.toNanos()), "second task stranded behind the first");
        pool.close();
        slowStarter.close();
    }

    @Test
    void executeAfterCloseThrowsAndQueueBoundHolds() {
        WorkerPool small = new WorkerPool(scheduler, starter, "small", 1, 2, 10_000_000_000L, true);
        Completion release = new Completion(scheduler, "release");
        small.execute(release::await);
        TestThreads.eventually("first task taken", () -> small.queuedCount() == 0);
        small.execute(() -> { });
        small.execute(() -> { });
        assertThrows(IllegalStateException.class, () -> small.execute(() -> { }), "past maxQueued");
        release.complete(0);
        small.close();
        assertThrows(IllegalStateException.class, () -> small.execute(() -> { }));
    }

    @Test
    void closeRunsWhatIsQueued() {
        WorkerPool pool = pool(2, 10_000_000_000L);
        AtomicInteger ran = new AtomicInteger();
        for (int i = 0; i < 1_000; i++) {
            pool.execute(ran::incrementAndGet);
        }
        pool.close();
        assertEquals(1_000, ran.get());
        assertEquals(0, pool.workerCount());
    }
}
