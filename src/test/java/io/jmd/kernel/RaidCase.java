package io.jmd.kernel;

import io.jmd.md.MdException;
import io.jmd.md.Personalities;
import io.jmd.md.format.RaidLevel;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One array shape the interop tests run both ways between jmd and the Linux md driver.
 *
 * @param name        short id: file names, virtio serials ({@code name-i}, at most 20 characters)
 * @param level       the personality
 * @param devices     raid_disks
 * @param chunkKib    chunk size for striped levels, or 0 for none (raid1, linear)
 * @param layout      mdadm's --layout spelling, or null for the level's only/default layout
 * @param detailLayout what mdadm --detail prints on its Layout line, or null when it prints none
 * @param memberSize  member file size, jmd/mdadm suffix (64M)
 * @param bitmap      whether the array gets an internal bitmap
 * @param kernel      the kernel that runs it (linear needs one that still has md's linear)
 * @param dropSlots   for the degraded runs: the slots left out; empty for levels without redundancy
 */
public record RaidCase(String name, RaidLevel level, int devices, int chunkKib, String layout, String detailLayout,
                       String memberSize, boolean bitmap, KernelVm.Kernel kernel, List<Integer> dropSlots) {
    /** Serials are name + "-" + slot (+ "d" prefix for degraded copies), within virtio's 20. */
    static final int NAME_MAX = 14;

    public RaidCase {
        if (name.length() > NAME_MAX || !name.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException("case name: " + name);
        }
        if (devices < level.minRaidDisks()) {
            throw new IllegalArgumentException(name + ": " + level.mdadmName() + " needs " + level.minRaidDisks() + " devices");
        }
        if (bitmap && (level == RaidLevel.LINEAR || level == RaidLevel.RAID0)) {
            throw new IllegalArgumentException(name + ": no bitmap without redundancy");
        }
        for (int slot : dropSlots) {
            if (slot < 0 || slot >= devices) {
                throw new IllegalArgumentException(name + ": no slot " + slot);
            }
        }
    }

    /**
     * Every shape: each level, each raid5 layout, raid10 near/far/offset, linear on the kernel that
     * still has it, raid1 on both kernels. Members are 16 MiB (the pattern needs 10) except the
     * main raid1's 64 MiB: emulated I/O and hashing cost time per byte. Bitmaps on one shape per
     * personality family (raid1, raid5, raid6, raid10).
     */
    public static List<RaidCase> all() {
        KernelVm.Kernel newest = KernelVm.Kernel.NEWEST;
        KernelVm.Kernel old = KernelVm.Kernel.DEFAULT;
        List<RaidCase> c = new ArrayList<>();
        c.add(new RaidCase("linear", RaidLevel.LINEAR, 2, 0, null, null, SMALL, false, old, List.of()));
        c.add(new RaidCase("raid0", RaidLevel.RAID0, 3, 64, null, null, SMALL, false, newest, List.of()));
        c.add(new RaidCase("raid1", RaidLevel.RAID1, 2, 0, null, null, "64M", true, newest, List.of(1)));
        c.add(new RaidCase("raid1-k61", RaidLevel.RAID1, 2, 0, null, null, SMALL, true, old, List.of(0)));
        c.add(new RaidCase("raid1-3", RaidLevel.RAID1, 3, 0, null, null, SMALL, false, newest, List.of()));
        c.add(new RaidCase("raid4", RaidLevel.RAID4, 3, 64, null, null, SMALL, false, newest, List.of(0)));
        c.add(raid5("raid5-la", "left-asymmetric", 3, false, List.of()));
        c.add(raid5("raid5-ra", "right-asymmetric", 3, false, List.of()));
        c.add(raid5("raid5-ls", "left-symmetric", 4, true, List.of(1)));
        c.add(raid5("raid5-rs", "right-symmetric", 3, false, List.of()));
        c.add(raid5("raid5-pf", "parity-first", 3, false, List.of()));
        c.add(raid5("raid5-pl", "parity-last", 3, false, List.of(2)));
        c.add(new RaidCase("raid6-ls", RaidLevel.RAID6, 5, 64, "left-symmetric", "left-symmetric", SMALL, true, newest,
            List.of(0, 2)));
        c.add(new RaidCase("raid6-ra", RaidLevel.RAID6, 4, 64, "right-asymmetric", "right-asymmetric", SMALL, false, newest,
            List.of()));
        c.add(new RaidCase("raid10-n2", RaidLevel.RAID10, 4, 64, "n2", "near=2", SMALL, true, newest, List.of(1)));
        c.add(new RaidCase("raid10-f2", RaidLevel.RAID10, 3, 64, "f2", "far=2", SMALL, true, newest, List.of(0)));
        c.add(new RaidCase("raid10-o2", RaidLevel.RAID10, 3, 64, "o2", "offset=2", SMALL, true, newest, List.of(2)));
        return c;
    }

    /** Member size of most cases: 15 MiB of data after mdadm's 1 MiB data offset. */
    static final String SMALL = "16M";

    private static RaidCase raid5(String name, String layout, int devices, boolean bitmap, List<Integer> drop) {
        return new RaidCase(name, RaidLevel.RAID5, devices, 64, layout, layout, SMALL, bitmap, KernelVm.Kernel.NEWEST, drop);
    }

    /** {@link #memberSize} in bytes. */
    public long memberBytes() {
        long unit = switch (memberSize.charAt(memberSize.length() - 1)) {
            case 'K' -> 1L << 10;
            case 'M' -> 1L << 20;
            case 'G' -> 1L << 30;
            default -> throw new IllegalArgumentException(memberSize);
        };
        return Long.parseLong(memberSize.substring(0, memberSize.length() - 1)) * unit;
    }

    /** The cases with a degraded run. */
    public static List<RaidCase> degradable() {
        return all().stream().filter(c -> !c.dropSlots().isEmpty()).toList();
    }

    /** True when the level keeps a copy or parity (a check scrub means something). */
    public boolean redundant() {
        return level != RaidLevel.LINEAR && level != RaidLevel.RAID0;
    }

    /** mdadm's --level argument. */
    public String mdadmLevel() {
        return level == RaidLevel.LINEAR ? "linear" : Integer.toString(level.code());
    }

    /** --level, --raid-devices, --chunk, --layout, --bitmap as both jmd and mdadm spell them. */
    public List<String> createOptions() {
        List<String> o = new ArrayList<>(List.of("--level=" + mdadmLevel(), "--raid-devices=" + devices, "--metadata=1.2"));
        if (chunkKib > 0) {
            o.add("--chunk=" + chunkKib);
        }
        if (layout != null) {
            o.add("--layout=" + layout);
        }
        if (redundant()) { // mdadm: "bitmaps not meaningful with level raid0"
            o.add("--bitmap=" + (bitmap ? "internal" : "none"));
        }
        return o;
    }

    /** The slots a degraded run keeps. */
    public List<Integer> keptSlots() {
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < devices; i++) {
            if (!dropSlots.contains(i)) {
                kept.add(i);
            }
        }
        return kept;
    }

    /**
     * Why jmd cannot run this level yet, if it cannot: the level is not among jmd's registered
     * personalities (io.jmd.md.Personalities), or (for creation) registered as not creatable.
     */
    public Optional<String> pendingInJmd(boolean create) {
        try {
            Personalities.Entry e = Personalities.forLevel(level);
            if (create && !e.canCreate()) {
                return Optional.of(level.mdadmName() + " is pending in jmd: Personalities registers it but cannot create it yet");
            }
            if (devices > e.maxRaidDisks()) {
                return Optional.of(level.mdadmName() + " with " + devices + " devices is pending in jmd (max " + e.maxRaidDisks() + ")");
            }
            return Optional.empty();
        } catch (MdException e) {
            return Optional.of(level.mdadmName() + " is pending in jmd (" + e.getMessage() + ")");
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
