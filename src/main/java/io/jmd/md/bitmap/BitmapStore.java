package io.jmd.md.bitmap;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.md.Member;
import io.jmd.md.format.BitmapLayout;
import io.jmd.mem.Buffer;
import io.jmd.sync.Completion;
import io.jmd.sync.WaitQueue;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.Supplier;

/**
 * The on-disk half of the bitmap: the area at superblock + bitmap_offset on every member, written
 * in blocks (4 KiB, or 512 bytes when the area is not 4 KiB aligned), as md's write_sb_page.
 *
 * <pre>
 *   area byte 0..255   bitmap_super_t (block 0 carries it)
 *   area byte 256+i/8  bit i%8: chunk i's disk bit = its counter != 0
 *   length             256 + ceil(chunks/8), rounded up to 512 (md writes no further either)
 * </pre>
 *
 * <h2>Who writes a block, and why nothing is lost</h2>
 * A block's image is never kept: it is built from the counters (and the header) at the moment
 * it is written. Whoever changes a counter in a way the disk must learn (0 to non-zero, or 1 to
 * 0) bumps the block's {@code dirtySeq} after the change, then asks for {@code ensureWritten}
 * of that sequence. One writer per block at a time (a token): it reads {@code dirtySeq} first,
 * then builds the image (so the image holds every change that sequence counts), writes it to
 * every member, and then publishes the sequence as written. A writer that finds the token taken
 * waits until the holder is done and re-checks: the holder's write may already cover it.
 * Every write is a flush followed by a FUA write (md_super_write's PREFLUSH|FUA): a set bit is
 * durable before the data write it guards, and a bit is cleared only after the data it covered
 * is durable.
 *
 * <p>Memory: one preallocated image buffer of the area's size; each block writes from its own
 * slice, and only the token holder touches it. Waiters are submitters, the md thread and the sync
 * thread; none of them holds a lock while waiting, and a write ends on member I/O alone.
 */
final class BitmapStore {
    private final BitmapHost host;
    private final BitmapCounters counters;
    private final int blockBytes;
    private final int areaBytes;
    private final int blocks;
    private final Buffer image;
    private final AtomicLongArray dirtySeq;
    private final AtomicLongArray writtenSeq;
    private final AtomicIntegerArray token;
    private final WaitQueue written;
    private final Supplier<byte[]> header;

    BitmapStore(BitmapHost host, BitmapCounters counters, int blockBytes, Supplier<byte[]> header) {
        this.host = host;
        this.counters = counters;
        this.blockBytes = blockBytes;
        this.areaBytes = areaBytes(counters.chunks());
        this.blocks = Math.ceilDiv(areaBytes, blockBytes);
        this.header = header;
        this.image = host.env().buffers().allocate(areaBytes);
        this.dirtySeq = new AtomicLongArray(blocks);
        this.writtenSeq = new AtomicLongArray(blocks);
        this.token = new AtomicIntegerArray(blocks);
        this.written = new WaitQueue(host.env().scheduler(), host.name() + " bitmap written");
    }

    /** Header plus bits, rounded up to a sector. */
    static int areaBytes(int chunks) {
        long bytes = BitmapLayout.HEADER_BYTES + Math.ceilDiv((long) chunks, 8);
        return Math.toIntExact(Math.ceilDiv(bytes, 512) * 512);
    }

    int areaBytes() {
        return areaBytes;
    }

    int blocks() {
        return blocks;
    }

    static int blockOfChunk(int chunk, int blockBytes) {
        return (BitmapLayout.HEADER_BYTES + chunk / 8) / blockBytes;
    }

    int blockOf(int chunk) {
        return blockOfChunk(chunk, blockBytes);
    }

    /** Records that block {@code block}'s disk image changed; returns the sequence to wait for. */
    long markDirty(int block) {
        return dirtySeq.incrementAndGet(block);
    }

