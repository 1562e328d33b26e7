package io.jmd.md.raid10;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.Buffer;
import io.jmd.md.MdException;
import io.jmd.md.Member;

import java.lang.foreign.MemorySegment;
import java.util.function.LongConsumer;

/**
 * Offline RAID10 resync: makes every copy of every chunk equal to its first working copy, from a
 * checkpoint (array bytes, as md's recovery_cp for raid10 resync) to the end, before the array
 * serves I/O. Holes on the source are written as zeroes (WRITE_ZEROES), so sparse members stay
 * sparse.
 */
final class Raid10Resync {
    /** Checkpoint the resync offset in the superblock every 64 MiB of array, so a restart resumes. */
    static final long CHECKPOINT_BYTES = 64L << 20;

    private Raid10Resync() {
    }

    static void run(Env env, Raid10 r10, long fromBytes, long sizeBytes, LongConsumer checkpoint) throws MdException {
        Raid10Geometry g = r10.geometry();
        int chunkBytes = g.chunkSectors() * 512;
        Buffer buf = env.buffers().allocate(chunkBytes);
        long lastCheckpoint = fromBytes;
        try {
            long at = fromBytes;
            while (at < sizeBytes) {
                long len = Math.min(chunkBytes - at % chunkBytes, sizeBytes - at);
                copyChunk(env, r10, g.copiesOf(at / 512), at, len, buf.slice(0, len));
                at += len;
                if (at - lastCheckpoint >= CHECKPOINT_BYTES && at < sizeBytes) {
                    checkpoint.accept(at);
                    lastCheckpoint = at;
                }
            }
            for (int d = 0; d < g.raidDisks(); d++) {
                Member m = r10.slot(d);
                if (m != null && m.isInSync()) {
                    check(SyncIo.flush(env.scheduler(), m.device()), "flush", m, 0);
                }
            }
        } finally {
            buf.release();
        }
    }

    private static void copyChunk(Env env, Raid10 r10, Raid10Geometry.Copy[] copies, long at, long len, MemorySegment seg)
            throws MdException {
        int within = (int) (at % 512);
        assert within == 0 : "resync moves whole sectors";
        Member source = null;
        for (Raid10Geometry.Copy c : copies) {
            Member m = r10.slot(c.device());
            if (m == null || !m.isInSync()) {
                continue;
            }
            long offset = m.dataOffsetBytes() + c.sector() * 512;
            if (source == null) {
                source = m;
                if (!isHole(m, offset, len)) {
                    check(SyncIo.read(env.scheduler(), m.device(), offset, seg), "read", m, at);
                } else {
                    seg = null;
                }
                continue;
            }
            int st = seg == null
                ? SyncIo.submitAndWait(env.scheduler(), m.device(), Bio.Op.WRITE_ZEROES, offset, null, len, 0)
                : SyncIo.write(env.scheduler(), m.device(), offset, seg, 0);
            check(st, seg == null ? "write zeroes" : "write", m, at);
        }
    }

    private static boolean isHole(Member m, long offset, long len) {
        boolean[] allHole = {true};
        m.device().blockStatus(offset, len, (off, l, hole, zero) -> allHole[0] &= hole && zero);
        return allHole[0];
    }

    private static void check(int st, String what, Member m, long at) throws MdException {
        if (st != Errno.OK) {
            throw new MdException("resync: " + what + " failed on " + m.path() + " at array byte " + at + ": " + Errno.name(st));
        }
    }
}
