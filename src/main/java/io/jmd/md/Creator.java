package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.Buffer;
import io.jmd.md.format.ArrayIdentity;
import io.jmd.md.format.ArrayName;
import io.jmd.md.format.CreateGeometry;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.MdTime;
import io.jmd.md.format.MdUuid;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.Superblock1Layout;

import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code jmd create}: writes md v1 superblocks (and the internal bitmap) that make the given
 * members one new array, laid out as mdadm 4.x would ({@link CreateGeometry}).
 *
 * <p>Order of work, so that a refusal writes nothing: every check first (level supported, member
 * count, no existing md superblock unless forced, sizes), then the writes. Members whose content
 * is not known to be equal get resync_offset 0 (dirty): the first assembly resyncs them, as the
 * kernel does after mdadm --create.
 */
public final class Creator {
    /**
     * What to create. {@code sizeBytes}: per-member space to use (mdadm --size), 0 for all;
     * {@code membersZeroed}: the members are new sparse files (all zeroes), so mirrors already agree.
     */
    public record Request(CreateOptions options, Optional<String> homehost, String name, long sizeBytes,
                          boolean assumeClean, boolean membersZeroed, boolean force) {
    }

    /** What was written. */
    public record Result(Superblock1 superblock, long arrayBytes, boolean needsResync) {
    }

    private Creator() {
    }

    /** Creates the array on {@code devices} (opened read-write, in slot order). */
    public static Result create(Env env, List<BlockDevice> devices, Request req) throws MdException {
        CreateOptions o = req.options();
        if (!Personalities.forLevel(o.level()).canCreate()) {
            throw new MdException("jmd cannot create level " + o.level().mdadmName() + " yet");
        }
        if (devices.size() != o.raidDisks()) {
            throw new MdException("--raid-devices=" + o.raidDisks() + " but " + devices.size() + " member"
                + (devices.size() == 1 ? "" : "s") + " given");
        }
        if (!req.force()) {
            refuseExisting(env, devices);
        }
        long[] sectors = devices.stream().mapToLong(d -> d.sizeBytes() / 512).toArray();
        CreateGeometry g;
        try {
            g = CreateGeometry.compute(o, sectors);
        } catch (IllegalArgumentException e) {
            throw new MdException("cannot create: " + e.getMessage());
        }
        long componentSectors = componentSectors(g, req.sizeBytes());
        ArrayIdentity id = new ArrayIdentity(MdUuid.random(env.random()), arrayName(req),
            MdTime.of(Instant.ofEpochMilli(env.clock().wallMillis())));
        boolean inSync = req.assumeClean() || req.membersZeroed();
        List<Superblock1> sbs = new ArrayList<>();
        for (int i = 0; i < devices.size(); i++) {
            Superblock1 sb = g.memberSuperblock(i, id, MdUuid.random(env.random())).toBuilder()
                .sizeSectors(componentSectors)
                .resyncOffsetSectors(inSync ? Superblock1Layout.MAX_SECTOR : 0)
                .build();
            sbs.add(sb);
        }
        for (int i = 0; i < devices.size(); i++) {
            writeMember(env, devices.get(i), sbs.get(i), g, inSync);
        }
        return new Result(sbs.get(0), componentSectors * 512, !inSync);
    }

    private static ArrayName arrayName(Request req) throws MdException {
        try {
            return ArrayName.create(req.homehost(), req.name());
        } catch (IllegalArgumentException e) {
            throw new MdException("bad --name: " + e.getMessage());
        }
    }

    private static long componentSectors(CreateGeometry g, long sizeBytes) throws MdException {
        if (sizeBytes == 0) {
            return g.componentSectors();
        }
        long want = sizeBytes / 512;
        if (sizeBytes % 1024 != 0) {
            throw new MdException("--size must be a multiple of 1K, got " + sizeBytes + " bytes");
        }
        if (want > g.componentSectors()) {
            throw new MdException("--size=" + sizeBytes / 1024 + "K is larger than the space the smallest member offers ("
                + g.componentSectors() / 2 + "K)");
        }
        if (g.hasBitmap() && want != g.componentSectors()) {
            throw new MdException("--size with --bitmap=internal is not supported by jmd yet (the bitmap covers the full size);"
                + " use --bitmap=none or leave --size out");
        }
        return want;
    }

    private static void refuseExisting(Env env, List<BlockDevice> devices) throws MdException {
        for (BlockDevice d : devices) {
            SuperblockIo.Found f;
            try {
                f = SuperblockIo.read(env, d);
            } catch (MdException none) {
                continue;
            }
            throw new MdException(d.name() + " appears to be part of a raid array: level=" + f.superblock().raidLevel().mdadmName()
                + " devices=" + f.superblock().raidDisks() + " name=" + f.superblock().setName().text()
                + " uuid=" + f.superblock().setUuid().format() + "; use --force to overwrite it");
        }
    }

    private static void writeMember(Env env, BlockDevice dev, Superblock1 sb, CreateGeometry g, boolean inSync) throws MdException {
        long sbBytes = sb.superOffsetSectors() * 512;
        if (sb.bblogSizeSectors() > 0) {
            long at = sbBytes + (long) sb.bblogOffsetSectors() * 512;
            check(dev, SyncIo.submitAndWait(env.scheduler(), dev, Bio.Op.WRITE_ZEROES, at, null,
                (long) sb.bblogSizeSectors() * 512, Bio.NO_UNMAP), "clear the bad-block log");
        }
        if (g.hasBitmap()) {
            byte[] area = g.bitmapSuperblock(sb.setUuid()).encodeArea(!inSync);
            writeBytes(env, dev, sbBytes + (long) sb.bitmapOffsetSectors() * 512, area, "write the bitmap");
        }
        check(dev, SuperblockIo.write(env, dev, sb, io.jmd.md.format.SuperblockLocation.forMinor(g.options().location().minor())),
            "write the superblock");
    }

    private static void writeBytes(Env env, BlockDevice dev, long at, byte[] bytes, String what) throws MdException {
        Buffer buf = env.buffers().allocate(bytes.length);
        try {
            MemorySegment.copy(MemorySegment.ofArray(bytes), 0, buf.segment(), 0, bytes.length);
            check(dev, SyncIo.write(env.scheduler(), dev, at, buf.segment(), 0), what);
        } finally {
            buf.release();
        }
    }

    private static void check(BlockDevice dev, int st, String what) throws MdException {
        if (st != Errno.OK) {
            throw new MdException(dev.name() + ": cannot " + what + ": " + Errno.name(st));
        }
    }
}
