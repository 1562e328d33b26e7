package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Errno;
import io.jmd.md.bitmap.BitmapHost;
import io.jmd.md.bitmap.WriteIntentBitmap;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Layout;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncBarrier;
import io.jmd.md.resync.SyncEngine;
import io.jmd.md.resync.SyncHost;
import io.jmd.md.resync.SyncLevel;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An array's redundancy machinery, wired into {@link MdArray}'s write path and md thread: the
 * write-intent bitmap, the barrier between sync and normal writes, the sync engine, member
 * management and the event log. MdArray calls a handful of hooks; everything else lives here.
 *
 * <pre>
 *   write admission (submitter):  barrier.enterNormal, then bitmap.startWrite (bits durable first)
 *   write end (callback):         bitmap.endWrite(success = reached every slot), barrier.exitNormal
 *   md thread, each pass:         sync engine's check (start, reap), bitmap daemon
 *   superblock update (md thread): bitmap events first, then the superblocks
 *   stop:                         sync stopped and reaped, bitmap flushed (idle bits cleared)
 * </pre>
 * Addresses: the bitmap and the barrier work in the level's resync address space; raid1's is the
 * array's own, raid4/5/6's is member bytes (a write marks the member range it touches, parity included).
 */
public final class Redundancy implements BitmapHost, SyncHost {
    /** How long member management waits for the array's requests to drain before answering EBUSY. */
    static final long QUIESCE_TIMEOUT_NANOS = 30_000_000_000L;

    private final MdArray array;
    private final SyncLevel level;
    private final WriteIntentBitmap bitmap;
    private final SyncBarrier barrier;
    private final ArrayEvents events;
    /** Slots re-added members held before (md's saved_raid_disk). */
    private final Map<Member, Integer> savedSlots = new ConcurrentHashMap<>();
    private volatile SyncEngine engine;
    private volatile io.jmd.block.DeviceOpener opener;

    private Redundancy(MdArray array, SyncLevel level, WriteIntentBitmap bitmap) {
        this.array = array;
        this.level = level;
        this.bitmap = bitmap;
        this.barrier = new SyncBarrier(array.env().scheduler(), array.name());
        this.events = new ArrayEvents(array.name(), () -> array.env().clock().wallMillis());
    }

    /**
     * Builds it for an assembled array (before the md thread starts): reads the bitmap when the
     * array has one and the level can keep it (a level without online sync leaves an existing
     * bitmap alone; the kernel then finds it stale and resyncs fully: safe).
     */
    static Redundancy load(MdArray array, boolean readOnly) throws MdException {
        SyncLevel level = array.personality().syncLevel();
        Superblock1 sb = array.superblock();
        Redundancy r = new Redundancy(array, level, null);
        if (level == null || !sb.hasFeature(FeatureBits.BITMAP_OFFSET)) {
            return r;
        }
        long done = array.resyncDoneSectors() == Superblock1Layout.MAX_SECTOR ? Long.MAX_VALUE : array.resyncDoneSectors() * 512;
        WriteIntentBitmap b = WriteIntentBitmap.load(r, sb, level.sizeBytes(), done, readOnly);
        return new Redundancy(array, level, b);
    }

    /** Starts the sync engine (its work queue thread) and reports the array: from the assembling thread. */
    void start() {
        engine = new SyncEngine(this);
        events.post("NewArray", null, array.personality().levelName() + " " + array.personality().status());
        if (!array.personality().isOptimal()) {
            events.post("DegradedArray", null, array.personality().status());
        }
        engine.setNeeded();
    }

    /** Stops the sync and flushes the bitmap; from the stopping thread, after normal I/O drained. */
    void stop() {
        if (engine != null) {
            engine.stop();
        }
        if (bitmap != null && !array.isReadOnly()) {
            bitmap.flush();
        }
        events.post("DeviceDisappeared", null, "array stopped");
    }

    /** Releases the bitmap's memory, after the last superblock write. */
    void close() {
        if (bitmap != null) {
            bitmap.close();
        }
    }

