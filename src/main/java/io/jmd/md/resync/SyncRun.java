package io.jmd.md.resync;

import io.jmd.md.Member;
import io.jmd.md.bitmap.WriteIntentBitmap;
import io.jmd.mem.Buffer;
import io.jmd.sync.WaitQueue;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BooleanSupplier;

/**
 * The body of one sync thread (md_do_sync): walks [from, to) of the resync address space in
 * windows, a few in flight, as an event loop that never blocks on a barrier (see
 * {@link SyncBarrier}: windows end on member I/O alone, so normal writes waiting for them always
 * go on).
 *
 * <pre>
 *   each turn:  windows whose I/O ended  -> level.step (next stage, or finished: lower barrier)
 *               raised windows now drained of normal writes -> level.step (first stage)
 *               finished windows at the head, in order -> doneBytes advances; checkpoints,
 *                                                        bitmap endSync of whole chunks behind it
 *               room, throttle allows, barrier raisable -> next window (clean bitmap chunks skipped)
 *               wait for any of those
 * </pre>
 * Memory: every window buffer was allocated by the start work before this thread started; the
 * loop allocates nothing (the thread is an I/O-progress thread: normal writes wait for it).
 */
final class SyncRun implements Runnable {
    /**
     * Window of the resync address space one step moves: 4 MiB (16 per barrier unit), or less
     * when memory is short (down to {@link #WINDOW_BYTES_MIN}).
     */
    static final long WINDOW_BYTES = 4L << 20;
    static final long WINDOW_BYTES_MIN = 64L << 10;
    /**
     * Window buffers one sync may hold: 32 MiB (depth 8 for a copy, 4 for a 2-way check), and at
     * most a quarter of the memory budget, so normal I/O keeps the rest.
     */
    static final long BUFFER_BYTES_MAX = 32L << 20;
    static final int DEPTH_MAX = 8;
    /**
     * Windows in flight a sync prefers to larger windows: with many buffers per window (a parity
     * level's, one per member) the largest window would leave one in flight, and the sync would
     * read, compute and write in turn instead of at once.
     */
    static final int DEPTH_WANTED = 4;
    /** md_do_sync records its progress every 1/16 of the range or 30 s. */
    static final long CHECKPOINT_NANOS = 30_000_000_000L;
    /** How long to look again when normal writes held a barrier back (they do not wake us). */
    static final long WAITERS_RETRY_NANOS = 2_000_000L;

    private final SyncHost host;
    private final SyncLevel level;
    final SyncAction action;
    final long fromBytes;
    final long toBytes;
    final List<Member> targets;
    /** Bitmap chunks are visited (startSync/endSync: a completed sync clears their need). */
    private final boolean useBitmap;
    /** Clean chunks are skipped (resync, re-add recovery); a full sync visits them all. */
    private final boolean skipClean;
    private final boolean degradedAfter;
    private final SyncThrottle throttle;
    private final BooleanSupplier interrupted;
    private final Runnable onEnd;
    private final SyncWindow[] windows;
    private final long windowBytes;
    private final ArrayDeque<SyncWindow> free = new ArrayDeque<>();
    private final ArrayDeque<SyncWindow> inFlight = new ArrayDeque<>();
    private final ConcurrentLinkedQueue<SyncWindow> ended = new ConcurrentLinkedQueue<>();
    private final boolean[] finished;
    private final WaitQueue wake;
    private final SyncBarrier barrier;
    private final WriteIntentBitmap bitmap;

    private long pos;
    private volatile long doneBytes;
    private volatile long speedBytesPerSec;
    private volatile long mismatchSectors;
    private volatile long skippedChunks;
    private volatile long syncedChunks;
    private volatile boolean completed;
    private boolean failed;
    private volatile String failure;
    private boolean doneFrozen;
    /** Bytes of windows issued: what throttling measures (md's io_sectors; skipped chunks cost nothing). */
    private long ioBytes;
    private long lastStartedChunk = -1;
    private boolean lastChunkNeeded;
    private long nextChunkToEnd;
    private long checkpointBytes;
    private long checkpointNanos;
    private int percentReported;
    private long lastNormalRequests = -1;

