package io.jmd.sim;

import io.jmd.md.format.Raid10Layout;
import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.format.RaidLevel;

import java.util.SplittableRandom;

/**
 * Everything one run is made of, drawn from its seed, level and operation count alone, so that
 * {@code jmd sim --seed N --ops M --level L} replays it exactly ({@link #replayCommand}).
 *
 * <p>The level's shape is drawn per seed too ({@link #of(long, long, RaidLevel)}): raid1 of 2 or 3
 * members (drawn exactly as before levels were added, so old raid1 seeds replay unchanged); raid5 of
 * 3 to 5 members, left-symmetric (the default) on most seeds, any of the six raid5 algorithms on
 * the others; raid6 of 4 to 6 members, left-symmetric on most seeds, any raid6 algorithm else;
 * raid10 of 2 to 5 members, near=2 on most seeds, far=2 or offset=2 else. Striped levels take a
 * chunk of 4 to 64 KiB, small so that a few MiB hold many rows and requests cross chunks.
 *
 * @param seed               the run's seed
 * @param ops                client requests to complete (reads, writes, flushes, trims)
 * @param level              raid1, raid5, raid6 or raid10
 * @param layout             the superblock's layout word (raid5/6 algorithm, raid10 near/far/offset); 0 for raid1
 * @param chunkKib           chunk of the striped levels; 0 for raid1
 * @param members            members (raid devices)
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
public record SimConfig(long seed, long ops, RaidLevel level, int layout, int chunkKib, int members, long diskBytes, int clients, long budgetBytes,
                        double crashPerPhase, double restartPerPhase, double yieldProbability, double crashAfterFailure,
                        double healPerRestart, FaultModel faults) {
    /** Mixes the seed so that neighbouring seeds draw unrelated configurations. */
    static long mix(long seed, long salt) {
        long z = seed + salt * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Levels the simulator drives. */
    public static final java.util.List<RaidLevel> LEVELS = java.util.List.of(RaidLevel.RAID1, RaidLevel.RAID5,
        RaidLevel.RAID6, RaidLevel.RAID10);

    /** The raid1 configuration of seed {@code seed} running {@code ops} requests. */
    public static SimConfig of(long seed, long ops) {
        return of(seed, ops, RaidLevel.RAID1);
    }

    /** The configuration of seed {@code seed} running {@code ops} requests on {@code level}. */
    public static SimConfig of(long seed, long ops, RaidLevel level) {
        if (!LEVELS.contains(level)) {
            throw new IllegalArgumentException("the simulator drives raid1, raid5, raid6 and raid10, not " + level.mdadmName());
        }
        SplittableRandom r = new SplittableRandom(mix(seed, 1));
        int members = r.nextInt(3) == 0 ? 3 : 2; // drawn for every level: the draws after it stay raid1's
        // The shape of the other levels comes from a stream of its own.
        SplittableRandom shape = new SplittableRandom(mix(seed, 4));
        int layout = 0;
        int chunkKib = 0;
        switch (level) {
            case RAID5 -> {
                members = 3 + shape.nextInt(3);
                layout = shape.nextInt(3) != 0 ? Raid5Algorithm.DEFAULT.layout() : RAID5_ALGORITHMS[shape.nextInt(RAID5_ALGORITHMS.length)].layout();
            }
            case RAID6 -> {
                members = 4 + shape.nextInt(3);
                layout = shape.nextInt(3) != 0 ? Raid5Algorithm.DEFAULT.layout() : RAID6_ALGORITHMS[shape.nextInt(RAID6_ALGORITHMS.length)].layout();
            }
            case RAID10 -> {
                members = 2 + shape.nextInt(4);
                int kind = shape.nextInt(6);
                Raid10Layout l = kind < 4 ? Raid10Layout.near(2) : kind == 4 ? Raid10Layout.far(2) : Raid10Layout.offset(2);
                layout = l.word();
            }
            default -> { }
        }
        if (level.isStriped()) {
            chunkKib = 4 << shape.nextInt(5);
        }
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
        if (level.isStriped()) {
            // The stripe cache takes a quarter of the budget and needs at least 4 stripes (members x unit).
            budgetBytes += 16L * members * Math.min(chunkKib, 64) * 1024;
        }
        return new SimConfig(seed, ops, level, layout, chunkKib, members, diskBytes, clients, budgetBytes, crash, restart, yield,
            crashAfterFailure, heal, FaultModel.random(r));
    }

    /** This configuration with another fault model (tests that turn one fault on). */
    public SimConfig withFaults(FaultModel f) {
        return new SimConfig(seed, ops, level, layout, chunkKib, members, diskBytes, clients, budgetBytes, crashPerPhase,
            restartPerPhase, yieldProbability, crashAfterFailure, healPerRestart, f);
    }

    private static final Raid5Algorithm[] RAID5_ALGORITHMS = {Raid5Algorithm.LEFT_ASYMMETRIC, Raid5Algorithm.RIGHT_ASYMMETRIC,
        Raid5Algorithm.LEFT_SYMMETRIC, Raid5Algorithm.RIGHT_SYMMETRIC, Raid5Algorithm.PARITY_0, Raid5Algorithm.PARITY_N};
    private static final Raid5Algorithm[] RAID6_ALGORITHMS = Raid5Algorithm.values();

    /** The one-line command that replays this run (raid1 runs keep the command they always had). */
    public String replayCommand() {
        return "jmd sim --seed " + seed + " --ops " + ops + (level == RaidLevel.RAID1 ? "" : " --level " + level.mdadmName());
    }

    /** The level and its shape, as mdadm would name them ("raid5 x4 left-symmetric 16K"). */
    public String shape() {
        String s = level.mdadmName() + " x" + members;
        if (level == RaidLevel.RAID5 || level == RaidLevel.RAID6) {
            s += " " + Raid5Algorithm.fromLayout(layout).map(Raid5Algorithm::mdadmName).orElse("layout " + layout);
        } else if (level == RaidLevel.RAID10) {
            s += " layout " + Raid10Layout.decode(layout).map(Raid10Layout::mdadmName).orElse(Integer.toHexString(layout));
        }
        return chunkKib == 0 ? s : s + " " + chunkKib + "K";
    }

    @Override
    public String toString() {
        return "seed " + seed + ": " + ops + " ops, " + shape() + " of " + (diskBytes >> 20) + " MiB, " + clients
            + " clients, budget " + (budgetBytes >> 10) + " KiB, crash/phase " + String.format("%.2f", crashPerPhase)
            + ", restart/phase " + String.format("%.2f", restartPerPhase) + ", yield " + String.format("%.2f", yieldProbability)
            + ", crash after failure " + String.format("%.2f", crashAfterFailure) + ", heal " + String.format("%.2f", healPerRestart)
            + "; " + faults;
    }
}
