package io.jmd.md.stripe;

import io.jmd.Env;
import io.jmd.block.BioCallback;
import io.jmd.mem.Buffer;
import io.jmd.sync.WaitQueue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;

/**
 * The stripe cache: md's stripe_head pool, hash and inactive (LRU) list, with md's
 * {@code stripe_cache_size} (default 256 stripes) as its size, bounded by the memory budget.
 *
 * <h2>Memory, and why it is enough</h2>
 * <pre>
 *   one stripe = raidDisks units of unitBytes, 4 KiB-aligned buffers charged to the budget
 *   size       = min(stripe_cache_size, a quarter of the budget, half of what it has free), at least MIN_STRIPES
 *   A request needs one stripe at a time: its submitter takes a stripe, attaches one op to it and
 *   lets go (the op holds the stripe until it is done) before it asks for the next, so it never
 *   holds a stripe while it waits for one. An op finishes with member I/O and the md thread only,
 *   never with another stripe. So one stripe lets every request finish; MIN_STRIPES (4) adds
 *   room for a few stripes' I/O to overlap.
 * </pre>
 *
 * <h2>Threads</h2>
 * Submitters use {@link #get} (waits for a free stripe); the md thread uses {@link #tryGet} (never
 * waits: it is the one that frees stripes, seed 001) and {@link #release}. The map and the LRU
 * list are concurrent collections; a stripe's {@code refs} decides who may reuse it: only a CAS
 * from 0 to CLAIMED takes a free stripe for another key, so a stripe with ops is never reused.
 */
final class StripeCache {
    /** md's default stripe_cache_size. */
    static final int DEFAULT_STRIPES = 256;
    /** Fewest stripes jmd runs with (one suffices for progress: see the class comment). */
    static final int MIN_STRIPES = 4;
    /** md refuses stripe_cache_size above this (raid5_set_cache_size). */
    static final int MAX_STRIPES = 32768;
    /** At most this share of the memory budget goes to the stripe cache: total / 4. */
    static final int BUDGET_SHARE_DIVISOR = 4;

    private final Env env;
    private final String name;
    private final int members;
    private final int unitBytes;
    private final LongFunction<RowPattern> patternOfKey;
    private final CallbackFactory callbacks;
    private final ConcurrentHashMap<Long, StripeHead> byKey = new ConcurrentHashMap<>();
    /** Free stripes, least recently used first; a stripe may be here while active again (skipped). */
    private final ConcurrentLinkedDeque<StripeHead> free = new ConcurrentLinkedDeque<>();
    /** Every stripe that exists, for shutdown; changed only by resizes and retirements. */
    private final List<StripeHead> all = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger count = new AtomicInteger();
    private volatile int target = Integer.MAX_VALUE; // no retirement before the constructor sets it
    private final AtomicInteger nextIndex = new AtomicInteger();
    private final WaitQueue freed;

    /** Makes the completion callback of member I/O for one member of one stripe (once per stripe). */
    @FunctionalInterface
    interface CallbackFactory {
        BioCallback forMember(StripeHead sh, int member);
    }

    /**
     * @param patternOfKey the row pattern of a stripe key
     * @param wanted       stripe_cache_size asked for; fewer if the budget share holds fewer
     * @throws IllegalStateException if the budget cannot hold {@link #MIN_STRIPES} stripes
     */
    StripeCache(Env env, String name, int members, int unitBytes, LongFunction<RowPattern> patternOfKey,
                CallbackFactory callbacks, int wanted) {
        this.env = env;
        this.name = name;
        this.members = members;
        this.unitBytes = unitBytes;
        this.patternOfKey = patternOfKey;
        this.callbacks = callbacks;
        this.freed = new WaitQueue(env.scheduler(), name + " stripe freed");
        int got = grow(Math.min(wanted, fitInBudget()));
        if (got < MIN_STRIPES) {
            close();
            throw new IllegalStateException("memory budget " + env.budget().totalBytes() + " bytes is too small for the "
                + name + " stripe cache: it needs at least " + MIN_STRIPES + " stripes of " + stripeBytes()
                + " bytes (" + members + " members x " + unitBytes + " bytes), and may use a quarter of the budget");
        }
        this.target = got;
    }

