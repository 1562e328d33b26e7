package io.jmd.md.resync;

import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The read fix's freeze against sync windows and normal writes, one bucket, step by step (the
 * calls never block): a fix never starts beside a sync window of its bucket, nor a window beside
 * a fix (Raid10RedundancyTest and RedundancyTest readFixWaitsForTheSyncWindowOverItsBlock show
 * what that race did to the copies).
 */
final class SyncBarrierTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(16L << 20);

    @Test
    void aFixWaitsForTheSyncWindowsInFlightAndNoWindowStartsBesideIt() {
        SyncBarrier b = new SyncBarrier(jmd.env().scheduler(), "test");
        int bucket = SyncBarrier.bucketOf(5L << 26);
        assertTrue(b.tryRaise(bucket, 8), "a sync window");
        assertTrue(b.tryFreeze(bucket), "a fix freezes beside it (no write waits)");
        assertFalse(b.quietForFix(bucket), "but does not start while the window is in flight");
        assertFalse(b.tryRaise(bucket, 8), "no new window starts in a frozen bucket");
        b.lower(bucket);
        assertTrue(b.quietForFix(bucket), "the window ended: the fix starts");
        assertFalse(b.tryRaise(bucket, 8), "and no window starts while it runs");
        assertFalse(b.tryEnterNormal(5L << 26, (5L << 26) + 4096), "nor a normal write");
        int other = SyncBarrier.bucketOf(6L << 26);
        assertTrue(b.tryRaise(other, 8), "other buckets are not frozen");
        b.lower(other);
        b.unfreeze(bucket);
        assertTrue(b.tryRaise(bucket, 8), "unfrozen: windows start again");
        b.lower(bucket);
    }

    @Test
    void aFixWaitsForNormalWritesInFlight() {
        SyncBarrier b = new SyncBarrier(jmd.env().scheduler(), "test");
        long at = 7L << 26;
        int bucket = SyncBarrier.bucketOf(at);
        assertTrue(b.tryEnterNormal(at, at + 4096));
        assertTrue(b.tryFreeze(bucket));
        assertFalse(b.quietForFix(bucket), "a normal write is in flight");
        b.exitNormal(at, at + 4096);
        assertTrue(b.quietForFix(bucket));
        b.unfreeze(bucket);
        assertTrue(b.tryEnterNormal(at, at + 4096), "unfrozen: writes enter again");
        b.exitNormal(at, at + 4096);
    }
}
