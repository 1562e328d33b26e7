package io.jmd.sim;

import io.jmd.sync.DependencyChecker;
import io.jmd.sync.JmdThread;
import io.jmd.sync.Mutex;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deterministic scheduler on its own: one thread at a time, seeded choices, simulated time. */
final class SimSchedulerTest {
    private static SimScheduler sim(long seed, double yield) {
        return new SimScheduler(seed, new DependencyChecker(DependencyChecker.Mode.REPORT, s -> { }), yield, 1_000_000,
            new SimTrace(0, false));
    }

    @Test
    void aTimedWaitJumpsTheClockInsteadOfSleeping() {
        SimScheduler s = sim(1, 0);
        long[] seen = new long[1];
        long real = System.nanoTime();
        SimScheduler.Outcome o = s.run("main", () -> {
            WaitQueue q = new WaitQueue(s, "nap");
            assertFalse(q.waitUntil(() -> false, 3_600_000_000_000L)); // an hour
            seen[0] = s.clock().nanoTime();
        }, 10_000);
        assertTrue(o.ok(), o::failure);
        assertEquals(3_600_000_000_000L, seen[0]);
        // a slept hour would take an hour; a simulated one, however loaded the machine, well under a minute
        assertTrue(System.nanoTime() - real < 60_000_000_000L, "simulated, not slept");
    }

    /** Three threads record their steps; the interleaving is a function of the seed alone. */
    private static List<String> interleaving(long seed) {
        SimScheduler s = sim(seed, 0.5);
        List<String> steps = new ArrayList<>();
        SimScheduler.Outcome o = s.run("main", () -> {
            List<JmdThread> ts = new ArrayList<>();
            for (int t = 0; t < 3; t++) {
                int id = t;
                ts.add(s.start("t" + t, EnumSet.noneOf(ThreadRole.class), () -> {
                    for (int i = 0; i < 5; i++) {
                        steps.add(id + ":" + i);
                        s.yieldPoint();
                    }
                }));
            }
            ts.forEach(s::join);
        }, 10_000);
        assertTrue(o.ok(), o::failure);
        assertEquals(15, steps.size());
        return steps;
    }

    @Test
    void theSeedAloneDecidesTheInterleaving() {
        assertEquals(interleaving(7), interleaving(7));
        Set<List<String>> distinct = new HashSet<>();
        for (long seed = 1; seed <= 20; seed++) {
            distinct.add(interleaving(seed));
        }
        assertTrue(distinct.size() > 5, "seeds explore different interleavings: " + distinct.size());
    }

    @Test
    void aLockCycleIsReportedAsADeadlockWithItsWaitForChain() {
        int deadlocks = 0;
        for (long seed = 1; seed <= 30; seed++) {
            SimScheduler s = sim(seed, 0.5);
            SimScheduler.Outcome o = s.run("main", () -> {
                Mutex a = new Mutex(s, "lock A");
                Mutex b = new Mutex(s, "lock B");
                JmdThread t1 = s.start("t1", EnumSet.noneOf(ThreadRole.class), () -> both(s, a, b));
                JmdThread t2 = s.start("t2", EnumSet.noneOf(ThreadRole.class), () -> both(s, b, a));
                s.join(t1);
                s.join(t2);
            }, 10_000);
            assertFalse(s.checker().violations().isEmpty(), "the checker flags the order on every seed");
            if (!o.ok()) {
                deadlocks++;
                assertTrue(o.failure().startsWith("deadlock"), o.failure());
                assertTrue(o.failure().contains("-> waits on -> lock B -> held by -> t2 -> waits on -> lock A -> held by -> t1")
                    || o.failure().contains("-> waits on -> lock A -> held by -> t1 -> waits on -> lock B -> held by -> t2"),
                    o.failure());
                assertTrue(o.failure().contains("(cycle)"), o.failure());
            }
        }
        assertTrue(deadlocks > 0, "some seed interleaves the two into the deadlock");
    }

    private static void both(Scheduler s, Mutex first, Mutex second) {
        first.lock();
        s.yieldPoint();
        second.lock();
        second.unlock();
        first.unlock();
    }

    @Test
    void threadsLeftWaitingAreKilledWhenTheMainThreadEnds() {
        SimScheduler s = sim(3, 0.2);
        SimScheduler.Outcome o = s.run("main", () -> {
            WaitQueue never = new WaitQueue(s, "never");
            for (int i = 0; i < 4; i++) {
                s.start("stuck" + i, EnumSet.noneOf(ThreadRole.class), () -> never.waitUntil(() -> false));
            }
        }, 10_000);
        assertTrue(o.ok(), o::failure);
    }

    @Test
    void killingEveryOtherThreadLeavesTheCallerRunning() {
        SimScheduler s = sim(4, 0.3);
        int[] after = new int[1];
        SimScheduler.Outcome o = s.run("main", () -> {
            WaitQueue never = new WaitQueue(s, "never");
            for (int i = 0; i < 3; i++) {
                s.start("victim" + i, EnumSet.noneOf(ThreadRole.class), () -> never.waitUntil(() -> false));
            }
            never.waitUntil(() -> false, 1_000_000); // let them park
            s.killAllOthers();
            JmdThread fresh = s.start("after", EnumSet.noneOf(ThreadRole.class), () -> after[0]++);
            s.join(fresh);
        }, 10_000);
        assertTrue(o.ok(), o::failure);
        assertEquals(1, after[0]);
    }
}
