package io.jmd.md.raid0;

import io.jmd.md.MdArray;
import io.jmd.md.Member;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.Superblock1;
import io.jmd.md.mapped.MappedPersonality;

/**
 * RAID0: striping over zones ({@link Raid0Zones}), with the RAID0_LAYOUT feature's two multi-zone
 * layouts. No redundancy: every member must be present, and a member's failure fails the requests
 * that touch it.
 */
public final class Raid0 extends MappedPersonality {
    public static final int MAX_RAID_DISKS = 64;

    private final Raid0Zones zones;
    private final int chunkSectors;
    private final long sizeBytes;

    public Raid0(MdArray array) {
        Raid0Zones z = zonesOf(array); // before any pool exists: a refusal leaves nothing behind
        super(array, 1);
        this.zones = z;
        this.chunkSectors = array.superblock().chunkSectors();
        this.sizeBytes = zones.arraySectors() * 512;
    }

    /** The zones of the members present (a missing member's size is unknown; canRun refuses then). */
    private static Raid0Zones zonesOf(MdArray array) {
        Superblock1 sb = array.superblock();
        long[] sectors = new long[sb.raidDisks()];
        java.util.Arrays.fill(sectors, sb.chunkSectors());
        for (Member m : array.members()) {
            if (m.slot() >= 0 && m.slot() < sectors.length) {
                sectors[m.slot()] = m.superblock().dataSizeSectors();
            }
        }
        int layout = sb.hasFeature(FeatureBits.RAID0_LAYOUT) ? sb.layout() : -1;
        return new Raid0Zones(sectors, sb.chunkSectors(), layout);
    }

    public Raid0Zones zones() {
        return zones;
    }

    @Override
    public String levelName() {
        return "raid0";
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    protected int map(long offsetBytes, long lengthBytes, int[] devices, long[] memberOffsets, long[] lengthOut) {
        long sector = offsetBytes / 512;
        Raid0Zones.Place p = zones.place(sector);
        devices[0] = p.device();
        memberOffsets[0] = p.sector() * 512 + offsetBytes % 512;
        lengthOut[0] = Math.min(lengthBytes, zones.sectorsToChunkEnd(sector) * 512 - offsetBytes % 512);
        return 1;
    }

    @Override
    protected boolean survives(long working) {
        return Long.bitCount(working) == slots.length;
    }

    @Override
    public String status() {
        return chunkSectors / 2 + "k chunks";
    }
}
