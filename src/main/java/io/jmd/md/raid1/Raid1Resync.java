package io.jmd.md.raid1;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.Buffer;
import io.jmd.md.MdException;
import io.jmd.md.Member;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * Offline RAID1 resync: makes every in-sync member equal to the first one, from a checkpoint to
 * the end, before the array serves I/O (an array that was not shut down clean, or a new array over
 * members jmd did not create). What md's resync does for raid1, minus running beside normal I/O.
 *
 * <p>Holes on the source (sparse members) are written as zeroes on the targets with WRITE_ZEROES,
 * which punches holes where the target allows, so sparse members stay sparse.
 */
public final class Raid1Resync {
    /** Copy unit: 1 MiB, md's default sync window granularity order of magnitude. */
    static final int WINDOW_BYTES = 1 << 20;
    /** Checkpoint the resync offset in the superblock every 64 MiB, so a restart resumes. */
    static final long CHECKPOINT_BYTES = 64L << 20;
    /** Unit of the piecewise copy when no member reads a whole window: one sector. */
    static final int PIECE_BYTES = 512;

    private Raid1Resync() {
    }

    /**
     * Copies {@code [fromBytes, sizeBytes)} from the first member to the others. {@code checkpoint}
     * receives the offset (bytes) below which members agree. Returns the bytes copied as data.
     */
    public static long run(Env env, List<Member> inSync, long fromBytes, long sizeBytes, LongConsumer checkpoint)
            throws MdException {
        if (inSync.size() < 2) {
            return 0;
        }
        Member source = inSync.get(0);
        List<Member> targets = new ArrayList<>(inSync.subList(1, inSync.size()));
        Buffer buf = env.buffers().allocate(WINDOW_BYTES);
        long copied = 0;
        long lastCheckpoint = fromBytes;
        try {
            long at = fromBytes;
            while (at < sizeBytes) {
                long len = Math.min(WINDOW_BYTES, sizeBytes - at);
                boolean hole = isHole(source, at, len);
                if (hole) {
                    for (Member t : targets) {
                        copyWindow(env, source, t, at, len, true, buf);
                    }
                } else {
                    copyData(env, inSync, at, len, buf);
                }
                copied += hole ? 0 : len;
                at += len;
                if (at - lastCheckpoint >= CHECKPOINT_BYTES && at < sizeBytes) {
                    checkpoint.accept(at);
                    lastCheckpoint = at;
                }
            }
            for (Member t : inSync) { // the first member too: it may have been rewritten (copyData)
                check(SyncIo.flush(env.scheduler(), t.device()), "flush", t, 0);
            }
        } finally {
            buf.release();
        }
        return copied;
    }

    private static boolean isHole(Member m, long at, long len) {
        boolean[] allHole = {true};
        m.device().blockStatus(m.dataOffsetBytes() + at, len, (off, l, hole, zero) -> allHole[0] &= hole && zero);
        return allHole[0];
    }

    private static void copyWindow(Env env, Member source, Member target, long at, long len, boolean hole, Buffer buf)
            throws MdException {
        BlockDevice t = target.device();
        if (hole) {
            int st = SyncIo.submitAndWait(env.scheduler(), t, Bio.Op.WRITE_ZEROES, target.dataOffsetBytes() + at, null, len, 0);
            check(st, "write zeroes", target, at);
            return;
        }
        var seg = buf.slice(0, len);
        check(SyncIo.read(env.scheduler(), source.device(), source.dataOffsetBytes() + at, seg), "read", source, at);
        check(SyncIo.write(env.scheduler(), t, target.dataOffsetBytes() + at, seg, 0), "write", target, at);
    }

    /**
     * Copies a data window to every member but the one it was read from. The first member is read
     * first; if it cannot read the window (a latent sector error), the next one that can is the
     * source and the first member is rewritten from it, which also repairs its bad sectors (the
     * disk remaps on write), as md's fix_sync_read_error does. A window no single member reads
     * whole is copied a sector at a time, each sector from any member that reads it.
     */
    private static void copyData(Env env, List<Member> inSync, long at, long len, Buffer buf) throws MdException {
        var seg = buf.slice(0, len);
        for (Member from : inSync) {
            if (SyncIo.read(env.scheduler(), from.device(), from.dataOffsetBytes() + at, seg) == Errno.OK) {
                writeToOthers(env, inSync, from, at, seg);
                return;
            }
        }
        if (len <= PIECE_BYTES) {
            throw new MdException("resync: no member can read array bytes " + at + "+" + len + " (read errors on "
                + inSync.size() + " members)");
        }
        for (long piece = 0; piece < len; piece += PIECE_BYTES) {
            copyData(env, inSync, at + piece, Math.min(PIECE_BYTES, len - piece), buf);
        }
    }

    private static void writeToOthers(Env env, List<Member> inSync, Member from, long at, java.lang.foreign.MemorySegment seg)
            throws MdException {
        for (Member t : inSync) {
            if (t != from) {
                check(SyncIo.write(env.scheduler(), t.device(), t.dataOffsetBytes() + at, seg, 0), "write", t, at);
            }
        }
    }

    private static void check(int st, String what, Member m, long at) throws MdException {
        if (st != Errno.OK) {
            throw new MdException("resync: " + what + " failed on " + m.path() + " at array byte " + at + ": " + Errno.name(st));
        }
    }
}
