package io.jmd.md.stripe;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.mem.Buffer;
import io.jmd.md.MdException;
import io.jmd.md.Member;
import io.jmd.sync.Completion;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Offline parity check of a RAID4/5/6 array: md's "check" action on an idle, complete array,
 * synchronously, writing nothing. The array's own resync, check and repair run online
 * ({@link StripeSync}); this is the independent check that tests use on what it leaves
 * ({@link StripeEngine#checkParity}). Window by window, it reads every member, computes P (and Q)
 * of each row from the data, and compares them with what the parity members hold.
 *
 * <p>Addresses are member bytes: md's recovery_cp counts per-device sectors for these levels.
 * Windows where every member is a hole are skipped: zero data has zero parity. The mismatch count
 * is in sectors, in units of 4 KiB pages, as md's mismatch_cnt (STRIPE_SECTORS per stripe).
 */
public final class ParityResync {
    /** Member bytes read per member per step: 1 MiB, or one chunk when chunks are larger. */
    static final long WINDOW_BYTES = 1 << 20;

    private ParityResync() {
    }

    /**
     * Checks the parity of every row. Returns the mismatched sectors found.
     */
    public static long check(Env env, StripeEngine engine) throws MdException {
        StripeGeometry g = engine.geometry;
        long chunk = g.chunkBytes();
        long window = Math.max(chunk, WINDOW_BYTES / chunk * chunk);
        int n = g.raidDisks();
        Buffer[] bufs = new Buffer[n + 2];
        try {
            for (int i = 0; i < bufs.length; i++) {
                bufs[i] = env.buffers().allocate(window);
            }
            long mismatches = 0;
            for (long at = 0; at < g.memberBytes(); at += window) {
                long len = Math.min(window, g.memberBytes() - at);
                if (!allHoles(engine, at, len)) {
                    readAll(env, engine, at, len, bufs);
                    mismatches += checkWindow(engine, at, len, bufs);
                }
            }
            return mismatches;
        } finally {
            for (Buffer b : bufs) {
                if (b != null) {
                    b.release();
                }
            }
        }
    }

    private static boolean allHoles(StripeEngine engine, long at, long len) {
        boolean[] holes = {true};
        for (int m = 0; m < engine.geometry.raidDisks() && holes[0]; m++) {
            Member member = engine.member(m);
            member.device().blockStatus(member.dataOffsetBytes() + at, len, (o, l, hole, zero) -> holes[0] &= hole && zero);
        }
        return holes[0];
    }

    /** Reads the window of every member at once, and waits for all of them. */
    private static void readAll(Env env, StripeEngine engine, long at, long len, Buffer[] bufs) throws MdException {
        int n = engine.geometry.raidDisks();
        Completion done = new Completion(env.scheduler(), "parity resync read");
        AtomicInteger left = new AtomicInteger(n);
        AtomicInteger firstError = new AtomicInteger();
        int[] failedMember = {-1};
        for (int m = 0; m < n; m++) {
            Member member = engine.member(m);
            int mm = m;
            member.device().submit(Bio.read(member.dataOffsetBytes() + at, bufs[m].slice(0, len), null, b -> {
                if (b.status() != Errno.OK && firstError.compareAndSet(0, b.status())) {
                    failedMember[0] = mm;
                }
                if (left.decrementAndGet() == 0) {
                    done.complete(0);
                }
            }));
        }
        done.await();
        if (firstError.get() != 0) {
            check(firstError.get(), "read", engine.member(failedMember[0]), at);
        }
    }

    /** Compares each row of the window; returns mismatched sectors. */
    private static long checkWindow(StripeEngine engine, long at, long len, Buffer[] bufs)
            throws MdException {
        StripeGeometry g = engine.geometry;
        int n = g.raidDisks();
        long chunk = g.chunkBytes();
        MemorySegment[] member = new MemorySegment[n];
        for (int m = 0; m < n; m++) {
            member[m] = bufs[m].segment();
        }
        MemorySegment wantP = bufs[n].segment();
        MemorySegment wantQ = bufs[n + 1].segment();
        MemorySegment[] data = new MemorySegment[n];
        long mismatches = 0;
        for (long off = 0; off < len; off += chunk) {
            RowPattern p = g.layout().pattern((at + off) / chunk);
            java.util.Arrays.fill(data, null);
            if (p.qd() < 0) {
                for (int k = 0; k < p.dataMember().length; k++) {
                    data[k] = member[p.dataMember()[k]];
                }
                engine.kernels.xor(wantP, data, p.dataMember().length, off, chunk);
            } else {
                for (int k = 0; k < p.dataMember().length; k++) {
                    int m = p.dataMember()[k];
                    data[p.slot()[m]] = member[m];
                }
                engine.kernels.genSyndrome(data, p.slots(), wantP, wantQ, off, chunk);
            }
            mismatches += compare(wantP, member[p.pd()], off, chunk);
            if (p.qd() >= 0) {
                mismatches += compare(wantQ, member[p.qd()], off, chunk);
            }
        }
        return mismatches;
    }

    /** Counts the pages where the parity member differs from the computed parity, in sectors. */
    private static long compare(MemorySegment want, MemorySegment have, long off, long chunk) {
        long sectors = 0;
        int page = StripeGeometry.PAGE_BYTES;
        for (long p = off; p < off + chunk; p += page) {
            if (MemorySegment.mismatch(want, p, p + page, have, p, p + page) >= 0) {
                sectors += page / 512;
            }
        }
        return sectors;
    }

    private static void check(int st, String what, Member m, long at) throws MdException {
        if (st != Errno.OK) {
            throw new MdException("parity check: " + what + " failed on " + m.path() + " at member byte " + at + ": " + Errno.name(st));
        }
    }
}
