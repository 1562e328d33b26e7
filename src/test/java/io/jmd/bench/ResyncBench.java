package io.jmd.bench;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.block.FileBlockDevice;
import io.jmd.md.Assembler;
import io.jmd.md.Creator;
import io.jmd.md.MdArray;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.resync.SyncStatus;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * Resync speed on idle members against their raw bandwidth, same run: a RAID1 of two member
 * files whose data differ (random, fully allocated) is assembled dirty and resynced online with
 * no speed limit; the raw figure is a plain copy of the same bytes from one member file to the
 * other (4 MiB positional reads and writes through FileChannel, one thread). Both move every data
 * byte once: read from the first member, written to the second. With {@code raid10}: a near=2
 * RAID10 of four members (each chunk read from its first copy, written to the second) against
 * plain copies of members 0 to 1 and 2 to 3, the same bytes. Usage:
 * {@code ResyncBench [DIR (/dev/shm/jmd-bench)] [memberMiB (1024)] [raid1|raid5|raid10 (raid1)]}. Prints MB/s and resync/raw.
 *
 * <p>raid5: four members of random data, created dirty, so the resync reads every member and
 * rewrites all the parity (none matches); the raw figure reads the same four data areas and writes
 * one, 4 MiB at a time, one thread. MB/s count member bytes (md's resync progress for raid5).
 */
public final class ResyncBench {
    static final int COPY_BYTES = 4 << 20;
    static final int ROUNDS = 6;
    static final long DATA_OFFSET_BYTES = 1 << 20; // mdadm's data offset for members of this size: 2048 sectors

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/dev/shm/jmd-bench");
        long memberMiB = args.length > 1 ? Long.parseLong(args[1]) : 1024;
        RaidLevel level = args.length > 2 && args[2].equals("raid10") ? RaidLevel.RAID10 : RaidLevel.RAID1;
        Files.createDirectories(dir);
        if (args.length > 2 && args[2].equals("raid5")) {
            raid5(dir, memberMiB);
            return;
        }
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        List<Path> members = new ArrayList<>(List.of(a, b));
        if (level == RaidLevel.RAID10) {
            members.add(dir.resolve("c.img"));
            members.add(dir.resolve("d.img"));
        }
        System.out.printf(Locale.ROOT, "resync benchmark: %s %s, members %d MiB, JDK %s%n", level.mdadmName(), dir, memberMiB,
            Runtime.version());
        System.out.println("round   raw copy MB/s   resync MB/s   resync/raw");
        List<Double> ratios = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (int i = 0; i < members.size(); i += 2) {
                fill(members.get(i), memberMiB, 1 + round + i);
                fill(members.get(i + 1), memberMiB, 100 + round + i);
            }
            long t0 = System.nanoTime();
            long copied = 0;
            for (int i = 0; i < members.size(); i += 2) {
                copied += rawCopy(members.get(i), members.get(i + 1), memberMiB);
            }
            double raw = copied / ((System.nanoTime() - t0) / 1e9) / 1e6;
            for (int i = 0; i < members.size(); i += 2) {
                fill(members.get(i + 1), memberMiB, 200 + round + i);
            }
            double resync = resync(level, members);
            System.out.printf(Locale.ROOT, "%-7s %15.0f %13.0f %12.2f%n", round == 0 ? "warm-up" : Integer.toString(round),
                raw, resync, resync / raw);
            if (round > 0) {
                ratios.add(resync / raw);
            }
        }
        ratios.sort(null);
        System.out.printf(Locale.ROOT, "median resync/raw over %d rounds: %.2f (goal >= 0.90)%n", ratios.size(),
            ratios.get(ratios.size() / 2));
        for (Path p : members) {
            Files.deleteIfExists(p);
        }
    }

    static void raid5(Path dir, long memberMiB) throws Exception {
        List<Path> members = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            members.add(dir.resolve("r5-" + i + ".img"));
        }
        System.out.printf(Locale.ROOT, "raid5 resync benchmark: %s, 4 members of %d MiB, JDK %s%n", dir, memberMiB,
            Runtime.version());
        System.out.println("round   raw MB/s   resync MB/s   resync/raw   (member bytes per second)");
        List<Double> ratios = new ArrayList<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (int i = 0; i < members.size(); i++) {
                fill(members.get(i), memberMiB, 10 * round + i);
            }
            double raw = rawParityPass(members, memberMiB);
            for (int i = 0; i < members.size(); i++) {
                fill(members.get(i), memberMiB, 1000 + 10 * round + i);
            }
            double resync = resyncParity(members);
            System.out.printf(Locale.ROOT, "%-7s %10.0f %13.0f %12.2f%n", round == 0 ? "warm-up" : Integer.toString(round),
                raw, resync, resync / raw);
            if (round > 0) {
                ratios.add(resync / raw);
            }
        }
        ratios.sort(null);
        System.out.printf(Locale.ROOT, "median resync/raw over %d rounds: %.2f%n", ratios.size(), ratios.get(ratios.size() / 2));
        for (Path p : members) {
            Files.deleteIfExists(p);
        }
    }

    /** Member MB/s of reading every member's data area and writing one, 4 MiB at a time. */
    static double rawParityPass(List<Path> members, long memberMiB) throws Exception {
        ByteBuffer buf = ByteBuffer.allocateDirect(COPY_BYTES);
        long bytes = (memberMiB << 20) - 2 * DATA_OFFSET_BYTES;
        List<FileChannel> chans = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            for (Path p : members) {
                chans.add(FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE));
            }
            for (long at = DATA_OFFSET_BYTES; at < DATA_OFFSET_BYTES + bytes; at += COPY_BYTES) {
                int len = (int) Math.min(COPY_BYTES, DATA_OFFSET_BYTES + bytes - at);
                for (FileChannel ch : chans) {
                    buf.clear().limit(len);
                    while (buf.hasRemaining()) {
                        if (ch.read(buf, at + buf.position()) < 0) {
                            throw new IllegalStateException("short read");
                        }
                    }
                }
                buf.flip();
                FileChannel out = chans.get((int) ((at / COPY_BYTES) % chans.size()));
                while (buf.hasRemaining()) {
                    out.write(buf, at + buf.position());
                }
            }
            for (FileChannel ch : chans) {
                ch.force(false);
            }
        } finally {
            for (FileChannel ch : chans) {
                ch.close();
            }
        }
        return bytes / ((System.nanoTime() - t0) / 1e9) / 1e6;
    }

    /** Member MB/s of jmd's online resync of a dirty raid5 over {@code members}. */
    static double resyncParity(List<Path> members) throws Exception {
        try (Env env = Env.production(1L << 30)) {
            List<BlockDevice> devs = new ArrayList<>();
            for (Path p : members) {
                devs.add(FileBlockDevice.open(env, FileBlockDevice.Options.of(p)));
            }
            Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID5, members.size()),
                Optional.of("bench"), "bench5", 0, false, false, true));
            devs.forEach(BlockDevice::close);
            long t0 = System.nanoTime();
            try (MdArray array = Assembler.assemble(env, (n, ro) -> FileBlockDevice.open(env, FileBlockDevice.Options.of(Path.of(n))),
                members.stream().map(Path::toString).toList(), Assembler.Options.DEFAULT)) {
                array.redundancy().engine().setSpeedLimits(0, Long.MAX_VALUE / 2048);
                array.redundancy().awaitSyncIdle();
                long t1 = System.nanoTime();
                SyncStatus s = array.redundancy().engine().lastFinished();
                if (s == null || array.needsResync()) {
                    throw new IllegalStateException("the resync did not finish");
                }
                return s.totalBytes() / ((t1 - t0) / 1e9) / 1e6;
            }
        }
    }

    /** Random, fully written contents (no holes: the resync must copy every byte). */
    static void fill(Path p, long memberMiB, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        ByteBuffer buf = ByteBuffer.allocateDirect(COPY_BYTES);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
            for (long at = 0; at < memberMiB << 20; at += COPY_BYTES) {
                buf.clear();
                while (buf.remaining() >= 8) {
                    buf.putLong(r.nextLong());
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    ch.write(buf, at + buf.position());
                }
            }
        }
    }

    /** Bytes of a plain copy of the data area from a to b (flushed). */
    static long rawCopy(Path a, Path b, long memberMiB) throws Exception {
        ByteBuffer buf = ByteBuffer.allocateDirect(COPY_BYTES);
        long bytes = (memberMiB << 20) - 2 * DATA_OFFSET_BYTES;
        try (FileChannel in = FileChannel.open(a, StandardOpenOption.READ);
             FileChannel out = FileChannel.open(b, StandardOpenOption.WRITE)) {
            for (long at = DATA_OFFSET_BYTES; at < DATA_OFFSET_BYTES + bytes; at += COPY_BYTES) {
                buf.clear();
                buf.limit((int) Math.min(COPY_BYTES, DATA_OFFSET_BYTES + bytes - at));
                while (buf.hasRemaining()) {
                    if (in.read(buf, at + buf.position()) < 0) {
                        throw new IllegalStateException("short read");
                    }
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    out.write(buf, at + buf.position());
                }
            }
            out.force(false);
        }
        return bytes;
    }

    /** MB/s of jmd's online resync of the whole array (created dirty: its members differ). */
    static double resync(RaidLevel level, List<Path> members) throws Exception {
        try (Env env = Env.production(1L << 30)) {
            List<BlockDevice> devs = new ArrayList<>();
            for (Path p : members) {
                devs.add(FileBlockDevice.open(env, FileBlockDevice.Options.of(p)));
            }
            Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(level, members.size()), Optional.of("bench"),
                "bench", 0, false, false, true));
            devs.forEach(BlockDevice::close);
            long t0 = System.nanoTime();
            try (MdArray array = Assembler.assemble(env, (n, ro) -> FileBlockDevice.open(env, FileBlockDevice.Options.of(Path.of(n))),
                members.stream().map(Path::toString).toList(), Assembler.Options.DEFAULT)) {
                array.redundancy().engine().setSpeedLimits(0, Long.MAX_VALUE / 2048);
                array.redundancy().awaitSyncIdle();
                long t1 = System.nanoTime();
                SyncStatus s = array.redundancy().engine().lastFinished();
                if (s == null || array.needsResync()) {
                    throw new IllegalStateException("the resync did not finish");
                }
                return array.sizeBytes() / ((t1 - t0) / 1e9) / 1e6;
            }
        }
    }
}
