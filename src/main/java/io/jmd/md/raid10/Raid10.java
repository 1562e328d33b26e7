package io.jmd.md.raid10;

import io.jmd.md.MdArray;
import io.jmd.md.MdException;
import io.jmd.md.Member;
import io.jmd.md.format.Superblock1;
import io.jmd.md.mapped.MappedPersonality;

import java.util.function.LongConsumer;

/**
 * RAID10, as raid10.c: every chunk has near x far copies placed by {@link Raid10Geometry}. Reads
 * go to one in-sync copy (the least busy, nearest), retried on the others; writes go to every
 * working copy (members being rebuilt included). The array runs while every chunk keeps a
 * working copy. Resync, recovery, check and repair run online ({@link Raid10Sync}).
 */
public final class Raid10 extends MappedPersonality {
    public static final int MAX_RAID_DISKS = 64;

    private final Raid10Geometry geometry;
    private final long sizeBytes;
    /** Online resync, recovery, check and repair (raid10_sync_request). */
    private final Raid10Sync sync;

    public Raid10(MdArray array) {
        Raid10Geometry g = geometryOf(array.superblock()); // before any pool exists
        super(array, g.copies());
        this.geometry = g;
        this.sizeBytes = g.arraySectors() * 512;
        this.sync = new Raid10Sync(this, array);
    }

    private static Raid10Geometry geometryOf(Superblock1 sb) {
        return new Raid10Geometry(sb.raidDisks(), sb.layout(), sb.chunkSectors(), sb.sizeSectors());
    }

    public Raid10Geometry geometry() {
        return geometry;
    }

    @Override
    public String levelName() {
        return "raid10";
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    protected int map(long offsetBytes, long lengthBytes, int[] devices, long[] memberOffsets, long[] lengthOut) {
        long sector = offsetBytes / 512;
        int within = (int) (offsetBytes % 512);
        Raid10Geometry.Copy[] copies = geometry.copiesOf(sector);
        for (int c = 0; c < copies.length; c++) {
            devices[c] = copies[c].device();
            memberOffsets[c] = copies[c].sector() * 512 + within;
        }
        long toChunkEnd = (geometry.chunkSectors() - sector % geometry.chunkSectors()) * 512 - within;
        lengthOut[0] = Math.min(lengthBytes, toChunkEnd);
        return copies.length;
    }

    @Override
    protected boolean survives(long working) {
        return geometry.survives(working);
    }

    @Override
    public String status() {
        Superblock1 sb = array.superblock();
        return sb.chunkSectors() / 2 + "K chunks " + layoutText(sb.layout()) + " " + slotStatus();
    }

    /** mdstat's "2 near-copies", "2 far-copies", "2 offset-copies". */
    private static String layoutText(int word) {
        int near = word & 0xff;
        int far = (word >> 8) & 0xff;
        boolean offset = (word & 0x10000) != 0;
        StringBuilder s = new StringBuilder();
        if (near > 1) {
            s.append(near).append(" near-copies");
        }
        if (far > 1) {
            s.append(s.isEmpty() ? "" : " ").append(far).append(offset ? " offset-copies" : " far-copies");
        }
        return s.toString();
    }

    @Override
    public io.jmd.md.resync.SyncLevel syncLevel() {
        return sync;
    }

    @Override
    public boolean allSlotsWritable() {
        return everySlotWritable();
    }

    @Override
    public void attachMember(Member m, int slot) {
        holdSlot(slot, m);
    }

    @Override
    public void memberInSync(Member m) {
        slotInSync(m);
    }

    @Override
    public void detachMember(Member m) {
        releaseSlot(m);
    }

    /** Members by slot (null where missing or failed at start). */
    Member slot(int device) {
        return slots[device];
    }
}
