package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.block.DeviceOpener;
import io.jmd.md.format.DevRole;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Assembly: from member devices to a running {@link MdArray}, with the checks of mdadm's
 * Assemble.c and the kernel's super_1_validate, each refusal naming the member and the reason.
 *
 * <ol>
 *   <li>every member has a valid v1 superblock of the same array (set UUID);</li>
 *   <li>the freshest superblock (most events) decides each member's role;</li>
 *   <li>a member whose events + 1 &lt; the freshest is stale and left out, as is one the freshest
 *       records as faulty, or a second claimant of a slot;</li>
 *   <li>an array missing members starts only when asked ({@code runDegraded}).</li>
 * </ol>
 * Nothing is written to any member until every check passed.
 */
public final class Assembler {
    /**
     * Assembly options, spelled as mdadm's: --run, --readonly, --force ({@code force}: start a
     * dirty degraded raid4/5/6 anyway, marked clean, as mdadm --assemble --force does).
     */
    public record Options(boolean runDegraded, boolean readOnly, boolean force) {
        public static final Options DEFAULT = new Options(false, false);

        public Options(boolean runDegraded, boolean readOnly) {
            this(runDegraded, readOnly, false);
        }
    }

    /**
     * Levels that rebuild a member online: one assembled with a recovery_offset keeps its slot
     * and its recovery resumes (the others leave it out; it is then added as a spare again).
     */
    static final java.util.Set<RaidLevel> ONLINE_RECOVERY = java.util.EnumSet.of(RaidLevel.RAID1, RaidLevel.RAID4,
        RaidLevel.RAID5, RaidLevel.RAID6, RaidLevel.RAID10);

    private Assembler() {
    }

    /** Opens and assembles; on any refusal every opened device is closed again. */
    public static MdArray assemble(Env env, DeviceOpener opener, List<String> paths, Options options) throws MdException {
        Scan scan = Scan.of(env, opener, paths, options.readOnly());
        try {
            return start(env, scan, options);
        } catch (MdException | RuntimeException e) {
            scan.closeAll();
            throw e;
        }
    }

