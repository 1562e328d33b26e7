package io.jmd.block;

import io.jmd.Env;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A sparse in-memory device for tests and the simulator: 64 KiB chunks, allocated on first write,
 * freed by DISCARD (and WRITE_ZEROES without NO_UNMAP) when a whole chunk is covered; a partly
 * covered chunk is zeroed in place. Unallocated chunks read as zeroes and report as holes.
 *
 * <p>Bios run on {@link Env#ioWorkers()} like a real member, so callbacks never run inline on a
 * submitter that may hold locks; with {@code inline} (the simulator's single-threaded mode) the
 * bio is done and ended on the submitting thread, inside a must-not-block section.
 *
 * <p>Memory is plain heap, not charged to the I/O budget: the device stands in for a disk, whose
 * capacity is not jmd's memory. Chunks of the same bio range may be written by concurrent bios
 * on different parts of a chunk; that is safe (disjoint bytes of one array).
 */
public final class MemoryBlockDevice implements BlockDevice {
    /** Allocation unit: small enough that a sparse 1 TiB simulated member costs what was written. */
    public static final int CHUNK_BYTES = 64 * 1024;

    /** Settings; build with {@link #of} and the with-methods. */
    public record Options(String name, long sizeBytes, int queueDepth, boolean inline) {
        public Options {
            Objects.requireNonNull(name, "name");
            if (sizeBytes <= 0 || sizeBytes % 512 != 0) {
                throw new IllegalArgumentException(name + ": size must be a positive multiple of 512, got " + sizeBytes);
            }
            if (queueDepth < 1 || queueDepth > FileBlockDevice.QUEUE_DEPTH_MAX) {
                throw new IllegalArgumentException(name + ": queue depth must be 1.." + FileBlockDevice.QUEUE_DEPTH_MAX
                    + ", got " + queueDepth);
            }
        }

        public static Options of(String name, long sizeBytes) {
            return new Options(name, sizeBytes, FileBlockDevice.QUEUE_DEPTH_DEFAULT, false);
        }

        public Options queueDepth(int value) {
            return new Options(name, sizeBytes, value, inline);
        }

        /** End bios on the submitting thread (the simulator); never for real-thread engines. */
        public Options inline(boolean value) {
            return new Options(name, sizeBytes, queueDepth, value);
        }
    }

    private final Env env;
    private final Options options;
    private final InFlight inFlight;
    /** Chunk index to its 64 KiB of data. Written by the I/O workers, read by anyone. */
    private final ConcurrentHashMap<Long, MemorySegment> chunks = new ConcurrentHashMap<>();
    private volatile boolean closed;

    public MemoryBlockDevice(Env env, Options options) {
        this.env = env;
        this.options = options;
        this.inFlight = new InFlight(env.scheduler(), options.name(), options.queueDepth());
    }

    public MemoryBlockDevice(Env env, String name, long sizeBytes) {
        this(env, Options.of(name, sizeBytes));
    }

    @Override
    public String name() {
        return options.name();
    }

    @Override
    public long sizeBytes() {
        return options.sizeBytes();
    }

    @Override
    public boolean supportsDiscard() {
        return true;
    }

    public boolean isInline() {
        return options.inline();
    }

    public int allocatedChunks() {
        return chunks.size();
    }

    public long allocatedBytes() {
        return (long) chunks.size() * CHUNK_BYTES;
    }

    public int inFlight() {
        return inFlight.inFlight();
    }

    public long callbackFailures() {
        return inFlight.callbackFailures();
    }

    public Throwable firstCallbackFailure() {
        return inFlight.firstCallbackFailure();
    }

    @Override
    public void submit(Bio bio) {
        assert BlockDevice.submittable(this, bio, closed);
        inFlight.acquire();
        dispatch(bio);
    }

    @Override
    public boolean trySubmit(Bio bio) {
        assert BlockDevice.submittable(this, bio, closed);
        if (!inFlight.tryAcquire()) {
            return false;
        }
        dispatch(bio);
        return true;
    }

    private void dispatch(Bio bio) {
        if (options.inline()) {
            run(bio);
            return;
        }
        try {
            env.ioWorkers().execute(() -> run(bio));
        } catch (RuntimeException e) {
            inFlight.releaseUnstarted();
            throw e;
        }
    }

    private void run(Bio bio) {
        int status = Errno.EIO;
        try {
            perform(bio);
            status = Errno.OK;
        } finally {
            inFlight.end(bio, status);
        }
    }

    private void perform(Bio bio) {
        long end = bio.offsetBytes + bio.lengthBytes;
        for (long pos = bio.offsetBytes; pos < end; ) {
            long index = pos / CHUNK_BYTES;
            int within = (int) (pos % CHUNK_BYTES);
            int n = (int) Math.min(CHUNK_BYTES - within, end - pos);
            long inBio = pos - bio.offsetBytes;
            switch (bio.op) {
                case READ -> readChunk(index, within, bio.data.asSlice(inBio, n));
                case WRITE -> MemorySegment.copy(bio.data, inBio, chunk(index), within, n);
                case DISCARD -> zeroChunk(index, within, n, false);
                case WRITE_ZEROES -> zeroChunk(index, within, n, (bio.flags & Bio.NO_UNMAP) != 0);
                case FLUSH -> throw new AssertionError("flush has no range");
            }
            pos += n;
        }
    }

    private MemorySegment chunk(long index) {
        return chunks.computeIfAbsent(index, k -> MemorySegment.ofArray(new byte[CHUNK_BYTES]));
    }

    private void readChunk(long index, int within, MemorySegment into) {
        MemorySegment c = chunks.get(index);
        if (c == null) {
            into.fill((byte) 0);
        } else {
            MemorySegment.copy(c, within, into, 0, into.byteSize());
        }
    }

    /** Zeroes part of a chunk; frees a wholly covered one unless it must stay allocated. */
    private void zeroChunk(long index, int within, int n, boolean keepAllocated) {
        if (keepAllocated) {
            chunk(index).asSlice(within, n).fill((byte) 0);
        } else if (n == CHUNK_BYTES) {
            chunks.remove(index);
        } else {
            MemorySegment c = chunks.get(index);
            if (c != null) {
                c.asSlice(within, n).fill((byte) 0);
            }
        }
    }

    /** Unallocated chunks are holes (and zero); allocated ones data. */
    @Override
    public void blockStatus(long offsetBytes, long lengthBytes, ExtentSink out) {
        assert offsetBytes >= 0 && lengthBytes > 0 && lengthBytes <= sizeBytes() - offsetBytes
            : name() + ": block status past the end: " + offsetBytes + "+" + lengthBytes;
        ExtentMerger merger = new ExtentMerger(offsetBytes, lengthBytes, out);
        long end = offsetBytes + lengthBytes;
        for (long pos = offsetBytes; pos < end; ) {
            long index = pos / CHUNK_BYTES;
            long n = Math.min(CHUNK_BYTES - pos % CHUNK_BYTES, end - pos);
            boolean hole = !chunks.containsKey(index);
            merger.extent(pos, n, hole, hole);
            pos += n;
        }
        merger.finish();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        inFlight.assertIdle();
        closed = true;
        chunks.clear();
    }

    @Override
    public String toString() {
        return "MemoryBlockDevice[" + name() + ", " + sizeBytes() + " bytes, " + chunks.size() + " chunks]";
    }
}
