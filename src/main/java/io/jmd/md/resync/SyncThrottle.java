package io.jmd.md.resync;

/**
 * md_do_sync's speed control, on the injected clock: a sync below sync_speed_min always goes on;
 * above it, it goes at full depth only while the array is idle (no normal request since the last
 * look; otherwise one window at a time, so normal I/O comes first), and above sync_speed_max it
 * waits. Speeds are measured from a mark refreshed every {@link #MARK_STEP_NANOS} and kept one step
 * back (md keeps ten marks of three seconds), so the figure covers the last 3 to 6 seconds.
 *
 * <p>Owned by the sync thread; the limits are set by the operator at any time.
 */
public final class SyncThrottle {
    /** md's defaults, /proc/sys/dev/raid/speed_limit_min and _max (KiB/s). */
    public static final long SPEED_MIN_KIB_DEFAULT = 1_000;
    public static final long SPEED_MAX_KIB_DEFAULT = 200_000;
    static final long MARK_STEP_NANOS = 3_000_000_000L;
    /** md sleeps 500 ms when above the maximum. */
    static final long OVER_MAX_SLEEP_NANOS = 500_000_000L;
    /** Speeds are measured over at least this long (the first window is not infinitely fast). */
    static final long MEASURE_MIN_NANOS = 1_000_000L;

    /** What the sync thread does next. */
    public static final long GO = 0;
    public static final long DRAIN = -1;

    private volatile long minKib;
    private volatile long maxKib;
    private volatile long changes;
    private long markNanos;
    private long markBytes;
    private long olderMarkNanos;
    private long olderMarkBytes;

    public SyncThrottle(long minKib, long maxKib) {
        setLimits(minKib, maxKib);
    }

    public void setLimits(long minKib, long maxKib) {
        if (minKib < 0 || maxKib <= 0) {
            throw new IllegalArgumentException("sync speed limits must be positive: min " + minKib + " max " + maxKib);
        }
        this.minKib = minKib;
        this.maxKib = maxKib;
        changes++;
    }

    /** Bumped by every {@link #setLimits}: a sync waiting out the old maximum looks again. */
    long changes() {
        return changes;
    }

    public long minKib() {
        return minKib;
    }

    public long maxKib() {
        return maxKib;
    }

    void start(long nowNanos, long doneBytes) {
        markNanos = olderMarkNanos = nowNanos;
        markBytes = olderMarkBytes = doneBytes;
    }

    /** Recent speed in bytes per second. */
    long speed(long nowNanos, long doneBytes) {
        if (nowNanos - markNanos >= MARK_STEP_NANOS) {
            olderMarkNanos = markNanos;
            olderMarkBytes = markBytes;
            markNanos = nowNanos;
            markBytes = doneBytes;
        }
        long dt = Math.max(MEASURE_MIN_NANOS, nowNanos - olderMarkNanos);
        return (long) ((doneBytes - olderMarkBytes) * 1e9 / dt);
    }

    /**
     * May the next window start? {@link #GO}; {@link #DRAIN}: only once no window is in flight
     * (the array is busy); or the nanoseconds to wait (above the maximum).
     */
    long decide(long nowNanos, long doneBytes, boolean idle) {
        long speed = speed(nowNanos, doneBytes);
        if (speed <= minKib * 1024) {
            return GO;
        }
        long max = maxKib * 1024;
        if (speed > max) {
            long dt = nowNanos - olderMarkNanos;
            long needed = (long) ((doneBytes - olderMarkBytes) * 1e9 / max);
            return Math.max(1_000_000L, Math.min(OVER_MAX_SLEEP_NANOS, needed - dt));
        }
        return idle ? GO : DRAIN;
    }
}
