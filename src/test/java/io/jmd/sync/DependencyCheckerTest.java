package io.jmd.sync;

import io.jmd.mem.MemPool;
import io.jmd.mem.MemoryBudget;
import io.jmd.mem.Pooled;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import io.jmd.work.ThreadStarter;
import io.jmd.work.WorkerPool;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One test per rule that provokes it, and one per legal pattern that must not trip it. */
class DependencyCheckerTest {
    static final class Item extends Pooled {
    }

    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final RealScheduler scheduler = Schedulers.throwing(reports);
    private final DependencyChecker checker = scheduler.checker();

    private MemPool<Item> pool(int reserveItems, int sharedItems) {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", (long) (reserveItems + sharedItems) * 64);
        return new MemPool<>(scheduler, budget, "bios", reserveItems, 64, 0, Item::new);
    }

    private static DependencyViolation.Rule ruleOf(Runnable r) {
        return assertThrows(DependencyViolation.class, r::run).rule();
    }

    /** Runs {@code body} on a jmd thread with {@code roles}; returns what it threw, or null. */
    private Throwable onThread(Set roles, Runnable body) {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        JmdThread t = scheduler.start("t-" + roles.roles, roles.roles, () -> {
            try {
                body.run();
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        scheduler.join(t);
        return thrown.get();
    }

    private record Set(EnumSet<ThreadRole> roles) {
        static Set of(ThreadRole r) {
            return new Set(EnumSet.of(r));
        }

        static Set none() {
            return new Set(EnumSet.noneOf(ThreadRole.class));
        }
    }

    // --- seed 001: a thread blocks on a pool that only it refills ---

    @Test
    void refillerBlockingOnItsOwnPoolIsFlagged() {
        MemPool<Item> pool = pool(2, 2);
        pool.setRefiller(scheduler.current());
        // Flagged although the pool has items: the pattern hangs only near exhaustion.
        assertEquals(DependencyViolation.Rule.SELF_REFILL_WAIT, ruleOf(pool::alloc));
        assertTrue(reports.getFirst().contains("only it refills"), reports.getFirst());
        assertEquals(1, checker.violations().size());
        assertEquals(0, pool.outstanding(), "nothing was allocated");
    }

    @Test
    void refillerTryingThenFallingBackIsLegal() {
        MemPool<Item> pool = pool(1, 0);
        pool.setRefiller(scheduler.current());
        Item first = pool.tryAlloc();
        assertNotNull(first);
        Item second = pool.tryAlloc();
        assertNull(second, "exhausted");
        Item fallback = new Item(); // kmirrord's kmalloc: a plain allocation outside the pool
        assertNotNull(fallback);
        pool.free(first);
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    // --- seed 002: blocking allocation while holding an item of the same pool ---

    @Test
    void holdingAnItemThenBlockingOnTheSamePoolIsFlagged() {
        MemPool<Item> pool = pool(4, 4);
        Item held = pool.alloc();
        assertEquals(DependencyViolation.Rule.ALLOC_WHILE_HOLDING, ruleOf(pool::alloc));
        assertTrue(reports.getFirst().contains("while holding 1"), reports.getFirst());
        pool.free(held);
    }

    @Test
    void submitAsYouGoWithHandOffIsLegalAndNeverDeadlocks() throws Exception {
        // 4 writers, 3-way mirror, a pool of 2 reserve + 1 shared: far fewer items than
        // writers x mirrors; it completes only because each item is submitted as soon as allocated.
        MemPool<Item> pool = pool(2, 1);
        ThreadStarter starter = new ThreadStarter(scheduler, "starter");
        WorkerPool members = new WorkerPool(scheduler, starter, "members", 4, 1 << 10, 1_000_000_000L, true);
        AtomicInteger written = new AtomicInteger();
        int mirrors = 3;
        TestThreads.runConcurrently(4, w -> {
            for (int n = 0; n < 2_000; n++) {
                Completion done = new Completion(scheduler, "write");
                AtomicInteger remaining = new AtomicInteger(1); // held by the submitter (seed 002)
                for (int m = 0; m < mirrors; m++) {
                    Item bio = pool.alloc();
                    remaining.incrementAndGet();
                    pool.handOff(bio);
                    members.execute(() -> {
                        written.incrementAndGet();
                        pool.free(bio);
                        if (remaining.decrementAndGet() == 0) {
                            done.complete(0);
                        }
                    });
                }
                if (remaining.decrementAndGet() == 0) {
                    done.complete(0);
                }
                assertEquals(0, done.await());
            }
        });
        members.close();
        starter.close();
        assertEquals(4 * 2_000 * mirrors, written.get());
        assertEquals(0, pool.outstanding());
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    // --- seeds 000/003: thread start from an I/O-progress thread ---

    @Test
    void startingAThreadFromAnIoThreadIsFlagged() {
        Throwable t = onThread(Set.of(ThreadRole.IO_PROGRESS), () -> scheduler.start("sync", Set.none().roles, () -> { }));
        assertTrue(t instanceof DependencyViolation, String.valueOf(t));
        assertEquals(DependencyViolation.Rule.START_FROM_IO_THREAD, ((DependencyViolation) t).rule());
    }

    @Test
    void startingThroughTheStarterFromAnIoThreadIsLegal() {
        ThreadStarter starter = new ThreadStarter(scheduler, "starter");
        Completion ran = new Completion(scheduler, "ran");
        Throwable t = onThread(Set.of(ThreadRole.IO_PROGRESS), () -> starter.requestStart(new ThreadStarter.Request(
            "sync", EnumSet.noneOf(ThreadRole.class), () -> ran.complete(0), () -> ran.complete(-1))));
        assertNull(t);
        assertEquals(0, ran.await());
        starter.close();
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    // --- seed 004: waiting for an outside party while holding a lock ---

    @Test
    void outsideWaitWhileHoldingAMutexIsFlagged() {
        Mutex reconfig = new Mutex(scheduler, "md0.reconfig");
        Completion mdmon = new Completion(scheduler, "metadata acked");
        reconfig.lock();
        assertEquals(DependencyViolation.Rule.OUTSIDE_WAIT_HOLDING_LOCK, ruleOf(() -> mdmon.awaitOutside(1_000_000)));
        assertTrue(reports.getFirst().contains("md0.reconfig"), reports.getFirst());
        reconfig.unlock();
    }

    /** Bug: the check ran only when the wait actually blocked, so a run where mdmon was quick passed. */
    @Test
    void outsideWaitWhileHoldingAMutexIsFlaggedEvenIfAlreadyDone() {
        Mutex reconfig = new Mutex(scheduler, "md0.reconfig");
        Completion mdmon = new Completion(scheduler, "metadata acked");
        mdmon.complete(0);
        reconfig.lock();
        assertEquals(DependencyViolation.Rule.OUTSIDE_WAIT_HOLDING_LOCK, ruleOf(() -> mdmon.awaitOutside(1_000_000)));
        reconfig.unlock();
    }

    @Test
    void outsideWaitAfterDroppingTheLockIsLegal() {
        Mutex reconfig = new Mutex(scheduler, "md0.reconfig");
        Completion mdmon = new Completion(scheduler, "metadata acked");
        reconfig.lock();
        // Start the action under the lock, answer EAGAIN, drop the lock, then wait.
        TestThreads.startDaemon("mdmon", () -> mdmon.complete(0));
        reconfig.unlock();
        assertTrue(mdmon.awaitOutside(TestThreads.HANG.toNanos()));
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    // --- lock order ---

    @Test
    void lockOrderInversionIsFlagged() {
        Mutex a = new Mutex(scheduler, "A");
        Mutex b = new Mutex(scheduler, "B");
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
        b.lock();
        assertEquals(DependencyViolation.Rule.LOCK_ORDER, ruleOf(a::lock));
        assertTrue(reports.getFirst().contains("A -> ... -> B"), reports.getFirst());
        b.unlock();
        assertNull(a.holder(), "the refused lock was not taken");
    }

    @Test
    void transitiveLockOrderInversionIsFlagged() {
        Mutex a = new Mutex(scheduler, "A");
        Mutex b = new Mutex(scheduler, "B");
        Mutex c = new Mutex(scheduler, "C");
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
        b.lock();
        c.lock();
        c.unlock();
        b.unlock();
        c.lock();
        assertEquals(DependencyViolation.Rule.LOCK_ORDER, ruleOf(a::lock));
        c.unlock();
    }

    @Test
    void consistentOrderAndSameClassNestingAreLegal() {
        Mutex a = new Mutex(scheduler, "A");
        Mutex b = new Mutex(scheduler, "B");
        Mutex member0 = new Mutex(scheduler, "member");
        Mutex member1 = new Mutex(scheduler, "member");
        for (int i = 0; i < 3; i++) {
            a.lock();
            b.lock();
            member0.lock();
            member1.lock();
            member1.unlock();
            member0.unlock();
            b.unlock();
            a.unlock();
        }
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    /**
     * Bug: tryLock recorded held -> tried edges, but a tryLock never waits, so it cannot close a
     * deadlock cycle; the reverse order elsewhere was reported as an inversion.
     */
    @Test
    void tryLockInReverseOrderIsLegal() {
        Mutex a = new Mutex(scheduler, "A");
        Mutex b = new Mutex(scheduler, "B");
        b.lock();
        assertTrue(a.tryLock());
        a.unlock();
        b.unlock();
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    @Test
    void locksTakenWhileHoldingATryLockedOneAreOrdered() {
        Mutex a = new Mutex(scheduler, "A");
        Mutex b = new Mutex(scheduler, "B");
        assertTrue(a.tryLock());
        b.lock(); // A -> B: b.lock() can wait while A is held
        b.unlock();
        a.unlock();
        b.lock();
        assertEquals(DependencyViolation.Rule.LOCK_ORDER, ruleOf(a::lock));
        b.unlock();
    }

    /**
     * Bug: the first A -> B and the first B -> A seen at the same moment by two threads each
     * searched for the reverse path before either recorded its edge: both edges went in and the
     * cycle was never reported, then or later. Distinct mutexes of the same two classes, so
     * nothing really deadlocks.
     */
    @Test
    void racingFirstSightingsOfAnInversionAreStillFlagged() {
        AtomicReference<RealScheduler> s = new AtomicReference<>();
        AtomicReference<Mutex[]> locks = new AtomicReference<>();
        TestThreads.rounds(2, 3_000, () -> {
            RealScheduler r = Schedulers.reporting();
            s.set(r);
            locks.set(new Mutex[] {new Mutex(r, "A"), new Mutex(r, "B"), new Mutex(r, "A"), new Mutex(r, "B")});
        }, i -> {
            Mutex[] m = locks.get();
            Mutex first = i == 0 ? m[0] : m[3];
            Mutex second = i == 0 ? m[1] : m[2];
            first.lock();
            second.lock();
            second.unlock();
            first.unlock();
        }, () -> assertEquals(1, s.get().checker().violations().size(), "A->B and B->A both seen, one report"));
    }

    // --- blocking in a must-not-block section ---

    @Test
    void blockingInsideAnAtomicSectionIsFlagged() {
        Completion c = new Completion(scheduler, "never");
        JmdThread me = scheduler.current();
        AtomicReference<DependencyViolation.Rule> rule = new AtomicReference<>();
        DependencyChecker.runAtomic(me, () -> rule.set(ruleOf(c::await)));
        assertEquals(DependencyViolation.Rule.BLOCK_IN_ATOMIC, rule.get());
        assertTrue(!me.inAtomic(), "depth restored");
    }

    /** Bug: only a lock that happened to be contended was flagged; an uncontended run passed. */
    @Test
    void lockingAMutexInsideAnAtomicSectionIsFlaggedWithoutContention() {
        Mutex m = new Mutex(scheduler, "conf");
        AtomicReference<DependencyViolation.Rule> rule = new AtomicReference<>();
        DependencyChecker.runAtomic(scheduler.current(), () -> rule.set(ruleOf(m::lock)));
        assertEquals(DependencyViolation.Rule.BLOCK_IN_ATOMIC, rule.get());
        assertNull(m.holder());
    }

    @Test
    void nonBlockingCallsInsideAnAtomicSectionAreLegal() {
        Completion c = new Completion(scheduler, "done");
        CountedResource slots = new CountedResource(scheduler, "slots", 4);
        Mutex m = new Mutex(scheduler, "m");
        assertTrue(slots.tryAcquire(1));
        DependencyChecker.runAtomic(scheduler.current(), () -> {
            c.complete(0);
            slots.release(1);
            assertTrue(m.tryLock());
            m.unlock();
        });
        assertTrue(c.isDone());
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    /**
     * Bug: a wait condition that itself blocked (a lock, a nested wait) could consume the park
     * permit meant for the outer wait: a lost wake-up. Conditions now run as must-not-block.
     */
    @Test
    void aBlockingWaitConditionIsFlagged() {
        WaitQueue q = new WaitQueue(scheduler, "outer");
        Mutex m = new Mutex(scheduler, "inner");
        DependencyViolation v = assertThrows(DependencyViolation.class, () -> q.waitUntil(() -> {
            m.lock();
            m.unlock();
            return true;
        }));
        assertEquals(DependencyViolation.Rule.BLOCK_IN_ATOMIC, v.rule());
    }

    // --- seeds 000/001: I/O-progress threads never wait for memory no reserve backs ---

    @Test
    void anIoThreadWaitingForBudgetOrBuffersIsFlagged() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        io.jmd.mem.BufferCache buffers = new io.jmd.mem.BufferCache(scheduler, budget, true);
        Throwable charge = onThread(Set.of(ThreadRole.IO_PROGRESS), () -> budget.charge(4096));
        assertEquals(DependencyViolation.Rule.UNRESERVED_WAIT_ON_IO_THREAD, ((DependencyViolation) charge).rule());
        Throwable alloc = onThread(Set.of(ThreadRole.IO_PROGRESS), () -> buffers.allocate(4096));
        assertEquals(DependencyViolation.Rule.UNRESERVED_WAIT_ON_IO_THREAD, ((DependencyViolation) alloc).rule());
        assertEquals(0, budget.chargedBytes(), "nothing was taken");
    }

    @Test
    void anIoThreadTryingForMemoryOrUsingAMempoolIsLegal() {
        MemoryBudget budget = new MemoryBudget(scheduler, "t", 1 << 20);
        io.jmd.mem.BufferCache buffers = new io.jmd.mem.BufferCache(scheduler, budget, true);
        MemPool<Item> pool = new MemPool<>(scheduler, budget, "r1bio", 2, 64, 0, Item::new);
        Throwable t = onThread(Set.of(ThreadRole.IO_PROGRESS), () -> {
            io.jmd.mem.Buffer b = buffers.tryAllocate(4096);
            b.release();
            assertTrue(budget.tryCharge(100));
            budget.uncharge(100);
            pool.free(pool.alloc()); // the reserve backs it
        });
        assertNull(t);
        buffers.trim();
        pool.close();
        assertTrue(checker.violations().isEmpty(), checker.violations().toString());
    }

    // --- report mode ---

    @Test
    void reportModeRecordsAndGoesOn() {
        RealScheduler r = Schedulers.reporting();
        Mutex a = new Mutex(r, "A");
        Mutex b = new Mutex(r, "B");
        a.lock();
        b.lock();
        b.unlock();
        a.unlock();
        b.lock();
        a.lock(); // reported, and taken anyway
        assertTrue(a.isHeldByCurrentThread());
        a.unlock();
        b.unlock();
        assertEquals(1, r.checker().violations().size());
        assertTrue(r.checker().violations().getFirst().startsWith("LOCK_ORDER"));
    }

    @Test
    void reportModeKeepsABoundedRecord() {
        RealScheduler r = Schedulers.reporting();
        Completion c = new Completion(r, "c");
        c.complete(0);
        Mutex m = new Mutex(r, "m");
        m.lock();
        int n = DependencyChecker.VIOLATIONS_KEPT_MAX + 50;
        for (int i = 0; i < n; i++) {
            c.awaitOutside(0); // flagged each time, and goes on
        }
        m.unlock();
        assertEquals(DependencyChecker.VIOLATIONS_KEPT_MAX, r.checker().violations().size());
        assertEquals(n, r.checker().violationCount());
    }
}
