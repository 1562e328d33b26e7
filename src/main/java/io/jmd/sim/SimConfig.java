package io.jmd.sim;

import java.util.SplittableRandom;

/**
 * Everything one run is made of, drawn from its seed and operation count alone, so that
 * {@code jmd sim --seed N --ops M} replays it exactly.
 *
 * @param seed               the run's seed
 * @param ops                client requests to complete (reads, writes, flushes, trims)
 * @param members            RAID1 members (2 or 3)
 * @param diskBytes          each member's size
 * @param clients            concurrent client threads (as NBD connections)
 * @param budgetBytes        the Env's memory budget: small, so that allocations wait for writeback
 * @param crashPerPhase      chance that a phase of the workload ends in a crash (mid-flight)
 * @param restartPerPhase    chance that a phase without a crash ends in a clean stop and reassembly
 * @param yieldProbability   the scheduler's preemption chance at unpark, start and non-waiting park
 * @param crashAfterFailure  chance that power fails within 3 ms of a member failure (a shared supply):
 *                           the window where the failure is not yet recorded on the survivors
 * @param healPerRestart     chance that a failed disk is back at the next assembly (a cable, a reset)
 * @param faults             the storage fault model
 */
public record SimConfig(long seed, long ops, int members, long diskBytes, int clients, long budgetBytes,
                        double crashPerPhase, double restartPerPhase, double yieldProbability, double crashAfterFailure,
                        double healPerRestart, FaultModel faults) {
    /** Mixes the seed so that neighbouring seeds draw unrelated configurations. */
    static long mix(long seed, long salt) {
        long z = seed + salt * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The configuration of seed {@code seed} running {@code ops} requests. */
    public static SimConfig of(long seed, long ops) {
        SplittableRandom r = new SplittableRandom(mix(seed, 1));
        int members = r.nextInt(3) == 0 ? 3 : 2;
        long diskBytes = (3L + r.nextInt(3)) << 20;
        int clients = 1 + r.nextInt(4);
        // Reserves (~1 KiB), superblock buffers (4 KiB per member), the 1 MiB resync window, thread
        // starts (16 KiB each, ~8 threads) and client buffers (up to 32 KiB each) must fit; the
        // random extra decides how often client buffers wait for writes to end.
        long budgetBytes = (1L << 20) + 256 * 1024 + r.nextLong(512 * 1024);
        double crash = r.nextInt(4) == 0 ? 0 : 0.1 + r.nextDouble() * 0.4;
        double restart = r.nextDouble() * 0.3;
        double yield = r.nextInt(3) == 0 ? 0 : r.nextDouble() * 0.5;
        double crashAfterFailure = r.nextInt(3) == 0 ? 1 : r.nextDouble() * 0.5;
        double heal = r.nextInt(3) == 0 ? 1 : r.nextDouble();
        return new SimConfig(seed, ops, members, diskBytes, clients, budgetBytes, crash, restart, yield,
            crashAfterFailure, heal, FaultModel.random(r));
    }

    /** The one-line command that replays this run. */
    public String replayCommand() {
        return "jmd sim --seed " + seed + " --ops " + ops;
    }

    @Override
    public String toString() {
        return "seed " + seed + ": " + ops + " ops, raid1 x" + members + " of " + (diskBytes >> 20) + " MiB, " + clients
            + " clients, budget " + (budgetBytes >> 10) + " KiB, crash/phase " + String.format("%.2f", crashPerPhase)
            + ", restart/phase " + String.format("%.2f", restartPerPhase) + ", yield " + String.format("%.2f", yieldProbability)
            + ", crash after failure " + String.format("%.2f", crashAfterFailure) + ", heal " + String.format("%.2f", healPerRestart)
            + "; " + faults;
    }
}
