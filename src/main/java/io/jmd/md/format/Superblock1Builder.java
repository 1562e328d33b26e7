package io.jmd.md.format;

/**
 * Mutable builder for {@link Superblock1} (records have no "with" syntax yet). A fresh builder
 * starts from zeroes, a clean resync_offset and mdadm's 128 spare dev_roles; UUIDs, name and times
 * must be set. {@link #build()} checks only nulls and field widths: use
 * {@link Superblock1#validate} or {@link Superblock1#encode()} for the format rules.
 */
public final class Superblock1Builder {
    private int featureMap = 0;
    private MdUuid setUuid;
    private ArrayName setName;
    private MdTime ctime;
    private int level = 0;
    private int layout = 0;
    private long sizeSectors = 0;
    private int chunkSectors = 0;
    private int raidDisks = 0;
    private int bitmapOffsetSectors = 0;
    private int newLevel = 0;
    private long reshapePositionSectors = 0;
    private int deltaDisks = 0;
    private int newLayout = 0;
    private int newChunkSectors = 0;
    private int newOffsetSectors = 0;
    private long dataOffsetSectors = 0;
    private long dataSizeSectors = 0;
    private long superOffsetSectors = 0;
    private long recoveryOffsetSectors = 0;
    private int devNumber = 0;
    private int cntCorrectedRead = 0;
    private MdUuid deviceUuid;
    private int devFlags = 0;
    private int bblogShift = 0;
    private int bblogSizeSectors = 0;
    private int bblogOffsetSectors = 0;
    private MdTime utime;
    private long events = 0;
    private long resyncOffsetSectors = Superblock1Layout.MAX_SECTOR;
    private DevRoles devRoles = DevRoles.allSpare(Superblock1Layout.MAX_DEV_DEFAULT);

    public Superblock1Builder() {}

    Superblock1Builder(Superblock1 from) {
        this.featureMap = from.featureMap();
        this.setUuid = from.setUuid();
        this.setName = from.setName();
        this.ctime = from.ctime();
        this.level = from.level();
        this.layout = from.layout();
        this.sizeSectors = from.sizeSectors();
        this.chunkSectors = from.chunkSectors();
        this.raidDisks = from.raidDisks();
        this.bitmapOffsetSectors = from.bitmapOffsetSectors();
        this.newLevel = from.newLevel();
        this.reshapePositionSectors = from.reshapePositionSectors();
        this.deltaDisks = from.deltaDisks();
        this.newLayout = from.newLayout();
        this.newChunkSectors = from.newChunkSectors();
        this.newOffsetSectors = from.newOffsetSectors();
        this.dataOffsetSectors = from.dataOffsetSectors();
        this.dataSizeSectors = from.dataSizeSectors();
        this.superOffsetSectors = from.superOffsetSectors();
        this.recoveryOffsetSectors = from.recoveryOffsetSectors();
        this.devNumber = from.devNumber();
        this.cntCorrectedRead = from.cntCorrectedRead();
        this.deviceUuid = from.deviceUuid();
        this.devFlags = from.devFlags();
        this.bblogShift = from.bblogShift();
        this.bblogSizeSectors = from.bblogSizeSectors();
        this.bblogOffsetSectors = from.bblogOffsetSectors();
        this.utime = from.utime();
        this.events = from.events();
        this.resyncOffsetSectors = from.resyncOffsetSectors();
        this.devRoles = from.devRoles();
    }

    public Superblock1Builder featureMap(int value) {
        this.featureMap = value;
        return this;
    }

    public Superblock1Builder setUuid(MdUuid value) {
        this.setUuid = value;
        return this;
    }

    public Superblock1Builder setName(ArrayName value) {
        this.setName = value;
        return this;
    }

    public Superblock1Builder ctime(MdTime value) {
        this.ctime = value;
        return this;
    }

    public Superblock1Builder level(int value) {
        this.level = value;
        return this;
    }

    public Superblock1Builder layout(int value) {
        this.layout = value;
        return this;
    }

