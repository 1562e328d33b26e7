package io.jmd.md.resync;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.md.Member;
import io.jmd.md.MemberState;
import io.jmd.md.format.ArrayName;
import io.jmd.md.format.DevRoles;
import io.jmd.md.format.MdTime;
import io.jmd.md.format.MdUuid;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Builder;
import io.jmd.mem.Buffer;
import io.jmd.sim.SimScheduler;
import io.jmd.sim.SimTrace;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sync loop under load (the throttle says DRAIN: the array is not idle and the sync is above
 * its minimum speed) with windows that finish inside {@link SyncRun#issue}: a window with no work,
 * or whose I/O ended before its step returned. Such a window is finished but not retired and
 * never passes through the ended queue; the old loop waited "for a window in flight to end" and
 * slept forever (seen as recoveries stuck for minutes, fixed in 9c0b836). Run under the
 * deterministic {@link SimScheduler} with simulated time: the old code is a reported deadlock
 * (every thread parked, nothing timed), not a hung test.
 */
final class SyncRunDrainTest {
    static final long WINDOW = 64 << 10;
    static final int DEPTH = 4;
    static final long RANGE = 16 * WINDOW;

    /** A device that ends every bio at once, inside submit: the I/O is over before the step returns. */
    static final class InlineDevice implements BlockDevice {
        final AtomicLong bios = new AtomicLong();

        @Override
        public String name() {
            return "inline";
        }

        @Override
        public long sizeBytes() {
            return 1L << 30;
        }

        @Override
        public void submit(Bio bio) {
            bios.incrementAndGet();
            bio.end(Errno.OK);
        }

        @Override
        public void close() {
        }
    }

    /** A device that ends every bio on an I/O worker: the seed decides whether before the step returns. */
    static final class WorkerDevice implements BlockDevice {
        final Env env;
        final AtomicLong bios = new AtomicLong();

        WorkerDevice(Env env) {
            this.env = env;
        }

        @Override
        public String name() {
            return "worker";
        }

        @Override
        public long sizeBytes() {
            return 1L << 30;
        }

        @Override
        public void submit(Bio bio) {
            bios.incrementAndGet();
            env.ioWorkers().execute(() -> bio.end(Errno.OK));
        }

        @Override
        public void close() {
        }
    }

    static Member member(BlockDevice dev) {
        Superblock1 sb = new Superblock1Builder()
            .setUuid(MdUuid.parse("00112233:44556677:8899aabb:ccddeeff"))
            .setName(ArrayName.create(Optional.of("host"), "drain"))
            .ctime(MdTime.ofSeconds(1_700_000_000L)).utime(MdTime.ofSeconds(1_700_000_000L))
            .level(RaidLevel.RAID1.code()).raidDisks(1).sizeSectors(RANGE / 512)
            .dataOffsetSectors(2048).dataSizeSectors((dev.sizeBytes() >> 9) - 2048).superOffsetSectors(8)
            .deviceUuid(MdUuid.parse("ffeeddcc:bbaa9988:77665544:33221100"))
            .devRoles(DevRoles.of(0)).events(1)
            .build();
        return new Member(dev, dev.name(), sb, 0, MemberState.IN_SYNC);
    }

    /** A level whose window reads once from {@code m} (or, m null, has nothing to do). */
    static SyncLevel level(Member m) {
        return new SyncLevel() {
            @Override
            public long sizeBytes() {
                return RANGE;
            }

            @Override
            public int buffersPerWindow(SyncAction action) {
                return 1;
            }

            @Override
            public boolean step(SyncWindow w) {
                if (m == null || w.stage == 1) {
                    return true;
                }
                w.stage = 1;
                w.submit(m, Bio.Op.READ, m.dataOffsetBytes() + w.offsetBytes(), w.lengthBytes(), w.buffer(0));
                return false;
            }

            @Override
            public boolean fullAfterSync(SyncWindow.Targets targets) {
                return true;
            }
        };
    }

    /** A host whose array is never idle: every look sees new normal requests. */
    static SyncHost busyHost(Env env, SyncBarrier barrier, SyncLevel level) {
        AtomicLong requests = new AtomicLong();
        return new StubSyncHost(env, barrier, level) {
            @Override
            public String name() {
                return "drain";
            }

            @Override
            public long resyncDoneBytes() {
                return 0;
            }

            @Override
            public long normalRequests() {
                return requests.incrementAndGet();
            }
        };
    }

    record Result(SimScheduler.Outcome outcome, boolean completed, long doneBytes, List<String> violations) {
    }

    /**
     * Runs one sync of {@link #RANGE} in {@link #DEPTH} windows of {@link #WINDOW} on a sync
     * thread, as SyncEngine starts it, under a throttle that says DRAIN from the second window on
     * (simulated time stands still: the speed is every byte issued over the 1 ms floor, far above
     * the 1 KiB/s minimum and below the maximum).
     */
    static Result run(long seed, Function<Env, Member> memberOf) {
        DependencyChecker checker = new DependencyChecker(DependencyChecker.Mode.REPORT, s -> { });
        SimScheduler sim = new SimScheduler(seed, checker, 0.3, 200_000, new SimTrace(0, false));
        boolean[] completed = new boolean[1];
        long[] done = new long[1];
        SimScheduler.Outcome o = sim.run("main", () -> {
            Env env = new Env(sim, new SplittableRandom(seed), 64L << 20, false);
            try {
                SyncBarrier barrier = new SyncBarrier(sim, "drain");
                SyncLevel level = level(memberOf.apply(env));
                Buffer[][] buffers = new Buffer[DEPTH][1];
                for (int d = 0; d < DEPTH; d++) {
                    buffers[d][0] = env.buffers().allocate(WINDOW);
                }
                SyncThrottle throttle = new SyncThrottle(1, 1L << 40);
                SyncRun r = new SyncRun(busyHost(env, barrier, level), level, SyncAction.RESYNC, 0, RANGE, List.of(), false,
                    buffers, throttle, () -> false, () -> { });
                JmdThread t = sim.start("drain_resync", EnumSet.of(ThreadRole.IO_PROGRESS), r);
                sim.join(t);
                completed[0] = r.completed();
                done[0] = r.doneBytes();
            } finally {
                env.close();
                env.buffers().trim();
            }
        }, 60_000);
        return new Result(o, completed[0], done[0], checker.violations());
    }

    private static void assertFinished(String what, Result r) {
        assertTrue(r.outcome().ok(), what + ": " + r.outcome().failure());
        assertTrue(r.completed(), what + ": the sync did not complete");
        assertEquals(RANGE, r.doneBytes(), what);
        assertEquals(List.of(), r.violations(), what);
    }

    @Test
    void windowsWithNoWorkUnderLoadAreRetiredNotWaitedFor() {
        for (long seed = 1; seed <= 3; seed++) {
            assertFinished("seed " + seed, run(seed, env -> null));
        }
    }

    @Test
    void windowsWhoseIoEndedBeforeTheirStepReturnedAreRetiredNotWaitedFor() {
        InlineDevice dev = new InlineDevice();
        for (long seed = 1; seed <= 3; seed++) {
            long before = dev.bios.get();
            assertFinished("seed " + seed, run(seed, env -> member(dev)));
            assertEquals(RANGE / WINDOW, dev.bios.get() - before, "one read per window");
        }
    }

    /**
     * I/O that ends on another thread: each seed decides, per window, whether the completion runs
     * before the sync thread's step returns (then the window finishes inside issue) or after (it
     * comes back through the ended queue). Every seed must finish.
     */
    @Test
    void anyOrderOfCompletionAndStepReturnFinishesUnderLoad() {
        for (long seed = 1; seed <= 12; seed++) {
            WorkerDevice[] dev = new WorkerDevice[1];
            Result r = run(seed, env -> member(dev[0] = new WorkerDevice(env)));
            assertFinished("seed " + seed, r);
            assertEquals(RANGE / WINDOW, dev[0].bios.get(), "seed " + seed + ": one read per window");
        }
    }
}
