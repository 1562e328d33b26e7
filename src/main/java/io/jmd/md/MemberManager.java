package io.jmd.md;

import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.md.format.DevRole;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.MdUuid;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.SuperblockLocation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Member management on a running array, as mdadm --manage and md's hot_add/hot_remove/set_faulty:
 * fail, remove, add (a new spare, rebuilt by recovery), re-add (a former member back in its slot,
 * rebuilt only where the bitmap says it missed writes), and giving spares the free slots.
 *
 * <p>Threads: {@link #fail} never blocks (it is md_error). The others wait (for requests to drain,
 * for a superblock write): they run on the array's misc work queue for the control socket, or on
 * a caller's own thread (tests, embedding); never on the md thread, never holding a lock.
 */
public final class MemberManager {
    private MemberManager() {
    }

    /** Finds a member by its path as given to serve/add (or by file name). */
    static Member find(MdArray a, String path) throws MdException {
        for (Member m : a.members()) {
            if (m.path().equals(path)) {
                return m;
            }
        }
        for (Member m : a.members()) {
            // File members also answer to their file name; NBD members (nbd://...) only to their URI.
            if (!m.path().contains("://") && java.nio.file.Path.of(m.path()).getFileName().toString().equals(path)) {
                return m;
            }
        }
        throw new MdException(path + " is not a member of " + a.name());
    }

    /** mdadm --fail: marks the member faulty now (the superblock update follows). */
    public static String fail(MdArray a, String path) throws MdException {
        Member m = find(a, path);
        if (m.state() == MemberState.FAULTY) {
            return "set " + m.path() + " faulty in " + a.name() + " (it already was)";
        }
        if (!a.memberError(m)) {
            throw new MdException("set device faulty failed for " + m.path() + ": it is the last working member of "
                + a.name() + " (" + Errno.name(Errno.EBUSY) + ")");
        }
        return "set " + m.path() + " faulty in " + a.name();
    }

    /** mdadm --remove: a faulty member or a spare leaves the array ("failed": every faulty one). */
    public static String remove(MdArray a, String path) throws MdException {
        List<Member> which = new ArrayList<>();
        if (path.equals("failed") || path.equals("faulty")) {
            a.members().stream().filter(m -> m.state() == MemberState.FAULTY).forEach(which::add);
        } else {
            which.add(find(a, path));
        }
        List<String> done = new ArrayList<>();
        for (Member m : which) {
            removeOne(a, m);
            done.add(m.path());
        }
        return done.isEmpty() ? "no faulty members to remove" : "hot removed " + String.join(", ", done) + " from " + a.name();
    }

    private static void removeOne(MdArray a, Member m) throws MdException {
        if (m.state() == MemberState.IN_SYNC || m.state() == MemberState.RECOVERING) {
            throw new MdException("hot remove failed for " + m.path() + ": it is an active member (fail it first) ("
                + Errno.name(Errno.EBUSY) + ")");
        }
        if (m.state() == MemberState.SPARE) {
            m.markFaulty(); // out of every write set before it goes; recorded by the update below
        }
        // After this update no superblock write still works from a member list that had it working.
        a.waitForSuperblock(a.requestSuperblockWrite());
        if (!a.suspend(Redundancy.QUIESCE_TIMEOUT_NANOS)) {
            throw new MdException("hot remove failed for " + m.path() + ": requests did not drain (" + Errno.name(Errno.EBUSY) + ")");
        }
        try {
            if (m.pendingIo() > 0) {
                throw new MdException("hot remove failed for " + m.path() + ": it still has I/O in flight ("
                    + Errno.name(Errno.EBUSY) + "); try again");
            }
            if (m.slot() >= 0) {
                a.personality().detachMember(m);
                m.setSlot(-1);
            }
            a.removeMember(m);
        } finally {
            a.resume();
        }
        a.waitForSuperblock(a.requestSuperblockWrite());
    }

    /**
     * mdadm --add (or --re-add when {@code reAddOnly}): a former member of this array comes back
     * to its slot if the bitmap covers what it missed; any other device becomes a new spare.
     */
    public static String add(MdArray a, String path, boolean reAddOnly) throws MdException {
        Redundancy r = a.redundancy();
        if (a.isReadOnly()) {
            throw new MdException(a.name() + " is read-only (" + Errno.name(Errno.EROFS) + ")");
        }
        if (a.personality().syncLevel() == null) {
            throw new MdException("cannot add a member to " + a.name() + ": " + a.personality().levelName()
                + " has no redundancy, so there is nothing to rebuild onto it (growing a linear array is not supported)");
        }
        for (Member m : a.members()) {
            if (m.path().equals(path)) {
                throw new MdException(path + " is already a member of " + a.name() + " (" + m.state() + ")");
            }
        }
        if (r.opener() == null) {
            throw new MdException("this array cannot open new members (no device opener)");
        }
        BlockDevice dev;
        try {
            dev = r.opener().open(path, false);
        } catch (IOException e) {
            throw new MdException(path + ": cannot open: " + e.getMessage(), e);
        }
        try {
            return addDevice(a, r, path, dev, reAddOnly);
        } catch (MdException | RuntimeException e) {
            dev.close();
            throw e;
        }
    }

