package io.jmd.md.raid0;

import java.util.ArrayList;
import java.util.List;

/**
 * RAID0 placement, as the kernel's raid0.c (create_strip_zones, find_zone, map_sector): members of
 * different sizes make zones; zone 0 stripes over every member up to the smallest one's end, each
 * further zone over the members that are still longer.
 *
 * <pre>
 *   member sizes are rounded down to whole chunks
 *   zone z: devices = members longer than the previous zone's per-member end, in slot order
 *           devStart = previous zone's per-member end, zoneEnd = array sector where it ends
 *   in zone z, at zone-relative sector s:   offset = s % C
 *      device index  = (x / C) % nb_dev   with x = the array sector (original layout, 1)
 *                                          or x = s (alternate multi-zone layout, 2)
 *      member sector = devStart + (s / (C * nb_dev)) * C + offset
 * </pre>
 * The layouts differ only past zone 0, and only when the second zone has more than one device:
 * otherwise the kernel uses the original one whatever the superblock says (and needs no layout).
 */
public final class Raid0Zones {
    /** RAID0_ORIG_LAYOUT: the mapping of kernels before 3.14. */
    public static final int ORIGINAL_LAYOUT = 1;
    /** RAID0_ALT_MULTIZONE_LAYOUT: the mapping kernels 3.14 .. 5.3 used by accident. */
    public static final int ALTERNATE_LAYOUT = 2;

    /** A zone: array sectors up to {@code end}, from {@code devStart} on each of {@code devices}. */
    public record Zone(long end, long devStart, int[] devices) {
    }

    /** One array sector's place. */
    public record Place(int device, long sector) {
    }

    private final int chunkSectors;
    private final List<Zone> zones;
    private final int layout;

    /**
     * @param memberSectors data_size of the member in each slot
     * @param layout        the superblock's layout if it has the RAID0_LAYOUT feature, else -1
     * @throws IllegalArgumentException naming the reason the kernel would refuse the array
     */
    public Raid0Zones(long[] memberSectors, int chunkSectors, int layout) {
        if (chunkSectors <= 0) {
            throw new IllegalArgumentException("raid0 needs a chunk size");
        }
        this.chunkSectors = chunkSectors;
        long[] sectors = new long[memberSectors.length];
        for (int i = 0; i < sectors.length; i++) {
            sectors[i] = memberSectors[i] / chunkSectors * chunkSectors;
            if (sectors[i] == 0) {
                throw new IllegalArgumentException("raid0 member in slot " + i + " is smaller than one chunk");
            }
        }
        this.zones = buildZones(sectors);
        boolean multiZone = zones.size() > 1 && zones.get(1).devices().length > 1;
        if (!multiZone) {
            this.layout = ORIGINAL_LAYOUT;
        } else if (layout == ORIGINAL_LAYOUT || layout == ALTERNATE_LAYOUT) {
            this.layout = layout;
        } else {
            throw new IllegalArgumentException("cannot assemble multi-zone RAID0 without a layout (members of different sizes,"
                + " and the superblock has no RAID0_LAYOUT feature): the kernel refuses it too unless raid0.default_layout"
                + " is set; the data's layout depends on the kernel that wrote it (original before 3.14, alternate from"
                + " 3.14 to 5.3); record one with mdadm --grow --layout=original or alternate");
        }
    }

    private static List<Zone> buildZones(long[] sectors) {
        List<Zone> out = new ArrayList<>();
        long prevDevEnd = 0;
        long arrayEnd = 0;
        while (true) {
            List<Integer> devs = new ArrayList<>();
            long smallest = Long.MAX_VALUE;
            for (int i = 0; i < sectors.length; i++) {
                if (sectors[i] > prevDevEnd) {
                    devs.add(i);
                    smallest = Math.min(smallest, sectors[i]);
                }
            }
            if (devs.isEmpty()) {
                return List.copyOf(out);
            }
            arrayEnd += (smallest - prevDevEnd) * devs.size();
            out.add(new Zone(arrayEnd, prevDevEnd, devs.stream().mapToInt(Integer::intValue).toArray()));
            prevDevEnd = smallest;
        }
    }

    public List<Zone> zones() {
        return zones;
    }

    /** The layout in use (the original one when the layouts cannot differ). */
    public int layout() {
        return layout;
    }

    public long arraySectors() {
        return zones.get(zones.size() - 1).end();
    }

    /** Sectors from {@code arraySector} to the end of its chunk. */
    public long sectorsToChunkEnd(long arraySector) {
        return chunkSectors - arraySector % chunkSectors;
    }

    /** find_zone + map_sector. */
    public Place place(long arraySector) {
        assert arraySector >= 0 && arraySector < arraySectors() : "sector " + arraySector + " past the raid0 end";
        int z = 0;
        while (arraySector >= zones.get(z).end()) {
            z++;
        }
        Zone zone = zones.get(z);
        long zoneStart = z == 0 ? 0 : zones.get(z - 1).end();
        long inZone = arraySector - zoneStart;
        int nb = zone.devices().length;
        long chooser = layout == ORIGINAL_LAYOUT ? arraySector : inZone;
        int device = zone.devices()[(int) ((chooser / chunkSectors) % nb)];
        long sector = zone.devStart() + inZone / ((long) chunkSectors * nb) * chunkSectors + inZone % chunkSectors;
        return new Place(device, sector);
    }
}
