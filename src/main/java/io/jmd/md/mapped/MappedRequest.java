package io.jmd.md.mapped;

import io.jmd.block.Bio;
import io.jmd.mem.Pooled;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One array request in flight on a mapping level: md's r10bio, reused through its pool.
 *
 * <p>{@code remaining} counts member I/Os not yet ended plus one held by the submitter while it
 * is still splitting and submitting (seed 002's bias): it cannot reach zero before the last piece
 * was issued.
 */
final class MappedRequest extends Pooled {
    Bio parent;
    final AtomicInteger remaining = new AtomicInteger();
    /** First error that fails the whole request (0 while none): a piece no copy could serve. */
    volatile int error;
    /** Some member failed under this write; it ends only once that is recorded on disk. */
    volatile boolean memberFailed;

    void init(Bio parent) {
        this.parent = parent;
        remaining.set(1);
        error = 0;
        memberFailed = false;
    }
}
