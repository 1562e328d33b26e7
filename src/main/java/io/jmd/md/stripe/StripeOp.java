package io.jmd.md.stripe;

import io.jmd.mem.Pooled;

/**
 * One request's business with one stripe unit: md's bio-on-a-stripe (toread/towrite), as an
 * object that queues on the stripe head. Reused through its pool.
 *
 * <pre>
 *   DIRECT_READ  a read of one data block's unit straight from its member (md's chunk-aligned read);
 *                if that fails it becomes a READ on the stripe, which rebuilds the data
 *   READ         a read of data block {@code dataIndex}'s part of the unit through the stripe
 *   WRITE        every part of the unit the request writes (any data blocks), with the parity update
 * </pre>
 * Phases of an op at the head of its stripe's queue (md thread):
 * <pre>
 *   PLAN --reads needed--&gt; READING --done--&gt; PLAN (again, with what failed)
 *   PLAN --all there--&gt; (reads: copy out, done) (writes: compute, WRITING --done--&gt; done)
 * </pre>
 */
final class StripeOp extends Pooled {
    enum Kind { DIRECT_READ, READ, WRITE }

    enum Phase { PLAN, READING, WRITING }

    StripeRequest request;
    Kind kind;
    long key;
    /** READ / DIRECT_READ: the data block; the byte range in the request is [from, to) of the array. */
    int dataIndex;
    long fromArray;
    long toArray;
    /** DIRECT_READ: the member it reads. */
    int member;
    StripeHead stripe;

    // md thread only, while at the head of its stripe's queue
    Phase phase;
    /**
     * READ: it was a DIRECT_READ that failed on its member: which of its pages the member cannot
     * read is found out on the stripe (the pages that failed a read live there: StripeHead.failedPages).
     */
    boolean directFailed;
    /** The op's result so far. */
    int status;
    /** A member failed under this write (the request waits for the superblock). */
    boolean memberFailed;
    /** READ: the pages its members failed to read (StripeHead.failedPages) are being rewritten and read back. */
    boolean fixing;

    void init(StripeRequest request, Kind kind, long key) {
        this.request = request;
        this.kind = kind;
        this.key = key;
        this.dataIndex = -1;
        this.fromArray = 0;
        this.toArray = 0;
        this.member = -1;
        this.stripe = null;
        this.phase = Phase.PLAN;
        this.directFailed = false;
        this.status = 0;
        this.memberFailed = false;
        this.fixing = false;
    }

    @Override
    public String toString() {
        return kind + "@" + key + (dataIndex >= 0 ? "/" + dataIndex : "") + " " + phase;
    }
}
