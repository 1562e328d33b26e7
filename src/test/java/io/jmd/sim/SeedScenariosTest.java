package io.jmd.sim;

import io.jmd.Env;
import io.jmd.mem.Buffer;
import io.jmd.mem.MemPool;
import io.jmd.mem.Pooled;
import io.jmd.sync.Completion;
import io.jmd.sync.DependencyViolation.Rule;
import io.jmd.sync.JmdThread;
import io.jmd.sync.Mutex;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;
import io.jmd.work.DaemonThread;
import io.jmd.work.Work;
import io.jmd.work.WorkQueue;
import io.jmd.work.WorkerPool;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The five seeds (shared/seeds) as scenarios. Each runs a naive variant (test code only, the
 * pattern the seed's patch removed) and the same scenario built as jmd builds it, under the
 * simulator with memory pressure coupled to writeback (thread starts and buffers wait for memory
 * that only finishing writes give back). The naive variant must be caught on every seed, by the
 * dependency checker (even on seeds where the schedule did not hang) or by the simulator's
 * deadlock detection, within {@link Scenario#SWITCHES_MAX} thread switches; on some seeds it must
 * really deadlock, with a wait-for chain. The jmd variant must complete, unflagged, on every seed.
 */
final class SeedScenariosTest {
    static final int SEEDS = 40;
    static final Set<ThreadRole> IO = EnumSet.of(ThreadRole.IO_PROGRESS);
    static final Set<ThreadRole> NONE = EnumSet.noneOf(ThreadRole.class);
    static final long WRITE_BYTES = 64 * 1024;
    static final long LATENCY_NANOS = 500_000;

    /** Runs both variants over the seeds and checks the contract of the class comment. */
    private static void check(String seedName, Rule rule, long budgetBytes, BiConsumer<Env, SimScheduler> naive,
                              BiConsumer<Env, SimScheduler> jmd) {
        int deadlocks = 0;
        String example = null;
        for (long seed = 1; seed <= SEEDS; seed++) {
            Scenario.Result n = Scenario.run(seed, budgetBytes, naive);
            boolean caught = n.flagged(rule) || n.deadlocked();
            long s = seed;
            assertTrue(caught, () -> seedName + " naive, seed " + s + ": not caught: " + n);
            assertTrue(n.flagged(rule), () -> seedName + " naive, seed " + s + ": checker missed " + rule + ": " + n);
            assertTrue(n.outcome().switches() <= Scenario.SWITCHES_MAX, seedName + ": caught too late");
            if (n.deadlocked()) {
                deadlocks++;
                example = example == null ? n.outcome().failure() : example;
            }
            Scenario.Result j = Scenario.run(seed, budgetBytes, jmd);
            assertTrue(j.clean(), () -> seedName + " jmd, seed " + s + ": " + j);
        }
        System.out.println(seedName + ": naive flagged (" + rule + ") on " + SEEDS + "/" + SEEDS + " seeds, deadlocked on "
            + deadlocks + "; jmd completed on " + SEEDS + "/" + SEEDS + (example == null ? "" : "\n" + example));
        assertTrue(deadlocks > 0, seedName + ": the naive variant never deadlocked: the scenario puts no pressure on it");
    }

    /** A client write whose end needs {@code finish} to run somewhere: holds its buffer until then. */
    private static void clientWrites(Env env, int writes, Buffer[] held, Runnable submitAndWait) {
        for (int i = 0; i < writes; i++) {
            held[0] = env.buffers().allocate(WRITE_BYTES); // waits for writeback when memory is short
            submitAndWait.run();
        }
    }

    private static List<JmdThread> startClients(Scheduler s, int n, java.util.function.IntConsumer body) {
        List<JmdThread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int id = i;
            threads.add(s.start("client" + i, EnumSet.of(ThreadRole.CLIENT), () -> body.accept(id)));
        }
        return threads;
    }

    // ---------------------------------------------------------------------------------------------
    // Seed 000: the md thread starts the resync thread itself.

    @Test
    void seed000ResyncThreadStartedFromTheMdThread() {
        int clients = 4;
        // Every client started and holding a write buffer, and the md thread started: 8 KiB are left,
        // less than a thread start costs (Env's own threads start before the budget is coupled).
        // jmd's md_misc thread takes 16 KiB more: then clients also wait for each other's writes.
        long budget = clients * (WRITE_BYTES + Scenario.THREAD_BYTES) + Scenario.THREAD_BYTES + 8 * 1024;
        check("seed 000", Rule.START_FROM_IO_THREAD, budget, (env, s) -> seed000(env, s, clients, true),
            (env, s) -> seed000(env, s, clients, false));
    }

    private static void seed000(Env env, Scheduler s, int clients, boolean naive) {
        ConcurrentLinkedQueue<Runnable> ended = new ConcurrentLinkedQueue<>(); // write ends the md thread finishes
        AtomicBoolean recoveryNeeded = new AtomicBoolean();
        AtomicBoolean recoveryRunning = new AtomicBoolean(); // MD_RECOVERY_RUNNING: one sync thread at most
        Completion syncDone = new Completion(s, "resync done");
        Runnable sync = () -> syncDone.complete(0);
        WorkQueue misc = naive ? null : new WorkQueue(s, "md_misc", NONE);
        Work startSync = new Work("start resync", () -> s.start("md0_resync", NONE, sync));
        DaemonThread[] md = new DaemonThread[1];
        md[0] = new DaemonThread(s, "md0_raid1", IO, Long.MAX_VALUE, () -> {
            Runnable r;
            while ((r = ended.poll()) != null) {
                r.run();
            }
            if (recoveryNeeded.getAndSet(false) && recoveryRunning.compareAndSet(false, true)) {
                if (naive) {
                    s.start("md0_resync", NONE, sync); // seed 000's bug
                } else {
                    misc.queue(startSync);
                }
            }
        });
        List<JmdThread> threads = startClients(s, clients, id -> {
            Buffer[] held = new Buffer[1];
            int[] n = {0};
            clientWrites(env, 6, held, () -> {
                Buffer b = held[0];
                Completion done = new Completion(s, "write");
                env.timer().schedule(LATENCY_NANOS, () -> {
                    ended.add(() -> {
                        b.release();
                        done.complete(0);
                    });
                    md[0].wakeup();
                });
                if (id == 0 && ++n[0] == 3) {
                    recoveryNeeded.set(true); // a spare arrived while writes stream: recovery is needed
                    md[0].wakeup();
                }
                done.await();
            });
        });
        threads.forEach(s::join);
        syncDone.await();
        md[0].close();
        if (misc != null) {
            misc.close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Seed 001: the mirror daemon blocks on a pool that only it refills.

    static final class Region extends Pooled {
        boolean fromPool;
    }

    @Test
    void seed001DaemonBlocksOnAPoolOnlyItRefills() {
        check("seed 001", Rule.SELF_REFILL_WAIT, 1 << 20, (env, s) -> seed001(env, s, true), (env, s) -> seed001(env, s, false));
    }

    private static void seed001(Env env, SimScheduler s, boolean naive) {
        s.chargeThreadStarts(null, 0); // the coupling here is the pool, not thread creation
        MemPool<Region> regions = new MemPool<>(s, env.budget(), "region", 2, 1024, 0, Region::new);
        env.budget().charge(env.budget().availableBytes()); // everything else is in use: only the reserve is left
        ConcurrentLinkedQueue<Completion> incoming = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Region> finished = new ConcurrentLinkedQueue<>(); // regions whose I/O ended
        DaemonThread[] mirrord = new DaemonThread[1];
        mirrord[0] = new DaemonThread(s, "kmirrord", IO, Long.MAX_VALUE, () -> {
            Region r;
            while ((r = finished.poll()) != null) {
                if (r.fromPool) {
                    regions.free(r); // only kmirrord gives regions back
                }
            }
            Completion req;
            while ((req = incoming.poll()) != null) {
                Region n;
                if (naive) {
                    n = regions.alloc(); // seed 001's bug: may wait for a free only this thread does
                    n.fromPool = true;
                } else {
                    n = regions.tryAlloc(); // seed 001's fix: try the pool, else a plain allocation
                    if (n == null) {
                        n = new Region();
                    } else {
                        n.fromPool = true;
                    }
                }
                if (n.fromPool) {
                    regions.handOff(n);
                }
                Region region = n;
                Completion done = req;
                env.timer().schedule(LATENCY_NANOS, () -> {
                    finished.add(region);
                    done.complete(0);
                    mirrord[0].wakeup();
                });
            }
        });
        regions.setRefiller(mirrord[0].thread());
        List<JmdThread> threads = startClients(s, 3, id -> {
            for (int i = 0; i < 5; i++) {
                Completion done = new Completion(s, "region write");
                incoming.add(done);
                mirrord[0].wakeup();
                done.await();
            }
        });
        threads.forEach(s::join);
        mirrord[0].close();
        Region r;
        while ((r = finished.poll()) != null) {
            if (r.fromPool) {
                regions.free(r);
            }
        }
        regions.close();
    }

    // ---------------------------------------------------------------------------------------------
    // Seed 002: a mirrored write allocates all its member I/Os from one pool before submitting any.

    static final class MemberIo extends Pooled {
    }

    @Test
    void seed002MirrorWriteAllocatesEveryMemberIoBeforeSubmitting() {
        check("seed 002", Rule.ALLOC_WHILE_HOLDING, 1 << 20, (env, s) -> seed002(env, s, true), (env, s) -> seed002(env, s, false));
    }

    private static void seed002(Env env, SimScheduler s, boolean naive) {
        s.chargeThreadStarts(null, 0); // the coupling here is the pool, not thread creation
        int mirrors = 2;
        // The reserve is what jmd's Raid1 proves enough: raidDisks items, when each is submitted at once.
        MemPool<MemberIo> ios = new MemPool<>(s, env.budget(), "r1 member io", mirrors, 256, 0, MemberIo::new);
        env.budget().charge(env.budget().availableBytes());
        List<JmdThread> threads = startClients(s, 3, id -> {
            for (int i = 0; i < 5; i++) {
                AtomicInteger remaining = new AtomicInteger(1); // held by the submitter (seed 002)
                Completion done = new Completion(s, "mirrored write");
                Runnable memberEnded = () -> {
                    if (remaining.decrementAndGet() == 0) {
                        done.complete(0);
                    }
                };
                if (naive) {
                    List<MemberIo> list = new ArrayList<>();
                    for (int m = 0; m < mirrors; m++) {
                        list.add(ios.alloc()); // seed 002's bug: holds the first while waiting for the next
                    }
                    for (MemberIo io : list) {
                        remaining.incrementAndGet();
                        submit(env, ios, io, memberEnded);
                    }
                } else {
                    for (int m = 0; m < mirrors; m++) {
                        MemberIo io = ios.alloc();
                        remaining.incrementAndGet();
                        submit(env, ios, io, memberEnded); // at once: the item flows back (seed 002's fix)
                    }
                }
                memberEnded.run();
                done.await();
            }
        });
        threads.forEach(s::join);
        ios.close();
    }

    private static void submit(Env env, MemPool<MemberIo> pool, MemberIo io, Runnable ended) {
        pool.handOff(io);
        env.timer().schedule(LATENCY_NANOS, () -> {
            pool.free(io);
            ended.run();
        });
    }

    // ---------------------------------------------------------------------------------------------
    // Seed 003: a busy worker starts another worker itself.

    /** btrfs's async-thread pool before the patch: workers grow the pool from inside. */
    static final class NaiveWorkers {
        private final Scheduler s;
        private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final WaitQueue work;
        private final AtomicInteger workers = new AtomicInteger();
        private final int max;
        private volatile boolean stopping;
        private final List<JmdThread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

        NaiveWorkers(Scheduler s, int max) {
            this.s = s;
            this.max = max;
            this.work = new WaitQueue(s, "endio tasks");
            workers.incrementAndGet();
            threads.add(s.start("endio/1", IO, this::loop)); // the first one, from a thread that may start
        }

        void execute(Runnable task) {
            tasks.add(task);
            work.wakeAll();
        }

        private void loop() {
            while (true) {
                work.waitUntil(() -> stopping || !tasks.isEmpty());
                Runnable t = tasks.poll();
                if (t == null) {
                    return; // stopping
                }
                if (!tasks.isEmpty() && workers.get() < max) {
                    int n = workers.incrementAndGet();
                    threads.add(s.start("endio/" + n, IO, this::loop)); // seed 003's bug
                }
                t.run();
            }
        }

        void close() {
            stopping = true;
            work.wakeAll();
            threads.forEach(s::join);
        }
    }

    @Test
    void seed003WorkerStartsAWorkerItself() {
        int clients = 4;
        long budget = clients * (WRITE_BYTES + Scenario.THREAD_BYTES) + 2 * Scenario.THREAD_BYTES + 8 * 1024;
        check("seed 003", Rule.START_FROM_IO_THREAD, budget, (env, s) -> seed003(env, s, clients, true),
            (env, s) -> seed003(env, s, clients, false));
    }

    private static void seed003(Env env, Scheduler s, int clients, boolean naive) {
        NaiveWorkers naivePool = naive ? new NaiveWorkers(s, 4) : null;
        WorkerPool pool = naive ? null : new WorkerPool(s, env.starter(), "endio", 4, 1024, 1_000_000_000L, true);
        List<JmdThread> threads = startClients(s, clients, id -> {
            Buffer[] held = new Buffer[1];
            clientWrites(env, 6, held, () -> {
                Buffer b = held[0];
                Completion done = new Completion(s, "write");
                Runnable endio = () -> { // I/O completion work: ends the write, gives the memory back
                    b.release();
                    done.complete(0);
                };
                env.timer().schedule(LATENCY_NANOS, () -> {
                    if (naive) {
                        naivePool.execute(endio);
                    } else {
                        pool.execute(endio);
                    }
                });
                done.await();
            });
        });
        threads.forEach(s::join);
        if (naive) {
            naivePool.close();
        } else {
            pool.close();
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Seed 004: waiting for the metadata handler (mdmon) while holding the lock it needs.

    @Test
    void seed004WaitForMdmonWhileHoldingTheArrayLock() {
        check("seed 004", Rule.OUTSIDE_WAIT_HOLDING_LOCK, 1 << 20, (env, s) -> seed004(env, s, true),
            (env, s) -> seed004(env, s, false));
    }

    private static void seed004(Env env, Scheduler s, boolean naive) {
        Mutex reconfig = new Mutex(s, "md0.reconfig");
        AtomicBoolean active = new AtomicBoolean(); // the metadata says "active" (mdmon recorded it)
        AtomicBoolean activePending = new AtomicBoolean(); // MD_CHANGE_PENDING: mdmon has to record it
        AtomicBoolean stop = new AtomicBoolean();
        JmdThread[] mdmon = new JmdThread[1];
        WaitQueue toMdmon = new WaitQueue(s, "array_state events");
        WaitQueue ack = new WaitQueue(s, "mdmon records active", () -> mdmon[0] == null ? List.of() : List.of(mdmon[0]));
        mdmon[0] = s.start("mdmon", EnumSet.of(ThreadRole.CLIENT), () -> {
            while (true) {
                toMdmon.waitUntil(() -> stop.get() || activePending.get());
                if (stop.get()) {
                    return;
                }
                toMdmon.waitUntil(() -> false, LATENCY_NANOS); // writes the metadata, outside jmd
                reconfig.lock(); // reports back through the array's sysfs: takes the array lock
                active.set(true);
                activePending.set(false);
                reconfig.unlock();
                ack.wakeAll();
            }
        });
        List<JmdThread> threads = startClients(s, 2, id -> {
            for (int i = 0; i < 3; i++) {
                if (naive) {
                    reconfig.lock();
                    if (!active.get()) {
                        activePending.set(true);
                        toMdmon.wakeAll();
                        ack.waitOutside(active::get, Long.MAX_VALUE); // seed 004's bug: holds the lock mdmon needs
                    }
                    active.set(false); // the resize is done; the array goes back to clean (safe mode)
                    reconfig.unlock();
                    continue;
                }
                while (true) { // seed 004's fix: md_allow_write starts "mark active", answers EAGAIN
                    reconfig.lock();
                    boolean allowed = active.get();
                    if (allowed) {
                        active.set(false);
                    } else {
                        activePending.set(true);
                        toMdmon.wakeAll();
                    }
                    reconfig.unlock();
                    if (allowed) {
                        break;
                    }
                    // Outside the lock; also wakes when another caller took the active state first.
                    ack.waitOutside(() -> active.get() || !activePending.get(), Long.MAX_VALUE);
                }
            }
        });
        threads.forEach(s::join);
        stop.set(true);
        toMdmon.wakeAll();
        s.join(mdmon[0]);
    }
}
