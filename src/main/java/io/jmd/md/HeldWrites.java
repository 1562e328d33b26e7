package io.jmd.md;

import io.jmd.sync.DependencyChecker;

import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;

/**
 * Writes that must not be acknowledged yet: they skipped or lost a member whose failure is not on
 * disk. Each waits for a superblock write that records the failure (md holds such bios on
 * conf->bio_end_io_list until MD_SB_CHANGE_PENDING clears); then it ends with success. After a
 * crash the failed member is known stale and never read, so no acknowledged write is lost.
 *
 * <p>Order in {@link #hold}: ticket, then the list, then a wake-up. Hold may run on any thread,
 * and the md thread may write the superblock between the first two; it calls
 * {@link #releaseWritten} on every pass, so the wake-up after the add makes it look again.
 * One instance per personality; the queue is bounded by the personality's request pool.
 */
public final class HeldWrites<R> {
    private record Held<R>(R request, long ticket) {
    }

    private final MdArray array;
    private final Consumer<R> endOk;
    /** Filled by any thread, drained by the md thread only. */
    private final ConcurrentLinkedQueue<Held<R>> held = new ConcurrentLinkedQueue<>();

    /** {@code endOk} ends a request with success; it runs on the md thread, must not block. */
    public HeldWrites(MdArray array, Consumer<R> endOk) {
        this.array = array;
        this.endOk = endOk;
    }

    /** Holds {@code request} until a superblock written from now on is on disk. Never blocks. */
    public void hold(R request) {
        long ticket = array.requestSuperblockWrite();
        held.add(new Held<>(request, ticket));
        array.wakeMdThread();
    }

    /** Ends every held request whose superblock write is on disk. The md thread, every pass. */
    public void releaseWritten() {
        long written = array.superblockWrittenTicket();
        for (Iterator<Held<R>> it = held.iterator(); it.hasNext(); ) {
            Held<R> h = it.next();
            if (h.ticket() <= written) {
                it.remove();
                DependencyChecker.runAtomic(array.env().scheduler().current(), () -> endOk.accept(h.request()));
            }
        }
    }

    public boolean isEmpty() {
        return held.isEmpty();
    }
}
