package io.jmd.block;

/**
 * An asynchronous block device: a member file or disk, a remote NBD export, memory, a layer over
 * another device, or an md array. {@link #submit} hands the bio over and returns; the bio's
 * callback runs once it ended.
 *
 * <p>{@code submit} may wait for an in-flight slot when the device is saturated (backpressure),
 * so it must not be called from a must-not-block section unless {@link #trySubmit} is used.
 */
public interface BlockDevice extends AutoCloseable {
    /** For messages: the path or URI. */
    String name();

    long sizeBytes();

    /** Smallest addressable unit, a power of two (512 for everything jmd makes). */
    default int logicalBlockBytes() {
        return 512;
    }

    /** Alignment of offsets, lengths and buffers that gives the fastest path (4096 with O_DIRECT). */
    default int optimalIoBytes() {
        return 4096;
    }

    /** Whether DISCARD does anything (else it ends with success and no effect, as hints may). */
    default boolean supportsDiscard() {
        return false;
    }

    void submit(Bio bio);

    /**
     * Submits several bios at once, as a plug's unplug does: a device may run them one after
     * another on one thread, sparing a thread hand-off per bio (the bios must not depend on each
     * other's completion). Waits for slots as {@link #submit} does, never while it holds slots
     * for bios it has not started. The default submits them one by one.
     */
    default void submitBatch(java.util.List<Bio> bios) {
        for (Bio b : bios) {
            submit(b);
        }
    }

    /**
     * Submits without waiting for a slot. Returns false, having done nothing, if the device is
     * saturated; the caller retries later (from a thread that may wait).
     */
    default boolean trySubmit(Bio bio) {
        submit(bio);
        return true;
    }

    /**
     * Allocation map for NBD block status: fills {@code out} with extents starting at
     * {@code offsetBytes}. Devices that do not know report everything as data.
     */
    default void blockStatus(long offsetBytes, long lengthBytes, ExtentSink out) {
        out.extent(offsetBytes, lengthBytes, false, false);
    }

    /**
     * What every device asserts of a bio handed to it (its submitter validated the bio against
     * the device: an NBD request past the end is the server's EINVAL, not an assertion). Returns
     * true, for use in an assert statement; throws an AssertionError naming the device.
     */
    static boolean submittable(BlockDevice device, Bio bio, boolean closed) {
        String name = device.name();
        long size = device.sizeBytes();
        int block = device.logicalBlockBytes();
        if (closed) {
            throw new AssertionError(name + ": submit after close");
        }
        if (bio.ended()) {
            throw new AssertionError(name + ": submit of an ended bio " + bio);
        }
        if (bio.offsetBytes % block != 0 || bio.lengthBytes % block != 0) {
            throw new AssertionError(name + ": not aligned to " + block + " bytes: " + bio);
        }
        if (bio.op != Bio.Op.FLUSH && bio.lengthBytes > size - bio.offsetBytes) {
            throw new AssertionError(name + ": " + bio + " past the end " + size);
        }
        return true;
    }

    /** Releases the device. Outstanding bios must have ended. */
    @Override
    void close();

    /** Receives allocation extents. */
    @FunctionalInterface
    interface ExtentSink {
        void extent(long offsetBytes, long lengthBytes, boolean hole, boolean zero);
    }
}