    private static String addDevice(MdArray a, Redundancy r, String path, BlockDevice dev, boolean reAddOnly) throws MdException {
        Superblock1 own = null;
        try {
            own = SuperblockIo.read(a.env(), dev).superblock();
        } catch (MdException none) {
            // no md superblock: a new device
        }
        Superblock1 arraySb = a.superblock();
        Member m;
        if (own != null && own.setUuid().equals(arraySb.setUuid())) {
            String refusal = reAddRefusal(a, r, own);
            if (refusal != null) {
                throw new MdException(reAddOnly ? "--re-add for " + path + " to " + a.name() + " is not possible: " + refusal
                    : path + " reports being a member of " + a.name() + ", but a re-add fails (" + refusal + "); not adding it"
                    + " as a new spare, which would discard what it holds: clear its superblock first to do that");
            }
            m = new Member(dev, path, own, -1, MemberState.SPARE);
            m.setReAdded(true);
            r.savedSlots().put(m, own.devRoles().role(own.devNumber()));
        } else if (own != null) {
            throw new MdException(path + " appears to be part of another array (" + own.setName().text() + ", uuid "
                + own.setUuid().format() + "); clear its superblock first");
        } else if (reAddOnly) {
            throw new MdException("--re-add for " + path + " to " + a.name() + " is not possible: it has no md superblock");
        } else {
            m = new Member(dev, path, spareSuperblock(a, dev), -1, MemberState.SPARE);
        }
        // In the member list first: every bitmap block written from now on reaches it too, and the
        // whole area below covers the rest. Its superblock is written by the update after that.
        a.addMember(m);
        if (r.bitmap() != null) {
            int st = r.bitmap().writeAllTo(List.of(m));
            if (st != Errno.OK) {
                a.memberError(m);
                return "added " + path + " to " + a.name() + ", but writing the bitmap to it failed (" + Errno.name(st)
                    + "): it is faulty now; remove it";
            }
        }
        a.waitForSuperblock(a.requestSuperblockWrite());
        if (r.engine() != null) {
            r.engine().setNeeded();
        }
        return (m.isReAdded() ? "re-added " : "added ") + path + " to " + a.name();
    }

    /** Why {@code own} cannot come back to its slot, or null if it can (md's super_1_validate + bitmap rules). */
    private static String reAddRefusal(MdArray a, Redundancy r, Superblock1 own) {
        if (r.bitmap() == null) {
            return "the array has no write-intent bitmap to tell what it missed";
        }
        if (own.events() > a.events()) {
            return "its events (" + own.events() + ") are newer than the array's (" + a.events() + ")";
        }
        if (own.events() < r.bitmap().eventsCleared()) {
            return "bits were cleared since it left (its events " + own.events() + " < events cleared "
                + r.bitmap().eventsCleared() + ")";
        }
        int role = own.devRoles().role(own.devNumber());
        if (!DevRole.isSlot(role) || role >= a.superblock().raidDisks()) {
            return "it held no slot (role " + DevRole.describe(role) + ")";
        }
        for (Member m : a.members()) {
            if (m.devNumber() == own.devNumber()) {
                return "its device number " + own.devNumber() + " is in use by " + m.path();
            }
            if (m.slot() == role && (m.isInSync() || m.state() == MemberState.RECOVERING)) {
                return "its slot " + role + " is held by " + m.path();
            }
        }
        return null;
    }

