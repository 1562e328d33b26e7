package io.jmd.md.resync;

import io.jmd.block.Errno;
import io.jmd.md.MdException;
import io.jmd.md.Member;
import io.jmd.mem.Buffer;
import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;
import io.jmd.work.Work;
import io.jmd.work.WorkQueue;

import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Decides, starts and reaps syncs: md_check_recovery, md_start_sync and md_reap_sync_thread.
 *
 * <h2>The recovery flags (md's MD_RECOVERY_*), one atomic word</h2>
 * <pre>
 *   NEEDED     something changed (a failure, a spare, a request): look again on the md thread
 *   RUNNING    a sync is being started or runs: only one at a time (set before the start work)
 *   SYNC       resync/check/repair           RECOVER   recovery onto members not in sync
 *   REQUESTED  asked for by the operator     CHECK     compare only (check)
 *   INTR       stop the running sync         DONE      the sync thread finished: reap it
 *   FROZEN     start nothing (stopping, or sync_action "frozen")
 *
 *   md thread:   !RUNNING && NEEDED && !FROZEN -> choose, set RUNNING|kind, queue the start work
 *                RUNNING && DONE -> reap: record the result, clear the kind, set NEEDED again
 *   start work:  (misc work queue: no I/O role, so it may start threads, seed 000) give spares
 *                their slots, allocate the window buffers, start the sync thread; on any failure
 *                clear every recovery flag (SYNC, RECOVER, REQUESTED, CHECK, RUNNING) and report
 *   sync thread: runs {@link SyncRun}, sets DONE, wakes the md thread
 * </pre>
 * The md thread never starts a thread and never waits for the start work; the start work may
 * wait for the md thread (a superblock write), never the other way round.
 */
public final class SyncEngine {
    public static final int NEEDED = 1;
    public static final int RUNNING = 1 << 1;
    public static final int SYNC = 1 << 2;
    public static final int RECOVER = 1 << 3;
    public static final int REQUESTED = 1 << 4;
    public static final int CHECK = 1 << 5;
    public static final int INTR = 1 << 6;
    public static final int DONE = 1 << 7;
    public static final int FROZEN = 1 << 8;
    /** The md thread took NEEDED and is choosing what to start (md has no such bit; see checkRecovery). */
    public static final int DECIDING = 1 << 9;
    private static final int KIND = SYNC | RECOVER | REQUESTED | CHECK;

    private static final System.Logger LOG = System.getLogger("io.jmd.md.resync");

    private final SyncHost host;
    private final AtomicInteger flags = new AtomicInteger();
    private final WorkQueue misc;
    private final Work startWork;
    private final SyncThrottle throttle = new SyncThrottle(SyncThrottle.SPEED_MIN_KIB_DEFAULT, SyncThrottle.SPEED_MAX_KIB_DEFAULT);
    /** The action the md thread chose for the start work (written before it is queued). */
    private volatile SyncAction starting;
    /** What the operator asked for, consumed by the md thread. */
    private final AtomicReference<SyncAction> requested = new AtomicReference<>();
    private volatile SyncRun run;
    private volatile JmdThread thread;
    private volatile long mismatchSectors;
    private volatile String lastError;
    private volatile SyncStatus lastFinished;
    /**
     * A sync failed for lack of any readable copy (md's recovery_disabled): nothing starts again on
     * its own until the members change ({@link #setNeeded}) or the operator asks.
     */
    private volatile boolean disabled;
    /** Memory for the sync buffers was short at the last start: try again after this long. */
    static final long MEMORY_RETRY_NANOS = 1_000_000_000L;

    /** Starts the misc work queue: from a thread that may start threads (assembly). */
    public SyncEngine(SyncHost host) {
        this.host = host;
        this.misc = new WorkQueue(host.env().scheduler(), host.name() + "_misc", EnumSet.noneOf(ThreadRole.class));
        this.startWork = new Work(host.name() + " start sync", this::startSync);
    }

    public SyncThrottle throttle() {
        return throttle;
    }

    /** Sets sync_speed_min/max (KiB/s); a sync waiting on the old maximum looks again at once. */
    public void setSpeedLimits(long minKib, long maxKib) {
        throttle.setLimits(minKib, maxKib);
        host.barrier().syncWaitQueue().wakeAll();
    }

    public int flags() {
        return flags.get();
    }

    /** Something changed that may call for a sync (members); the md thread looks at its next pass. */
    public void setNeeded() {
        disabled = false;
        flags.getAndUpdate(f -> f | NEEDED);
        host.wakeMdThread();
    }

    /** md_check_recovery's sync part; on the md thread each pass. Never blocks. */
    public void checkRecovery() {
        int f = flags.get();
        if ((f & RUNNING) != 0) {
            if ((f & DONE) != 0) {
                reap();
            }
            return;
        }
        if ((f & FROZEN) != 0 || (f & NEEDED) == 0 || host.isReadOnly()) {
            return;
        }
        // md's test_and_clear_bit(MD_RECOVERY_NEEDED) before looking at what is needed: whoever
        // changes the state and then sets NEEDED (request, setNeeded) is either seen below or
        // leaves NEEDED set for the next pass. Clearing it after looking lost a request that came
        // in between (its NEEDED fell on one already set). DECIDING takes NEEDED's place in the
        // same step, so an "idle" watcher never sees a gap before RUNNING.
        int before = flags.getAndUpdate(x -> (x & NEEDED) != 0 ? (x & ~NEEDED) | DECIDING : x);
        if ((before & NEEDED) == 0) {
            return;
        }
        SyncAction a;
        try {
            a = choose();
        } catch (RuntimeException | Error e) {
            flags.getAndUpdate(x -> (x & ~DECIDING) | NEEDED); // looked at again on the next pass
            throw e;
        }
        if (a == null) {
            flags.getAndUpdate(x -> x & ~DECIDING);
            return;
        }
        int kind = switch (a) {
            case RESYNC -> SYNC;
            case RECOVER -> RECOVER;
            case CHECK -> SYNC | REQUESTED | CHECK;
            case REPAIR -> SYNC | REQUESTED;
        };
        starting = a;
        // RUNNING is set before the request is consumed: someone watching for "idle" never sees a
        // gap between the two. Only the request acted on is consumed: one that came in after it was
        // read waits (with its NEEDED) for this sync to end.
        flags.getAndUpdate(x -> (x & ~DECIDING) | RUNNING | kind);
        requested.compareAndSet(a, null);
        misc.queue(startWork);
    }

    /** What to start now: the operator's request, else a needed recovery or resync; null for nothing. */
    private SyncAction choose() {
        SyncAction a = requested.get();
        if (a != null) {
            return a;
        }
        if (disabled) {
            return null;
        }
        if (host.hasRecoveryWork()) {
            return SyncAction.RECOVER;
        }
        return host.resyncDoneBytes() != Long.MAX_VALUE ? SyncAction.RESYNC : null;
    }

    /** md_start_sync: on the misc work queue. */
    private void startSync() {
        SyncAction a = starting;
        Buffer[][] buffers = null;
        boolean started = false;
        try {
            if ((flags.get() & (FROZEN | INTR)) != 0) {
                throw new MdException("sync not started: the array is stopping or frozen");
            }
            SyncLevel level = host.syncLevel();
            if (level == null) {
                throw new MdException(a.syncActionName() + ": this level has no redundancy to sync");
            }
            List<Member> targets = a == SyncAction.RECOVER ? host.prepareRecovery() : List.of();
            if (a == SyncAction.RECOVER && targets.isEmpty()) {
                clearAll();
                return;
            }
            long to = level.sizeBytes();
            long from = switch (a) {
                case RESYNC -> Math.min(host.resyncDoneBytes(), to);
                case RECOVER -> targets.stream().mapToLong(host::recoveryStartBytes).min().orElse(0);
                case CHECK, REPAIR -> 0;
            };
            boolean useBitmap = switch (a) {
                case RESYNC -> true;
                case RECOVER -> targets.stream().allMatch(host::isReAdded);
                case CHECK, REPAIR -> false;
            };
            buffers = SyncRun.allocate(host.env(), level.buffersPerWindow(a), to - from);
            if (buffers == null) {
                host.env().timer().schedule(MEMORY_RETRY_NANOS, this::setNeeded); // memory comes back: try again
                throw new MdException("no memory for the sync buffers now (not even one " + SyncRun.WINDOW_BYTES_MIN / 1024
                    + " KiB window); trying again in " + MEMORY_RETRY_NANOS / 1_000_000_000L + " s");
            }
            flags.getAndUpdate(x -> x & ~INTR);
            SyncRun r = new SyncRun(host, level, a, from, Math.max(from, to), targets, useBitmap, buffers, throttle,
                () -> (flags.get() & INTR) != 0, this::syncThreadEnded);
            run = r;
            // Before the start: a fast sync thread would otherwise post its progress, and even its
            // end, before the event that it started (a monitor saw a rebuild finish before it began).
            host.event("RebuildStarted", null, a.syncActionName() + " from " + from / 1024 + "K of " + to / 1024 + "K"
                + (a == SyncAction.RECOVER ? " onto " + String.join(",", targets.stream().map(Member::path).toList()) : ""));
            JmdThread t = host.env().scheduler().start(host.name() + "_" + a.syncActionName(), EnumSet.of(ThreadRole.IO_PROGRESS), r);
            started = true;
            thread = t;
            lastError = null;
        } catch (MdException | RuntimeException | OutOfMemoryError e) {
            if (started) { // nothing after the start throws today; if it did, the thread runs and will be reaped
                LOG.log(System.Logger.Level.WARNING, host.name() + ": " + e);
                return;
            }
            if (buffers != null) {
                SyncRun.release(buffers);
            }
            run = null;
            clearAll();
            host.event("SyncStartFailed", null, a.syncActionName() + ": " + e.getMessage());
            lastError = e.getMessage(); // after the report: whoever sees the error finds the event too
            LOG.log(System.Logger.Level.ERROR, host.name() + ": could not start " + a.syncActionName() + ": " + e);
        }
    }

    /** Every recovery flag goes (md_start_sync's failure path); FROZEN and NEEDED are left alone. */
    private void clearAll() {
        flags.getAndUpdate(x -> x & ~(RUNNING | KIND | INTR | DONE));
        thread = null;
    }

    private void syncThreadEnded() {
        flags.getAndUpdate(x -> x | DONE);
        host.wakeMdThread();
    }

    /** md_reap_sync_thread: once per sync, whoever first sees DONE (md thread or stop). */
    private void reap() {
        int f = flags.get();
        if ((f & DONE) == 0 || !flags.compareAndSet(f, f & ~DONE)) {
            return;
        }
        SyncRun r = run;
        boolean done = r.completed();
        if (r.action.compares()) {
            mismatchSectors = r.mismatchSectors();
        }
        lastFinished = r.status();
        host.syncEnded(r.action, done, r.doneBytes(), r.targets, r.mismatchSectors());
        String failure = r.failure();
        if (failure != null) {
            disabled = true;
            lastError = r.action.syncActionName() + " failed: " + failure;
        }
        String detail = r.action.syncActionName() + (done ? " done" : failure != null
            ? " failed at " + r.doneBytes() / 1024 + "K: " + failure + "; not retried until the members change"
            : " interrupted at " + r.doneBytes() / 1024 + "K")
            + (r.action.compares() ? ", mismatches found: " + r.mismatchSectors() : "")
            + (r.skippedChunks() + r.syncedChunks() > 0 ? ", bitmap chunks synced " + r.syncedChunks() + " of "
            + (r.skippedChunks() + r.syncedChunks()) : "");
        host.event("RebuildFinished", null, detail);
        run = null;
        thread = null;
        flags.getAndUpdate(x -> (x & ~(RUNNING | KIND | INTR)) | (failure == null ? NEEDED : 0));
        host.wakeMdThread();
    }

    /**
     * The operator asks for {@code a} (sync_action check/repair/resync). Returns 0, EBUSY while
     * another sync runs, EROFS on a read-only array, ENOTSUP for a level without online sync yet;
     * the sync starts on the md thread's next pass.
     */
    public int request(SyncAction a) {
        if (host.isReadOnly()) {
            return Errno.EROFS;
        }
        if (host.syncLevel() == null) {
            return Errno.ENOTSUP;
        }
        if ((flags.get() & RUNNING) != 0 || !requested.compareAndSet(null, a)) {
            return Errno.EBUSY;
        }
        disabled = false;
        flags.getAndUpdate(x -> (x & ~FROZEN) | NEEDED);
        host.wakeMdThread();
        return Errno.OK;
    }

    /** sync_action "idle": interrupts the running sync (a needed resync or recovery starts again). */
    public void interrupt() {
        flags.getAndUpdate(x -> (x & RUNNING) != 0 ? x | INTR : x);
        host.barrier().syncWaitQueue().wakeAll();
    }

    /** sync_action "frozen" (true) or "idle" after frozen (false). */
    public void setFrozen(boolean frozen) {
        if (frozen) {
            flags.getAndUpdate(x -> x | FROZEN);
            interrupt();
        } else {
            flags.getAndUpdate(x -> (x & ~FROZEN) | NEEDED);
            host.wakeMdThread();
        }
    }

    /** What sync_action would read: idle, frozen, resync, recover, check, repair. */
    public String syncActionName() {
        int f = flags.get();
        SyncRun r = run;
        if ((f & RUNNING) != 0 && r != null) {
            return r.action.syncActionName();
        }
        if ((f & RUNNING) != 0 && starting != null) {
            return starting.syncActionName();
        }
        return (f & FROZEN) != 0 ? "frozen" : "idle";
    }

    /** The running sync, or null. */
    public SyncStatus status() {
        SyncRun r = run;
        return r == null ? null : r.status();
    }

    /** The last finished sync's figures (or null). */
    public SyncStatus lastFinished() {
        return lastFinished;
    }

    /** md's mismatch_cnt: sectors the last check or repair found different. */
    public long mismatchSectors() {
        return mismatchSectors;
    }

    /** Why the last sync could not start (null if it did). */
    public String lastError() {
        return lastError;
    }

    public boolean isRunning() {
        return (flags.get() & RUNNING) != 0;
    }

    /** Nothing runs, nothing is asked for, and the md thread has looked since the last change. */
    public boolean isIdle() {
        return (flags.get() & (RUNNING | NEEDED | DECIDING)) == 0 && requested.get() == null;
    }

    /**
     * Stops for good (array stop): freezes, interrupts, waits for the start work and the sync
     * thread, reaps. From the stopping thread (never the md thread or this queue's thread).
     */
    public void stop() {
        flags.getAndUpdate(x -> x | FROZEN);
        interrupt();
        misc.flush();
        interrupt();
        JmdThread t = thread;
        if (t != null) {
            host.env().scheduler().join(t);
        }
        if (run != null) {
            reap();
        }
        misc.close();
    }

    /** Runs {@code work} on the misc queue (member changes the control socket asks for). */
    public void queue(Work work) {
        misc.queue(work);
    }
}
