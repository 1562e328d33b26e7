package io.jmd.sim;

import io.jmd.md.format.RaidLevel;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Scratch sweep (to be completed). */
final class SimLevelsTest {
    @ParameterizedTest
    @EnumSource(value = RaidLevel.class, names = {"RAID5", "RAID6", "RAID10"})
    @Tag("long")
    void sweep(RaidLevel level) {
        long seeds = Long.getLong("jmd.sim.seeds", 20);
        long ops = Long.getLong("jmd.sim.ops", 1500);
        long first = Long.getLong("jmd.sim.first", 1);
        String only = System.getProperty("jmd.sim.level");
        if (only != null && !only.equals(level.mdadmName())) {
            return;
        }
        SimBatch.Summary s = SimBatch.run(first, first + seeds - 1, ops, level, 2, r -> {
            if (!r.ok()) {
                System.out.println("seed " + r.config().seed() + " FAILED: " + r.config() + "\n" + r.failure() + "\n  "
                    + String.join("\n  ", r.traceTail()));
            } else {
                System.out.println("seed " + r.config().seed() + " ok: " + r.config().shape() + ": " + r.stats());
            }
        });
        System.out.println("sim " + level.mdadmName() + " sweep: " + s);
        assertEquals(0, s.failed(), () -> "failing seeds: " + s.failures().stream().map(SimRun.Result::replayCommand).toList());
    }

    @org.junit.jupiter.api.Test
    @Tag("long")
    void replay() {
        SimTrace t = new SimTrace(0, true);
        SimRun.Result r = SimRun.run(SimConfig.of(Long.getLong("jmd.sim.seed", 1), Long.getLong("jmd.sim.ops", 1500),
            RaidLevel.valueOf(System.getProperty("jmd.sim.level", "raid1").toUpperCase())), t);
        try (var w = new java.io.PrintWriter("/tmp/sim-trace.txt")) {
            t.lines().forEach(w::println);
            w.println(r.ok() ? "OK " + r.stats() : "FAILED " + r.failure());
        } catch (java.io.IOException e) {
            throw new RuntimeException(e);
        }
    }
}