    /**
     * Waits until an image of {@code block} that includes change {@code seq} is on disk, writing
     * it if nobody else is. Returns 0, or EIO if no member took the write.
     */
    int ensureWritten(int block, long seq) {
        while (true) {
            if (writtenSeq.get(block) >= seq) {
                return Errno.OK;
            }
            if (token.compareAndSet(block, 0, 1)) {
                int st;
                try {
                    long covers = dirtySeq.get(block);
                    st = writeBlock(block, host.bitmapMembers());
                    if (st == Errno.OK) {
                        writtenSeq.accumulateAndGet(block, covers, Math::max);
                    }
                } finally {
                    token.set(block, 0);
                    written.wakeAll();
                }
                if (st != Errno.OK) {
                    return st;
                }
                continue;
            }
            written.waitUntil(() -> writtenSeq.get(block) >= seq || token.get(block) == 0);
        }
    }

    /** Writes every block to {@code targets} (a stale bitmap made all-dirty, a new member). */
    int writeAll(List<Member> targets) {
        int result = Errno.OK;
        for (int b = 0; b < blocks; b++) {
            while (!token.compareAndSet(b, 0, 1)) {
                final int block = b;
                written.waitUntil(() -> token.get(block) == 0);
            }
            try {
                int st = writeBlock(b, targets);
                if (st != Errno.OK) {
                    result = st;
                }
            } finally {
                token.set(b, 0);
                written.wakeAll();
            }
        }
        return result;
    }

    private int writeBlock(int block, List<Member> targets) {
        int from = block * blockBytes;
        int len = Math.min(blockBytes, areaBytes - from);
        MemorySegment seg = image.slice(from, len);
        fillImage(seg, from);
        if (targets.isEmpty()) {
            return Errno.EIO;
        }
        int[] flushed = submitAll(targets, seg, from, true);
        int[] st = submitAll(targets, seg, from, false);
        int ok = 0;
        for (int i = 0; i < targets.size(); i++) {
            int s = flushed[i] != Errno.OK ? flushed[i] : st[i];
            if (s == Errno.OK) {
                ok++;
            } else {
                host.memberError(targets.get(i));
            }
        }
        return ok > 0 ? Errno.OK : Errno.EIO;
    }

    /** Builds the image of area bytes [from, from + seg size) from the header and the counters. */
    private void fillImage(MemorySegment seg, int from) {
        seg.fill((byte) 0);
        int at = 0;
        if (from == 0) {
            byte[] h = header.get();
            MemorySegment.copy(MemorySegment.ofArray(h), 0, seg, 0, h.length);
            at = BitmapLayout.HEADER_BYTES;
        }
        int chunks = counters.chunks();
        for (; at < seg.byteSize(); at++) {
            long firstChunk = (long) (from + at - BitmapLayout.HEADER_BYTES) * 8;
            if (firstChunk >= chunks) {
                break;
            }
            int b = 0;
            for (int bit = 0; bit < 8 && firstChunk + bit < chunks; bit++) {
                if (counters.diskBit((int) (firstChunk + bit))) {
                    b |= 1 << bit;
                }
            }
            seg.set(ValueLayout.JAVA_BYTE, at, (byte) b);
        }
    }

    /** Submits one bio per target at once and waits for all; returns each status. */
    private int[] submitAll(List<Member> targets, MemorySegment seg, int from, boolean flush) {
        int n = targets.size();
        int[] status = new int[n];
        java.util.concurrent.atomic.AtomicInteger remaining = new java.util.concurrent.atomic.AtomicInteger(n + 1);
        Completion done = new Completion(host.env().scheduler(), host.name() + " bitmap " + (flush ? "flush" : "write"));
        for (int i = 0; i < n; i++) {
            Member m = targets.get(i);
            final int idx = i;
            io.jmd.block.BioCallback cb = b -> {
                status[idx] = b.status();
                if (remaining.decrementAndGet() == 0) {
                    done.complete(0);
                }
            };
            Bio bio = flush ? Bio.flush(null, cb)
                : Bio.write(host.bitmapAreaOffsetBytes(m) + from, seg, Bio.FUA, null, cb);
            m.device().submit(bio);
        }
        if (remaining.decrementAndGet() == 0) {
            done.complete(0);
        }
        done.await();
        return status;
    }

    void close() {
        image.release();
    }
}