    SyncRun(SyncHost host, SyncLevel level, SyncAction action, long fromBytes, long toBytes, List<Member> targets,
            boolean useBitmap, Buffer[][] buffers, SyncThrottle throttle, BooleanSupplier interrupted, Runnable onEnd) {
        this.host = host;
        this.level = level;
        this.action = action;
        this.fromBytes = fromBytes;
        this.toBytes = toBytes;
        this.targets = List.copyOf(targets);
        this.bitmap = host.bitmap();
        this.useBitmap = bitmap != null && !action.compares();
        this.skipClean = useBitmap && bitmap != null;
        this.degradedAfter = !level.fullAfterSync(new SyncWindow.Targets(this.targets));
        this.throttle = throttle;
        this.interrupted = interrupted;
        this.onEnd = onEnd;
        this.barrier = host.barrier();
        this.wake = barrier.syncWaitQueue();
        this.windows = new SyncWindow[buffers.length];
        this.windowBytes = buffers[0][0].lengthBytes();
        this.finished = new boolean[buffers.length];
        for (int i = 0; i < buffers.length; i++) {
            windows[i] = new SyncWindow(i, buffers[i], w -> {
                ended.add(w);
                wake.wakeAll();
            });
            free.add(windows[i]);
        }
        this.pos = fromBytes;
        this.doneBytes = fromBytes;
        this.nextChunkToEnd = this.useBitmap ? bitmap.chunkOf(fromBytes) : 0;
    }

    /**
     * Window buffers: depth x buffersPerWindow of one window size, the largest that fits both
     * caps and the budget now (tried without waiting); null if not even one smallest window does.
     */
    static Buffer[][] allocate(io.jmd.Env env, int buffersPerWindow, long rangeBytes) {
        long cap = Math.min(BUFFER_BYTES_MAX, env.budget().totalBytes() / 4);
        for (long window = WINDOW_BYTES; window >= WINDOW_BYTES_MIN; window /= 4) {
            int depth = (int) Math.max(1, Math.min(DEPTH_MAX, cap / (window * buffersPerWindow)));
            depth = (int) Math.max(1, Math.min(depth, Math.ceilDiv(Math.max(rangeBytes, 1), window)));
            if (window * buffersPerWindow > cap && window > WINDOW_BYTES_MIN) {
                continue;
            }
            if (depth < DEPTH_WANTED && window > WINDOW_BYTES_MIN && rangeBytes >= DEPTH_WANTED * window) {
                continue; // smaller windows, more in flight: reads of one overlap the writes of another
            }
            Buffer[][] out = tryAllocate(env, depth, buffersPerWindow, window);
            if (out != null) {
                return out;
            }
        }
        return null;
    }

    private static Buffer[][] tryAllocate(io.jmd.Env env, int depth, int buffersPerWindow, long window) {
        Buffer[][] out = new Buffer[depth][buffersPerWindow];
        for (int d = 0; d < depth; d++) {
            for (int i = 0; i < buffersPerWindow; i++) {
                Buffer b = env.buffers().tryAllocate(window);
                if (b == null) {
                    release(out);
                    return null;
                }
                out[d][i] = b;
            }
        }
        return out;
    }

    static void release(Buffer[][] buffers) {
        for (Buffer[] row : buffers) {
            for (Buffer b : row) {
                if (b != null) {
                    b.release();
                }
            }
        }
    }

    /** The progress in md's units for the action ({@link SyncLevel#progressBytes}). */
    SyncStatus status() {
        return new SyncStatus(action, level.progressBytes(action, doneBytes), level.progressBytes(action, toBytes),
            level.progressBytes(action, speedBytesPerSec), mismatchSectors, skippedChunks, syncedChunks);
    }

    long doneBytes() {
        return doneBytes;
    }

    long mismatchSectors() {
        return mismatchSectors;
    }

    boolean completed() {
        return completed;
    }

    /** Why the sync could not go on (a window no member could serve), or null. */
    String failure() {
        return failure;
    }

    long skippedChunks() {
        return skippedChunks;
    }

    long syncedChunks() {
        return syncedChunks;
    }

