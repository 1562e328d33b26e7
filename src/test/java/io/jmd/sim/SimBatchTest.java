package io.jmd.sim;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The simulator's CI batch: 200 seeds, each a RAID1 under a random workload with memory pressure,
 * crashes, member failures and latent sector errors (see {@link SimRun}), two at a time. A failure
 * names the command that replays it. {@code long} runs the large batch (README: long runs).
 */
final class SimBatchTest {
    static final long CI_SEEDS = 200;
    static final long CI_OPS = 1_500;

    @Test
    void ciBatchOfTwoHundredSeedsPasses() {
        SimBatch.Summary s = SimBatch.run(1, CI_SEEDS, CI_OPS, 2, r -> {
            if (!r.ok()) {
                System.out.println("seed " + r.config().seed() + " FAILED: " + r.failure() + "\n  " + String.join("\n  ", r.traceTail()));
            }
        });
        System.out.println("sim CI batch: " + s);
        assertEquals(0, s.failed(), () -> "failing seeds: " + s.failures().stream().map(SimRun.Result::replayCommand).toList());
        assertTrue(s.crashes() > 0, "the batch crashes somewhere");
        assertTrue(s.memberFailures() > 0, "the batch fails members somewhere");
    }

    /** 10^7 operations over 1000 seeds (about a quarter of an hour on two cores). */
    @Test
    @Tag("long")
    void longBatch() {
        long seeds = Long.getLong("jmd.sim.seeds", 1000);
        long ops = Long.getLong("jmd.sim.ops", 10_000);
        long first = Long.getLong("jmd.sim.first", 1);
        SimBatch.Summary s = SimBatch.run(first, first + seeds - 1, ops, 2, r -> {
            if (!r.ok()) {
                System.out.println("seed " + r.config().seed() + " FAILED: " + r.failure());
            }
        });
        System.out.println("sim long batch: " + s);
        assertEquals(0, s.failed(), () -> "failing seeds: " + s.failures().stream().map(SimRun.Result::replayCommand).toList());
    }
}