    long stripeBytes() {
        return (long) members * unitBytes;
    }

    /**
     * How many stripes the cache may have: a quarter of the budget, and no more than half of what
     * is free now (several arrays, the NBD server's buffers and request state share the budget).
     */
    private int fitInBudget() {
        long share = Math.min(env.budget().totalBytes() / BUDGET_SHARE_DIVISOR,
            env.budget().availableBytes() / 2 + (long) count.get() * stripeBytes());
        return (int) Math.min(MAX_STRIPES, share / stripeBytes());
    }

    int size() {
        return count.get();
    }

    int target() {
        return target;
    }

    /**
     * Sets the size (md's stripe_cache_size): grows at once as far as the budget share allows,
     * shrinks by retiring free stripes now and busy ones as they come free. Returns the target
     * size now in force (what {@link #size()} reaches once the busy stripes are released).
     */
    int resize(int wanted) {
        if (wanted < MIN_STRIPES || wanted > MAX_STRIPES) {
            throw new IllegalArgumentException("stripe_cache_size " + wanted + " outside " + MIN_STRIPES + ".." + MAX_STRIPES);
        }
        int now = count.get();
        if (wanted > now) {
            target = now; // no retirements while growing
            grow(Math.min(wanted, Math.max(now, fitInBudget())) - now);
            target = count.get();
            return target;
        }
        target = wanted;
        StripeHead sh;
        while (takeRetirement()) {
            sh = claimFree();
            if (sh == null) {
                cancelRetirement(); // the rest retire as they come free
                break;
            }
            retire(sh);
        }
        return target;
    }

    /**
     * Reserves one retirement: lowers the count by one while it is above the target. The caller
     * then retires a stripe it claimed, or gives the reservation back with {@link #cancelRetirement}.
     */
    private boolean takeRetirement() {
        while (true) {
            int c = count.get();
            if (c <= target) {
                return false;
            }
            if (count.compareAndSet(c, c - 1)) {
                return true;
            }
        }
    }

    private void cancelRetirement() {
        count.incrementAndGet();
    }

    /** Adds up to {@code n} stripes while buffers are there now; returns how many exist. */
    private int grow(int n) {
        for (int i = 0; i < n; i++) {
            Buffer[] bufs = new Buffer[members];
            int got = 0;
            for (; got < members; got++) {
                bufs[got] = env.buffers().tryAllocate(unitBytes);
                if (bufs[got] == null) {
                    break;
                }
            }
            if (got < members) {
                for (int j = 0; j < got; j++) {
                    bufs[j].release();
                }
                break;
            }
            StripeHead sh = new StripeHead(nextIndex.getAndIncrement(), bufs);
            for (int m = 0; m < members; m++) {
                sh.memberCallbacks[m] = callbacks.forMember(sh, m);
            }
            all.add(sh);
            count.incrementAndGet();
            sh.inFreeList.set(true);
            free.addFirst(sh);
        }
        freed.wakeAll();
        return count.get();
    }

    /**
     * A stripe for {@code key}, waiting while none is free. For submitters only (threads that may
     * wait); the stripe comes with one reference, which the caller hands to the op it attaches.
     */
    StripeHead get(long key) {
        StripeHead[] got = new StripeHead[1];
        freed.waitUntil(() -> (got[0] = tryGet(key)) != null);
        return got[0];
    }

    /** A stripe for {@code key} if one is cached or free now, else null. Never waits. */
    StripeHead tryGet(long key) {
        while (true) {
            StripeHead sh = byKey.get(key);
            if (sh != null && retain(sh, key)) {
                return sh;
            }
            StripeHead fresh = claimFree();
            if (fresh == null) {
                return null;
            }
            fresh.assign(key, patternOfKey.apply(key));
            fresh.refs.set(1);
            StripeHead raced = byKey.putIfAbsent(key, fresh);
            if (raced == null) {
                return fresh;
            }
            // someone else made a stripe for this key meanwhile: give ours back and use theirs
            fresh.key = StripeHead.NO_KEY;
            release(fresh);
        }
    }

