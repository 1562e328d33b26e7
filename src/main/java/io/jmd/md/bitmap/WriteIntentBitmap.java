package io.jmd.md.bitmap;

import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.md.MdException;
import io.jmd.md.Member;
import io.jmd.md.format.BitmapLayout;
import io.jmd.md.format.BitmapSuperblock;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.SuperblockException;
import io.jmd.mem.Buffer;

import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * md's internal write-intent bitmap at run time: a bit per chunk of the resync address space that
 * is set, and on disk, before the first write to the chunk, and cleared lazily by a daemon once
 * the chunk saw no write for two daemon periods. After a crash only chunks with a set bit can
 * differ between members, so the resync visits only those; a member that was out for a while
 * (re-add) needs only the chunks written meanwhile.
 *
 * <p>Format and layout: {@link BitmapSuperblock}, {@link BitmapStore}; counter life cycle:
 * {@link BitmapCounters}. Behaviour follows md-bitmap.c so that the kernel reads what jmd leaves:
 * <ul>
 *   <li>bitmap events follow the superblock's (written before each superblock update); a bitmap
 *       whose events are behind the superblock's is stale: every bit counts as set;</li>
 *   <li>events_cleared records the events of the last clean (non-degraded) write; it is written
 *       before any bit is cleared, so a returning member whose events are not older than it finds
 *       every write it missed in a set bit;</li>
 *   <li>on load a set bit needs a resync (NEEDED) only for chunks from the array's resync point
 *       on, unless the array is degraded (then every set bit is kept for a re-add).</li>
 * </ul>
 *
 * <p>Threads: startWrite runs on submitters (it may wait for a bitmap block write); endWrite on
 * completion callbacks (never blocks); the daemon, header writes and loads on the md thread or
 * the assembling/stopping thread; startSync/endSync on the sync thread.
 */
public final class WriteIntentBitmap {
    /** Counters kept in memory at most: 16 Mi chunks, 64 MiB of heap. */
    public static final int CHUNKS_MAX = 1 << 24;

    private final BitmapHost host;
    private final BitmapCounters counters;
    private final BitmapStore store;
    private final BitmapSuperblock loadedHeader;
    private final long chunkBytes;
    private final boolean wasStale;
    /** Set once by the load, before the bitmap is published. */
    private int dirtyAtLoad;
    private int neededAtLoad;
    private volatile long headerEvents;
    private volatile long eventsCleared;
    private final AtomicBoolean needSync = new AtomicBoolean();
    private volatile long daemonSleepNanos;
    /** md thread only. */
    private long lastDaemonRunNanos;

    private WriteIntentBitmap(BitmapHost host, BitmapSuperblock header, int chunks, int blockBytes, boolean stale) {
        this.host = host;
        this.loadedHeader = header;
        this.chunkBytes = header.chunkBytes();
        this.counters = new BitmapCounters(chunks);
        this.headerEvents = header.events();
        this.eventsCleared = header.eventsCleared();
        this.wasStale = stale;
        this.daemonSleepNanos = header.daemonSleepSeconds() * 1_000_000_000L;
        this.store = new BitmapStore(host, counters, blockBytes, this::headerBytes);
        this.lastDaemonRunNanos = host.env().clock().nanoTime();
    }

    /**
     * Reads the bitmap of an array being assembled (md_bitmap_create + md_bitmap_load).
     * {@code syncBytes}: the resync address space it covers; {@code resyncDoneBytes}: recovery_cp
     * (Long.MAX_VALUE when clean); {@code readOnly}: write nothing (a stale bitmap is not fixed).
     */
    public static WriteIntentBitmap load(BitmapHost host, Superblock1 sb, long syncBytes, long resyncDoneBytes,
                                         boolean readOnly) throws MdException {
        List<String> why = new ArrayList<>();
        for (Member m : host.bitmapMembers()) {
            if (!m.isInSync()) {
                continue;
            }
            try {
                return loadFrom(host, m, sb, syncBytes, resyncDoneBytes, readOnly);
            } catch (MdException e) {
                why.add(m.path() + ": " + e.getMessage());
            }
        }
        throw new MdException("cannot read the write-intent bitmap (" + (why.isEmpty() ? "no member in sync" : String.join("; ", why)) + ")");
    }

