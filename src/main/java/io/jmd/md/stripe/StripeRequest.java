package io.jmd.md.stripe;

import io.jmd.block.Bio;
import io.jmd.mem.Pooled;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One array request in flight on a parity level: md counts a bio's stripes in bi_phys_segments;
 * jmd counts its ops here. Reused through its pool.
 *
 * <p>{@code remaining} counts ops (and flushes) not yet done, plus one held by the submitter
 * while it is still cutting the request into ops (seed 002's bias).
 */
final class StripeRequest extends Pooled {
    Bio parent;
    final AtomicInteger remaining = new AtomicInteger();
    /** First error of any op (0 while none). */
    volatile int error;
    /** A member failed under this write: it ends only once that is recorded on disk. */
    volatile boolean memberFailed;
    /** A write that starts where a recent write ended (a sequential stream): its partial stripes may wait for the next. */
    boolean sequential;
    /** A write's sequence number in submission order (flushes end delays of writes up to theirs). */
    long writeSeq;

    void init(Bio parent) {
        this.parent = parent;
        remaining.set(1);
        error = 0;
        memberFailed = false;
        sequential = false;
        writeSeq = 0;
    }
}