    private static MdArray start(Env env, Scan scan, Options options) throws MdException {
        Superblock1 fresh = scan.freshest();
        checkSupported(fresh);
        List<Member> members = new ArrayList<>();
        List<String> leftOut = new ArrayList<>();
        Member[] bySlot = new Member[fresh.raidDisks()];
        for (Scan.Entry e : scan.entriesByEventsDesc()) {
            Superblock1 own = e.found().superblock();
            int role = fresh.devRoles().role(own.devNumber());
            if (own.events() + 1 < fresh.events()) {
                leftOut.add(e.path() + " is stale (events " + own.events() + ", array " + fresh.events() + ")");
            } else if (role == DevRole.FAULTY) {
                leftOut.add(e.path() + " is recorded as faulty in the array");
            } else if (DevRole.isSlot(role) && role < fresh.raidDisks()) {
                if (bySlot[role] != null) {
                    leftOut.add(e.path() + " claims slot " + role + ", already held by " + bySlot[role].path());
                } else if (own.hasFeature(FeatureBits.RECOVERY_OFFSET) && ONLINE_RECOVERY.contains(fresh.raidLevel())) {
                    // a level that rebuilds online: the member keeps its slot and the recovery
                    // resumes from its recovery_offset (levels without online recovery leave it out below)
                    bySlot[role] = new Member(e.device(), e.path(), own, role, MemberState.RECOVERING);
                    members.add(bySlot[role]);
                    leftOut.add(e.path() + " is being rebuilt: recovery resumes at " + own.recoveryOffsetSectors() / 2 + "K");
                } else if (own.hasFeature(FeatureBits.RECOVERY_OFFSET)) {
                    leftOut.add(e.path() + " was being rebuilt (recovery_offset " + own.recoveryOffsetSectors()
                        + " sectors) and is not in sync");
                } else {
                    bySlot[role] = new Member(e.device(), e.path(), own, role, MemberState.IN_SYNC);
                    members.add(bySlot[role]);
                }
            } else {
                members.add(new Member(e.device(), e.path(), own, -1, MemberState.SPARE));
            }
        }
        int present = (int) java.util.Arrays.stream(bySlot).filter(java.util.Objects::nonNull).count();
        if (present == 0) {
            throw new MdException("no member holds current data of array " + fresh.setUuid().format() + explain(leftOut));
        }
        if (present < fresh.raidDisks() && !options.runDegraded()) {
            throw new MdException("array " + fresh.setName().text() + " would start degraded with " + present + " of "
                + fresh.raidDisks() + " devices" + explain(leftOut) + "; use --run to start it degraded");
        }
        MdArray array = new MdArray(env, arrayName(fresh), scan.location(), fresh, members, options.readOnly());
        closeLeftOut(scan, members);
        try {
            array.attach(Personalities.forLevel(fresh.raidLevel()).factory());
        } catch (IllegalArgumentException | IllegalStateException e) {
            // the level refuses what the superblock describes, or the memory budget is too small for it
            array.abandon();
            throw new MdException("array " + fresh.setName().text() + ": " + e.getMessage(), e);
        }
        if (!array.personality().canRun()) {
            array.abandon();
            throw new MdException("array " + fresh.setName().text() + " cannot run with the members present" + explain(leftOut));
        }
        if (array.personality().isDirtyDegraded()) {
            if (!options.force()) {
                array.abandon();
                throw new MdException("cannot start dirty degraded array " + fresh.setName().text() + ": it was not shut down"
                    + " clean and " + (fresh.raidDisks() - present) + " of " + fresh.raidDisks() + " devices are missing, so its"
                    + " parity may not match its data and the missing data rebuilt from it could be wrong (the kernel refuses"
                    + " too: \"md/raid:mdX: cannot start dirty degraded array\")" + explain(leftOut)
                    + "; use --force to start it anyway, marked clean (data corruption possible)");
            }
            array.markInSyncBeforeStart();
            leftOut.add("started a dirty degraded array as clean (--force): data corruption possible");
        }
        try {
            array.loadRedundancy();
        } catch (MdException | RuntimeException e) {
            array.abandon();
            throw e;
        }
        if (!options.readOnly() && array.needsResync() && array.personality().syncLevel() != null) {
            var bitmap = array.redundancy().bitmap();
            leftOut.add("not shut down clean: resyncing while serving from " + fresh.resyncOffsetSectors() / 2 + "K"
                + (bitmap == null ? "" : ", only the " + bitmap.neededAtLoad() + " of " + bitmap.chunks()
                + " bitmap chunks that are dirty" + (bitmap.wasStale() ? " (the bitmap was stale: all of them)" : "")));
            array.writeSuperblocksBeforeStart();
        } else if (!options.readOnly() && array.needsResync()) {
            // linear, raid0: no redundancy, so nothing can disagree (md never syncs them either)
            array.markInSyncBeforeStart();
            array.writeSuperblocksBeforeStart();
            leftOut.add("not shut down clean: " + array.personality().levelName() + " has no redundancy, nothing to resync");
        } else if (!options.readOnly() && (!leftOut.isEmpty() || present < fresh.raidDisks())) {
            // Record a degraded start at once (events + 1), as md does: a member that missed this
            // run is then stale by more than the one-event margin by the time the array stops.
            array.writeSuperblocksBeforeStart();
        }
        array.start();
        array.notes().addAll(leftOut);
        return array;
    }

    private static String explain(List<String> leftOut) {
        return leftOut.isEmpty() ? "" : " (" + String.join("; ", leftOut) + ")";
    }

    private static void closeLeftOut(Scan scan, List<Member> members) {
        for (Scan.Entry e : scan.entries()) {
            boolean used = members.stream().anyMatch(m -> m.device() == e.device());
            if (!used) {
                e.device().close();
            }
        }
    }

    /** The md device-like name jmd uses in messages and threads: the array's short name. */
    static String arrayName(Superblock1 sb) {
        String n = sb.setName().shortName();
        return n.isEmpty() ? "md-" + sb.setUuid().format().substring(0, 8) : n;
    }

