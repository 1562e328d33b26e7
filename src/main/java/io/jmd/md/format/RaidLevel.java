package io.jmd.md.format;

import java.util.Optional;

/**
 * The md personalities jmd knows, by the {@code level} value stored in the superblock (signed:
 * linear is -1) and the name mdadm prints for it (maps.c "pers").
 */
public enum RaidLevel {
    LINEAR(-1, "linear", 1),
    RAID0(0, "raid0", 1),
    RAID1(1, "raid1", 1),
    RAID4(4, "raid4", 2),
    RAID5(5, "raid5", 2),
    RAID6(6, "raid6", 4),
    RAID10(10, "raid10", 2);

    private final int code;
    private final String mdadmName;
    private final int minRaidDisks;

    RaidLevel(int code, String mdadmName, int minRaidDisks) {
        this.code = code;
        this.mdadmName = mdadmName;
        this.minRaidDisks = minRaidDisks;
    }

    /** The value of the superblock's level field. */
    public int code() {
        return code;
    }

    /** What mdadm prints on the "Raid Level" line. */
    public String mdadmName() {
        return mdadmName;
    }

    /** Fewest raid_disks the kernel personality will run with (raid6 needs P and Q plus two). */
    public int minRaidDisks() {
        return minRaidDisks;
    }

    /** True when chunksize shapes the data layout (mdadm prints "Chunk Size" for these). */
    public boolean isStriped() {
        return this == RAID0 || this == RAID4 || this == RAID5 || this == RAID6 || this == RAID10;
    }

    /** True when {@code size} in the superblock is meaningful (levels with redundancy). */
    public boolean hasComponentSize() {
        return code > 0;
    }

    public static Optional<RaidLevel> fromCode(int code) {
        for (RaidLevel level : values()) {
            if (level.code == code) {
                return Optional.of(level);
            }
        }
        return Optional.empty();
    }
}
