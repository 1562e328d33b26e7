package io.jmd.md;

import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.Buffer;

import java.lang.foreign.MemorySegment;

/**
 * The per-member step of raid1's and raid10's fix_read_error: after a read failed on a member and
 * succeeded on another, the good data is read again from the good member, written to the bad one,
 * read back from there and compared. The rewrite makes the disk remap a bad sector. A rewrite or
 * re-read that fails, or a mismatch, fails the member; a rewrite that took counts a fixed read
 * error ({@link Member#countFixedReadError}), which fails the member once they come too fast.
 *
 * <p>Where each copy lives is the caller's (raid1: the same array offset on every member; raid10:
 * each copy's own member offset), as are the barrier around the fix and which members to fix.
 * Synchronous member I/O on the md thread, as md's sync_page_io, through two scratch buffers
 * preallocated here (the md thread never waits for memory): the good copy is read again under the
 * caller's barrier (the data the client got may be older than a write that landed since), so what
 * is written never comes from the member being fixed. Only the md thread uses it.
 */
public final class ReadErrorRewrite {
    public static final int SCRATCH_BYTES = 64 << 10;

    private final MdArray array;
    private final Buffer scratch;

    public ReadErrorRewrite(MdArray array) {
        this.array = array;
        this.scratch = array.env().buffers().allocate(2L * SCRATCH_BYTES);
    }

    public void close() {
        scratch.release();
    }

    /**
     * Rewrites {@code length} bytes at {@code badOffset} of {@code bad} (member device bytes) with
     * what {@code good} holds at {@code goodOffset}, and counts the outcome on {@code bad}: a
     * write error and a failed member if it did not take, a fixed read error otherwise. Nothing
     * when the good copy cannot be read now (nothing sure to write: the next read or sync tries
     * again; counted as a read error of {@code good}).
     */
    public void fix(Member good, long goodOffset, Member bad, long badOffset, long length) {
        switch (rewrite(good, goodOffset, bad, badOffset, length)) {
            case FAILED -> {
                bad.countWriteError();
                array.memberError(bad); // the rewrite did not take: the member is failing
            }
            case DONE -> {
                if (bad.countFixedReadError(array.env().clock().nanoTime())) {
                    array.memberError(bad); // errors coming fast: md's exceed_read_errors fails it too
                }
            }
            case SKIPPED -> {
            }
        }
    }

    private enum Outcome { DONE, FAILED, SKIPPED }

    /** Copy, write and read back a scratch buffer at a time (raid1.c/raid10.c fix_read_error). */
    private Outcome rewrite(Member good, long from, Member bad, long to, long length) {
        var scheduler = array.env().scheduler();
        for (long at = 0; at < length; at += SCRATCH_BYTES) {
            long len = Math.min(SCRATCH_BYTES, length - at);
            MemorySegment copy = scratch.slice(0, len);
            MemorySegment back = scratch.slice(SCRATCH_BYTES, len);
            if (SyncIo.read(scheduler, good.device(), from + at, copy) != Errno.OK) {
                good.countReadError();
                return Outcome.SKIPPED;
            }
            if (SyncIo.write(scheduler, bad.device(), to + at, copy, 0) != Errno.OK
                || SyncIo.read(scheduler, bad.device(), to + at, back) != Errno.OK
                || copy.mismatch(back) >= 0) {
                return Outcome.FAILED;
            }
        }
        return Outcome.DONE;
    }
}
