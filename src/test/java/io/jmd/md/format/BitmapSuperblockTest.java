package io.jmd.md.format;

import static io.jmd.md.format.BitmapLayout.*;
import static io.jmd.md.format.MdFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class BitmapSuperblockTest {
    private static final MdUuid FIXTURE_UUID = MdUuid.parse("79e4c376:fe337a00:f415d134:4433496f");

    /** The bitmap area of raid1-bitmap m{member}: 8 sectors after the 1.2 superblock, sector 16. */
    private static byte[] bitmapArea(int member) {
        return Arrays.copyOfRange(head(RAID1_BITMAP, member), 16 * 512, 16 * 512 + 4096);
    }

    private static byte[] header(int member) {
        return Arrays.copyOf(bitmapArea(member), HEADER_BYTES);
    }

    @Test
    void fixtureDecodesAsMdadmXShowsIt() throws SuperblockException {
        BitmapSuperblock bitmap = BitmapSuperblock.decode(header(0), FIXTURE_UUID);
        // mdadm -X: Version 4, Events 18, Events Cleared 16, Chunksize 64 MB, Daemon 5s,
        // Write Mode Normal, Sync Size 15360 KiB, 1 bits (chunks).
        assertEquals(VERSION_HI, bitmap.version());
        assertEquals(18, bitmap.events());
        assertEquals(16, bitmap.eventsCleared());
        assertEquals(64 << 20, bitmap.chunkBytes());
        assertEquals(5, bitmap.daemonSleepSeconds());
        assertEquals(0, bitmap.writeBehind());
        assertEquals(30720, bitmap.syncSizeSectors());
        assertEquals(0, bitmap.state());
        assertFalse(bitmap.isStale());
        assertEquals(1, bitmap.bits());
        assertEquals(4096, bitmap.areaBytes(4096));
        assertEquals(512, bitmap.areaBytes(512));
        assertEquals("", bitmap.clusterName());
    }

    @Test
    void bothMembersCarryTheSameBitmapAndMatchTheSuperblock() throws SuperblockException {
        Superblock1 sb = Superblock1.decode(superblockBytes(RAID1_BITMAP, 1), SuperblockLocation.V1_2, MEMBER_SECTORS);
        assertEquals(BitmapSuperblock.decode(header(0), sb.setUuid()), BitmapSuperblock.decode(header(1), sb.setUuid()));
    }

    @Test
    void encodeIsByteIdentical() throws SuperblockException {
        byte[] disk = header(0);
        assertArrayEquals(disk, BitmapSuperblock.decode(disk).encode());
    }

    @Test
    void bitsFollowTheHeader() {
        byte[] area = bitmapArea(0);
        // The one real chunk is clean; the kernel left mdadm's initial ones in the unused bits.
        assertEquals(0xfe, area[(int) bitByteOffset(0)] & 0xff);
        assertEquals(0, area[(int) bitByteOffset(0)] & bitMask(0));
        assertEquals(0xff, area[HEADER_BYTES + 1] & 0xff);
    }

    @Test
    void bitAddressing() {
        long chunkBytes = 64 * 1024;
        assertEquals(0, chunkOf(127, chunkBytes));
        assertEquals(1, chunkOf(128, chunkBytes));
        assertEquals(256, bitByteOffset(0));
        assertEquals(256, bitByteOffset(7));
        assertEquals(257, bitByteOffset(8));
        assertEquals(1, bitMask(8));
        assertEquals(0x80, bitMask(15));
    }

    @Test
    void sizes() {
        // 1 GiB covered by 64 KiB chunks: 16384 bits = 2048 bytes, + header = 2304, one 4 KiB block.
        long sync = 2L * 1024 * 1024;
        assertEquals(16384, bits(sync, 64 * 1024));
        assertEquals(2048, bitsBytes(sync, 64 * 1024));
        assertEquals(4096, areaBytes(sync, 64 * 1024, 4096));
        assertEquals(2304 + 256, areaBytes(sync, 64 * 1024, 512));
        // Partial chunks round up.
        assertEquals(2, bits(129, 64 * 1024));
    }

    @Test
    void encodeAreaLikeMdadmCreate() {
        BitmapSuperblock bitmap = BitmapSuperblock.create(FIXTURE_UUID, 30720, 64 << 20);
        byte[] dirty = bitmap.encodeArea(true);
        assertEquals(4096, dirty.length);
        assertArrayEquals(bitmap.encode(), Arrays.copyOf(dirty, HEADER_BYTES));
        assertEquals(0xff, dirty[HEADER_BYTES] & 0xff);
        assertEquals(0, bitmap.encodeArea(false)[HEADER_BYTES]);
    }

    private static byte[] damaged(Consumer<ByteBuffer> change) {
        byte[] copy = header(0);
        change.accept(ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN));
        return copy;
    }

    private static String rejection(byte[] bytes) {
        return assertThrows(SuperblockException.class, () -> BitmapSuperblock.decode(bytes, FIXTURE_UUID)).getMessage();
    }

    @Test
    void corruptions() {
        assertEquals("bad bitmap magic 0x00000000 (expected 0x6d746962)", rejection(damaged(b -> b.putInt(OFF_MAGIC, 0))));
        assertEquals("unrecognized bitmap version 6 (expected 3..5)", rejection(damaged(b -> b.putInt(OFF_VERSION, 6))));
        assertEquals("bitmap chunksize 3000 bytes not a power of 2",
                rejection(damaged(b -> b.putInt(OFF_CHUNKSIZE, 3000))));
        assertEquals("bitmap chunksize 256 bytes too small (min 512)",
                rejection(damaged(b -> b.putInt(OFF_CHUNKSIZE, 256))));
        assertEquals("bitmap daemon_sleep 0 s out of range (1 - 2147483)",
                rejection(damaged(b -> b.putInt(OFF_DAEMON_SLEEP, 0))));
        assertEquals("bitmap write_behind 16384 out of range (0 - 16383)",
                rejection(damaged(b -> b.putInt(OFF_WRITE_BEHIND, 16384))));
        assertEquals("nonzero bitmap pad byte 0x01 at offset 200", rejection(damaged(b -> b.put(200, (byte) 1))));
        assertEquals("truncated bitmap superblock: 100 bytes, need 256", rejection(Arrays.copyOf(header(0), 100)));
        byte[] otherArray = damaged(b -> b.put(OFF_UUID, (byte) 0));
        assertEquals("bitmap uuid 00e4c376:fe337a00:f415d134:4433496f does not match array uuid "
                + "79e4c376:fe337a00:f415d134:4433496f", rejection(otherArray));
    }
}