    /** Refuses, with the reason, what jmd cannot run (yet). */
    static void checkSupported(Superblock1 sb) throws MdException {
        Personalities.Entry entry = Personalities.forLevel(sb.raidLevel());
        int unsupported = sb.featureMap() & (FeatureBits.RESHAPE_ACTIVE | FeatureBits.JOURNAL | FeatureBits.PPL
            | FeatureBits.MULTIPLE_PPLS | FeatureBits.CLUSTERED | FeatureBits.REPLACEMENT);
        if (unsupported != 0) {
            throw new MdException(String.format("array uses md features jmd does not support: feature map 0x%x"
                + " (reshape, journal, PPL, cluster and replacement are not implemented)", unsupported));
        }
        if (sb.raidDisks() > entry.maxRaidDisks()) {
            throw new MdException(sb.raidLevel().mdadmName() + " with " + sb.raidDisks() + " devices: jmd supports at most "
                + entry.maxRaidDisks());
        }
    }

    /** Opens devices and reads their superblocks; the basis of assemble, detail and examine. */
    public static final class Scan {
        /** One member as found. */
        public record Entry(String path, BlockDevice device, SuperblockIo.Found found) {
        }

        private final List<Entry> entries;

        private Scan(List<Entry> entries) {
            this.entries = entries;
        }

        /** Opens every path and reads its superblock; checks they form one array. */
        public static Scan of(Env env, DeviceOpener opener, List<String> paths, boolean readOnly) throws MdException {
            if (paths.isEmpty()) {
                throw new MdException("no member devices given");
            }
            List<Entry> entries = new ArrayList<>();
            Scan scan = new Scan(entries);
            try {
                for (String p : paths) {
                    if (entries.stream().anyMatch(e -> e.path().equals(p))) {
                        throw new MdException(p + " is listed twice");
                    }
                    BlockDevice dev;
                    try {
                        dev = opener.open(p, readOnly);
                    } catch (IOException e) {
                        throw new MdException(p + ": cannot open: " + e.getMessage(), e);
                    }
                    try {
                        entries.add(new Entry(p, dev, SuperblockIo.read(env, dev)));
                    } catch (MdException e) {
                        dev.close();
                        throw e;
                    }
                }
                scan.checkOneArray();
                return scan;
            } catch (MdException | RuntimeException e) {
                scan.closeAll();
                throw e;
            }
        }

        private void checkOneArray() throws MdException {
            Entry first = entries.get(0);
            Superblock1 a = first.found().superblock();
            for (Entry e : entries) {
                Superblock1 b = e.found().superblock();
                if (!b.setUuid().equals(a.setUuid())) {
                    throw new MdException(e.path() + " belongs to array " + b.setUuid().format() + " (" + b.setName().text()
                        + "), " + first.path() + " to array " + a.setUuid().format() + " (" + a.setName().text() + ")");
                }
                if (e.found().location() != first.found().location()) {
                    throw new MdException(e.path() + " has metadata " + e.found().location().versionText() + ", "
                        + first.path() + " has " + first.found().location().versionText());
                }
                for (Entry o : entries) {
                    if (o != e && o.found().superblock().devNumber() == b.devNumber()) {
                        throw new MdException(e.path() + " and " + o.path() + " have the same device number "
                            + b.devNumber() + " (the same member listed twice, or a copied image)");
                    }
                }
            }
        }

        public List<Entry> entries() {
            return entries;
        }

        List<Entry> entriesByEventsDesc() {
            List<Entry> sorted = new ArrayList<>(entries);
            sorted.sort(Comparator.comparingLong((Entry e) -> e.found().superblock().events()).reversed());
            return sorted;
        }

        public Superblock1 freshest() {
            return entriesByEventsDesc().get(0).found().superblock();
        }

        public io.jmd.md.format.SuperblockLocation location() {
            return entries.get(0).found().location();
        }

        public void closeAll() {
            for (Entry e : entries) {
                e.device().close();
            }
        }
    }
}
