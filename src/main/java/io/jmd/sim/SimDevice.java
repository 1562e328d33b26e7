package io.jmd.sim;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.sync.CountedResource;
import io.jmd.sync.DependencyChecker;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * One boot's view of a {@link SimDisk}: a {@link BlockDevice} whose bios complete as events on the
 * simulated clock. Submit takes an in-flight slot (waiting when the queue is full: backpressure),
 * draws a latency from the {@link FaultModel} and schedules the completion on the Env's timer, an
 * I/O-progress thread; at completion the disk performs the operation and the bio's callback runs
 * there, inside a must-not-block section. Completion order follows the drawn latencies, so
 * requests are reordered as on a real queue; a crash drops every scheduled completion with the
 * timer, and the disk's crash model decides what in-flight writes left behind.
 */
public final class SimDevice implements BlockDevice {
    private final Env env;
    private final SimDisk disk;
    private final FaultModel faults;
    private final SplittableRandom random;
    private final CountedResource slots;
    private final SimScheduler sim;
    /** The disk's power cycle this device was opened in (see {@link #complete}). */
    private final int epoch;
    private boolean closed;

    public SimDevice(Env env, SimScheduler sim, SimDisk disk, FaultModel faults, SplittableRandom random) {
        this.env = env;
        this.sim = sim;
        this.disk = disk;
        this.faults = faults;
        this.random = random;
        this.slots = new CountedResource(env.scheduler(), "slots " + disk.name(), faults.queueDepth());
        this.epoch = disk.epoch();
    }

    public SimDisk disk() {
        return disk;
    }

    @Override
    public String name() {
        return disk.name();
    }

    @Override
    public long sizeBytes() {
        return disk.sizeBytes();
    }

    @Override
    public boolean supportsDiscard() {
        return true;
    }

    @Override
    public void submit(Bio bio) {
        assertValid(bio);
        slots.acquire(1);
        dispatch(bio);
    }

    @Override
    public boolean trySubmit(Bio bio) {
        assertValid(bio);
        if (!slots.tryAcquire(1)) {
            return false;
        }
        dispatch(bio);
        return true;
    }

    private void assertValid(Bio bio) {
        assert !closed : name() + ": submit after close";
        assert bio.offsetBytes % SimDisk.SECTOR_BYTES == 0 && bio.lengthBytes % SimDisk.SECTOR_BYTES == 0
            : name() + ": unaligned " + bio;
        assert bio.op == Bio.Op.FLUSH || bio.offsetBytes + bio.lengthBytes <= sizeBytes() : name() + ": past the end " + bio;
    }

    private void dispatch(Bio bio) {
        assert disk.epoch() == epoch : name() + ": submit from a machine that crashed";
        SimDisk.Pending pending = null;
        if (bio.op == Bio.Op.WRITE) {
            // Copied at submit: what is in flight at a crash may land (torn) after the buffer is gone.
            pending = disk.beginWrite(bio.offsetBytes, bio.data.toArray(ValueLayout.JAVA_BYTE));
        }
        long latency = faults.latencyNanos(bio.op, random);
        SimDisk.Pending p = pending;
        if (faults.completeOnWorkers()) {
            env.timer().schedule(latency, () -> env.ioWorkers().execute(() -> complete(bio, p)));
        } else {
            env.timer().schedule(latency, () -> complete(bio, p));
        }
    }

    /** On the timer thread: the disk performs the bio, then its callback runs. */
    private void complete(Bio bio, SimDisk.Pending pending) {
        if (disk.epoch() != epoch) {
            // Work of a machine that lost power: it never reaches the disk (the crash decided what
            // its in-flight writes left). Killed threads never get here; this is the second fence.
            sim.fail("a completion of " + bio + " on " + name() + " ran after its machine crashed");
            return;
        }
        boolean ok = switch (bio.op) {
            case READ -> read(bio);
            case WRITE -> disk.write(pending, bio.fua(), misdirectTarget(bio));
            case FLUSH -> disk.flush();
            case DISCARD, WRITE_ZEROES -> disk.zero(bio.offsetBytes, bio.lengthBytes, bio.fua());
        };
        slots.release(1);
        int status = ok ? Errno.OK : Errno.EIO;
        try {
            DependencyChecker.runAtomic(env.scheduler().current(), () -> bio.end(status));
        } catch (SimKilled k) {
            throw k;
        } catch (RuntimeException | Error e) {
            sim.fail("callback of " + bio + " on " + name() + " threw " + e + "\n" + SimScheduler.stackOf(e));
        }
    }

    private boolean read(Bio bio) {
        byte[] into = new byte[(int) bio.lengthBytes];
        if (!disk.read(bio.offsetBytes, into, into.length)) {
            return false;
        }
        MemorySegment.copy(MemorySegment.ofArray(into), 0, bio.data, 0, into.length);
        return true;
    }

    /** A sector to misdirect this write to, or -1 (see {@link SimDisk}). Data area only. */
    private long misdirectTarget(Bio bio) {
        if (faults.misdirectProbability() == 0 || bio.offsetBytes < disk.dataStartBytes()
            || random.nextDouble() >= faults.misdirectProbability()) {
            return -1;
        }
        long first = disk.dataStartBytes() / SimDisk.SECTOR_BYTES;
        long last = (disk.sizeBytes() - bio.lengthBytes) / SimDisk.SECTOR_BYTES;
        if (last <= first) {
            return -1;
        }
        long to = first + random.nextLong(last - first);
        return to == bio.offsetBytes / SimDisk.SECTOR_BYTES ? -1 : to;
    }

    /** Closing a device leaves the medium as it is (a power-off keeps the disk). */
    @Override
    public void close() {
        closed = true;
    }

    @Override
    public String toString() {
        return "SimDevice[" + disk.name() + "]";
    }
}
