package io.jmd.md.stripe;

import io.jmd.block.BioCallback;
import io.jmd.mem.Buffer;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One entry of the stripe cache: md's struct stripe_head. It caches one unit of every member at one
 * stripe key, and it is where the requests touching that unit meet: they queue here as
 * {@link StripeOp}s and are served one at a time, in arrival order, so two writes to one stripe
 * never mix their parity updates (md's per-stripe serialization, kept simple).
 *
 * <h2>Who touches what</h2>
 * <ul>
 *   <li>{@code refs}, {@code inFreeList}, {@code queued}, {@code incoming}, {@code ioPending},
 *       {@code ioErrors}, {@code readErrorPages}: atomics, any thread.</li>
 *   <li>{@code key} and {@code pattern}: written only by the thread that claimed the stripe
 *       (refs = CLAIMED) before it is published in the cache map; read by anyone after that.</li>
 *   <li>Everything else (pages' contents, {@code uptodate}, {@code ops}, {@code readMask}): the md
 *       thread's, while the stripe has ops; the claimer's while it is claimed (no ops then).</li>
 * </ul>
 *
 * <h2>Life</h2>
 * <pre>
 *   free (refs 0, in the LRU list, may still cache its key's data)
 *     --get(key): hit-------------------------------&gt; active (refs &gt; 0: one per queued op)
 *     --get(other key): claim (refs CLAIMED), forget--&gt; active for the other key
 *   active --last op done: release--&gt; free       (or retired, when the cache is shrinking)
 * </pre>
 */
final class StripeHead {
    static final long NO_KEY = -1;
    static final int CLAIMED = -1;

    final int index;
    final Buffer[] buffers;
    final MemorySegment[] pages;
    /** One completion callback per member, made once by the cache (the member index rides in the closure). */
    final BioCallback[] memberCallbacks;

    volatile long key = NO_KEY;
    volatile RowPattern pattern;

    final AtomicInteger refs = new AtomicInteger();
    final AtomicBoolean inFreeList = new AtomicBoolean();
    /** In the md thread's handle queue. */
    final AtomicBoolean queued = new AtomicBoolean();
    /** Ops attached by submitters, drained into {@link #ops} by the md thread. */
    final ConcurrentLinkedQueue<StripeOp> incoming = new ConcurrentLinkedQueue<>();

    /** The members changed under the cached pages (online sync): forget them before the next use. */
    final AtomicBoolean stale = new AtomicBoolean();

    /** Member I/Os in flight for the head op's current phase (+1 while they are being issued). */
    final AtomicInteger ioPending = new AtomicInteger();
    /** Members whose I/O of the current phase failed (bit per member). */
    final AtomicLong ioErrors = new AtomicLong();
    /** Per member: pages of the current read phase whose member read failed (the whole failed bio). */
    final AtomicIntegerArray readErrorPages;

    // md thread only (see the class comment)
    final ArrayDeque<StripeOp> ops = new ArrayDeque<>();
    /** Per member: pages whose content is that of the member now (md's R5_UPTODATE). */
    final int[] uptodate;
    /** Per member: pages the current read phase asked for. */
    final int[] readMask;
    /**
     * Per member: pages a read of the op at the head failed (md's R5_ReadError, per page as md's
     * stripe_head is a page): missing for that op there only, and rewritten once rebuilt.
     */
    final int[] failedPages;
    /**
     * Per member: pages in a failed read of several pages (which of them failed is not known):
     * read again one page at a time before the op plans on (md's R5_ReadNoMerge retry).
     */
    final int[] suspectPages;
    /** The current read phase reads one page per bio (its errors are exact pages). */
    boolean pagewise;
    /** Ops at the head of {@link #ops} whose writes are in flight as one batch. */
    int batchOps;
    /** {@link StripeDelays}' state of this stripe: NONE, WAITING (on the delayed list), RELEASED. */
    byte delay;
    /** WAITING: when the delay ends at the latest (clock nanos). */
    long delayUntil;
    /** WAITING: the delays' release epoch when it began (a newer epoch ends it at once). */
    long delayEpoch;

    StripeHead(int index, Buffer[] buffers) {
        this.index = index;
        this.buffers = buffers;
        this.pages = new MemorySegment[buffers.length];
        for (int m = 0; m < buffers.length; m++) {
            pages[m] = buffers[m].segment();
        }
        this.memberCallbacks = new BioCallback[buffers.length];
        this.uptodate = new int[buffers.length];
        this.readMask = new int[buffers.length];
        this.failedPages = new int[buffers.length];
        this.suspectPages = new int[buffers.length];
        this.readErrorPages = new AtomicIntegerArray(buffers.length);
    }

    /** Takes on a new key: forgets every cached page. Only by the claimer. */
    void assign(long newKey, RowPattern newPattern) {
        assert refs.get() == CLAIMED : "assign of an unclaimed stripe";
        assert ops.isEmpty() && incoming.isEmpty() : "assign of a stripe with ops";
        assert ioPending.get() == 0 : "assign of a stripe with I/O in flight";
        assert delay == StripeDelays.NONE : "assign of a delayed stripe";
        java.util.Arrays.fill(uptodate, 0);
        java.util.Arrays.fill(readMask, 0);
        forgetReadFailures();
        ioErrors.set(0);
        stale.set(false);
        pattern = newPattern;
        key = newKey;
    }

    /**
     * Forgets every cached page and what the read in flight will bring (the members changed under
     * it: {@link #stale}); the op at the head plans its reads again. Its handler only.
     */
    void forgetPages() {
        invalidate();
        java.util.Arrays.fill(readMask, 0);
    }

    /** The op at the head is over: the next op finds out for itself what its members cannot read. */
    void forgetReadFailures() {
        java.util.Arrays.fill(failedPages, 0);
        java.util.Arrays.fill(suspectPages, 0);
    }

    /** Forgets every cached page (a write whose outcome on the members is unknown). md thread. */
    void invalidate() {
        java.util.Arrays.fill(uptodate, 0);
    }

    @Override
    public String toString() {
        return "stripe#" + index + "[key=" + key + ", refs=" + refs.get() + ", ops=" + ops.size() + "]";
    }
}
