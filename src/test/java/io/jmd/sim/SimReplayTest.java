package io.jmd.sim;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Replaying a seed gives the identical trace: every event, every scheduling decision, every count. */
final class SimReplayTest {
    @Test
    void replayingASeedGivesTheIdenticalTrace() {
        int withCrashes = 0;
        for (long seed = 1; seed <= 6; seed++) {
            SimTrace a = new SimTrace(0, true);
            SimTrace b = new SimTrace(0, true);
            SimRun.Result ra = SimRun.run(SimConfig.of(seed, 800), a);
            SimRun.Result rb = SimRun.run(SimConfig.of(seed, 800), b);
            assertTrue(ra.ok(), ra::failure);
            List<String> la = a.lines();
            List<String> lb = b.lines();
            assertTrue(la.size() > 800, "the trace has every request");
            for (int i = 0; i < Math.min(la.size(), lb.size()); i++) {
                int line = i;
                assertEquals(la.get(i), lb.get(i), () -> "seed " + ra.config().seed() + " diverged at line " + line);
            }
            assertEquals(la.size(), lb.size());
            assertEquals(ra.traceHash(), rb.traceHash());
            assertEquals(ra.switches(), rb.switches());
            assertEquals(ra.simNanos(), rb.simNanos());
            assertEquals(ra.stats().toString(), rb.stats().toString());
            withCrashes += ra.stats().crashes > 0 ? 1 : 0;
        }
        assertTrue(withCrashes > 0, "some replayed seed crashed");
    }

    @Test
    void replayingASeedOfEachLevelGivesTheIdenticalTrace() {
        for (io.jmd.md.format.RaidLevel level : new io.jmd.md.format.RaidLevel[] {io.jmd.md.format.RaidLevel.RAID5,
                io.jmd.md.format.RaidLevel.RAID6, io.jmd.md.format.RaidLevel.RAID10}) {
            SimTrace a = new SimTrace(0, true);
            SimTrace b = new SimTrace(0, true);
            SimRun.Result ra = SimRun.run(SimConfig.of(3, 800, level), a);
            SimRun.Result rb = SimRun.run(SimConfig.of(3, 800, level), b);
            assertTrue(ra.ok(), ra::failure);
            assertEquals(a.lines(), b.lines(), level + ": the traces differ");
            assertEquals(ra.traceHash(), rb.traceHash());
            assertEquals(ra.stats().toString(), rb.stats().toString());
        }
    }

    @Test
    void differentSeedsTakeDifferentPaths() {
        assertNotEquals(SimRun.run(SimConfig.of(11, 300)).traceHash(), SimRun.run(SimConfig.of(12, 300)).traceHash());
    }
}
