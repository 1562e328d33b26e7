package io.jmd.md.format;

import static io.jmd.md.format.BitmapLayout.*;

import java.nio.ByteBuffer;

/** Boundary checks for bitmap superblocks: the kernel's md_bitmap_read_sb rules, plus zero padding. */
final class BitmapValidator {
    private BitmapValidator() {}

    /** Upper bound for daemon_sleep: the kernel multiplies by HZ (at most 1000) into a signed long jiffies. */
    private static final long MAX_DAEMON_SLEEP_SECONDS = Integer.MAX_VALUE / 1000;

    static void checkRaw(ByteBuffer in) throws SuperblockException {
        if (in.limit() < HEADER_BYTES) {
            throw fail("truncated bitmap superblock: %d bytes, need %d", in.limit(), HEADER_BYTES);
        }
        int magic = in.getInt(OFF_MAGIC);
        if (magic != MAGIC) {
            throw fail("bad bitmap magic 0x%08x (expected 0x%08x)", magic, MAGIC);
        }
        boolean nameEnded = false;
        for (int offset = OFF_CLUSTER_NAME; offset < OFF_PAD; offset++) {
            nameEnded |= in.get(offset) == 0;
            if (nameEnded && in.get(offset) != 0) {
                throw fail("bitmap cluster_name not NUL-padded: byte 0x%02x at offset %d", in.get(offset) & 0xff, offset);
            }
        }
        if (!nameEnded) {
            throw fail("bitmap cluster_name has no terminating NUL");
        }
        for (int offset = OFF_PAD; offset < HEADER_BYTES; offset++) {
            if (in.get(offset) != 0) {
                throw fail("nonzero bitmap pad byte 0x%02x at offset %d", in.get(offset) & 0xff, offset);
            }
        }
    }

    static void checkFields(BitmapSuperblock bitmap) throws SuperblockException {
        if (bitmap.version() < VERSION_LO || bitmap.version() > VERSION_CLUSTERED) {
            throw fail("unrecognized bitmap version %d (expected %d..%d)", bitmap.version(), VERSION_LO,
                    VERSION_CLUSTERED);
        }
        int chunk = bitmap.chunkBytes();
        if (Integer.bitCount(chunk) != 1) {
            throw fail("bitmap chunksize %d bytes not a power of 2", Integer.toUnsignedLong(chunk));
        }
        if (chunk < MIN_CHUNK_BYTES) {
            throw fail("bitmap chunksize %d bytes too small (min %d)", chunk, MIN_CHUNK_BYTES);
        }
        long sleep = Integer.toUnsignedLong(bitmap.daemonSleepSeconds());
        if (sleep < 1 || sleep > MAX_DAEMON_SLEEP_SECONDS) {
            throw fail("bitmap daemon_sleep %d s out of range (1 - %d)", sleep, MAX_DAEMON_SLEEP_SECONDS);
        }
        long writeBehind = Integer.toUnsignedLong(bitmap.writeBehind());
        if (writeBehind > COUNTER_MAX) {
            throw fail("bitmap write_behind %d out of range (0 - %d)", writeBehind, COUNTER_MAX);
        }
        if (bitmap.syncSizeSectors() < 0) {
            throw fail("bitmap sync_size %s sectors too large", Long.toUnsignedString(bitmap.syncSizeSectors()));
        }
    }

    private static SuperblockException fail(String format, Object... args) {
        return new SuperblockException(String.format(format, args));
    }
}
