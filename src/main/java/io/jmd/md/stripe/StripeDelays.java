package io.jmd.md.stripe;

import io.jmd.Env;

import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * md's delayed list (raid5.c: STRIPE_DELAYED, conf->delayed_list, raid5_activate_delayed), bounded
 * in time and size: a partial-stripe write that would have to read before it writes, and that the
 * next write of a sequential stream would complete, waits a little for that write instead. When
 * it comes, the stripe is written whole, parity from the new data alone; nothing is read that is
 * about to be overwritten, and parity is written once instead of once per request.
 *
 * <p>A stripe waits at most {@link #DELAY_NANOS} (md waits for the unplug or for idle; jmd's
 * submitters do not plug, so a deadline stands in: a stream's next request is received within
 * it), and at most a quarter of the stripe cache waits at once, so submitters waiting for a free
 * stripe wait only for a deadline. A flush ends every wait at once ({@link #releaseAll}); FUA
 * writes and writes outside a sequential stream are never delayed (the caller decides).
 *
 * <p>Threads: {@link #hold}, {@link #issued} and {@link #releaseDue} run on the stripe handler
 * (the md thread), which owns the stripe's delay fields and the list; {@link #releaseAll} and the
 * timer's wake-up come from any thread and only bump an epoch and wake the md thread.
 */
final class StripeDelays {
    static final byte NONE = 0;
    static final byte WAITING = 1;
    static final byte RELEASED = 2;
    /** Longest a partial stripe waits for the rest of its data: a few 1 MiB requests' receive time. */
    static final long DELAY_NANOS = 2_000_000L;
    /** At most cache size / this many stripes wait at once. */
    static final int CACHE_SHARE_DIVISOR = 4;

    private record Entry(StripeHead sh, long until) { }

    private final Env env;
    private final StripeCache cache;
    private final Runnable wakeHandler;
    /** Handler-owned: stripes in the order they began to wait (so by deadline). May hold stale entries. */
    private final ArrayDeque<Entry> list = new ArrayDeque<>();
    /** Handler-owned: stripes WAITING now. */
    private int waiting;
    private final AtomicLong releaseEpoch = new AtomicLong();
    private final AtomicBoolean timerArmed = new AtomicBoolean();
    private volatile long delayNanos = DELAY_NANOS;

    StripeDelays(Env env, StripeCache cache, Runnable wakeHandler) {
        this.env = env;
        this.cache = cache;
        this.wakeHandler = wakeHandler;
    }

    /**
     * Handler: whether the stripe's write batch, which needs reads, waits now. {@code wanted}: the
     * batch may wait at all (not FUA, and more writes of a stream would complete it). A stripe that
     * waited and was released does not wait again before its batch is written.
     */
    boolean hold(StripeHead sh, boolean wanted) {
        long now = env.clock().nanoTime();
        switch (sh.delay) {
            case WAITING -> {
                if (wanted && now - sh.delayUntil < 0 && sh.delayEpoch == releaseEpoch.get()) {
                    return true;
                }
                leave(sh, RELEASED);
                return false;
            }
            case RELEASED -> {
                return false;
            }
            default -> {
                if (!wanted || delayNanos == 0 || waiting >= Math.max(1, cache.size() / CACHE_SHARE_DIVISOR)) {
                    return false;
                }
                sh.delay = WAITING;
                sh.delayUntil = now + delayNanos;
                sh.delayEpoch = releaseEpoch.get();
                waiting++;
                list.addLast(new Entry(sh, sh.delayUntil));
                armTimer(delayNanos);
                return true;
            }
        }
    }

    /** For tests: how long stripes that begin to wait from now on wait at most; 0 turns delays off. */
    void setDelayNanos(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("negative delay " + nanos);
        }
        delayNanos = nanos;
    }

    /** Handler: the stripe's batch goes out now (or failed): it is no longer delayed. */
    void issued(StripeHead sh) {
        leave(sh, NONE);
    }

    private void leave(StripeHead sh, byte next) {
        if (sh.delay == WAITING) {
            waiting--;
        }
        sh.delay = next;
    }

    /**
     * Handler, once per pass: queues every waiting stripe whose deadline passed (or all after a
     * {@link #releaseAll}) for handling, where {@link #hold} then lets it read and write.
     */
    void releaseDue(java.util.function.Consumer<StripeHead> queue) {
        if (list.isEmpty()) {
            return;
        }
        long epoch = releaseEpoch.get();
        long now = env.clock().nanoTime();
        Entry e;
        while ((e = list.peekFirst()) != null) {
            StripeHead sh = e.sh();
            boolean stale = sh.delay != WAITING || sh.delayUntil != e.until();
            if (!stale && now - e.until() < 0 && sh.delayEpoch == epoch) {
                armTimer(e.until() - now);
                return;
            }
            list.pollFirst();
            if (!stale) {
                queue.accept(sh);
            }
        }
    }

    /** Any thread (a flush): every waiting stripe goes ahead now. Never blocks. */
    void releaseAll() {
        releaseEpoch.incrementAndGet();
        wakeHandler.run();
    }

    /** Handler: stripes waiting now (tests, stop). */
    int waiting() {
        return waiting;
    }

    /** At stop: nothing waits any more (every request ended); drops stale entries. */
    void clear() {
        assert waiting == 0 : waiting + " stripes still delayed at stop";
        list.clear();
    }

    /** One timer at a time wakes the handler for the earliest deadline; the handler re-arms it. */
    private void armTimer(long delayNanos) {
        if (timerArmed.compareAndSet(false, true)) {
            env.timer().schedule(delayNanos, () -> {
                timerArmed.set(false);
                wakeHandler.run();
            });
        }
    }
}
