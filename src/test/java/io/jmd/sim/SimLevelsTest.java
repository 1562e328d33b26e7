package io.jmd.sim;

import io.jmd.md.format.RaidLevel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator on raid5, raid6 and raid10 (raid1's batch is {@link SimBatchTest}): per level,
 * {@link #CI_SEEDS} seeds of {@link SimBatchTest#CI_OPS} requests, each with its shape drawn from
 * the seed (members, layout, chunk: {@link SimConfig#of(long, long, RaidLevel)}), under crashes,
 * member failures within what the level tolerates, latent sector errors and memory pressure,
 * checked by the oracle on every read, for liveness, deadlocks, dependency-checker reports and
 * leaked buffers, and, after the last clean stop with the sync done, for members that agree
 * (copies equal, parity matching data). A failure names the command that replays it.
 *
 * <p>Longer sweeps, per level ({@code long} runs them; README: the simulator):
 * <pre>
 *   ./jmd sim --level raid5 --seeds 1..1000 --ops 10000 --parallel 2
 *   ./mvnw test -Djmd.excludedGroups=none -Dtest=SimLevelsTest#longSweep -Djmd.sim.level=raid6 \
 *       -Djmd.sim.seeds=1000 -Djmd.sim.ops=10000 [-Djmd.sim.first=1]
 * </pre>
 */
final class SimLevelsTest {
    static final long CI_SEEDS = 25;

    @ParameterizedTest
    @EnumSource(value = RaidLevel.class, names = {"RAID5", "RAID6", "RAID10"})
    void ciBatchPerLevelPasses(RaidLevel level) {
        AtomicLong agreed = new AtomicLong();
        AtomicLong forced = new AtomicLong();
        SimBatch.Summary s = SimBatch.run(1, CI_SEEDS, SimBatchTest.CI_OPS, level, 2, r -> {
            agreed.addAndGet(r.stats().agreementChecks);
            forced.addAndGet(r.stats().forcedStarts);
            if (!r.ok()) {
                System.out.println("seed " + r.config().seed() + " FAILED: " + r.config() + "\n" + r.failure() + "\n  "
                    + String.join("\n  ", r.traceTail()));
            }
        });
        System.out.println("sim " + level.mdadmName() + " CI batch: " + s + "; members compared and agreed at " + agreed
            + " final stops; " + forced + " forced starts");
        assertEquals(0, s.failed(), () -> "failing seeds: " + s.failures().stream().map(SimRun.Result::replayCommand).toList());
        assertTrue(s.crashes() > 0, "the batch crashes somewhere");
        assertTrue(s.memberFailures() > 0, "the batch fails members somewhere");
        assertTrue(agreed.get() >= CI_SEEDS / 3, "the members are compared at the end of most runs: " + agreed);
    }

    @Test
    void theLevelIsPartOfTheReplayCommand() {
        assertEquals("jmd sim --seed 7 --ops 100", SimConfig.of(7, 100).replayCommand(), "raid1 keeps its command");
        assertEquals(RaidLevel.RAID1, SimConfig.of(7, 100).level());
        for (RaidLevel l : new RaidLevel[] {RaidLevel.RAID5, RaidLevel.RAID6, RaidLevel.RAID10}) {
            SimConfig c = SimConfig.of(7, 100, l);
            assertEquals("jmd sim --seed 7 --ops 100 --level " + l.mdadmName(), c.replayCommand());
            assertEquals(c, SimConfig.of(7, 100, l), "the seed and level decide the whole configuration");
            assertTrue(c.toString().contains(c.shape()), c::toString);
        }
        // raid1's draws are those it always had: the other levels' shapes come from a stream of their own
        SimConfig r1 = SimConfig.of(7, 100);
        SimConfig r5 = SimConfig.of(7, 100, RaidLevel.RAID5);
        assertEquals(r1.clients(), r5.clients());
        assertEquals(r1.faults(), r5.faults());
    }

    /** The long sweep of one level (tag {@code long}): see the class comment. */
    @Test
    @Tag("long")
    void longSweep() {
        RaidLevel level = RaidLevel.valueOf(System.getProperty("jmd.sim.level", "raid5").toUpperCase());
        long seeds = Long.getLong("jmd.sim.seeds", 1000);
        long ops = Long.getLong("jmd.sim.ops", 10_000);
        long first = Long.getLong("jmd.sim.first", 1);
        SimBatch.Summary s = SimBatch.run(first, first + seeds - 1, ops, level, 2, r -> {
            if (!r.ok()) {
                System.out.println("seed " + r.config().seed() + " FAILED: " + r.failure());
            }
        });
        System.out.println("sim " + level.mdadmName() + " long sweep: " + s);
        assertEquals(0, s.failed(), () -> "failing seeds: " + s.failures().stream().map(SimRun.Result::replayCommand).toList());
    }
}