    public ArrayEvents eventLog() {
        return events;
    }

    public SyncEngine engine() {
        return engine;
    }

    @Override
    public WriteIntentBitmap bitmap() {
        return bitmap;
    }

    @Override
    public SyncBarrier barrier() {
        return barrier;
    }

    @Override
    public SyncLevel syncLevel() {
        return level;
    }

    /**
     * Waits until no sync runs or is about to (a command that assembles, lets the array resync
     * and stops it). Polls every 100 ms; from a thread that may wait, never the md thread.
     */
    public void awaitSyncIdle() {
        io.jmd.sync.WaitQueue pause = new io.jmd.sync.WaitQueue(array.env().scheduler(), name() + " sync idle");
        while (engine != null && !engine.isIdle()) {
            pause.waitUntil(() -> false, 100_000_000L);
        }
    }

    /** The opener used to add members through the control socket. */
    public void setOpener(io.jmd.block.DeviceOpener opener) {
        this.opener = opener;
    }

    io.jmd.block.DeviceOpener opener() {
        return opener;
    }

    // ---- MdArray hooks ----

    /** Whether a write now reaches every slot (sampled at its start and end for the bitmap). */
    boolean allSlotsWritable() {
        return array.personality().allSlotsWritable();
    }

    private long syncStart(long arrayOffset) {
        return level == null ? arrayOffset : level.syncStartBytes(arrayOffset);
    }

    private long syncEnd(long arrayEnd) {
        return level == null ? arrayEnd : level.syncEndBytes(arrayEnd);
    }

    /**
     * A write to array bytes [offset, offset + length) is about to go to the members: waits for
     * sync windows of its regions, then has its bitmap bits on disk. Returns 0, or the errno to
     * end it with (the caller still calls {@link #afterWrite}).
     */
    int beforeWrite(long offset, long length) {
        long from = syncStart(offset);
        long to = syncEnd(offset + length);
        barrier.enterNormal(from, to);
        return bitmap == null ? Errno.OK : bitmap.startWrite(from, to);
    }

    /** The write ended (completion callback: never blocks). */
    void afterWrite(long offset, long length, boolean success) {
        long from = syncStart(offset);
        long to = syncEnd(offset + length);
        if (bitmap != null) {
            bitmap.endWrite(from, to, success);
        }
        barrier.exitNormal(from, to);
    }

    /** md thread, each pass. */
    void mdThreadWork() {
        SyncEngine e = engine;
        if (e != null) {
            e.checkRecovery();
        }
        if (bitmap != null && !array.isReadOnly()) {
            bitmap.daemonWork();
        }
    }

    /** A superblock update with {@code events} is about to be written: bitmap events first. */
    void beforeSuperblockWrite(long newEvents) {
        if (bitmap != null && !array.isReadOnly()) {
            bitmap.writeHeader(newEvents);
        }
    }

    /** {@code m} was just marked faulty (completion callbacks: never blocks). */
    void memberFailed(Member m, MemberState was) {
        events.post(was == MemberState.IN_SYNC ? "Fail" : "FailSpare", m.path(), null);
        SyncEngine e = engine;
        if (e != null) {
            if (e.isRunning()) {
                e.interrupt(); // md_error: MD_RECOVERY_INTR; a needed sync starts again
            }
            e.setNeeded();
        }
    }

    /**
     * Raid1 read balancing asks: must reads of array bytes [offset, offset + length) come from the
     * first in-sync member? Yes where a resync has yet to make the members agree (raid1.c's
     * choose_first beyond next_resync), so that a block reads the same until the resync copies it.
     */
    public boolean readFromFirst(long offset, long length) {
        long done = array.resyncDoneSectors();
        if (done == Superblock1Layout.MAX_SECTOR) {
            return false;
        }
        long to = syncEnd(offset + length);
        if (to <= done * 512) {
            return false;
        }
        if (bitmap == null) {
            return true;
        }
        int last = Math.min(bitmap.chunkOf(to - 1), bitmap.chunks() - 1);
        for (int c = bitmap.chunkOf(syncStart(offset)); c <= last; c++) {
            if (bitmap.counters().needsSync(c)) {
                return true;
            }
        }
        return false;
    }