    private static WriteIntentBitmap loadFrom(BitmapHost host, Member m, Superblock1 sb, long syncBytes,
                                              long resyncDoneBytes, boolean readOnly) throws MdException {
        long area = host.bitmapAreaOffsetBytes(m);
        BitmapSuperblock h;
        try {
            h = BitmapSuperblock.decode(read(host, m, area, 512), sb.setUuid());
        } catch (SuperblockException e) {
            throw new MdException("bad bitmap superblock: " + e.getMessage(), e);
        }
        long chunks = Math.ceilDiv(syncBytes, h.chunkBytes());
        if (chunks > CHUNKS_MAX || chunks < 1) {
            throw new MdException("bitmap of " + chunks + " chunks of " + h.chunkBytes() + " bytes (jmd keeps at most " + CHUNKS_MAX + ")");
        }
        int blockBytes = 4096;
        for (Member x : host.bitmapMembers()) {
            if (host.bitmapAreaOffsetBytes(x) % 4096 != 0) {
                blockBytes = 512;
            }
        }
        boolean stale = h.events() < sb.events() || h.isStale();
        WriteIntentBitmap b = new WriteIntentBitmap(host, h, (int) chunks, blockBytes, stale);
        try {
            byte[] bits = read(host, m, area, b.store.areaBytes());
            long start = !host.isDegraded() || h.eventsCleared() == sb.events() ? resyncDoneBytes : 0;
            int dirty = 0;
            for (int c = 0; c < chunks; c++) {
                boolean set = stale || (bits[BitmapLayout.HEADER_BYTES + c / 8] & BitmapLayout.bitMask(c)) != 0;
                if (set) {
                    b.counters.setLoaded(c, (c + 1) * b.chunkBytes >= start);
                    dirty++;
                }
            }
            b.dirtyAtLoad = dirty;
            b.neededAtLoad = b.counters.neededChunks();
            b.headerEvents = sb.events();
            if (!readOnly) {
                int st = stale ? b.store.writeAll(host.bitmapMembers()) : b.writeBlock0();
                if (st != Errno.OK) {
                    throw new MdException("cannot write the write-intent bitmap: " + Errno.name(st));
                }
            }
            return b;
        } catch (MdException | RuntimeException e) {
            b.close();
            throw e;
        }
    }

    private static byte[] read(BitmapHost host, Member m, long at, int len) throws MdException {
        Buffer buf = host.env().buffers().allocate(len);
        try {
            int st = SyncIo.read(host.env().scheduler(), m.device(), at, buf.segment());
            if (st != Errno.OK) {
                throw new MdException("read error " + Errno.name(st) + " at byte " + at);
            }
            return buf.segment().toArray(ValueLayout.JAVA_BYTE);
        } finally {
            buf.release();
        }
    }

    private byte[] headerBytes() {
        long ev = headerEvents;
        long cleared = Math.min(eventsCleared, ev);
        return new BitmapSuperblock(loadedHeader.version(), loadedHeader.uuid(), ev, cleared, loadedHeader.syncSizeSectors(),
            loadedHeader.state() & ~(BitmapLayout.STATE_STALE | BitmapLayout.STATE_WRITE_ERROR), loadedHeader.chunkBytes(),
            loadedHeader.daemonSleepSeconds(), loadedHeader.writeBehind(), loadedHeader.sectorsReserved(),
            loadedHeader.nodes(), loadedHeader.clusterName()).encode();
    }

    private int writeBlock0() {
        return store.ensureWritten(0, store.markDirty(0));
    }

    public long chunkBytes() {
        return chunkBytes;
    }

    public int chunks() {
        return counters.chunks();
    }

    public int chunkOf(long syncBytes) {
        return (int) (syncBytes / chunkBytes);
    }

    public BitmapCounters counters() {
        return counters;
    }

    /** The bitmap was behind the superblock at load: every chunk was taken as dirty. */
    public boolean wasStale() {
        return wasStale;
    }

    /** Bits set when loaded, and how many of them needed a sync. */
    public int dirtyAtLoad() {
        return dirtyAtLoad;
    }

    public int neededAtLoad() {
        return neededAtLoad;
    }

    public long eventsCleared() {
        return eventsCleared;
    }

    public long headerEvents() {
        return headerEvents;
    }

    /** Changes the daemon period (md's bitmap/time_base via sysfs); the on-disk value stays. */
    public void setDaemonSleepNanos(long nanos) {
        assert nanos > 0 : "daemon sleep " + nanos;
        daemonSleepNanos = nanos;
    }

