package io.jmd.md;

import io.jmd.md.format.RaidLevel;
import io.jmd.md.raid1.Raid1;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.Function;

/**
 * The levels jmd runs, as md's list of registered personalities. Assembly and creation ask here;
 * a level's package registers one entry. A level missing here is refused with a clear message.
 */
public final class Personalities {
    /** How to run one level. {@code maxRaidDisks}: the most members jmd supports for it. */
    public record Entry(RaidLevel level, Function<MdArray, Personality> factory, int maxRaidDisks, boolean canCreate) {
    }

    private static final Map<RaidLevel, Entry> ENTRIES = new EnumMap<>(RaidLevel.class);

    static {
        register(new Entry(RaidLevel.RAID1, Raid1::new, Raid1.MAX_RAID_DISKS, true));
        register(new Entry(RaidLevel.LINEAR, io.jmd.md.linear.Linear::new, io.jmd.md.linear.Linear.MAX_RAID_DISKS, true));
        register(new Entry(RaidLevel.RAID0, io.jmd.md.raid0.Raid0::new, io.jmd.md.raid0.Raid0.MAX_RAID_DISKS, true));
        register(new Entry(RaidLevel.RAID4, io.jmd.md.raid4.Raid4::new, io.jmd.md.stripe.StripeEngine.MAX_RAID_DISKS, true));
        register(new Entry(RaidLevel.RAID5, io.jmd.md.raid5.Raid5::new, io.jmd.md.stripe.StripeEngine.MAX_RAID_DISKS, true));
        register(new Entry(RaidLevel.RAID6, io.jmd.md.raid6.Raid6::new, io.jmd.md.stripe.StripeEngine.MAX_RAID_DISKS, true));
        register(new Entry(RaidLevel.RAID10, io.jmd.md.raid10.Raid10::new, io.jmd.md.raid10.Raid10.MAX_RAID_DISKS, true));
    }

    private Personalities() {
    }

    private static void register(Entry e) {
        ENTRIES.put(e.level(), e);
    }

    /** The entry for {@code level}, or an MdException naming what is supported. */
    public static Entry forLevel(RaidLevel level) throws MdException {
        Entry e = ENTRIES.get(level);
        if (e == null) {
            throw new MdException("level " + level.mdadmName() + " is not supported by jmd yet (supported: " + supported() + ")");
        }
        return e;
    }

    public static String supported() {
        return String.join(", ", ENTRIES.keySet().stream().map(RaidLevel::mdadmName).toList());
    }
}
