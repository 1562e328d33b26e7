package io.jmd.md.resync;

import io.jmd.block.Bio;
import io.jmd.md.Member;
import io.jmd.mem.Buffer;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * One window of a sync in flight: a range of the resync address space, its preallocated buffers,
 * and the I/O of its current stage. Owned by the sync thread; completion callbacks only store
 * their status and count down ({@link #pending} starts at 1 for the submitting step: seed 002's
 * bias), the last one hands the window back to the sync thread.
 */
public final class SyncWindow {
    /** I/O submitted by one step at most: a write to each member and a slice of each 64 KiB unit. */
    public static final int IOS_MAX = 64 * 64;

    /** Members a recovery rebuilds, with where each starts; null for other actions. */
    public record Targets(List<Member> members) {
    }

    final int index;
    final Buffer[] buffers;
    private final AtomicInteger pending = new AtomicInteger();
    private final Consumer<SyncWindow> ended;
    private final int[] status = new int[IOS_MAX];
    private final Member[] ioMember = new Member[IOS_MAX];
    private int ios;
    /** A step began and has not submitted yet: the last stage's I/O records are still readable. */
    private boolean stepFresh;

    SyncAction action;
    long offsetBytes;
    long lengthBytes;
    int bucket;
    boolean started;
    Targets targets;
    /** Level's scratch: the stage it is in and what it tried; reset per window. */
    public int stage;
    public long triedSlots;
    public int sourceSlot;
    /** Slots whose whole-window read failed and were read again in pieces (raid4/5/6). */
    public long retriedSlots;
    /** Sectors found different (check, repair). */
    public long mismatchSectors;
    /**
     * The window was not done: cancelled (the sync stops), or with {@link #failureReason} set, it
     * could not be (no member could read it): the sync stops and is not retried until the
     * members change (md's recovery_disabled).
     */
    public boolean failed;
    public String failureReason;

    SyncWindow(int index, Buffer[] buffers, Consumer<SyncWindow> ended) {
        this.index = index;
        this.buffers = buffers;
        this.ended = ended;
    }

    void reset(SyncAction action, long offsetBytes, long lengthBytes, int bucket, Targets targets) {
        this.action = action;
        this.offsetBytes = offsetBytes;
        this.lengthBytes = lengthBytes;
        this.bucket = bucket;
        this.targets = targets;
        this.started = false;
        this.stage = 0;
        this.triedSlots = 0;
        this.sourceSlot = -1;
        this.retriedSlots = 0;
        this.mismatchSectors = 0;
        this.failed = false;
        this.failureReason = null;
        this.ios = 0;
        this.stepFresh = false;
    }

    public SyncAction action() {
        return action;
    }

    public long offsetBytes() {
        return offsetBytes;
    }

    public long lengthBytes() {
        return lengthBytes;
    }

    public Targets targets() {
        return targets;
    }

    /** Buffer {@code i}, cut to the window's length. */
    public MemorySegment buffer(int i) {
        return buffers[i].slice(0, lengthBytes);
    }

    /** I/O of the last stage, in submission order: how many, each one's member and status. */
    public int ios() {
        return ios;
    }

    public Member ioMember(int i) {
        return ioMember[i];
    }

    public int ioStatus(int i) {
        return status[i];
    }

    /**
     * Starts a step: takes the submitter's bias. The last stage's I/O stays readable through
     * {@link #ios} until the step's first submit.
     */
    void beginStep() {
        stepFresh = true;
        pending.set(1);
    }

    /** Ends a step's submissions: drops the bias; true if every I/O of the step already ended. */
    boolean endStep() {
        return pending.decrementAndGet() == 0;
    }

    boolean submittedThisStep() {
        return !stepFresh;
    }

    /** Submits {@code op} on {@code m} at device byte {@code deviceOffset}, counted in this step. */
    public void submit(Member m, Bio.Op op, long deviceOffset, long length, MemorySegment data) {
        if (stepFresh) {
            ios = 0;
            stepFresh = false;
        }
        assert ios < IOS_MAX : "too many I/Os in one sync step";
        int i = ios++;
        ioMember[i] = m;
        status[i] = Integer.MIN_VALUE;
        pending.incrementAndGet();
        m.ioStarted(deviceOffset + length);
        m.device().submit(new Bio(op, deviceOffset, length, data, 0, null, b -> {
            status[i] = b.status();
            m.ioEnded();
            if (pending.decrementAndGet() == 0) {
                ended.accept(this);
            }
        }));
    }
}
