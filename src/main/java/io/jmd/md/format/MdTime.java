package io.jmd.md.format;

import java.time.Instant;

/**
 * A superblock timestamp (ctime, utime): one u64 whose low 40 bits are seconds since the epoch and
 * whose high 24 bits are microseconds (or 0; mdadm and the kernel both write whole seconds).
 */
public record MdTime(long seconds, int micros) {
    private static final int SECONDS_BITS = 40;
    private static final long SECONDS_MASK = (1L << SECONDS_BITS) - 1;
    private static final int MICROS_LIMIT = 1 << 24;

    public MdTime {
        assert seconds >= 0 : "seconds " + seconds;
        assert seconds <= SECONDS_MASK : "seconds " + seconds + " do not fit 40 bits";
        assert micros >= 0 : "micros " + micros;
        assert micros < MICROS_LIMIT : "micros " + micros + " do not fit 24 bits";
    }

    public static MdTime fromRaw(long raw) {
        return new MdTime(raw & SECONDS_MASK, (int) (raw >>> SECONDS_BITS));
    }

    public static MdTime ofSeconds(long seconds) {
        return new MdTime(seconds, 0);
    }

    /** Whole seconds, like time(0) in mdadm and ktime_get_real_seconds() in the kernel. */
    public static MdTime of(Instant instant) {
        return ofSeconds(instant.getEpochSecond());
    }

    public long raw() {
        return ((long) micros << SECONDS_BITS) | seconds;
    }

    public Instant toInstant() {
        return Instant.ofEpochSecond(seconds, micros * 1000L);
    }
}