    public long daemonSleepNanos() {
        return daemonSleepNanos;
    }

    /**
     * Counts a write to resync bytes [fromBytes, toBytes) in; sets and writes the disk bits of
     * chunks that were clean, and returns once they are durable (md_bitmap_startwrite + unplug).
     * Returns 0, or an errno if no member took a bitmap write; the caller ends the write with it,
     * after {@link #endWrite} as usual.
     */
    public int startWrite(long fromBytes, long toBytes) {
        assert toBytes > fromBytes : "empty write range";
        int first = chunkOf(fromBytes);
        int last = Math.min(chunkOf(toBytes - 1), counters.chunks() - 1);
        int block = -1;
        long seq = 0;
        int result = Errno.OK;
        for (int c = first; c <= last; c++) {
            if (counters.startWrite(c)) {
                int b = store.blockOf(c);
                if (b != block && block >= 0) {
                    result = worst(result, store.ensureWritten(block, seq));
                }
                block = b;
                seq = store.markDirty(b);
            }
        }
        if (block >= 0) {
            result = worst(result, store.ensureWritten(block, seq));
        }
        return result;
    }

    private static int worst(int a, int b) {
        return a != Errno.OK ? a : b;
    }

    /**
     * Counts a write out; {@code success}: it reached every slot of the array. Never blocks.
     */
    public void endWrite(long fromBytes, long toBytes, boolean success) {
        if (success && !host.isDegraded()) {
            long ev = host.events();
            if (eventsCleared < ev) {
                eventsCleared = ev;
                needSync.set(true);
            }
        }
        int first = chunkOf(fromBytes);
        int last = Math.min(chunkOf(toBytes - 1), counters.chunks() - 1);
        for (int c = first; c <= last; c++) {
            counters.endWrite(c, success);
        }
    }

    /** Whether a sync must visit {@code chunk}; see {@link BitmapCounters#startSync}. */
    public boolean startSync(int chunk, boolean degraded) {
        return counters.startSync(chunk, degraded);
    }

    public void endSync(int chunk, boolean aborted) {
        counters.endSync(chunk, aborted);
    }

    /**
     * The daemon (md_bitmap_daemon_work), from the md thread on each pass: at most once per
     * daemon period, writes a new events_cleared first, then steps every counter and writes the
     * blocks whose bits were cleared.
     */
    public void daemonWork() {
        long now = host.env().clock().nanoTime();
        if (now - lastDaemonRunNanos < daemonSleepNanos) {
            return;
        }
        lastDaemonRunNanos = now;
        daemonPass();
    }

    private void daemonPass() {
        if (needSync.getAndSet(false)) {
            writeBlock0();
        }
        int block = -1;
        long seq = 0;
        for (int c = 0; c < counters.chunks(); c++) {
            if (counters.daemonStep(c, false)) {
                int b = store.blockOf(c);
                if (b != block && block >= 0) {
                    store.ensureWritten(block, seq);
                }
                block = b;
                seq = store.markDirty(b);
            }
        }
        if (block >= 0) {
            store.ensureWritten(block, seq);
        }
    }

    /** Three daemon passes at once (md_bitmap_flush): every idle chunk's bit is cleared. */
    public void flush() {
        for (int i = 0; i < 3; i++) {
            daemonPass();
        }
    }

    /** Bitmap events follow a superblock update with {@code events}: written before it. */
    public int writeHeader(long events) {
        headerEvents = events;
        if (eventsCleared > events) {
            eventsCleared = events;
        }
        return writeBlock0();
    }

    /** Writes the whole current bitmap to {@code members} (a spare joining the array). */
    public int writeAllTo(List<Member> members) {
        return store.writeAll(members);
    }

    /** Chunks whose disk bit is set now. */
    public int dirtyChunks() {
        return counters.dirtyChunks();
    }

    /** /proc/mdstat's line: "bitmap: 1/1 pages [4KB], 65536KB chunk". */
    public String mdstatLine() {
        int used = counters.pagesInUse();
        long kb = chunkBytes >> 10;
        return "bitmap: " + used + "/" + counters.pages() + " pages [" + used * 4 + "KB], "
            + (kb > 0 ? kb + "KB" : chunkBytes + "B") + " chunk";
    }

    public void close() {
        store.close();
    }
}
