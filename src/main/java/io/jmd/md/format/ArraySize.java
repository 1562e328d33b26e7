package io.jmd.md.format;

/**
 * The size of the array an md personality exposes, by the kernel's rules (linear.c, raid0.c,
 * raid1.c, raid5.c raid5_size, raid10.c raid10_size), and the cruder figure mdadm --examine prints.
 */
public final class ArraySize {
    private ArraySize() {}

    /**
     * Array sectors. {@code componentSectors} is the superblock's size (levels with redundancy);
     * {@code memberDataSectors} are the members' data_size values (linear and raid0 use those).
     */
    public static long kernelSectors(RaidLevel level, int raidDisks, int layout, int chunkSectors,
            long componentSectors, long[] memberDataSectors) {
        return switch (level) {
            case LINEAR -> sumRounded(memberDataSectors, chunkSectors);
            case RAID0 -> sumRounded(memberDataSectors, chunkSectors);
            case RAID1 -> componentSectors;
            case RAID4, RAID5 -> roundDown(componentSectors, chunkSectors) * (raidDisks - 1);
            case RAID6 -> roundDown(componentSectors, chunkSectors) * (raidDisks - 2);
            case RAID10 -> raid10Sectors(raidDisks, layout, chunkSectors, componentSectors);
        };
    }

    /** raid10_size: whole chunks per member, divided by far copies, times disks, over near copies. */
    private static long raid10Sectors(int raidDisks, int layout, int chunkSectors, long componentSectors) {
        Raid10Layout r10 = Raid10Layout.decode(layout)
                .orElseThrow(() -> new IllegalArgumentException("raid10 layout 0x" + Integer.toHexString(layout)));
        long chunks = componentSectors / chunkSectors;
        chunks /= r10.far();
        chunks = chunks * raidDisks / r10.near();
        return chunks * chunkSectors;
    }

    private static long sumRounded(long[] memberDataSectors, int chunkSectors) {
        long total = 0;
        for (long sectors : memberDataSectors) {
            total += roundDown(sectors, chunkSectors);
        }
        return total;
    }

    private static long roundDown(long sectors, int chunkSectors) {
        return chunkSectors > 0 ? sectors / chunkSectors * chunkSectors : sectors;
    }

    /**
     * What mdadm --examine prints as "Array Size", in bytes: size * data disks / copies, with no
     * chunk rounding. Zero when mdadm prints no such line (raid0, linear).
     */
    public static long mdadmExamineBytes(Superblock1 sb) {
        long denominator = 1;
        if (sb.level() == 10) {
            denominator = (long) (sb.layout() & 0xff) * ((sb.layout() >>> 8) & 0xff);
        }
        return (sb.sizeSectors() << 9) * mdadmDataDisks(sb) / denominator;
    }

    /** mdadm's "ddsks": members' worth of data (raid10: all members, divided by copies later); 0 = no line. */
    public static int mdadmDataDisks(Superblock1 sb) {
        return switch (sb.level()) {
            case 1 -> 1;
            case 4, 5 -> sb.raidDisks() - 1;
            case 6 -> sb.raidDisks() - 2;
            case 10 -> sb.raidDisks();
            default -> 0;
        };
    }
}
