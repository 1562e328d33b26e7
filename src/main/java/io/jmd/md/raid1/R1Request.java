package io.jmd.md.raid1;

import io.jmd.block.Bio;
import io.jmd.mem.Pooled;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One array request in flight: md's struct r1bio. Reused through its pool.
 *
 * <p>{@code remaining} counts member I/Os not yet ended, plus one held by the submitter while it
 * is still submitting (seed 002's bias): it cannot reach zero before every member I/O was issued.
 */
final class R1Request extends Pooled {
    Bio parent;
    final AtomicInteger remaining = new AtomicInteger();
    final AtomicInteger okCount = new AtomicInteger();
    /** Some member failed this write; it must not end before that is recorded on disk. */
    volatile boolean memberFailed;
    /** First error seen, reported if no member succeeded. */
    volatile int firstError;
    /** Slots a read was tried on (submitter, then the md thread: never concurrently). */
    long triedSlots;

    void init(Bio parent) {
        this.parent = parent;
        remaining.set(1);
        okCount.set(0);
        memberFailed = false;
        firstError = 0;
        triedSlots = 0;
    }
}
