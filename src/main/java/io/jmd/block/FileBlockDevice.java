package io.jmd.block;

import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;

import io.jmd.Env;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A member that is a regular file or a raw block device.
 *
 * <p>Data path: each bio is one task on {@link Env#ioWorkers()}, doing positional FileChannel
 * reads/writes until complete. A read that meets end-of-file inside the device size (a file
 * truncated under us) returns zeroes for the rest. FLUSH is fdatasync; a FUA write is a write,
 * then fdatasync. DISCARD punches a hole (regular file) or issues BLKDISCARD (block device);
 * WRITE_ZEROES punches a hole unless NO_UNMAP, else zeroes in place (ZERO_RANGE, BLKZEROOUT, or by
 * writing zeroes when those are refused).
 *
 * <p>O_DIRECT: when asked and the file system allows it. A direct device needs offsets, lengths
 * and native buffer addresses aligned to {@link #alignmentBytes()}; bios from jmd's BufferCache
 * are. Any other bio goes through a second, buffered channel on the same file: Linux writes back
 * and invalidates the page-cache range before each direct I/O, so the two views stay coherent for
 * requests that do not overlap in time (md never has two in flight on one member range).
 *
 * <p>Errors: an IOException ends the bio with EIO (ENOSPC with ENOSPC); the device stays usable.
 * Thread model: submit/trySubmit from any thread; blockStatus from any thread (synchronous
 * lseek calls); close once every bio ended.
 */
public final class FileBlockDevice implements BlockDevice {
    /** In-flight bios per member: 64 keeps an NVMe queue busy and bounds the I/O pool's queue. */
    public static final int QUEUE_DEPTH_DEFAULT = 64;
    /** The shared I/O pool's queue is the sum of every device's depth; one device may not take it all. */
    public static final int QUEUE_DEPTH_MAX = 4096;
    /** Zero source for WRITE_ZEROES fallbacks: 64 KiB per device, fixed, so not charged per request. */
    private static final int ZEROES_BYTES = 64 * 1024;
    /** Most bios of a {@link #submitBatch} that one worker task runs in a row. */
    static final int BATCH_MAX = 16;
    /** Disk quota exceeded: reported to the submitter as ENOSPC. */
    private static final int EDQUOT = 122;

    /**
     * How to open a member. {@code create}: make a new sparse file of {@code createSizeBytes}
     * (refused if it exists). Build with {@link #of(Path)} and the with-methods.
     */
    public record Options(Path path, boolean readOnly, boolean direct, int queueDepth, boolean create,
                          long createSizeBytes) {
        public Options {
            Objects.requireNonNull(path, "path");
            if (queueDepth < 1 || queueDepth > QUEUE_DEPTH_MAX) {
                throw new IllegalArgumentException(path + ": queue depth must be 1.." + QUEUE_DEPTH_MAX + ", got " + queueDepth);
            }
            if (create && (createSizeBytes <= 0 || createSizeBytes % 512 != 0)) {
                throw new IllegalArgumentException(path + ": size of a new member must be a positive multiple of 512, got "
                    + createSizeBytes);
            }
            if (create && readOnly) {
                throw new IllegalArgumentException(path + ": cannot create a member read-only");
            }
        }

        public static Options of(Path path) {
            return new Options(path, false, false, QUEUE_DEPTH_DEFAULT, false, 0);
        }

        public Options readOnly(boolean value) {
            return new Options(path, value, direct, queueDepth, create, createSizeBytes);
        }

        public Options direct(boolean value) {
            return new Options(path, readOnly, value, queueDepth, create, createSizeBytes);
        }

        public Options queueDepth(int value) {
            return new Options(path, readOnly, direct, value, create, createSizeBytes);
        }

        /** Create a new sparse file of {@code sizeBytes} (the CLI's --member-size). */
        public Options create(long sizeBytes) {
            return new Options(path, readOnly, direct, queueDepth, true, sizeBytes);
        }
    }

    private final Env env;
    private final String name;
    private final boolean readOnly;
    private final FileOpener.Opened opened;
    private final InFlight inFlight;
    private final MemorySegment zeroes;
    /**
     * Starts as what the kernel says (block devices: queue/discard_max_bytes; files: yes), cleared
     * on the first EOPNOTSUPP from a hole punch or BLKDISCARD; discards are no-ops from then on.
     */
    private volatile boolean discardWorks;
    /** Cleared on the first EOPNOTSUPP from ZERO_RANGE/BLKZEROOUT; WRITE_ZEROES writes zeroes then. */
    private volatile boolean zeroRangeWorks = true;
    private final AtomicLong unalignedBios = new AtomicLong();
    /** pwritev calls that wrote two or more bios at once. */
    private final AtomicLong gatheredWrites = new AtomicLong();
    /**
     * pwritev scratch (iovecs and errno) for gathering writes, taken by a run for its call and put
     * back after, so that no call allocates. A gathering write runs on whichever thread runs the
     * batch (a shared I/O worker or a client thread inline), so the scratch belongs to the device,
     * not the thread: there are at most as many as gathering writes at once, and each holds two
     * or more of the device's in-flight slots (queue depth / 2 at most, a few hundred bytes each).
     * Freed at close, when every bio has ended.
     */
    private final Arena gatherScratchArena = Arena.ofShared();
    private final ConcurrentLinkedQueue<MemorySegment> gatherScratch = new ConcurrentLinkedQueue<>();
    /**
     * Above this average service time the I/O goes to the workers even for client threads: 50 µs
     * is about what two thread hand-offs cost on this class of machine, so slower I/O gains more
     * from running in parallel than from saving the hand-offs.
     */
    static final long INLINE_SERVICE_NANOS_MAX = 50_000;
    /** Recent average time of one I/O (ns), written by whichever thread ran the last one. */
    private volatile long serviceNanosAverage;
    private final AtomicLong ioErrors = new AtomicLong();
    private volatile boolean closed;

    private FileBlockDevice(Env env, Options options, FileOpener.Opened opened) {
        this.env = env;
        this.name = options.path().toString();
        this.readOnly = options.readOnly();
        this.opened = opened;
        this.inFlight = new InFlight(env.scheduler(), name, options.queueDepth());
        this.zeroes = Arena.ofAuto().allocate(ZEROES_BYTES, opened.alignmentBytes());
        this.discardWorks = opened.discardExpected();
    }

    /** Opens a member; throws with an operator-readable message naming the path. */
    public static FileBlockDevice open(Env env, Options options) throws DeviceOpenException {
        return open(env, options, FileOpener.REAL);
    }

    /** Opens an existing member read-write, buffered, with the default queue depth. */
    public static FileBlockDevice open(Env env, Path path) throws DeviceOpenException {
        return open(env, Options.of(path));
    }

    static FileBlockDevice open(Env env, Options options, FileOpener.ChannelOpener opener) throws DeviceOpenException {
        return new FileBlockDevice(env, options, FileOpener.open(options, opener));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long sizeBytes() {
        return opened.sizeBytes();
    }

    @Override
    public int optimalIoBytes() {
        return opened.alignmentBytes();
    }

    @Override
    public boolean supportsDiscard() {
        return !readOnly && discardWorks;
    }

    /** Whether data I/O bypasses the page cache (O_DIRECT was asked for and allowed). */
    public boolean isDirect() {
        return opened.direct();
    }

    /** Why O_DIRECT was asked for and refused (then I/O is buffered), or null. */
    public String directFallbackReason() {
        return opened.directFallbackReason();
    }

    /** Offset, length and buffer alignment of the direct path. */
    public int alignmentBytes() {
        return opened.alignmentBytes();
    }

    public boolean isBlockDevice() {
        return opened.blockDevice();
    }

    public boolean isReadOnly() {
        return readOnly;
    }

    public int queueDepth() {
        return inFlight.queueDepth();
    }

    /** Bios submitted and not yet ended. */
    public int inFlight() {
        return inFlight.inFlight();
    }

    /** Bios of a direct device that went through the buffered channel (not aligned). */
    public long unalignedBios() {
        return unalignedBios.get();
    }

    /** Bios ended with an errno because the system said no (EIO, ENOSPC). */
    public long ioErrors() {
        return ioErrors.get();
    }

    /** Callbacks that threw (a bug in the submitter; the bio had ended all the same). */
    public long callbackFailures() {
        return inFlight.callbackFailures();
    }

    /** How many times adjacent writes of a batch went down as one gathering write. */
    long gatheredWrites() {
        return gatheredWrites.get();
    }

    public Throwable firstCallbackFailure() {
        return inFlight.firstCallbackFailure();
    }

    @Override
    public void submit(Bio bio) {
        assert BlockDevice.submittable(this, bio, closed);
        inFlight.acquire();
        if (runsInline()) {
            run(bio);
        } else {
            dispatch(bio);
        }
    }

    /**
     * Runs of up to {@link #BATCH_MAX} bios go to one worker task (or run inline, as
     * {@link #submit} would), in order. The first bio of a run may wait for its slot; the others
     * take slots only if free now, else the run goes out as it is and the next starts: a batch
     * never waits while holding slots of bios it has not started (seed 002).
     */
    @Override
    public void submitBatch(java.util.List<Bio> bios) {
        int i = 0;
        int n = bios.size();
        while (i < n) {
            assert BlockDevice.submittable(this, bios.get(i), closed);
            inFlight.acquire();
            int j = i + 1;
            while (j < n && j - i < BATCH_MAX && inFlight.tryAcquire()) {
                assert BlockDevice.submittable(this, bios.get(j), closed);
                j++;
            }
            Bio[] run = bios.subList(i, j).toArray(new Bio[0]);
            if (runsInline()) {
                runAll(run);
            } else {
                try {
                    env.ioWorkers().execute(() -> runAll(run));
                } catch (RuntimeException e) {
                    for (int k = 0; k < run.length; k++) {
                        inFlight.releaseUnstarted();
                    }
                    throw e;
                }
            }
            i = j;
        }
    }

    /**
     * Caller runs: a thread that serves a client (an NBD connection) or that jmd did not start (an
     * application embedding jmd, the CLI), and so may block, does the I/O
     * itself while this device answers fast (page cache, tmpfs: a few microseconds), sparing the
     * two thread hand-offs a worker costs, which on small requests cost more than the I/O. Slow
     * storage (a disk, a network file system) goes to the workers, so that deep queues keep
     * their parallelism. Never on I/O-progress threads (the md thread, workers, timers).
     */
    private boolean runsInline() {
        if (serviceNanosAverage >= INLINE_SERVICE_NANOS_MAX) {
            return false;
        }
        JmdThread me = env.scheduler().current();
        return me.has(ThreadRole.CLIENT) || me.has(ThreadRole.EXTERNAL);
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
        try {
            env.ioWorkers().execute(() -> run(bio));
        } catch (RuntimeException e) {
            inFlight.releaseUnstarted();
            throw e;
        }
    }

    /**
     * Runs a batch in order. Adjacent plain writes that continue each other on a page-cache file
     * (a member's share of consecutive stripes) go down as one gathering write: one system call
     * and one page-cache walk instead of one per bio. Not on an O_DIRECT member, whose other fd
     * would bypass O_DIRECT; not for FUA writes, which keep their own flush.
     */
    private void runAll(Bio[] run) {
        int i = 0;
        while (i < run.length) {
            int j = i + 1;
            while (j < run.length && j - i < BATCH_MAX && gathers(run[j - 1], run[j])) {
                j++;
            }
            if (j - i == 1) {
                run(run[i]);
            } else {
                runGathered(run, i, j);
            }
            i = j;
        }
    }

    /** Whether {@code next} may join {@code prev}'s gathering write. */
    private boolean gathers(Bio prev, Bio next) {
        return !opened.direct() && !readOnly
            && prev.op == Bio.Op.WRITE && next.op == Bio.Op.WRITE && !prev.fua() && !next.fua()
            && prev.data.isNative() && next.data.isNative()
            && prev.offsetBytes + prev.lengthBytes == next.offsetBytes;
    }

    /**
     * Writes {@code run[from, to)} with one pwritev and ends them OK. A short write (ENOSPC near the
     * end of a file system) finishes bio by bio from where it stopped; an error retries each bio on
     * its own, so each ends with its own status. Rewriting bytes already written is harmless: md
     * never has two writes in flight on one member range.
     */
    private void runGathered(Bio[] run, int from, int to) {
        long start = env.clock().nanoTime();
        MemorySegment[] parts = new MemorySegment[to - from];
        long total = 0;
        for (int k = from; k < to; k++) {
            parts[k - from] = run[k].data;
            total += run[k].lengthBytes;
        }
        gatheredWrites.incrementAndGet();
        long written;
        MemorySegment scratch = gatherScratch.poll();
        if (scratch == null) {
            scratch = gatherScratchArena.allocate(Posix.pwritevScratchBytes(BATCH_MAX), 16);
        }
        try {
            written = Posix.pwritev(opened.fd(), parts, 0, parts.length, run[from].offsetBytes, scratch);
        } catch (IOException e) {
            gatherScratch.add(scratch);
            for (int k = from; k < to; k++) {
                run(run[k]);
            }
            return;
        }
        gatherScratch.add(scratch); // before any bio ends: close may follow the last one
        long took = env.clock().nanoTime() - start;
        serviceNanosAverage += (took / (to - from) - serviceNanosAverage) >> 3;
        if (written == total) {
            for (int k = from; k < to; k++) {
                inFlight.end(run[k], Errno.OK);
            }
            return;
        }
        long done = written;
        for (int k = from; k < to; k++) {
            Bio b = run[k];
            if (done >= b.lengthBytes) {
                done -= b.lengthBytes;
                inFlight.end(b, Errno.OK);
                continue;
            }
            finishShort(b, done);
            done = 0;
        }
    }

    /** Finishes a gathered bio whose first {@code doneBytes} are on the file. */
    private void finishShort(Bio bio, long doneBytes) {
        int status = Errno.EIO;
        try {
            writeFully(bio.offsetBytes + doneBytes, bio.data.asSlice(doneBytes));
            status = Errno.OK;
        } catch (IOException e) {
            ioErrors.incrementAndGet();
            status = errnoOf(e);
        } finally {
            inFlight.end(bio, status);
        }
    }

    /** On an I/O worker: does the bio, then ends it, whatever happened. */
    private void run(Bio bio) {
        int status = Errno.EIO;
        long start = env.clock().nanoTime();
        try {
            status = perform(bio);
            // Average service time, weight 1/8; racy updates only blur it, which is fine for a hint.
            long took = env.clock().nanoTime() - start;
            serviceNanosAverage += (took - serviceNanosAverage) >> 3;
        } catch (IOException e) {
            ioErrors.incrementAndGet();
            status = errnoOf(e);
        } catch (RuntimeException e) {
            System.err.println("jmd: " + name + ": " + bio + " failed unexpectedly, ending it with EIO: " + e);
        } finally {
            inFlight.end(bio, status);
        }
    }

    private int perform(Bio bio) throws IOException {
        if (bio.op != Bio.Op.READ && bio.op != Bio.Op.FLUSH && readOnly) {
            return Errno.EROFS;
        }
        switch (bio.op) {
            case READ -> readFully(bio.offsetBytes, bio.data);
            case WRITE -> writeFully(bio.offsetBytes, bio.data);
            case FLUSH -> opened.channel().force(false);
            case DISCARD -> discard(bio.offsetBytes, bio.lengthBytes);
            case WRITE_ZEROES -> writeZeroes(bio.offsetBytes, bio.lengthBytes, (bio.flags & Bio.NO_UNMAP) != 0);
        }
        if (bio.fua() && (bio.op == Bio.Op.WRITE || bio.op == Bio.Op.WRITE_ZEROES)) {
            opened.channel().force(false);
        }
        return Errno.OK;
    }

    /** The direct channel if the request suits O_DIRECT, else the buffered one. */
    private FileChannel channelFor(long offsetBytes, long lengthBytes, MemorySegment data) {
        if (!opened.direct()) {
            return opened.channel();
        }
        int a = opened.alignmentBytes();
        boolean aligned = offsetBytes % a == 0 && lengthBytes % a == 0
            && (!data.isNative() || data.address() % a == 0);
        if (aligned) {
            return opened.channel();
        }
        unalignedBios.incrementAndGet();
        return opened.buffered();
    }

    private void readFully(long offsetBytes, MemorySegment into) throws IOException {
        FileChannel ch = channelFor(offsetBytes, into.byteSize(), into);
        ByteBuffer bb = into.asByteBuffer();
        long pos = offsetBytes;
        while (bb.hasRemaining()) {
            int n = ch.read(bb, pos);
            if (n > 0) {
                pos += n;
            }
            // End of file inside the device: the rest reads as zeroes (and a direct channel must
            // not be asked for the unaligned remainder).
            if (n <= 0 || (bb.hasRemaining() && pos >= fileSizeNow())) {
                into.asSlice(bb.position()).fill((byte) 0);
                return;
            }
        }
    }

    private long fileSizeNow() throws IOException {
        return opened.blockDevice() ? opened.sizeBytes() : opened.channel().size();
    }

    private void writeFully(long offsetBytes, MemorySegment from) throws IOException {
        FileChannel ch = channelFor(offsetBytes, from.byteSize(), from);
        ByteBuffer bb = from.asByteBuffer();
        long pos = offsetBytes;
        while (bb.hasRemaining()) {
            pos += ch.write(bb, pos);
        }
    }

    private void discard(long offsetBytes, long lengthBytes) throws IOException {
        if (!discardWorks || lengthBytes == 0) {
            return;
        }
        try {
            if (opened.blockDevice()) {
                Posix.blockDeviceRange(opened.fd(), Posix.BLKDISCARD, offsetBytes, lengthBytes);
            } else {
                Posix.fallocate(opened.fd(), Posix.FALLOC_FL_PUNCH_HOLE | Posix.FALLOC_FL_KEEP_SIZE,
                    offsetBytes, lengthBytes);
            }
        } catch (Posix.PosixException e) {
            if (!isUnsupported(e)) {
                throw e;
            }
            discardWorks = false; // a hint the device cannot take: success with no effect from now on
        }
    }

    private void writeZeroes(long offsetBytes, long lengthBytes, boolean noUnmap) throws IOException {
        if (lengthBytes == 0) {
            return;
        }
        // A punched hole reads as zeroes on a file; on a block device a discard need not.
        if (!noUnmap && !opened.blockDevice() && discardWorks) {
            discard(offsetBytes, lengthBytes);
            if (discardWorks) {
                return;
            }
        }
        if (zeroRangeWorks) {
            try {
                if (opened.blockDevice()) {
                    Posix.blockDeviceRange(opened.fd(), Posix.BLKZEROOUT, offsetBytes, lengthBytes);
                } else {
                    Posix.fallocate(opened.fd(), Posix.FALLOC_FL_ZERO_RANGE | Posix.FALLOC_FL_KEEP_SIZE,
                        offsetBytes, lengthBytes);
                }
                return;
            } catch (Posix.PosixException e) {
                if (!isUnsupported(e)) {
                    throw e;
                }
                zeroRangeWorks = false;
            }
        }
        for (long done = 0; done < lengthBytes; ) {
            long n = Math.min(ZEROES_BYTES, lengthBytes - done);
            writeFully(offsetBytes + done, zeroes.asSlice(0, n));
            done += n;
        }
    }

    private static boolean isUnsupported(Posix.PosixException e) {
        return e.errno() == Posix.EOPNOTSUPP || e.errno() == Posix.ENOTTY;
    }

    /** IOException to the errno the bio ends with: ENOSPC stays ENOSPC, everything else is EIO. */
    static int errnoOf(IOException e) {
        if (e instanceof Posix.PosixException p) {
            return p.errno() == Posix.ENOSPC || p.errno() == EDQUOT ? Errno.ENOSPC : Errno.EIO;
        }
        String m = e.getMessage();
        if (m != null && (m.contains("No space left on device") || m.contains("Disk quota exceeded"))) {
            return Errno.ENOSPC;
        }
        return Errno.EIO;
    }

    /**
     * Regular files: holes from lseek SEEK_DATA/SEEK_HOLE (hole and zero), the rest data. Block
     * devices, and any lseek failure: data, which is never a lie.
     */
    @Override
    public void blockStatus(long offsetBytes, long lengthBytes, ExtentSink out) {
        assert offsetBytes >= 0 && lengthBytes > 0 && lengthBytes <= sizeBytes() - offsetBytes
            : name + ": block status past the end: " + offsetBytes + "+" + lengthBytes;
        ExtentMerger merger = new ExtentMerger(offsetBytes, lengthBytes, out);
        long end = offsetBytes + lengthBytes;
        long pos = offsetBytes;
        if (!opened.blockDevice()) {
            try {
                pos = mapHoles(pos, end, merger);
            } catch (Posix.PosixException e) {
                // Fall through: what is left is reported as data.
            }
        }
        if (pos < end) {
            merger.extent(pos, end - pos, false, false);
        }
        merger.finish();
    }

    /** Emits extents from {@code pos} up to {@code end}; returns how far it got. */
    private long mapHoles(long pos, long end, ExtentSink out) throws Posix.PosixException {
        while (pos < end) {
            long data = Posix.seek(opened.fd(), pos, Posix.SEEK_DATA);
            if (data < 0 || data >= end) { // no data up to end (past EOF counts: it reads as zeroes)
                out.extent(pos, end - pos, true, true);
                return end;
            }
            if (data > pos) {
                out.extent(pos, data - pos, true, true);
                pos = data;
            }
            long hole = Math.min(Posix.seek(opened.fd(), pos, Posix.SEEK_HOLE), end);
            if (hole < 0) { // the file shrank between the two calls: the rest reads as zeroes
                out.extent(pos, end - pos, true, true);
                return end;
            }
            if (hole > pos) {
                out.extent(pos, hole - pos, false, false);
                pos = hole;
            }
        }
        return pos;
    }

    /** Releases the file. Every bio must have ended. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        inFlight.assertIdle();
        closed = true;
        try {
            opened.lock().release();
        } catch (IOException e) {
            // Closing the channel drops the lock anyway.
        }
        closeChannel(opened.channel());
        if (opened.buffered() != null) {
            closeChannel(opened.buffered());
        }
        Posix.close(opened.fd());
        gatherScratch.clear();
        gatherScratchArena.close();
    }

    private void closeChannel(FileChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            System.err.println("jmd: " + name + ": close: " + e);
        }
    }

    @Override
    public String toString() {
        return "FileBlockDevice[" + name + ", " + sizeBytes() + " bytes" + (isDirect() ? ", direct" : "")
            + (readOnly ? ", read-only" : "") + "]";
    }
}
