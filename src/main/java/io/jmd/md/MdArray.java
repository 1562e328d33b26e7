package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.Buffer;
import io.jmd.md.format.DevRole;
import io.jmd.md.format.MdTime;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.SuperblockLocation;
import io.jmd.sync.CountedResource;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;
import io.jmd.work.DaemonThread;

import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A running md array: md's struct mddev. It is a {@link BlockDevice} over its members; requests
 * pass admission here (in-flight slots, clean-to-dirty transition) and go to the personality.
 *
 * <h2>Threads</h2>
 * <ul>
 *   <li>Submitters (NBD connections, the CLI, tests): may wait for a slot and for the "dirty"
 *       superblock write.</li>
 *   <li>The md thread ({@code mdX_raidN} in Linux): an I/O-progress thread. It runs the
 *       personality's deferred work, writes superblocks (the only writer while the array runs),
 *       and marks the array clean after {@link #SAFE_MODE_DELAY_NANOS} without writes. It never
 *       allocates from a pool it could wait on: superblock buffers are preallocated per member.</li>
 *   <li>Completion callbacks: report member errors through {@link #memberError}, which only sets
 *       state and wakes the md thread.</li>
 *   <li>The sync thread and the misc work queue that starts it, the bitmap's writers, member
 *       management: see {@link Redundancy}, which holds the hooks this class calls (write
 *       admission and end, each md thread pass, each superblock update, stop).</li>
 * </ul>
 *
 * <h2>Acknowledged writes survive</h2>
 * A write that failed on some member ends only after a superblock recording that member as
 * faulty is on the survivors (the personality holds it until {@link Personality#superblockWritten}).
 * So after a crash the failed member is known stale and never read.
 */
public final class MdArray implements BlockDevice {
    /** md's safe_mode_delay default: 200 ms idle before the array is marked clean again. */
    public static final long SAFE_MODE_DELAY_NANOS = 200_000_000L;
    /** Requests admitted at once: 256 × 32 MiB worst case is bounded again by the buffer budget. */
    public static final int MAX_INFLIGHT_DEFAULT = 256;

    private final Env env;
    private final String name;
    private final SuperblockLocation location;
    /** Members by arrival; changes only through {@link #addMember}/{@link #removeMember} (member management). */
    private final List<Member> members;
    private final boolean readOnly;
    private final CountedResource inflight;
    private final WriteState writeState;
    private final AtomicLong sbRequested = new AtomicLong();
    private volatile long sbWritten;
    private final WaitQueue sbWait;
    /** One preallocated superblock buffer per member ever added; released at close. */
    private final java.util.Map<Member, Buffer> sbBuffers = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile Superblock1 arraySuperblock;
    private volatile long lastWriteEndNanos;
    /** md's recovery_cp: array sectors below this are in sync; MAX_SECTOR when all are. */
    private volatile long resyncDoneSectors;
    private volatile boolean stopped;
    private final List<String> notes = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Personality personality;
    private DaemonThread mdThread;
    /** Bitmap, sync engine, barrier, member management; set by assembly before the array starts. */
    private volatile Redundancy redundancy;
    /** Member management quiesces the array (md's mddev_suspend): new requests wait while set. */
    private volatile boolean suspended;
    private final WaitQueue suspendWait;
    /** Requests admitted so far: the sync throttle's "is the array idle". */
    private final AtomicLong requestsAdmitted = new AtomicLong();

    MdArray(Env env, String name, SuperblockLocation location, Superblock1 freshest, List<Member> members, boolean readOnly) {
        this.env = env;
        this.name = name;
        this.location = location;
        this.arraySuperblock = freshest;
        this.members = new java.util.concurrent.CopyOnWriteArrayList<>(members);
        this.readOnly = readOnly;
        this.inflight = new CountedResource(env.scheduler(), name + " in-flight", MAX_INFLIGHT_DEFAULT);
        this.writeState = new WriteState(freshest.isClean());
        this.resyncDoneSectors = freshest.resyncOffsetSectors();
        this.sbWait = new WaitQueue(env.scheduler(), name + " superblock written");
        this.suspendWait = new WaitQueue(env.scheduler(), name + " resumed");
        for (Member m : this.members) {
            sbBuffers.put(m, env.buffers().allocate(SuperblockIo.SUPERBLOCK_AREA_BYTES));
        }
    }

    /** Attaches the personality (before any resync or start). */
    void attach(Function<MdArray, Personality> personalityFactory) {
        assert personality == null : "personality attached twice";
        this.personality = personalityFactory.apply(this);
    }

    /** Starts the md thread (from a thread that may start threads): the array serves from now on. */
    void start() {
        assert personality != null : "no personality";
        this.mdThread = new DaemonThread(env.scheduler(), name + "_raid", EnumSet.of(ThreadRole.IO_PROGRESS),
            SAFE_MODE_DELAY_NANOS, this::mdThreadRun);
        if (redundancy != null) {
            redundancy.start();
        }
    }

    /** Reads the bitmap and builds the redundancy machinery (assembly, before {@link #start}). */
    void loadRedundancy() throws MdException {
        assert mdThread == null : "md thread already running";
        this.redundancy = Redundancy.load(this, readOnly);
    }

    /** The bitmap, sync engine and member management; null only before assembly finished. */
    public Redundancy redundancy() {
        return redundancy;
    }

    /** Gives up an array that never started: releases what it holds, writes nothing. */
    void abandon() {
        assert mdThread == null : "abandon of a running array";
        stopped = true;
        if (personality != null) {
            personality.stop();
        }
        if (redundancy != null) {
            redundancy.close();
        }
        sbBuffers.values().forEach(Buffer::release);
    }

    public Env env() {
        return env;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long sizeBytes() {
        return personality.sizeBytes();
    }

    public boolean isReadOnly() {
        return readOnly;
    }

    public List<Member> members() {
        return members;
    }

    public Superblock1 superblock() {
        return arraySuperblock;
    }

    /** What assembly had to say (members left out and why), for the operator. */
    public List<String> notes() {
        return notes;
    }

    public SuperblockLocation location() {
        return location;
    }

    public Personality personality() {
        return personality;
    }

    /** True when the superblocks on disk say clean (or are about to). */
    public boolean isClean() {
        return writeState.isClean();
    }

    public long events() {
        return arraySuperblock.events();
    }

    @Override
    public void submit(Bio bio) {
        assert bio.offsetBytes + bio.lengthBytes <= sizeBytes() : "bio past the array end: " + bio;
        if (stopped) {
            bio.end(Errno.ESHUTDOWN);
            return;
        }
        boolean write = bio.op != Bio.Op.READ && bio.op != Bio.Op.FLUSH;
        if (write && readOnly) {
            bio.end(Errno.EROFS);
            return;
        }
        if (suspended) {
            suspendWait.waitUntil(() -> !suspended || stopped);
        }
        inflight.acquire(1);
        if (stopped) { // close() took every slot, stopped the array, and gave the slots back
            inflight.release(1);
            bio.end(Errno.ESHUTDOWN);
            return;
        }
        if (write && writeState.enter()) {
            waitForSuperblock(requestSuperblockWrite());
            writeState.dirtyRecorded();
            sbWait.wakeAll();
        } else if (write && writeState.dirtyPending()) {
            // Another writer made the array dirty and its superblock is not on disk yet: no member
            // may be written before it is (see WriteState).
            sbWait.waitUntil(() -> !writeState.dirtyPending() || stopped);
        }
        requestsAdmitted.incrementAndGet();
        Redundancy r = redundancy;
        boolean tracked = write && r != null && bio.op != Bio.Op.FLUSH && bio.lengthBytes > 0;
        boolean fullAtStart = tracked && r.allSlotsWritable();
        if (tracked) {
            int st = r.beforeWrite(bio.offsetBytes, bio.lengthBytes);
            if (st != Errno.OK) {
                requestEnded(bio, st, write, true, false);
                return;
            }
        }
        personality.submit(new Bio(bio.op, bio.offsetBytes, bio.lengthBytes, bio.data, bio.flags, bio,
            inner -> requestEnded(bio, inner.status(), write, tracked, fullAtStart)));
    }

    private void requestEnded(Bio outer, int status, boolean write, boolean tracked, boolean fullAtStart) {
        if (tracked) {
            Redundancy r = redundancy;
            r.afterWrite(outer.offsetBytes, outer.lengthBytes, status == Errno.OK && fullAtStart && r.allSlotsWritable());
        }
        if (write) {
            lastWriteEndNanos = env.clock().nanoTime();
            writeState.exit();
        }
        inflight.release(1);
        outer.end(status);
    }

    /** Asks the md thread for a superblock write; returns the ticket to wait for. Never blocks. */
    public long requestSuperblockWrite() {
        long seq = sbRequested.incrementAndGet();
        mdThread.wakeup();
        return seq;
    }

    /** Waits until the superblock write with ticket {@code seq} (or a later one) is on disk. */
    public void waitForSuperblock(long seq) {
        sbWait.waitUntil(() -> sbWritten >= seq || stopped);
    }

    /**
     * A member failed an I/O (from a completion callback: never blocks). Returns false when the
     * member is the last one that can serve its data: md never fails the last working device;
     * the error goes to the caller instead.
     */
    public boolean memberError(Member m) {
        MemberState was = m.state();
        if (!personality.tryFail(m)) {
            return false;
        }
        if (m.markFaulty()) {
            requestSuperblockWrite();
            Redundancy r = redundancy;
            if (r != null) {
                r.memberFailed(m, was);
            }
        }
        return true;
    }

    /** The newest superblock write ticket known to be on disk. */
    public long superblockWrittenTicket() {
        return sbWritten;
    }

    /** Wakes the md thread (personality work is pending). Never blocks. */
    public void wakeMdThread() {
        mdThread.wakeup();
    }

    private void mdThreadRun() {
        personality.mdThreadWork();
        Redundancy r = redundancy;
        if (r != null) {
            r.mdThreadWork();
        }
        long want = sbRequested.get();
        if (readOnly) {
            sbWritten = want; // a read-only array never writes its members
            sbWait.wakeAll();
            personality.superblockWritten();
            return;
        }
        if (want > sbWritten) {
            writeSuperblocks();
            sbWritten = want;
            sbWait.wakeAll();
        }
        // Every pass, not only after a write: a request held for ticket N may join the held list
        // just after the pass that wrote N looked at it (it took the ticket, then was added).
        personality.superblockWritten();
        if (!readOnly && !writeState.isClean() && writeState.writers() == 0
            && env.clock().nanoTime() - lastWriteEndNanos >= SAFE_MODE_DELAY_NANOS && writeState.tryMarkClean()) {
            writeSuperblocks();
        }
    }

    /**
     * Writes the current state to every working member: events + 1. A member whose superblock
     * write fails is failed, and the update repeats on the rest (its role changed).
     * Runs on the md thread while running; on the assembling or stopping thread otherwise.
     */
    private void writeSuperblocks() {
        while (true) {
            if (writeState.isClean()) {
                flushMembers();
            }
            // Faulty before the roles are computed: this write records them (see Member#isFaultRecorded).
            List<Member> faulty = members.stream().filter(m -> m.state() == MemberState.FAULTY).toList();
            List<Member> inSync = members.stream().filter(Member::isInSync).toList(); // as the roles will say
            Superblock1 next = nextArraySuperblock();
            Redundancy r = redundancy;
            if (r != null) {
                r.beforeSuperblockWrite(next.events()); // bitmap events never behind the superblock's
            }
            boolean again = false;
            int written = 0;
            // Members whose superblock is behind first: assembly takes a member one event behind
            // the freshest as current, and if the freshest got this update before a crash while
            // such a member did not, it would be two behind and left out as stale (found by
            // jmd sim --seed 1150 --ops 6000 --level raid6: every member but one left out). Behind
            // first, the members on disk never differ by more than one event.
            List<Member> order = new java.util.ArrayList<>(members);
            order.sort(java.util.Comparator.comparingLong(m -> m.superblock().events()));
            for (Member m : order) {
                if (m.state() == MemberState.FAULTY) {
                    continue;
                }
                Superblock1 sb = forMember(next, m);
                int st = SuperblockIo.write(env, m.device(), sb, location, sbBuffers.get(m));
                if (st == Errno.OK) {
                    m.setSuperblock(sb);
                    written++;
                    if (inSync.contains(m)) {
                        m.markInSyncRecorded();
                    }
                } else if (memberError(m)) {
                    again = true;
                }
            }
            arraySuperblock = next;
            if (written > 0) {
                faulty.forEach(Member::markFaultRecorded);
            }
            if (!again || written == 0) {
                return;
            }
        }
    }

    /**
     * Flushes every working member before a "clean" superblock is written to any of them. Each
     * superblock write flushes its own member first, but a clean superblock on one member while
     * another's last writes are still in its cache says "mirrors agree" when a crash may make them
     * differ: the next assembly would take it as freshest and skip the resync (found by
     * {@code jmd sim --seed 741 --ops 10000}; md avoids it by rolling events back on a clean
     * transition, so that a member that missed it looks newer). A member whose flush fails is failed.
     */
    private void flushMembers() {
        for (Member m : members) {
            if (m.state() != MemberState.FAULTY && SyncIo.flush(env.scheduler(), m.device()) != Errno.OK) {
                memberError(m);
            }
        }
    }

    private Superblock1 nextArraySuperblock() {
        Superblock1 cur = arraySuperblock;
        int[] roles = new int[cur.maxDev()];
        java.util.Arrays.fill(roles, DevRole.SPARE);
        for (Member m : members) {
            roles[m.devNumber()] = switch (m.state()) {
                case FAULTY -> DevRole.FAULTY;
                case IN_SYNC, RECOVERING -> m.slot();
                case SPARE -> DevRole.SPARE;
            };
        }
        long resync = writeState.isClean() ? resyncDoneSectors : 0;
        return cur.toBuilder()
            .events(cur.events() + 1)
            .utime(MdTime.of(Instant.ofEpochMilli(env.clock().wallMillis())))
            .resyncOffsetSectors(resync)
            .devRoles(io.jmd.md.format.DevRoles.of(roles))
            .build();
    }

    private static Superblock1 forMember(Superblock1 array, Member m) {
        Superblock1 own = m.superblock();
        io.jmd.md.format.Superblock1Builder b = array.toBuilder()
            .devNumber(own.devNumber())
            .deviceUuid(own.deviceUuid())
            .dataOffsetSectors(own.dataOffsetSectors())
            .dataSizeSectors(own.dataSizeSectors())
            .superOffsetSectors(own.superOffsetSectors())
            .recoveryOffsetSectors(0)
            .cntCorrectedRead(m.correctedReads())
            .devFlags(own.devFlags())
            .bblogShift(own.bblogShift())
            .bblogSizeSectors(own.bblogSizeSectors())
            .bblogOffsetSectors(own.bblogOffsetSectors())
            .removeFeature(io.jmd.md.format.FeatureBits.RECOVERY_OFFSET)
            .removeFeature(io.jmd.md.format.FeatureBits.RECOVERY_BITMAP);
        if (m.state() == MemberState.RECOVERING) {
            // md's super_1_sync: a member holding a slot but not in sync records how far it is rebuilt
            b.addFeature(io.jmd.md.format.FeatureBits.RECOVERY_OFFSET).recoveryOffsetSectors(m.recoveryOffsetBytes() / 512);
            if (m.isReAdded() && array.hasFeature(io.jmd.md.format.FeatureBits.BITMAP_OFFSET)) {
                b.addFeature(io.jmd.md.format.FeatureBits.RECOVERY_BITMAP);
            }
        }
        return b.build();
    }

    /** Whether members may differ somewhere (an unclean shutdown or an interrupted resync). */
    public boolean needsResync() {
        return resyncDoneSectors != io.jmd.md.format.Superblock1Layout.MAX_SECTOR;
    }

    public long resyncDoneSectors() {
        return resyncDoneSectors;
    }

    /** The sync engine's progress (recovery_cp): checkpoints and the end of a resync. */
    void setResyncDoneSectors(long sectors) {
        resyncDoneSectors = sectors;
    }

    /** Requests admitted since the array started. */
    public long requestsAdmitted() {
        return requestsAdmitted.get();
    }

    /**
     * Quiesces the array for a member change (md's mddev_suspend): new requests wait, admitted
     * ones end. False if they did not within {@code timeoutNanos} (then nothing is held). From a
     * thread that may wait, never the md thread; always paired with {@link #resume}.
     */
    boolean suspend(long timeoutNanos) {
        assert !mdThread.isCurrent() : "suspend from the md thread";
        if (stopped) {
            return false; // stopping: close() holds the slots and nothing may change any more
        }
        suspended = true;
        if (!inflight.acquire(inflight.capacity(), timeoutNanos)) {
            suspended = false;
            suspendWait.wakeAll();
            return false;
        }
        return true;
    }

    void resume() {
        inflight.release(inflight.capacity());
        suspended = false;
        suspendWait.wakeAll();
    }

    /** A new member (a spare) joins the list; its superblock buffer is allocated first. */
    void addMember(Member m) {
        sbBuffers.put(m, env.buffers().allocate(SuperblockIo.SUPERBLOCK_AREA_BYTES));
        members.add(m);
    }

    /**
     * A faulty or spare member leaves (quiesced, nothing in flight on it). Its superblock buffer
     * stays until the array stops: a superblock write may still hold it.
     */
    void removeMember(Member m) {
        members.remove(m);
        m.device().close();
    }

    /**
     * Declares the array in sync without a resync, before it starts (assembly forced on a dirty
     * degraded array, as mdadm --assemble --force marks it clean).
     */
    void markInSyncBeforeStart() {
        assert mdThread == null : "md thread already running";
        resyncDoneSectors = io.jmd.md.format.Superblock1Layout.MAX_SECTOR;
        writeState.tryMarkClean();
    }

    /** Writes the superblocks once from the calling thread, before the md thread runs. */
    void writeSuperblocksBeforeStart() {
        assert mdThread == null : "md thread already running";
        writeSuperblocks();
    }

    /**
     * Stops the array: waits for every admitted request, stops the md thread, marks the array
     * clean (if it can be) and closes the members. From a thread that may wait.
     */
    @Override
    public void close() {
        if (stopped) {
            return;
        }
        inflight.acquire(inflight.capacity());
        stopped = true;
        if (redundancy != null) {
            redundancy.stop(); // the sync thread ends, idle bitmap bits are cleared
        }
        mdThread.close();
        personality.stop();
        if (!readOnly) {
            writeState.tryMarkClean();
            writeSuperblocks();
        }
        inflight.release(inflight.capacity());
        if (redundancy != null) {
            redundancy.close();
        }
        sbBuffers.values().forEach(Buffer::release);
        for (Member m : members) {
            m.device().close();
        }
        sbWait.wakeAll();
    }
}
