package io.jmd.mem;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An aligned off-heap I/O buffer with explicit ownership, as Netty's ReferenceCounted: whoever
 * allocates it holds one reference; each party that keeps it past its own call (one per mirror
 * write) retains, and releases when done. The last release returns the memory to its
 * {@link BufferCache}.
 *
 * <p>Each allocation gets a new Buffer object over the cached memory, so a stale Buffer (a holder
 * that released once too often, or uses it after its last release) can only trip its own count:
 * its release throws and its {@link #segment()} asserts; it can never drop a reference of the
 * memory's next owner. Segments taken from it earlier do alias the memory while it is cached or
 * reused: ownership, not the GC, decides its life, so holders must not keep them past release.
 */
public final class Buffer {
    private final BufferCache cache;
    private final BufferCache.Slab slab;
    private final long lengthBytes;
    private final AtomicInteger refs = new AtomicInteger(1);
    /** Where it was allocated, when leak tracking is on. */
    volatile Throwable allocatedAt;

    Buffer(BufferCache cache, BufferCache.Slab slab, long lengthBytes) {
        assert lengthBytes > 0 && lengthBytes <= slab.memory().byteSize() : "length " + lengthBytes + " outside its slab";
        this.cache = cache;
        this.slab = slab;
        this.lengthBytes = lengthBytes;
    }

    /** The usable bytes (exactly the requested length). */
    public MemorySegment segment() {
        assert refs.get() > 0 : "use of a released buffer";
        return slab.memory().asSlice(0, lengthBytes);
    }

    public MemorySegment slice(long offsetBytes, long lengthBytes) {
        assert refs.get() > 0 : "use of a released buffer";
        assert offsetBytes >= 0 && offsetBytes + lengthBytes <= this.lengthBytes : "slice out of range";
        return slab.memory().asSlice(offsetBytes, lengthBytes);
    }

    public long lengthBytes() {
        return lengthBytes;
    }

    public long capacityBytes() {
        return slab.memory().byteSize();
    }

    int sizeClass() {
        return slab.sizeClass();
    }

    MemorySegment memory() {
        return slab.memory();
    }

    BufferCache.Slab slab() {
        return slab;
    }

    public int refCount() {
        return refs.get();
    }

    public Buffer retain() {
        while (true) {
            int r = refs.get();
            // A released buffer's memory may already be someone else's: never bring it back.
            if (r <= 0) {
                throw new IllegalStateException("retain of a released buffer");
            }
            if (refs.compareAndSet(r, r + 1)) {
                return this;
            }
        }
    }

    /** Drops one reference; the last one returns the buffer. Never blocks. */
    public void release() {
        while (true) {
            int r = refs.get();
            if (r <= 0) {
                throw new IllegalStateException("buffer released more often than retained");
            }
            if (refs.compareAndSet(r, r - 1)) {
                if (r == 1) {
                    cache.recycle(this);
                }
                return;
            }
        }
    }
}
