package io.jmd;

import io.jmd.mem.BufferCache;
import io.jmd.mem.MemoryBudget;
import io.jmd.sync.Clock;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.RealScheduler;
import io.jmd.sync.Scheduler;
import io.jmd.work.ThreadStarter;
import io.jmd.work.Timer;
import io.jmd.work.WorkerPool;

import java.util.random.RandomGenerator;

/**
 * Everything the engine takes from its surroundings, injected in one place: scheduling (and so
 * threads and waits), time, randomness, memory. Production builds it with {@link #production};
 * tests and the simulator build their own. There is no other global state.
 *
 * <p>Shared pools: {@code ioWorkers} runs member I/O (I/O-progress threads); the starter starts
 * every engine thread after start-up (seed 003); {@code timer} runs short delayed tasks.
 */
public final class Env implements AutoCloseable {
    /**
     * Member I/O workers: each runs one blocking syscall. 256 = four members at the default queue
     * depth of 64, so a hung member (a stuck disk, a dead NFS server) holding all of its 64
     * slots still leaves workers for the others. Platform threads are cheap when idle and leave
     * after {@link #IO_WORKER_IDLE_NANOS}.
     */
    public static final int IO_WORKERS_MAX_DEFAULT = 256;
    /** Queue bound of the I/O pool: the sum of every device's in-flight slots may not exceed it. */
    public static final int IO_QUEUE_MAX_DEFAULT = 1 << 16;
    public static final long IO_WORKER_IDLE_NANOS = 10_000_000_000L;

    private final Scheduler scheduler;
    private final RandomGenerator random;
    private final MemoryBudget budget;
    private final BufferCache buffers;
    private final ThreadStarter starter;
    private final WorkerPool ioWorkers;
    private final Timer timer;

    public Env(Scheduler scheduler, RandomGenerator random, long budgetBytes, boolean trackBuffers) {
        this.scheduler = scheduler;
        this.random = random;
        this.budget = new MemoryBudget(scheduler, "jmd", budgetBytes);
        this.buffers = new BufferCache(scheduler, budget, trackBuffers);
        this.starter = new ThreadStarter(scheduler, "jmd-starter");
        this.ioWorkers = new WorkerPool(scheduler, starter, "jmd-io", IO_WORKERS_MAX_DEFAULT,
            IO_QUEUE_MAX_DEFAULT, IO_WORKER_IDLE_NANOS, true);
        this.timer = new Timer(scheduler, "jmd-timer");
    }

    /** Real threads and clock; the checker reports and continues; 1 GiB of I/O memory by default. */
    public static Env production(long budgetBytes) {
        return new Env(RealScheduler.production(), new java.util.SplittableRandom(), budgetBytes, false);
    }

    /** Real threads, a checker that throws, leak-tracked buffers: what unit tests use. */
    public static Env forTests(long budgetBytes) {
        DependencyChecker checker = new DependencyChecker(DependencyChecker.Mode.THROW, System.err::println);
        return new Env(new RealScheduler(Clock.SYSTEM, checker), new java.util.SplittableRandom(42), budgetBytes, true);
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public Clock clock() {
        return scheduler.clock();
    }

    /**
     * The injected randomness. Not thread-safe: production code draws from it on one thread at a
     * time (creation, the simulator's single running thread) or takes a seed from it for its own
     * generator, as the fault layer does.
     */
    public RandomGenerator random() {
        return random;
    }

    public MemoryBudget budget() {
        return budget;
    }

    public BufferCache buffers() {
        return buffers;
    }

    public ThreadStarter starter() {
        return starter;
    }

    public WorkerPool ioWorkers() {
        return ioWorkers;
    }

    public Timer timer() {
        return timer;
    }

    @Override
    public void close() {
        timer.close();
        ioWorkers.close();
        starter.close();
    }
}