    @Override
    public void run() {
        try {
            throttle.start(host.env().clock().nanoTime(), 0);
            checkpointNanos = host.env().clock().nanoTime();
            checkpointBytes = fromBytes;
            loop();
            completed = !failed && pos >= toBytes && doneBytes >= toBytes && !interrupted.getAsBoolean();
            endBitmapChunks(completed);
        } finally {
            for (SyncWindow w : windows) {
                for (Buffer b : w.buffers) {
                    b.release();
                }
            }
            onEnd.run();
        }
    }

    private void loop() {
        while (true) {
            SyncWindow w;
            while ((w = ended.poll()) != null) {
                advance(w);
            }
            for (SyncWindow x : inFlight) {
                if (!x.started && !finished[x.index] && barrier.drained(x.bucket)) {
                    x.started = true;
                    advance(x);
                }
            }
            boolean stopping = failed || interrupted.getAsBoolean();
            if (stopping) {
                cancelUnstarted();
            }
            retire();
            if (inFlight.isEmpty() && (stopping || pos >= toBytes)) {
                return;
            }
            long waitNanos = stopping ? Long.MAX_VALUE : issue();
            if (waitNanos == 0) {
                continue;
            }
            // once stopping, only ended windows matter (the interrupt flag stays set: waiting on it would spin)
            boolean wasStopping = stopping;
            long limits = throttle.changes();
            wake.waitUntil(() -> !ended.isEmpty() || anyDrained() || !wasStopping && interrupted.getAsBoolean()
                || throttle.changes() != limits, waitNanos);
        }
    }

    private boolean anyUnfinished() {
        for (SyncWindow x : inFlight) {
            if (!finished[x.index]) {
                return true;
            }
        }
        return false;
    }

    private boolean anyDrained() {
        for (SyncWindow x : inFlight) {
            if (!x.started && barrier.drained(x.bucket)) {
                return true;
            }
        }
        return false;
    }

    /** Runs steps of {@code w} until it waits for I/O or is finished. */
    private void advance(SyncWindow w) {
        while (true) {
            w.beginStep();
            boolean done = level.step(w);
            if (done) {
                w.endStep();
                finish(w);
                return;
            }
            assert w.submittedThisStep() : "sync step submitted nothing and did not finish";
            if (!w.endStep()) {
                return; // the last I/O's callback hands it back
            }
        }
    }

    private void finish(SyncWindow w) {
        finished[w.index] = true;
        barrier.lower(w.bucket);
        mismatchSectors += w.mismatchSectors;
        if (w.failed && w.failureReason != null) {
            failed = true;
            if (failure == null) {
                failure = w.failureReason;
            }
        }
    }

    /**
     * Retires finished windows at the head, in order; doneBytes is the start of the first one
     * left. A failed (or cancelled) window freezes doneBytes at its start for the rest of the run.
     */
    private void retire() {
        while (!inFlight.isEmpty() && finished[inFlight.peekFirst().index]) {
            SyncWindow w = inFlight.pollFirst();
            finished[w.index] = false;
            free.add(w);
            if (w.failed && !doneFrozen) {
                doneFrozen = true;
                doneBytes = Math.max(doneBytes, w.offsetBytes);
            }
        }
        if (doneFrozen) {
            return;
        }
        long done = inFlight.isEmpty() ? pos : inFlight.peekFirst().offsetBytes;
        if (done > doneBytes) {
            doneBytes = done;
            progressed(done);
        }
    }

    /** Stopping: windows still waiting for normal writes to drain are dropped without I/O. */
    private void cancelUnstarted() {
        for (SyncWindow x : inFlight) {
            if (!x.started && !finished[x.index]) {
                x.started = true;
                x.failed = true;
                finish(x);
            }
        }
    }

    private void progressed(long done) {
        if (useBitmap) {
            while (nextChunkToEnd <= lastStartedChunk && (nextChunkToEnd + 1) * bitmap.chunkBytes() <= done) {
                bitmap.endSync((int) nextChunkToEnd, false);
                nextChunkToEnd++;
            }
        }
        long now = host.env().clock().nanoTime();
        if (action == SyncAction.RESYNC || action == SyncAction.RECOVER) {
            long span = Math.max(windowBytes, (toBytes - fromBytes) / 16);
            if (done < toBytes && (done - checkpointBytes >= span || now - checkpointNanos >= CHECKPOINT_NANOS)) {
                host.checkpoint(action, done, targets);
                checkpointBytes = done;
                checkpointNanos = now;
            }
        }
        int percent = (int) ((done - fromBytes) * 100 / Math.max(1, toBytes - fromBytes));
        while (percentReported + 20 <= percent && percentReported + 20 < 100) {
            percentReported += 20;
            host.event("Rebuild" + percentReported, null, action.syncActionName());
        }
    }

