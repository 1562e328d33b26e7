package io.jmd.md.format;

import static io.jmd.md.format.BitmapLayout.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The internal write-intent bitmap's superblock ({@code bitmap_super_t}), decoded; offsets are in
 * {@link BitmapLayout}. It lives at super_offset + bitmap_offset (mdadm: 8 sectors after a 1.2
 * superblock). Only the format lives here; the bitmap's runtime logic is elsewhere.
 *
 * @param version            4 normally (3 host-endian, 5 clustered)
 * @param uuid               must equal the superblock's set_uuid
 * @param events             superblock events when the bitmap was last written
 * @param eventsCleared      events when a bit was last cleared
 * @param syncSizeSectors    sectors covered by the bits (per-member size; array size for raid10)
 * @param state              {@link BitmapLayout#STATE_STALE}, {@link BitmapLayout#STATE_WRITE_ERROR}
 * @param chunkBytes         bytes of data covered by one bit, a power of two
 * @param daemonSleepSeconds how often bits are lazily cleared
 * @param writeBehind        outstanding write-behind writes allowed (write-mostly members)
 * @param sectorsReserved    space reserved for the bitmap (0 when not recorded)
 * @param nodes              clustered md: number of nodes, 0 otherwise
 * @param clusterName        clustered md: cluster name, "" otherwise
 */
public record BitmapSuperblock(
        int version,
        MdUuid uuid,
        long events,
        long eventsCleared,
        long syncSizeSectors,
        int state,
        int chunkBytes,
        int daemonSleepSeconds,
        int writeBehind,
        int sectorsReserved,
        int nodes,
        String clusterName) {

    public BitmapSuperblock {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(clusterName, "clusterName");
        if (clusterName.getBytes(StandardCharsets.UTF_8).length >= CLUSTER_NAME_BYTES) {
            throw new IllegalArgumentException("cluster name too long: " + clusterName);
        }
    }

    /** A fresh version-4 bitmap as mdadm --create writes it (events 0, nothing cleared yet). */
    public static BitmapSuperblock create(MdUuid uuid, long syncSizeSectors, int chunkBytes) {
        return new BitmapSuperblock(VERSION_HI, uuid, 0, 0, syncSizeSectors, 0, chunkBytes,
                DEFAULT_DAEMON_SLEEP_SECONDS, 0, 0, 0, "");
    }

    /** Decodes and validates a bitmap superblock that must belong to the array {@code arrayUuid}. */
    public static BitmapSuperblock decode(byte[] bytes, MdUuid arrayUuid) throws SuperblockException {
        BitmapSuperblock bitmap = decode(bytes);
        if (!bitmap.uuid.equals(arrayUuid)) {
            throw new SuperblockException("bitmap uuid " + bitmap.uuid + " does not match array uuid " + arrayUuid);
        }
        return bitmap;
    }

    /** Decodes and validates a bitmap superblock on its own (as mdadm -X does). */
    public static BitmapSuperblock decode(byte[] bytes) throws SuperblockException {
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        BitmapValidator.checkRaw(in);
        BitmapSuperblock bitmap = new BitmapSuperblock(in.getInt(OFF_VERSION), MdUuid.of(slice(in, OFF_UUID, 16)),
                in.getLong(OFF_EVENTS), in.getLong(OFF_EVENTS_CLEARED), in.getLong(OFF_SYNC_SIZE),
                in.getInt(OFF_STATE), in.getInt(OFF_CHUNKSIZE), in.getInt(OFF_DAEMON_SLEEP),
                in.getInt(OFF_WRITE_BEHIND), in.getInt(OFF_SECTORS_RESERVED), in.getInt(OFF_NODES),
                clusterNameOf(slice(in, OFF_CLUSTER_NAME, CLUSTER_NAME_BYTES)));
        BitmapValidator.checkFields(bitmap);
        return bitmap;
    }

    private static byte[] slice(ByteBuffer in, int offset, int length) {
        byte[] out = new byte[length];
        in.get(offset, out);
        return out;
    }

    private static String clusterNameOf(byte[] field) {
        int length = 0;
        while (length < field.length && field[length] != 0) {
            length++;
        }
        return new String(field, 0, length, StandardCharsets.UTF_8);
    }

    /** The 256 header bytes. Refuses (programmer error) a header that fails validation. */
    public byte[] encode() {
        try {
            BitmapValidator.checkFields(this);
        } catch (SuperblockException e) {
            throw new IllegalStateException("refusing to encode an invalid bitmap superblock: " + e.getMessage(), e);
        }
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(OFF_MAGIC, MAGIC).putInt(OFF_VERSION, version).put(OFF_UUID, uuid.toBytes());
        out.putLong(OFF_EVENTS, events).putLong(OFF_EVENTS_CLEARED, eventsCleared);
        out.putLong(OFF_SYNC_SIZE, syncSizeSectors).putInt(OFF_STATE, state).putInt(OFF_CHUNKSIZE, chunkBytes);
        out.putInt(OFF_DAEMON_SLEEP, daemonSleepSeconds).putInt(OFF_WRITE_BEHIND, writeBehind);
        out.putInt(OFF_SECTORS_RESERVED, sectorsReserved).putInt(OFF_NODES, nodes);
        out.put(OFF_CLUSTER_NAME, clusterName.getBytes(StandardCharsets.UTF_8));
        byte[] bytes = out.array();
        assert decodesToThis(bytes) : "encoded bitmap superblock does not decode to itself";
        return bytes;
    }

    private boolean decodesToThis(byte[] bytes) {
        try {
            return decode(bytes).equals(this);
        } catch (SuperblockException e) {
            return false;
        }
    }

    /**
     * The whole on-disk area as mdadm --create writes it (write_bitmap1): the header, then every
     * byte up to the 4 KiB-rounded end filled with ones when {@code dirty} (resync everything on
     * first assembly), zeroes otherwise.
     */
    public byte[] encodeArea(boolean dirty) {
        byte[] area = new byte[Math.toIntExact(areaBytes(4096))];
        Arrays.fill(area, dirty ? (byte) 0xff : 0);
        System.arraycopy(encode(), 0, area, 0, HEADER_BYTES);
        return area;
    }

    public boolean isStale() {
        return (state & STATE_STALE) != 0;
    }

    public long chunkSectors() {
        return chunkBytes / Superblock1Layout.SECTOR_BYTES;
    }

    /** Number of bits (chunks) the bitmap holds. */
    public long bits() {
        return BitmapLayout.bits(syncSizeSectors, chunkBytes);
    }

    /** Header plus bits rounded up to {@code boundaryBytes} (mdadm calc_bitmap_size). */
    public long areaBytes(int boundaryBytes) {
        return BitmapLayout.areaBytes(syncSizeSectors, chunkBytes, boundaryBytes);
    }

    public BitmapSuperblock withEvents(long newEvents) {
        return new BitmapSuperblock(version, uuid, newEvents, eventsCleared, syncSizeSectors, state, chunkBytes,
                daemonSleepSeconds, writeBehind, sectorsReserved, nodes, clusterName);
    }
}