    public Superblock1Builder sizeSectors(long value) {
        this.sizeSectors = value;
        return this;
    }

    public Superblock1Builder chunkSectors(int value) {
        this.chunkSectors = value;
        return this;
    }

    public Superblock1Builder raidDisks(int value) {
        this.raidDisks = value;
        return this;
    }

    public Superblock1Builder bitmapOffsetSectors(int value) {
        this.bitmapOffsetSectors = value;
        return this;
    }

    public Superblock1Builder newLevel(int value) {
        this.newLevel = value;
        return this;
    }

    public Superblock1Builder reshapePositionSectors(long value) {
        this.reshapePositionSectors = value;
        return this;
    }

    public Superblock1Builder deltaDisks(int value) {
        this.deltaDisks = value;
        return this;
    }

    public Superblock1Builder newLayout(int value) {
        this.newLayout = value;
        return this;
    }

    public Superblock1Builder newChunkSectors(int value) {
        this.newChunkSectors = value;
        return this;
    }

    public Superblock1Builder newOffsetSectors(int value) {
        this.newOffsetSectors = value;
        return this;
    }

    public Superblock1Builder dataOffsetSectors(long value) {
        this.dataOffsetSectors = value;
        return this;
    }

    public Superblock1Builder dataSizeSectors(long value) {
        this.dataSizeSectors = value;
        return this;
    }

    public Superblock1Builder superOffsetSectors(long value) {
        this.superOffsetSectors = value;
        return this;
    }

    public Superblock1Builder recoveryOffsetSectors(long value) {
        this.recoveryOffsetSectors = value;
        return this;
    }

    public Superblock1Builder devNumber(int value) {
        this.devNumber = value;
        return this;
    }

    public Superblock1Builder cntCorrectedRead(int value) {
        this.cntCorrectedRead = value;
        return this;
    }

    public Superblock1Builder deviceUuid(MdUuid value) {
        this.deviceUuid = value;
        return this;
    }

    public Superblock1Builder devFlags(int value) {
        this.devFlags = value;
        return this;
    }

    public Superblock1Builder bblogShift(int value) {
        this.bblogShift = value;
        return this;
    }

    public Superblock1Builder bblogSizeSectors(int value) {
        this.bblogSizeSectors = value;
        return this;
    }

    public Superblock1Builder bblogOffsetSectors(int value) {
        this.bblogOffsetSectors = value;
        return this;
    }

    public Superblock1Builder utime(MdTime value) {
        this.utime = value;
        return this;
    }

    public Superblock1Builder events(long value) {
        this.events = value;
        return this;
    }

    public Superblock1Builder resyncOffsetSectors(long value) {
        this.resyncOffsetSectors = value;
        return this;
    }

    public Superblock1Builder devRoles(DevRoles value) {
        this.devRoles = value;
        return this;
    }

    /** Sets this member's entry in dev_roles. */
    public Superblock1Builder role(int devNumberIndex, int role) {
        this.devRoles = devRoles.with(devNumberIndex, role);
        return this;
    }

    public Superblock1Builder addFeature(int bit) {
        this.featureMap |= bit;
        return this;
    }

    public Superblock1Builder removeFeature(int bit) {
        this.featureMap &= ~bit;
        return this;
    }

    public Superblock1 build() {
        return new Superblock1(
                featureMap,
                setUuid,
                setName,
                ctime,
                level,
                layout,
                sizeSectors,
                chunkSectors,
                raidDisks,
                bitmapOffsetSectors,
                newLevel,
                reshapePositionSectors,
                deltaDisks,
                newLayout,
                newChunkSectors,
                newOffsetSectors,
                dataOffsetSectors,
                dataSizeSectors,
                superOffsetSectors,
                recoveryOffsetSectors,
                devNumber,
                cntCorrectedRead,
                deviceUuid,
                devFlags,
                bblogShift,
                bblogSizeSectors,
                bblogOffsetSectors,
                utime,
                events,
                resyncOffsetSectors,
                devRoles);
    }
}
