package io.jmd.sim;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.mem.Buffer;
import io.jmd.sync.Completion;

/**
 * A client of the array, as an NBD connection: allocates its data buffer from the Env's buffer
 * cache (waiting for memory, so that writes in flight throttle new ones: the coupling behind all
 * five seeds), submits, waits for the end within the liveness bound, and checks with the oracle.
 */
final class Client {
    private final SimRun run;
    private final String name;

    Client(SimRun run, int index) {
        this.run = run;
        this.name = index < 0 ? "driver" : "client" + index;
    }

    void run() {
        try {
            while (run.takeOp()) {
                int kind = run.random().nextInt(100);
                if (kind < 40) {
                    randomRead();
                } else if (kind < 85) {
                    write(false);
                } else if (kind < 93) {
                    flush();
                } else {
                    write(true);
                }
            }
        } finally {
            run.clientDone();
        }
    }

    private int[] randomRange() {
        int sectors = run.oracle().sectors();
        int count = 1 + run.random().nextInt(SimRun.REQUEST_SECTORS_MAX);
        if (run.random().nextInt(4) != 0) {
            count = (count + 7) & ~7; // mostly whole 4 KiB blocks, as file systems write
        }
        count = Math.min(count, sectors);
        int first = run.random().nextInt(sectors - count + 1);
        if (run.random().nextInt(4) != 0) {
            first &= ~7;
        }
        return new int[] {first, count};
    }

    private void randomRead() {
        int[] r = randomRange();
        read(r[0], r[1]);
    }

    /** Reads [first, first+count) and checks every sector. */
    void read(int first, int count) {
        Buffer buf = run.env().buffers().allocate((long) count * 512);
        try {
            boolean excusedAtSubmit = run.readErrorExcused(first, count);
            Object atSubmit = run.healthSnapshot();
            Oracle.Read window = run.oracle().beginRead(first, count);
            int st = submit(Bio.Op.READ, first, count, buf, 0);
            window.end();
            if (st == Errno.OK) {
                for (int i = 0; i < count; i++) {
                    long v = Oracle.decode(buf.segment(), 512L * i, first + i);
                    String bad = window.check(first + i, v);
                    if (bad != null && run.lostMeanwhile(first + i)) {
                        continue; // the array failed a member whose rows were not resynced: the write hole
                    }
                    if (bad != null && run.misdirectExplains(first + i)) {
                        run.stats().misdirectedReads++; // RAID1 keeps no checksum: beyond what it can detect
                        continue;
                    }
                    if (bad != null) {
                        run.sim().fail("safety: read of sectors " + first + "+" + count + ": " + bad + "\n  "
                            + run.describe(first + i) + "\n" + run.config().replayCommand());
                        return;
                    }
                }
                run.stats().sectorsVerified += count;
            } else if (excusedAtSubmit || run.readErrorExcused(first, count) || run.readErrorExcusedSince(atSubmit, first, count)) {
                run.stats().readErrorsExcused++;
            } else {
                run.sim().fail("safety: read of sectors " + first + "+" + count + " failed with " + Errno.name(st)
                    + " although a working member holds them\n  " + run.describe(first) + "\n" + run.config().replayCommand());
                return;
            }
            run.stats().reads++;
        } finally {
            buf.release();
        }
    }

    private void write(boolean trim) {
        int[] r = randomRange();
        Buffer buf = trim ? null : run.env().buffers().allocate((long) r[1] * 512);
        try {
            // Chosen after the (possibly waiting) allocation, so the range is free when submitted.
            for (int tries = 0; !run.oracle().isFree(r[0], r[1]); tries++) {
                if (tries == 8) {
                    return; // busy everywhere it looked: the op counts as done, nothing was sent
                }
                int[] again = randomRange();
                if (again[1] <= r[1]) {
                    r = again;
                }
            }
            long value = trim ? 0 : run.nextValue();
            boolean fua = !trim && run.random().nextInt(10) == 0;
            if (!trim) {
                for (int i = 0; i < r[1]; i++) {
                    Oracle.fill(buf.segment(), 512L * i, r[0] + i, value);
                }
            }
            run.oracle().begin(r[0], r[1], value);
            int st = submit(trim ? Bio.Op.DISCARD : Bio.Op.WRITE, r[0], r[1], buf, fua ? Bio.FUA : 0);
            run.oracle().end(r[0], r[1], st == Errno.OK, fua);
            if (st != Errno.OK && !run.writeErrorExcused(r[0], r[1])) {
                run.sim().fail("safety: " + (trim ? "trim" : "write") + " of sectors " + r[0] + "+" + r[1] + " failed with "
                    + Errno.name(st) + " although a working member remains\n" + run.config().replayCommand());
                return;
            }
            if (trim) {
                run.stats().trims++;
            } else {
                run.stats().writes++;
            }
        } finally {
            if (buf != null) {
                buf.release();
            }
        }
    }

    private void flush() {
        long covered = run.oracle().flushBegin();
        int st = submit(Bio.Op.FLUSH, 0, 0, null, 0);
        if (st == Errno.OK) {
            run.oracle().flushEnd(covered);
        } else if (!run.allMembersFailed()) {
            run.sim().fail("safety: flush failed with " + Errno.name(st) + " although a working member remains\n"
                + run.config().replayCommand());
            return;
        }
        run.stats().flushes++;
    }

    /** Submits and waits; a request not done within the liveness bound fails the run. */
    private int submit(Bio.Op op, int first, int count, Buffer buf, int flags) {
        Completion done = new Completion(run.env().scheduler(), name + " " + op);
        long off = (long) first * 512;
        long len = (long) count * 512;
        Bio bio = new Bio(op, op == Bio.Op.FLUSH ? 0 : off, op == Bio.Op.FLUSH ? 0 : len,
            buf == null ? null : buf.slice(0, len), flags, null, b -> done.complete(b.status()));
        run.logClient(name, op + " " + first + "+" + count + (flags != 0 ? " FUA" : ""));
        run.array().submit(bio);
        if (!done.await(SimRun.LIVENESS_NANOS)) {
            run.sim().fail(run.sim().waitForReport("liveness: " + name + "'s " + bio + " not done after "
                + SimRun.LIVENESS_NANOS / 1_000_000_000 + " s of simulated time") + run.config().replayCommand());
            throw new SimKilled();
        }
        run.logClient(name, op + " " + first + "+" + count + " -> " + Errno.name(done.result()));
        return done.result();
    }
}
