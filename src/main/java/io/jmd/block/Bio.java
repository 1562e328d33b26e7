package io.jmd.block;

import java.lang.foreign.MemorySegment;

/**
 * One block I/O request, as Linux's struct bio: an operation on a byte range of a device, with
 * a data segment for reads and writes and a callback run exactly once when it ends.
 *
 * <p>Ownership: the submitter owns {@code data} and keeps it alive until the callback ran; the
 * device only reads (WRITE) or fills (READ) it. Callbacks run on an I/O-progress thread inside a
 * must-not-block section: they may complete, count down, queue work or submit further bios, never
 * wait.
 *
 * <p>Offsets and lengths are in bytes and multiples of the device's logical block size (512);
 * the submitter checks this, the device asserts it.
 */
public final class Bio {
    /** Operations. */
    public enum Op {
        READ, WRITE, FLUSH, DISCARD, WRITE_ZEROES
    }

    /** Force unit access: the callback runs only once the data is durable. */
    public static final int FUA = 1;
    /** For WRITE_ZEROES: the range must stay allocated (no hole punched). */
    public static final int NO_UNMAP = 2;

    public final Op op;
    public final long offsetBytes;
    public final long lengthBytes;
    /** READ: filled by the device; WRITE: read by it; null for other operations. */
    public final MemorySegment data;
    public final int flags;
    private final BioCallback callback;
    /** Submitter's cookie (the parent request), untouched by devices. */
    public final Object owner;

    private volatile int status = Integer.MIN_VALUE;

    public Bio(Op op, long offsetBytes, long lengthBytes, MemorySegment data, int flags,
               Object owner, BioCallback callback) {
        assert offsetBytes >= 0 : "negative offset " + offsetBytes;
        assert lengthBytes >= 0 : "negative length " + lengthBytes;
        assert (op == Op.READ || op == Op.WRITE) == (data != null) : op + " data " + data;
        assert data == null || data.byteSize() == lengthBytes : "data size " + data.byteSize() + " != " + lengthBytes;
        this.op = op;
        this.offsetBytes = offsetBytes;
        this.lengthBytes = lengthBytes;
        this.data = data;
        this.flags = flags;
        this.owner = owner;
        this.callback = callback;
    }

    public static Bio read(long offsetBytes, MemorySegment into, Object owner, BioCallback cb) {
        return new Bio(Op.READ, offsetBytes, into.byteSize(), into, 0, owner, cb);
    }

    public static Bio write(long offsetBytes, MemorySegment from, int flags, Object owner, BioCallback cb) {
        return new Bio(Op.WRITE, offsetBytes, from.byteSize(), from, flags, owner, cb);
    }

    public static Bio flush(Object owner, BioCallback cb) {
        return new Bio(Op.FLUSH, 0, 0, null, 0, owner, cb);
    }

    public boolean fua() {
        return (flags & FUA) != 0;
    }

    /** 0 or an errno, valid once ended. */
    public int status() {
        return status;
    }

    public boolean ended() {
        return status != Integer.MIN_VALUE;
    }

    /**
     * Ends the bio with {@code errno} (0 = success) and runs its callback. Called exactly once, by
     * the device, from a thread that is allowed to run callbacks.
     */
    public void end(int errno) {
        assert errno >= 0 : "errno must be >= 0: " + errno;
        assert status == Integer.MIN_VALUE : "bio ended twice: " + this;
        status = errno;
        callback.done(this);
    }

    @Override
    public String toString() {
        return op + "@" + offsetBytes + "+" + lengthBytes + (fua() ? " FUA" : "");
    }
}
