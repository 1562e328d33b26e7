package io.jmd.mem;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An aligned off-heap I/O buffer with explicit ownership, as Netty's ReferenceCounted: whoever
 * allocates it holds one reference; each party that keeps it past its own call (one per mirror
 * write) retains, and releases when done. The last release returns the memory to its
 * {@link BufferCache}. Using it after that is a programmer error the tests catch (the segment of a
 * released buffer is never handed out again while a stale holder could still see it: ownership,
 * not the GC, decides its life).
 */
public final class Buffer {
    private final BufferCache cache;
    private final MemorySegment memory;
    private final int sizeClass;
    private final AtomicInteger refs = new AtomicInteger();
    private volatile long lengthBytes;
    /** Where it was allocated, when leak tracking is on. */
    volatile Throwable allocatedAt;

    Buffer(BufferCache cache, MemorySegment memory, int sizeClass) {
        this.cache = cache;
        this.memory = memory;
        this.sizeClass = sizeClass;
    }

    void open(long lengthBytes) {
        assert refs.get() == 0 : "reopening a live buffer";
        this.lengthBytes = lengthBytes;
        refs.set(1);
    }

    /** The usable bytes (exactly the requested length). */
    public MemorySegment segment() {
        assert refs.get() > 0 : "use of a released buffer";
        return memory.asSlice(0, lengthBytes);
    }

    public MemorySegment slice(long offsetBytes, long lengthBytes) {
        assert refs.get() > 0 : "use of a released buffer";
        assert offsetBytes >= 0 && offsetBytes + lengthBytes <= this.lengthBytes : "slice out of range";
        return memory.asSlice(offsetBytes, lengthBytes);
    }

    public long lengthBytes() {
        return lengthBytes;
    }

    public long capacityBytes() {
        return memory.byteSize();
    }

    int sizeClass() {
        return sizeClass;
    }

    MemorySegment memory() {
        return memory;
    }

    public int refCount() {
        return refs.get();
    }

    public Buffer retain() {
        int after = refs.incrementAndGet();
        assert after > 1 : "retain of a released buffer";
        return this;
    }

    /** Drops one reference; the last one returns the buffer. Never blocks. */
    public void release() {
        int after = refs.decrementAndGet();
        if (after == 0) {
            cache.recycle(this);
        } else if (after < 0) {
            throw new IllegalStateException("buffer released more often than retained");
        }
    }
}
