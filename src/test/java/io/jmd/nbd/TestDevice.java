package io.jmd.nbd;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.sync.DependencyChecker;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A sparse memory device for NBD tests, with the knobs the server tests need: bios can be held
 * back by a predicate (to force out-of-order completion) and released later, failed with an
 * errno, and are counted by kind. Bios run on the Env's I/O workers and end inside a
 * must-not-block section, as a real device's do, so a callback that blocks fails the test.
 */
final class TestDevice implements BlockDevice {
    static final int CHUNK_BYTES = 64 * 1024;

    private final Env env;
    private final String name;
    private final long sizeBytes;
    private final ConcurrentHashMap<Long, byte[]> chunks = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<Bio> held = new ConcurrentLinkedQueue<>();
    private volatile Predicate<Bio> hold = b -> false;
    private volatile Predicate<Bio> fail = b -> false;
    final AtomicInteger inFlight = new AtomicInteger();
    final AtomicLong flushes = new AtomicLong();
    final AtomicLong fuaBios = new AtomicLong();
    final AtomicLong discards = new AtomicLong();
    final AtomicLong zeroes = new AtomicLong();
    final AtomicLong noUnmapZeroes = new AtomicLong();

    TestDevice(Env env, String name, long sizeBytes) {
        this.env = env;
        this.name = name;
        this.sizeBytes = sizeBytes;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public boolean supportsDiscard() {
        return true;
    }

    /** Bios matching {@code p} wait until {@link #releaseHeld()}. */
    void holdWhen(Predicate<Bio> p) {
        hold = p;
    }

    /** Bios matching {@code p} end with EIO. */
    void failWhen(Predicate<Bio> p) {
        fail = p;
    }

    int heldCount() {
        return held.size();
    }

    void releaseHeld() {
        hold = b -> false;
        Bio b;
        while ((b = held.poll()) != null) {
            Bio x = b;
            env.ioWorkers().execute(() -> run(x));
        }
    }

    @Override
    public void submit(Bio bio) {
        assert bio.offsetBytes % 512 == 0 && bio.lengthBytes % 512 == 0 : "unaligned " + bio;
        assert bio.op == Bio.Op.FLUSH || bio.offsetBytes + bio.lengthBytes <= sizeBytes : "past the end " + bio;
        inFlight.incrementAndGet();
        if (hold.test(bio)) {
            held.add(bio);
            return;
        }
        env.ioWorkers().execute(() -> run(bio));
    }

    private void run(Bio bio) {
        int status = Errno.OK;
        if (fail.test(bio)) {
            status = Errno.EIO;
        } else {
            perform(bio);
        }
        if (bio.fua()) {
            fuaBios.incrementAndGet();
        }
        inFlight.decrementAndGet();
        int s = status;
        DependencyChecker.runAtomic(env.scheduler().current(), () -> bio.end(s));
    }

    private void perform(Bio bio) {
        switch (bio.op) {
            case FLUSH -> flushes.incrementAndGet();
            case DISCARD -> {
                discards.incrementAndGet();
                zeroRange(bio.offsetBytes, bio.lengthBytes, false);
            }
            case WRITE_ZEROES -> {
                zeroes.incrementAndGet();
                boolean keep = (bio.flags & Bio.NO_UNMAP) != 0;
                if (keep) {
                    noUnmapZeroes.incrementAndGet();
                }
                zeroRange(bio.offsetBytes, bio.lengthBytes, keep);
            }
            case READ, WRITE -> copy(bio);
        }
    }

    private void copy(Bio bio) {
        long end = bio.offsetBytes + bio.lengthBytes;
        for (long pos = bio.offsetBytes; pos < end; ) {
            long index = pos / CHUNK_BYTES;
            int within = (int) (pos % CHUNK_BYTES);
            int n = (int) Math.min(CHUNK_BYTES - within, end - pos);
            long at = pos - bio.offsetBytes;
            if (bio.op == Bio.Op.WRITE) {
                byte[] c = chunks.computeIfAbsent(index, k -> new byte[CHUNK_BYTES]);
                MemorySegment.copy(bio.data, at, MemorySegment.ofArray(c), within, n);
            } else {
                byte[] c = chunks.get(index);
                if (c == null) {
                    bio.data.asSlice(at, n).fill((byte) 0);
                } else {
                    MemorySegment.copy(MemorySegment.ofArray(c), within, bio.data, at, n);
                }
            }
            pos += n;
        }
    }

    private void zeroRange(long offset, long length, boolean keepAllocated) {
        long end = offset + length;
        for (long pos = offset; pos < end; ) {
            long index = pos / CHUNK_BYTES;
            int within = (int) (pos % CHUNK_BYTES);
            int n = (int) Math.min(CHUNK_BYTES - within, end - pos);
            if (n == CHUNK_BYTES && !keepAllocated) {
                chunks.remove(index);
            } else {
                byte[] c = keepAllocated ? chunks.computeIfAbsent(index, k -> new byte[CHUNK_BYTES]) : chunks.get(index);
                if (c != null) {
                    java.util.Arrays.fill(c, within, within + n, (byte) 0);
                }
            }
            pos += n;
        }
    }

    /** Unallocated chunks are holes that read as zero; the rest is data. */
    @Override
    public void blockStatus(long offsetBytes, long lengthBytes, ExtentSink out) {
        long end = offsetBytes + lengthBytes;
        for (long pos = offsetBytes; pos < end; ) {
            long index = pos / CHUNK_BYTES;
            long n = Math.min(CHUNK_BYTES - pos % CHUNK_BYTES, end - pos);
            boolean hole = !chunks.containsKey(index);
            out.extent(pos, n, hole, hole);
            pos += n;
        }
    }

    /** Direct access for assertions. */
    byte[] readDirect(long offset, int length) {
        byte[] r = new byte[length];
        for (int i = 0; i < length; i++) {
            long p = offset + i;
            byte[] c = chunks.get(p / CHUNK_BYTES);
            r[i] = c == null ? 0 : c[(int) (p % CHUNK_BYTES)];
        }
        return r;
    }

    int allocatedChunks() {
        return chunks.size();
    }

    @Override
    public void close() {
        assert inFlight.get() == 0 : name + " closed with bios in flight";
    }
}