    /** Takes a reference on {@code sh} if it still serves {@code key} and is not being reused. */
    private boolean retain(StripeHead sh, long key) {
        while (true) {
            int r = sh.refs.get();
            if (r < 0 || sh.key != key) {
                return false;
            }
            if (sh.refs.compareAndSet(r, r + 1)) {
                if (sh.key == key) {
                    return true;
                }
                release(sh); // it was reused for another key between our two looks
                return false;
            }
        }
    }

    /** The least recently used free stripe, claimed (refs CLAIMED) and out of the map; or null. */
    private StripeHead claimFree() {
        StripeHead sh;
        while ((sh = free.pollFirst()) != null) {
            sh.inFreeList.set(false);
            if (sh.refs.compareAndSet(0, StripeHead.CLAIMED)) {
                long old = sh.key;
                if (old != StripeHead.NO_KEY) {
                    byKey.remove(old, sh);
                }
                return sh;
            }
            // active again since it was freed: not free after all
        }
        return null;
    }

    /** Drops one reference; the last one makes the stripe free (or retires it). Never blocks. */
    void release(StripeHead sh) {
        int r = sh.refs.decrementAndGet();
        assert r >= 0 : "stripe released more often than taken: " + sh;
        if (r != 0) {
            return;
        }
        if (takeRetirement()) {
            if (sh.refs.compareAndSet(0, StripeHead.CLAIMED)) {
                if (sh.key != StripeHead.NO_KEY) {
                    byKey.remove(sh.key, sh);
                }
                retire(sh);
                return;
            }
            cancelRetirement(); // taken again meanwhile: it stays
        }
        if (sh.inFreeList.compareAndSet(false, true)) {
            free.addLast(sh);
        }
        freed.wakeAll();
    }

    /** Frees a claimed stripe's memory for good; its count was already taken off. */
    private void retire(StripeHead sh) {
        assert sh.refs.get() == StripeHead.CLAIMED : "retire of an unclaimed stripe";
        all.remove(sh);
        for (Buffer b : sh.buffers) {
            b.release();
        }
    }

    /**
     * The members' blocks of stripes [fromKey, toKey) changed under the cache (the online sync
     * rewrote parity that differed from its data): a cached stripe forgets its pages. A free one
     * is taken out of the map at once; one with ops is marked {@link StripeHead#stale} and forgets
     * them when its handler next looks, before it uses any (the sync barrier keeps writes off these
     * stripes meanwhile, so only reads can be there). Never blocks (the sync thread).
     */
    void forget(long fromKey, long toKey) {
        for (long key = fromKey; key < toKey; key++) {
            StripeHead sh = byKey.get(key);
            if (sh == null) {
                continue;
            }
            if (sh.refs.compareAndSet(0, StripeHead.CLAIMED)) {
                if (sh.key == key) {
                    byKey.remove(key, sh);
                    sh.key = StripeHead.NO_KEY;
                }
                sh.refs.set(0);
                // claimFree may have dropped it from the free list while we held it: put it back
                if (sh.inFreeList.compareAndSet(false, true)) {
                    free.addLast(sh);
                    freed.wakeAll();
                }
            } else {
                sh.stale.set(true);
            }
        }
    }

    /** Stripes with ops now (diagnostics, tests). */
    int active() {
        int n = 0;
        for (StripeHead sh : all) {
            n += sh.refs.get() > 0 ? 1 : 0;
        }
        return n;
    }

    /** Frees every stripe; each must be idle (the array stopped). */
    void close() {
        for (StripeHead sh : new ArrayList<>(all)) {
            if (sh.refs.get() != 0) {
                throw new IllegalStateException(name + ": " + sh + " still in use at stop");
            }
            sh.refs.set(StripeHead.CLAIMED);
            count.decrementAndGet();
            retire(sh);
        }
        free.clear();
        byKey.clear();
    }
}