    // ---- BitmapHost and SyncHost ----

    @Override
    public String name() {
        return array.name();
    }

    @Override
    public Env env() {
        return array.env();
    }

    @Override
    public List<Member> bitmapMembers() {
        List<Member> out = new ArrayList<>();
        for (Member m : array.members()) {
            if (m.state() != MemberState.FAULTY) {
                out.add(m);
            }
        }
        out.sort(Comparator.comparingInt(m -> m.isInSync() ? 0 : 1));
        return out;
    }

    @Override
    public long bitmapAreaOffsetBytes(Member m) {
        return m.superblock().superOffsetSectors() * 512 + (long) array.superblock().bitmapOffsetSectors() * 512;
    }

    @Override
    public void memberError(Member m) {
        array.memberError(m);
    }

    @Override
    public boolean isDegraded() {
        return !array.personality().isOptimal();
    }

    @Override
    public long events() {
        return array.events();
    }

    @Override
    public boolean isReadOnly() {
        return array.isReadOnly();
    }

    @Override
    public long resyncDoneBytes() {
        long done = array.resyncDoneSectors();
        return done == Superblock1Layout.MAX_SECTOR ? Long.MAX_VALUE : done * 512;
    }

    @Override
    public boolean hasRecoveryWork() {
        return MemberManager.hasRecoveryWork(array);
    }

    @Override
    public List<Member> prepareRecovery() throws MdException {
        return MemberManager.prepareRecovery(array, this);
    }

    @Override
    public long recoveryStartBytes(Member m) {
        return level == null ? m.recoveryOffsetBytes() : level.recoveryResumeBytes(m, m.recoveryOffsetBytes());
    }

    @Override
    public boolean isReAdded(Member m) {
        return m.isReAdded() && bitmap != null;
    }

    Map<Member, Integer> savedSlots() {
        return savedSlots;
    }

    @Override
    public void checkpoint(SyncAction action, long doneBytes, List<Member> targets) {
        if (action == SyncAction.RESYNC) {
            array.setResyncDoneSectors(doneBytes / 512);
        } else if (action == SyncAction.RECOVER) {
            for (Member t : targets) {
                if (t.state() == MemberState.RECOVERING) {
                    t.setRecoveryOffsetBytes(Math.max(t.recoveryOffsetBytes(), level.recoveredMemberBytes(t, doneBytes)));
                }
            }
        }
        array.requestSuperblockWrite();
    }

    @Override
    public void syncEnded(SyncAction action, boolean completed, long doneBytes, List<Member> targets, long mismatchSectors) {
        switch (action) {
            case RESYNC -> array.setResyncDoneSectors(completed ? Superblock1Layout.MAX_SECTOR : doneBytes / 512);
            case RECOVER -> {
                for (Member t : targets) {
                    if (t.state() != MemberState.RECOVERING) {
                        continue;
                    }
                    if (completed) {
                        t.setReAdded(false);
                        savedSlots.remove(t);
                        t.transition(MemberState.RECOVERING, MemberState.IN_SYNC);
                        array.personality().memberInSync(t);
                        // only now: until the personality counts it in sync, raid4/5/6 read it
                        // below its checkpoint (StripeEngine.failedMembers(key))
                        t.setRecoveryOffsetBytes(0);
                        events.post("SpareActive", t.path(), null);
                    } else {
                        t.setRecoveryOffsetBytes(Math.max(t.recoveryOffsetBytes(), level.recoveredMemberBytes(t, doneBytes)));
                    }
                }
            }
            case CHECK, REPAIR -> {
            }
        }
        array.requestSuperblockWrite();
    }

    @Override
    public long normalRequests() {
        return array.requestsAdmitted();
    }

    @Override
    public void wakeMdThread() {
        array.wakeMdThread();
    }

    @Override
    public void event(String event, String member, String detail) {
        events.post(event, member, detail);
    }
}