    /** A new spare's superblock: the array's, with a free device number, its own uuid and sizes. */
    private static Superblock1 spareSuperblock(MdArray a, BlockDevice dev) throws MdException {
        Superblock1 base = a.superblock();
        SuperblockLocation loc = a.location();
        long sectors = dev.sizeBytes() / 512;
        // md's bind_rdev_to_array: a device joining a running array gets the first free number
        // from raid_disks on, so it never takes the number a removed member may come back with
        int devNumber = base.raidDisks();
        while (true) {
            final int d = devNumber;
            if (a.members().stream().noneMatch(m -> m.devNumber() == d)) {
                break;
            }
            devNumber++;
        }
        if (devNumber >= base.maxDev()) {
            throw new MdException("no free device number in " + a.name() + " (max_dev " + base.maxDev() + ")");
        }
        long superOffset = loc.superOffsetSectors(sectors);
        long dataOffset = base.dataOffsetSectors();
        long dataSize = loc.isAtStart() ? sectors - dataOffset
            : a.members().stream().mapToLong(m -> m.superblock().dataSizeSectors()).min().orElse(0);
        if (dataSize < base.sizeSectors() || dataOffset + dataSize > sectors) {
            throw new MdException(dev.name() + " is too small for " + a.name() + ": " + dev.sizeBytes() / 1024
                + "K, it needs " + (dataOffset + base.sizeSectors()) / 2 + "K");
        }
        Superblock1 sb = base.toBuilder()
            .devNumber(devNumber)
            .deviceUuid(MdUuid.random(a.env().random()))
            .superOffsetSectors(superOffset)
            .dataOffsetSectors(dataOffset)
            .dataSizeSectors(dataSize)
            .recoveryOffsetSectors(0)
            .removeFeature(FeatureBits.RECOVERY_OFFSET)
            .removeFeature(FeatureBits.RECOVERY_BITMAP)
            .cntCorrectedRead(0)
            .devFlags(0)
            .role(devNumber, DevRole.SPARE)
            .build();
        try {
            sb.validate(loc, sectors);
        } catch (io.jmd.md.format.SuperblockException e) {
            throw new MdException(dev.name() + " cannot hold a member of " + a.name() + ": " + e.getMessage(), e);
        }
        return sb;
    }

    /** Whether a recovery has something to do: members being rebuilt, or spares and free slots. */
    static boolean hasRecoveryWork(MdArray a) {
        boolean spare = false;
        int held = 0;
        for (Member m : a.members()) {
            switch (m.state()) {
                case RECOVERING -> {
                    return true;
                }
                case SPARE -> spare = true;
                case IN_SYNC -> held++;
                case FAULTY -> {
                }
            }
        }
        return spare && held < a.superblock().raidDisks();
    }

    /**
     * md's remove_and_add_spares: faulty members give up their slots, spares take the free ones
     * (a re-added member its old one), all while the array is quiesced; the superblocks then
     * record them as rebuilding (recovery_offset 0) before any sync data goes to them. Returns
     * every member to rebuild.
     */
    static List<Member> prepareRecovery(MdArray a, Redundancy r) throws MdException {
        List<Member> spares = a.members().stream().filter(m -> m.state() == MemberState.SPARE).toList();
        int raidDisks = a.superblock().raidDisks();
        boolean[] held = new boolean[raidDisks];
        for (Member m : a.members()) {
            if ((m.isInSync() || m.state() == MemberState.RECOVERING) && m.slot() >= 0 && m.slot() < raidDisks) {
                held[m.slot()] = true;
            }
        }
        boolean anyFree = false;
        for (boolean h : held) {
            anyFree |= !h;
        }
        if (!spares.isEmpty() && anyFree) {
            activate(a, r, spares, held);
        }
        return a.members().stream().filter(m -> m.state() == MemberState.RECOVERING).toList();
    }

    private static void activate(MdArray a, Redundancy r, List<Member> spares, boolean[] held) throws MdException {
        if (!a.suspend(Redundancy.QUIESCE_TIMEOUT_NANOS)) {
            throw new MdException("cannot activate spares: requests did not drain");
        }
        List<Member> activated = new ArrayList<>();
        try {
            for (Member f : a.members()) {
                if (f.state() == MemberState.FAULTY && f.slot() >= 0 && f.pendingIo() == 0) {
                    a.personality().detachMember(f);
                    f.setSlot(-1);
                }
            }
            List<Member> ordered = new ArrayList<>(spares);
            ordered.sort(java.util.Comparator.comparingInt(m -> r.savedSlots().containsKey(m) ? 0 : 1));
            for (Member s : ordered) {
                Integer saved = r.savedSlots().get(s);
                int slot = saved != null && saved < held.length && !held[saved] ? saved : firstFree(held);
                if (slot < 0) {
                    break;
                }
                if (saved != null && saved != slot) {
                    s.setReAdded(false); // not its own slot: a full rebuild
                }
                a.personality().attachMember(s, slot);
                held[slot] = true;
                s.setRecoveryOffsetBytes(0);
                s.setSlot(slot);
                s.transition(MemberState.SPARE, MemberState.RECOVERING);
                activated.add(s);
            }
        } finally {
            a.resume();
        }
        a.waitForSuperblock(a.requestSuperblockWrite());
    }

    private static int firstFree(boolean[] held) {
        for (int i = 0; i < held.length; i++) {
            if (!held[i]) {
                return i;
            }
        }
        return -1;
    }
}
