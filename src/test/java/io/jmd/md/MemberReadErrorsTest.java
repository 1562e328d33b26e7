package io.jmd.md;

import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * raid1/raid10's count of read errors to fix decays as md's check_decay_read_errors: halved for
 * every whole hour since the previous error, so a member fails for errors that come fast (more
 * than 20), not for how many it had corrected over its life; raid4/5/6's run of errors ends with a
 * good read (raid5_end_read_request).
 */
final class MemberReadErrorsTest {
    private static final long HOUR = 3_600_000_000_000L;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(64L << 20);

    @Test
    void recentReadErrorsHalveForEveryHourWithoutOne() throws Exception {
        try (Disks disks = new Disks(jmd.env())) {
            disks.add(RedundancyTest.DISK_BYTES, "a", "b");
            RedundancyTest.create(jmd.env(), disks, false, "a", "b");
            try (MdArray array = RedundancyTest.assemble(disks, false, "a", "b")) {
                decays(MemberManager.find(array, "a"));
                runEnds(MemberManager.find(array, "b"));
            }
        }
    }

    private static void decays(Member m) {
        long t = 5 * HOUR;
        for (int i = 1; i <= 20; i++) {
            assertEquals(i, m.countRecentReadError(t + i));
        }
        assertEquals(21, m.countRecentReadError(t + HOUR - 1), "within the hour: no decay");
        assertEquals(11, m.countRecentReadError(t + 2 * HOUR), "an hour later: 21 halved, then this one");
        assertEquals(3, m.countRecentReadError(t + 4 * HOUR + 1), "two hours later: 11 / 4, then this one");
        assertEquals(1, m.countRecentReadError(t + 100 * HOUR), "a long quiet time forgets them all");
    }

    private static void runEnds(Member m) {
        assertEquals(1, m.countReadError());
        assertEquals(2, m.countReadError());
        m.readSucceeded();
        assertEquals(1, m.countReadError());
        assertEquals(3, m.readErrors(), "the lifetime count goes on");
    }
}
