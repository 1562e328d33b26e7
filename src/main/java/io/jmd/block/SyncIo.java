package io.jmd.block;

import io.jmd.sync.Completion;
import io.jmd.sync.Scheduler;

import java.lang.foreign.MemorySegment;

/**
 * Submit-and-wait helpers for code off the I/O path (assembly, CLI, tests). Each returns the
 * bio's status (0 or an errno). Never call these from an I/O-progress thread.
 */
public final class SyncIo {
    private SyncIo() {
    }

    public static int submitAndWait(Scheduler scheduler, BlockDevice dev, Bio.Op op, long offsetBytes,
                                    MemorySegment data, long lengthBytes, int flags) {
        Completion done = new Completion(scheduler, "sync " + op + " " + dev.name());
        dev.submit(new Bio(op, offsetBytes, lengthBytes, data, flags, null, b -> done.complete(b.status())));
        return done.await();
    }

    public static int read(Scheduler scheduler, BlockDevice dev, long offsetBytes, MemorySegment into) {
        return submitAndWait(scheduler, dev, Bio.Op.READ, offsetBytes, into, into.byteSize(), 0);
    }

    public static int write(Scheduler scheduler, BlockDevice dev, long offsetBytes, MemorySegment from, int flags) {
        return submitAndWait(scheduler, dev, Bio.Op.WRITE, offsetBytes, from, from.byteSize(), flags);
    }

    public static int flush(Scheduler scheduler, BlockDevice dev) {
        return submitAndWait(scheduler, dev, Bio.Op.FLUSH, 0, null, 0, 0);
    }
}
