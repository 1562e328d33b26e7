package io.jmd.sim;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The simulated disk's fault model, operation by operation (see {@link SimDisk}). */
final class SimDiskTest {
    static final int S = SimDisk.SECTOR_BYTES;

    private static byte[] sectors(int n, int fill) {
        byte[] b = new byte[n * S];
        Arrays.fill(b, (byte) fill);
        return b;
    }

    private static byte[] read(SimDisk d, long off, int len) {
        byte[] b = new byte[len];
        assertTrue(d.read(off, b, len));
        return b;
    }

    @Test
    void flushedAndFuaWritesSurviveACrashUnflushedOnesMayNot() {
        Set<Integer> outcomes = new HashSet<>();
        for (long seed = 0; seed < 64; seed++) {
            SimDisk d = new SimDisk("d", 1 << 20);
            assertTrue(d.write(d.beginWrite(0, sectors(1, 1)), false, -1));
            assertTrue(d.flush());
            assertTrue(d.write(d.beginWrite(S, sectors(1, 2)), true, -1)); // FUA
            assertTrue(d.write(d.beginWrite(0, sectors(1, 3)), false, -1)); // acknowledged, not flushed
            d.crash(new SplittableRandom(seed));
            assertEquals(2, read(d, S, S)[0], "FUA survives");
            byte v = read(d, 0, S)[0];
            assertTrue(v == 1 || v == 3, "the flushed value or the later one: " + v);
            outcomes.add((int) v);
        }
        assertEquals(Set.of(1, 3), outcomes, "both outcomes happen");
    }

    @Test
    void aWriteInFlightAtACrashLandsSectorBySector() {
        Set<String> shapes = new HashSet<>();
        for (long seed = 0; seed < 64; seed++) {
            SimDisk d = new SimDisk("d", 1 << 20);
            d.beginWrite(0, sectors(4, 9)); // never completed
            d.crash(new SplittableRandom(seed));
            byte[] after = read(d, 0, 4 * S);
            StringBuilder shape = new StringBuilder();
            for (int i = 0; i < 4; i++) {
                byte first = after[i * S];
                for (int j = 0; j < S; j++) {
                    assertEquals(first, after[i * S + j], "a sector is never torn inside");
                }
                shape.append(first == 9 ? 'N' : '0');
            }
            shapes.add(shape.toString());
        }
        assertTrue(shapes.size() > 4, "torn at sector boundaries in many ways: " + shapes);
    }

    @Test
    void aLatentSectorFailsReadsUntilItIsWritten() {
        SimDisk d = new SimDisk("d", 1 << 20);
        d.addLatent(10);
        assertFalse(d.read(9 * S, new byte[2 * S], 2 * S));
        assertTrue(d.read(11 * S, new byte[S], S), "its neighbours read");
        assertTrue(d.write(d.beginWrite(10 * S, sectors(1, 5)), false, -1));
        assertArrayEquals(sectors(1, 5), read(d, 10 * S, S), "the write remapped it");
    }

    @Test
    void aFailedDiskFailsEverythingUntilItHeals() {
        SimDisk d = new SimDisk("d", 1 << 20);
        d.fail();
        assertFalse(d.read(0, new byte[S], S));
        assertFalse(d.write(d.beginWrite(0, sectors(1, 1)), false, -1));
        assertFalse(d.flush());
        d.heal();
        assertArrayEquals(sectors(1, 0), read(d, 0, S), "the failed write never landed");
    }

    @Test
    void aMisdirectedWriteLandsElsewhereAndIsRemembered() {
        SimDisk d = new SimDisk("d", 1 << 20);
        d.setDataStartBytes(0);
        assertTrue(d.write(d.beginWrite(0, sectors(1, 7)), false, 100));
        assertArrayEquals(sectors(1, 0), read(d, 0, S), "not where it was meant to go");
        assertArrayEquals(sectors(1, 7), read(d, 100L * S, S), "but on another sector");
        assertTrue(d.misdirectedIn(0, S));
        assertTrue(d.misdirectedIn(100L * S, S));
        assertFalse(d.misdirectedIn(50L * S, S));
    }

    /** With misdirected writes on, RAID1 (no checksums) returns wrong data: the run attributes it. */
    @Test
    void misdirectedWritesAreBeyondRaid1AndReportedAsSuch() {
        long misdirected = 0;
        for (long seed = 1; seed <= 10; seed++) {
            SimConfig c = SimConfig.of(seed, 1000);
            FaultModel f = c.faults();
            SimConfig m = c.withFaults(new FaultModel(f.queueDepth(), f.readLatencyMinNanos(), f.readLatencyMeanNanos(), f.writeLatencyMinNanos(),
                    f.writeLatencyMeanNanos(), f.slowProbability(), f.latentPerOp(), f.memberFailurePerOp(), 0.01,
                    f.completeOnWorkers()));
            SimRun.Result r = SimRun.run(m);
            assertTrue(r.ok(), r::failure);
            misdirected += r.stats().misdirectedReads;
        }
        assertTrue(misdirected > 0, "some wrong read came from a misdirected write");
    }
}
