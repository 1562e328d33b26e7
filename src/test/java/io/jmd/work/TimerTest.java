package io.jmd.work;

import io.jmd.sync.Completion;
import io.jmd.sync.RealScheduler;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimerTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    @Test
    void tasksRunInDeadlineOrderNotSchedulingOrder() {
        Timer timer = new Timer(scheduler, "t");
        List<Integer> order = new CopyOnWriteArrayList<>();
        Completion last = new Completion(scheduler, "last");
        timer.schedule(60_000_000L, () -> {
            order.add(3);
            last.complete(0);
        });
        timer.schedule(20_000_000L, () -> order.add(1));
        timer.schedule(40_000_000L, () -> order.add(2));
        timer.schedule(-5, () -> order.add(0)); // a past deadline runs at once
        assertEquals(0, last.await());
        assertEquals(List.of(0, 1, 2, 3), order);
        assertEquals(0, timer.pending());
        timer.close();
    }

    @Test
    void anEarlierTaskWakesTheTimer() {
        Timer timer = new Timer(scheduler, "t");
        timer.schedule(3_600_000_000_000L, () -> { }); // an hour away: the timer sleeps on it
        TestThreads.sleepMillis(20);
        Completion soon = new Completion(scheduler, "soon");
        long t0 = System.nanoTime();
        timer.schedule(10_000_000L, () -> soon.complete(0));
        assertTrue(soon.await(TestThreads.HANG.toNanos()));
        assertTrue(System.nanoTime() - t0 >= 10_000_000L, "not before its deadline");
        timer.close();
        assertEquals(0, timer.pending(), "close drops pending tasks");
    }

    @Test
    void manySchedulersAtOnce() {
        Timer timer = new Timer(scheduler, "t");
        java.util.concurrent.atomic.AtomicInteger ran = new java.util.concurrent.atomic.AtomicInteger();
        TestThreads.runConcurrently(4, i -> {
            for (int n = 0; n < 2_000; n++) {
                timer.schedule((n % 10) * 100_000L, ran::incrementAndGet);
            }
        });
        TestThreads.eventually("all ran", () -> ran.get() == 8_000);
        timer.close();
    }

    /**
     * Bug: once stopping, the timer's wait returned at once, so a task scheduled while close()
     * was under way (after it cleared the tasks) made the thread spin until that task's deadline,
     * and close() waited that long to join it.
     */
    @Test
    void closeIsPromptEvenIfATaskIsScheduledDuringIt() {
        Timer timer = new Timer(scheduler, "t");
        AtomicBoolean closing = new AtomicBoolean();
        Completion inTask = new Completion(scheduler, "in task");
        timer.schedule(0, () -> {
            inTask.complete(0);
            TestThreads.eventually("close called", closing::get);
            TestThreads.sleepMillis(50); // close() has set stopping and cleared the tasks by now
            timer.schedule(3_600_000_000_000L, () -> { });
        });
        inTask.await();
        Thread closer = TestThreads.startDaemon("closer", () -> {
            closing.set(true);
            timer.close();
        });
        TestThreads.joinAll(List.of(closer));
    }
}