    /**
     * Starts windows while there is room; returns 0 to run the loop again at once, else how long
     * to wait (Long.MAX_VALUE: until a window or a drain wakes us).
     */
    private long issue() {
        boolean startedSome = false;
        while (!free.isEmpty() && pos < toBytes) {
            if (!skipClean()) {
                continue;
            }
            long now = host.env().clock().nanoTime();
            speedBytesPerSec = throttle.speed(now, ioBytes);
            long decision = throttle.decide(now, ioBytes, idle());
            if (decision == SyncThrottle.DRAIN && !inFlight.isEmpty()) {
                // Wait for a window still running to end; but a window that finished at once (no
                // work, or I/O that ended before its step returned) only needs retiring: waiting
                // for it would wait for nothing, forever (a recovery under load hung that way).
                return anyUnfinished() ? Long.MAX_VALUE : 0;
            }
            if (decision > 0) {
                return decision;
            }
            long end = windowEnd();
            int bucket = SyncBarrier.bucketOf(pos);
            if (!barrier.tryRaise(bucket, windows.length)) {
                return startedSome ? 0 : WAITERS_RETRY_NANOS;
            }
            SyncWindow w = free.poll();
            w.reset(action, pos, end - pos, bucket, new SyncWindow.Targets(targets));
            finished[w.index] = false;
            inFlight.addLast(w);
            ioBytes += end - pos;
            pos = end;
            startedSome = true;
            if (barrier.drained(bucket)) {
                w.started = true;
                advance(w);
            }
        }
        if (pos >= toBytes && inFlight.isEmpty()) {
            return 0;
        }
        return startedSome ? 0 : Long.MAX_VALUE;
    }

    /** With a bitmap: moves {@code pos} past chunks that need no sync; false if it moved. */
    private boolean skipClean() {
        if (!useBitmap) {
            return true;
        }
        long chunk = pos / bitmap.chunkBytes();
        if (chunk > lastStartedChunk) {
            startChunk(chunk);
        }
        if (lastChunkNeeded || !skipClean) {
            return true;
        }
        pos = Math.min(toBytes, (chunk + 1) * bitmap.chunkBytes());
        if (inFlight.isEmpty()) {
            doneBytes = pos;
            progressed(pos);
        }
        return false;
    }

    private void startChunk(long chunk) {
        lastChunkNeeded = bitmap.startSync((int) chunk, degradedAfter);
        lastStartedChunk = chunk;
        if (lastChunkNeeded || !skipClean) {
            syncedChunks++;
        } else {
            skippedChunks++;
        }
    }

    /** End of the next window: a window size, the range, the barrier unit, and clean chunks cut it. */
    private long windowEnd() {
        long end = Math.min(Math.min(pos + windowBytes, toBytes), (pos / SyncBarrier.UNIT_BYTES + 1) * SyncBarrier.UNIT_BYTES);
        if (useBitmap) {
            long cb = bitmap.chunkBytes();
            while ((end - 1) / cb > lastStartedChunk) {
                long next = lastStartedChunk + 1;
                startChunk(next);
                if (!lastChunkNeeded && skipClean) {
                    end = next * cb;
                    break;
                }
            }
        }
        return end;
    }

    private boolean idle() {
        long n = host.normalRequests();
        boolean idle = n == lastNormalRequests;
        lastNormalRequests = n;
        return idle;
    }

    /** Chunks a completed sync leaves behind get their RESYNC cleared; an aborted one restores NEEDED. */
    private void endBitmapChunks(boolean done) {
        if (!useBitmap) {
            return;
        }
        for (long c = nextChunkToEnd; c <= lastStartedChunk; c++) {
            bitmap.endSync((int) c, !done && (c + 1) * bitmap.chunkBytes() > doneBytes);
        }
        nextChunkToEnd = lastStartedChunk + 1;
    }
}
