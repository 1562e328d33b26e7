package io.jmd.nbd.client;

import io.jmd.block.Bio;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * One bio on its way through the connection: it may become several NBD requests (a READ or WRITE
 * longer than the server's maximum payload, a long TRIM), and a FUA write to a server that has
 * FLUSH but no FUA is followed by a FLUSH once the write is answered.
 *
 * <p>Counting: {@link #outstanding} starts at one, a bias held by the sender while it sends the
 * requests (seed rule: count completions with a bias held by the submitter), and goes up by one
 * per request sent; each reply, or failure, takes one off. Whoever takes the last one off
 * finishes the bio: exactly once, on the sender or the receiver thread.
 */
final class BioWork {
    final Bio bio;
    /** Requests sent and unanswered, plus the sender's bias while it sends. */
    final AtomicInteger outstanding = new AtomicInteger(1);
    /** 0, or the first errno a request of this bio ended with. */
    private final AtomicInteger status = new AtomicInteger();
    /** A FUA write to a server without FUA: the bio ends after a FLUSH that follows it. */
    final boolean flushAfter;
    /** Set when the FLUSH stage is queued: the bio is sent a second time, as one FLUSH. */
    volatile boolean flushStage;

    BioWork(Bio bio, boolean flushAfter) {
        this.bio = bio;
        this.flushAfter = flushAfter;
    }

    /** Records a failure; the first one is what the bio ends with. */
    void fail(int errno) {
        assert errno > 0 : "an errno";
        status.compareAndSet(0, errno);
    }

    int status() {
        return status.get();
    }

    /** One request (or the bias) done; true if that was the last and the caller finishes the bio. */
    boolean release() {
        int left = outstanding.decrementAndGet();
        assert left >= 0 : "bio released more often than sent: " + bio;
        return left == 0;
    }

    /** Re-arms the count for the FLUSH stage (only the finisher calls this, so nobody else counts). */
    void startFlushStage() {
        assert outstanding.get() == 0 && !flushStage : "flush stage of a bio still in flight: " + bio;
        flushStage = true;
        outstanding.set(1);
    }

    @Override
    public String toString() {
        return bio + (flushStage ? " (flush stage)" : "");
    }
}
