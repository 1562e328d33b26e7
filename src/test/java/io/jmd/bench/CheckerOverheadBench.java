package io.jmd.bench;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.MemoryBlockDevice;
import io.jmd.block.SyncIo;
import io.jmd.md.Assembler;
import io.jmd.md.Creator;
import io.jmd.md.MdArray;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.mem.Buffer;
import io.jmd.sync.Clock;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.RealScheduler;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * What the dependency checker costs: RAID1 4 KiB random writes through jmd (real threads, members in
 * memory and inline, so that the engine's CPU path is all there is and the checker's share is as
 * large as it gets), alternating rounds with the production checker (REPORT) and with it off, in one run.
 * Usage: {@code CheckerOverheadBench [rounds] [writesPerRound] [threads]}. Prints each round and the
 * median overhead, by wall time and by the writer threads' CPU time (steadier on a shared machine:
 * with members in memory and small member I/O run inline, the writers do nearly all the work).
 */
public final class CheckerOverheadBench {
    static final long MEMBER_BYTES = 256L << 20;

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        int writes = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 1;
        System.out.printf(Locale.ROOT, "checker overhead: RAID1 of 2 memory members, 4 KiB random writes, %d threads,"
            + " %d writes per round, %d rounds each, JDK %s%n", threads, writes, rounds, Runtime.version());
        double[] on = new double[rounds];
        double[] off = new double[rounds];
        double[] onCpu = new double[rounds];
        double[] offCpu = new double[rounds];
        run(DependencyChecker.Mode.REPORT, writes / 4, threads); // warm-up, both paths (results dropped)
        run(DependencyChecker.Mode.OFF, writes / 4, threads);
        for (int r = 0; r < rounds; r++) {
            boolean onFirst = r % 2 == 0; // alternate the order: no mode always runs on a warmer heap
            for (int k = 0; k < 2; k++) {
                boolean checkerOn = (k == 0) == onFirst;
                double[] wallCpu = run(checkerOn ? DependencyChecker.Mode.REPORT : DependencyChecker.Mode.OFF, writes, threads);
                (checkerOn ? on : off)[r] = wallCpu[0];
                (checkerOn ? onCpu : offCpu)[r] = wallCpu[1];
            }
            System.out.printf(Locale.ROOT, "round %d: checker on %.0f writes/s (%.0f per CPU-s), off %.0f (%.0f per CPU-s),"
                + " overhead %.2f%% wall, %.2f%% CPU%n", r, on[r], onCpu[r], off[r], offCpu[r], 100 * (1 - on[r] / off[r]),
                100 * (1 - onCpu[r] / offCpu[r]));
        }
        System.out.printf(Locale.ROOT, "median: checker on %.0f writes/s, off %.0f writes/s, overhead %.2f%% (wall);"
            + " %.0f vs %.0f writes per writer CPU-second, overhead %.2f%% (CPU)%n", median(on), median(off),
            100 * (1 - median(on) / median(off)), median(onCpu), median(offCpu), 100 * (1 - median(onCpu) / median(offCpu)));
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c[c.length / 2];
    }

    /** One round: a fresh Env, array and members; returns {writes per second, writes per writer CPU-second}. */
    static double[] run(DependencyChecker.Mode mode, int writes, int threads) throws Exception {
        DependencyChecker checker = new DependencyChecker(mode, System.err::println);
        try (Env env = new Env(new RealScheduler(Clock.SYSTEM, checker), new SplittableRandom(1), 1L << 30, false)) {
            // Inline members: each write runs start to end on its writer thread, so the writer's CPU
            // time is the whole cost and the measurement does not depend on hand-offs between threads.
            Map<String, MemoryBlockDevice> devs = Map.of(
                "a", new MemoryBlockDevice(env, MemoryBlockDevice.Options.of("a", MEMBER_BYTES).inline(true)),
                "b", new MemoryBlockDevice(env, MemoryBlockDevice.Options.of("b", MEMBER_BYTES).inline(true)));
            List<BlockDevice> both = List.of(devs.get("a"), devs.get("b"));
            Creator.create(env, both, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID1, 2), Optional.of("bench"),
                "bench", 0, false, true, false));
            try (MdArray array = Assembler.assemble(env, (n, ro) -> devs.get(n), List.of("a", "b"), Assembler.Options.DEFAULT)) {
                long blocks = array.sizeBytes() / 4096;
                List<Buffer> bufs = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    bufs.add(env.buffers().allocate(4096));
                }
                Thread[] ts = new Thread[threads];
                Throwable[] err = new Throwable[1];
                long[] cpuNanos = new long[threads];
                java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
                long start = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    ts[t] = Thread.ofPlatform().start(() -> {
                        SplittableRandom rnd = new SplittableRandom(id);
                        Buffer buf = bufs.get(id);
                        long cpu0 = mx.getCurrentThreadCpuTime();
                        try {
                            for (int i = id; i < writes; i += threads) {
                                buf.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, i);
                                int st = SyncIo.write(env.scheduler(), array, rnd.nextLong(blocks) * 4096, buf.segment(), 0);
                                if (st != Errno.OK) {
                                    throw new IllegalStateException("write failed: " + Errno.name(st));
                                }
                            }
                        } catch (Throwable e) {
                            err[0] = e;
                        }
                        cpuNanos[id] = mx.getCurrentThreadCpuTime() - cpu0;
                    });
                }
                for (Thread t : ts) {
                    t.join();
                }
                double perSecond = writes / ((System.nanoTime() - start) / 1e9);
                double perCpuSecond = writes / (java.util.Arrays.stream(cpuNanos).sum() / 1e9);
                if (err[0] != null) {
                    throw new IllegalStateException(err[0]);
                }
                bufs.forEach(Buffer::release);
                if (!checker.violations().isEmpty()) {
                    throw new IllegalStateException("checker reports: " + checker.violations().get(0));
                }
                return new double[] {perSecond, perCpuSecond};
            }
        }
    }
}
