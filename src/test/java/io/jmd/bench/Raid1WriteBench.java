package io.jmd.bench;

import io.jmd.Env;
import io.jmd.block.Errno;
import io.jmd.block.FileBlockDevice;
import io.jmd.block.SyncIo;
import io.jmd.md.Assembler;
import io.jmd.md.Creator;
import io.jmd.md.MdArray;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.mem.Buffer;

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
 * RAID1 writes through jmd's Java API against writing the two member files directly, same run,
 * same threads, same block size and count. Usage: {@code Raid1WriteBench DIR [memberMiB] [threads]}.
 * Prints MB/s of array data for each and the ratio jmd/direct (1.0 = no overhead).
 */
public final class Raid1WriteBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "/dev/shm/jmd-bench");
        long memberMiB = args.length > 1 ? Long.parseLong(args[1]) : 512;
        int threads = args.length > 2 ? Integer.parseInt(args[2]) : 4;
        Files.createDirectories(dir);
        Path a = dir.resolve("a.img");
        Path b = dir.resolve("b.img");
        System.out.printf(Locale.ROOT, "RAID1 write benchmark: %s, members %d MiB, %d threads, JDK %s%n", dir, memberMiB,
            threads, Runtime.version());
        System.out.println("workload           direct MB/s    jmd MB/s   jmd/direct");
        for (int round = 0; round < 2; round++) {
            for (int bs : new int[] {4096, 1 << 20}) {
                for (boolean random : new boolean[] {true, false}) {
                    if (bs == 1 << 20 && random) {
                        continue;
                    }
                    long bytes = Math.min(memberMiB << 20, bs == 4096 ? 256L << 20 : memberMiB << 20);
                    double direct = direct(a, b, memberMiB, bs, bytes, threads, random);
                    double jmd = jmd(dir, a, b, memberMiB, bs, bytes, threads, random);
                    System.out.printf(Locale.ROOT, "%-18s %11.0f %11.0f %11.2f%s%n",
                        (bs == 4096 ? "4k" : "1M") + (random ? " random" : " sequential"), direct, jmd, jmd / direct,
                        round == 0 ? "  (warm-up)" : "");
                }
            }
        }
        Files.deleteIfExists(a);
        Files.deleteIfExists(b);
    }

    /** Each thread writes its share of blocks to both files with positional FileChannel writes. */
    static double direct(Path a, Path b, long memberMiB, int bs, long bytes, int threads, boolean random) throws Exception {
        fresh(a, memberMiB);
        fresh(b, memberMiB);
        try (FileChannel ca = FileChannel.open(a, StandardOpenOption.WRITE);
             FileChannel cb = FileChannel.open(b, StandardOpenOption.WRITE)) {
            long data = 1 << 20; // same data offset as the array (2048 sectors)
            ByteBuffer[] bufs = new ByteBuffer[threads];
            for (int i = 0; i < threads; i++) {
                bufs[i] = ByteBuffer.allocateDirect(bs);
            }
            return run(threads, bytes, bs, random, memberMiB, (t, off) -> {
                ByteBuffer buf = bufs[t];
                fill(buf, off);
                writeFully(ca, buf.duplicate(), data + off);
                writeFully(cb, buf.duplicate(), data + off);
            });
        }
    }

    static double jmd(Path dir, Path a, Path b, long memberMiB, int bs, long bytes, int threads, boolean random) throws Exception {
        Files.deleteIfExists(a);
        Files.deleteIfExists(b);
        try (Env env = Env.production(1L << 30)) {
            var da = FileBlockDevice.open(env, FileBlockDevice.Options.of(a).create(memberMiB << 20));
            var db = FileBlockDevice.open(env, FileBlockDevice.Options.of(b).create(memberMiB << 20));
            Creator.create(env, List.of(da, db), new Creator.Request(CreateOptions.defaults(RaidLevel.RAID1, 2),
                Optional.of("bench"), "bench", 0, false, true, false));
            da.close();
            db.close();
            try (MdArray array = Assembler.assemble(env, (n, ro) -> FileBlockDevice.open(env,
                FileBlockDevice.Options.of(Path.of(n)).readOnly(ro)), List.of(a.toString(), b.toString()), Assembler.Options.DEFAULT)) {
                List<Buffer> bufs = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    bufs.add(env.buffers().allocate(bs));
                }
                long usable = Math.min(bytes, array.sizeBytes());
                double mbs = run(threads, usable, bs, random, memberMiB - 2, (t, off) -> {
                    Buffer buf = bufs.get(t);
                    fill(buf.segment().asByteBuffer(), off);
                    int st = SyncIo.write(env.scheduler(), array, off, buf.segment(), 0);
                    if (st != Errno.OK) {
                        throw new IllegalStateException("write failed: " + Errno.name(st));
                    }
                });
                bufs.forEach(Buffer::release);
                return mbs;
            }
        }
    }

    interface Writer {
        void write(int thread, long offset) throws Exception;
    }

    static double run(int threads, long bytes, int bs, boolean random, long spaceMiB, Writer w) throws Exception {
        long blocks = bytes / bs;
        long spaceBlocks = ((spaceMiB << 20) - (1 << 20)) / bs;
        Thread[] ts = new Thread[threads];
        Throwable[] err = new Throwable[1];
        long start = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = Thread.ofPlatform().start(() -> {
                SplittableRandom rnd = new SplittableRandom(id);
                try {
                    for (long i = id; i < blocks; i += threads) {
                        long blk = random ? rnd.nextLong(spaceBlocks) : i;
                        w.write(id, blk * bs);
                    }
                } catch (Throwable e) {
                    err[0] = e;
                }
            });
        }
        for (Thread t : ts) {
            t.join();
        }
        if (err[0] != null) {
            throw new RuntimeException(err[0]);
        }
        return blocks * (double) bs / ((System.nanoTime() - start) / 1e9) / 1e6;
    }

    static void fresh(Path p, long mib) throws Exception {
        Files.deleteIfExists(p);
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            c.truncate(mib << 20);
        }
    }

    static void fill(ByteBuffer b, long seed) {
        for (int i = 0; i + 8 <= b.capacity(); i += 512) {
            b.putLong(i, seed + i);
        }
    }

    static void writeFully(FileChannel c, ByteBuffer b, long pos) throws Exception {
        while (b.hasRemaining()) {
            pos += c.write(b, pos);
        }
    }
}
