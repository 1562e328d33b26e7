package io.jmd.md.linear;

import io.jmd.md.MdArray;
import io.jmd.md.Member;
import io.jmd.md.format.Superblock1;
import io.jmd.md.mapped.MappedPersonality;

/**
 * md-linear: the members one after the other ({@link LinearMap}). No redundancy: a member's
 * failure fails the requests that touch it, and every member must be present to run.
 */
public final class Linear extends MappedPersonality {
    /** The most members jmd concatenates (its working-set bitmaps are longs). */
    public static final int MAX_RAID_DISKS = 64;

    private final LinearMap map;
    private final long sizeBytes;

    public Linear(MdArray array) {
        super(array, 1);
        Superblock1 sb = array.superblock();
        long[] sectors = new long[sb.raidDisks()];
        for (int i = 0; i < sectors.length; i++) {
            Member m = slots[i];
            // A missing member's size is unknown: any positive value keeps the map valid; canRun refuses anyway.
            sectors[i] = m != null ? m.superblock().dataSizeSectors() : Math.max(1, sb.chunkSectors());
        }
        this.map = new LinearMap(sectors, sb.chunkSectors());
        this.sizeBytes = map.arraySectors() * 512;
    }

    @Override
    public String levelName() {
        return "linear";
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    protected int map(long offsetBytes, long lengthBytes, int[] devices, long[] memberOffsets, long[] lengthOut) {
        LinearMap.Place p = map.place(offsetBytes / 512);
        devices[0] = p.device();
        memberOffsets[0] = p.sector() * 512 + offsetBytes % 512;
        lengthOut[0] = Math.min(lengthBytes, p.sectorsToDeviceEnd() * 512 - offsetBytes % 512);
        return 1;
    }

    @Override
    protected boolean survives(long working) {
        return Long.bitCount(working) == slots.length;
    }

    @Override
    public String status() {
        return slotStatus();
    }
}
