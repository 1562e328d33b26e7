package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.DeviceOpener;
import io.jmd.block.FaultInjectingDevice;
import io.jmd.block.MemoryBlockDevice;
import io.jmd.block.SyncIo;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.mem.Buffer;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Test storage: named in-memory disks that outlive the arrays built on them (closing an array
 * "powers off" nothing), each behind a fault-injection layer, as a test's injected storage.
 */
final class Disks implements AutoCloseable {
    private final Env env;
    private final Map<String, MemoryBlockDevice> media = new LinkedHashMap<>();
    private final Map<String, FaultInjectingDevice> faults = new LinkedHashMap<>();
    /**
     * Writes overlapping [holdFrom, holdTo) reach the medium this long after submission, or at
     * {@link #release()}, whichever comes first.
     */
    volatile long holdFrom;
    volatile long holdTo;
    volatile long holdNanos;
    /** Only this disk's writes are held (null: every disk's). */
    volatile String holdOnly;
    /** Only writes this accepts are held (null: every write in the range). */
    volatile Predicate<Bio> holdIf;
    /**
     * A hold that only {@link #release()} ends, however slow the machine: for a test that must look
     * at the disks while a write is off them. The backstop only keeps a failed test's close from
     * waiting forever for a held write.
     */
    static final long UNTIL_RELEASED = 120_000_000_000L;
    /** Writes held now: submitted, not on the medium yet. */
    private final Set<Held> held = ConcurrentHashMap.newKeySet();

    Disks(Env env) {
        this.env = env;
    }

    List<String> add(long sizeBytes, String... names) {
        for (String n : names) {
            MemoryBlockDevice m = new MemoryBlockDevice(env, n, sizeBytes);
            media.put(n, m);
            faults.put(n, new FaultInjectingDevice(env, new HoldWrites(m)));
        }
        return List.of(names);
    }

    FaultInjectingDevice faults(String name) {
        return faults.get(name);
    }

    MemoryBlockDevice medium(String name) {
        return media.get(name);
    }

    /** Opens the disk behind its fault layer; closing what it returns leaves the medium intact. */
    DeviceOpener opener() {
        return (name, readOnly) -> {
            FaultInjectingDevice f = faults.get(name);
            if (f == null) {
                throw new IOException(name + ": no such disk");
            }
            return new KeepOpen(f);
        };
    }

    /** Creates a raid1 over {@code names} (members are new, all zeroes: clean at once). */
    Creator.Result createRaid1(String... names) throws MdException, IOException {
        List<BlockDevice> devs = new ArrayList<>();
        for (String n : names) {
            devs.add(opener().open(n, false));
        }
        try {
            return Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID1, names.length),
                Optional.of("test"), "r1", 0, false, true, false));
        } finally {
            devs.forEach(BlockDevice::close);
        }
    }

    /** Creates an array of any level over {@code names} (members are new, all zeroes: clean at once). */
    Creator.Result create(CreateOptions options, String... names) throws MdException, IOException {
        List<BlockDevice> devs = new ArrayList<>();
        for (String n : names) {
            devs.add(opener().open(n, false));
        }
        try {
            return Creator.create(env, devs, new Creator.Request(options, Optional.of("test"), "md", 0, false, true, false));
        } finally {
            devs.forEach(BlockDevice::close);
        }
    }

    MdArray assemble(boolean run, String... names) throws MdException {
        return Assembler.assemble(env, opener(), List.of(names), new Assembler.Options(run, false));
    }

    /**
     * Sets resync_offset to 0 in the superblock of each of {@code names}, as a crash of a dirty
     * array without a bitmap leaves it: the next assembly resyncs the whole array.
     */
    void markNeedsFullResync(String... names) throws MdException, IOException {
        for (String n : names) {
            try (BlockDevice dev = opener().open(n, false)) {
                SuperblockIo.Found f = SuperblockIo.read(env, dev);
                assertEquals(0, SuperblockIo.write(env, dev, f.superblock().withResyncOffsetSectors(0), f.location()));
            }
        }
    }

    /** Bytes of a disk, raw. */
    byte[] raw(String name, long offset, int length) {
        Buffer b = env.buffers().allocate(length);
        try {
            int st = SyncIo.read(env.scheduler(), media.get(name), offset, b.segment());
            if (st != 0) {
                throw new AssertionError("raw read failed " + st);
            }
            return b.segment().toArray(ValueLayout.JAVA_BYTE);
        } finally {
            b.release();
        }
    }

    /** Writes held now (submitted, not on the medium yet), for a test to wait for instead of sleeping. */
    int heldCount() {
        return held.size();
    }

    /** Ends the hold: writes held land now, later writes go straight through. */
    void release() {
        holdNanos = 0;
        for (Held h : held) {
            env.timer().schedule(0, h::land);
        }
    }

    @Override
    public void close() {
        faults.values().forEach(FaultInjectingDevice::close);
        media.values().forEach(MemoryBlockDevice::close);
    }

    /** Holds writes to a range back before they reach the medium (a slow disk, the write not yet landed). */
    final class HoldWrites extends KeepOpen {
        HoldWrites(BlockDevice next) {
            super(next);
        }

        @Override
        public void submit(Bio bio) {
            long hold = holdNanos;
            String only = holdOnly;
            Predicate<Bio> which = holdIf;
            if (hold > 0 && bio.op == Bio.Op.WRITE && bio.offsetBytes < holdTo && bio.offsetBytes + bio.lengthBytes > holdFrom
                && (only == null || only.equals(next.name())) && (which == null || which.test(bio))) {
                Held h = new Held(next, bio);
                held.add(h);
                env.timer().schedule(hold, h::land);
                if (holdNanos == 0) { // released while this one was being held: release() may not have seen it
                    env.timer().schedule(0, h::land);
                }
                return;
            }
            next.submit(bio);
        }
    }

    /** A held write; lands once, at the end of its hold or at {@link #release()}. */
    private final class Held {
        private final BlockDevice medium;
        private final Bio bio;
        private final AtomicBoolean landed = new AtomicBoolean();

        Held(BlockDevice medium, Bio bio) {
            this.medium = medium;
            this.bio = bio;
        }

        void land() {
            if (landed.compareAndSet(false, true)) {
                held.remove(this);
                if (!medium.trySubmit(bio)) {
                    throw new AssertionError("test medium saturated");
                }
            }
        }
    }

    /** Delegates everything but close. */
    static class KeepOpen implements BlockDevice {
        final BlockDevice next;

        KeepOpen(BlockDevice next) {
            this.next = next;
        }

        @Override
        public String name() {
            return next.name();
        }

        @Override
        public long sizeBytes() {
            return next.sizeBytes();
        }

        @Override
        public boolean supportsDiscard() {
            return next.supportsDiscard();
        }

        @Override
        public void submit(Bio bio) {
            next.submit(bio);
        }

        @Override
        public boolean trySubmit(Bio bio) {
            return next.trySubmit(bio);
        }

        @Override
        public void blockStatus(long offsetBytes, long lengthBytes, ExtentSink out) {
            next.blockStatus(offsetBytes, lengthBytes, out);
        }

        @Override
        public void close() {
        }
    }
}
