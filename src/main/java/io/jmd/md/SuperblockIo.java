package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.Buffer;
import io.jmd.md.format.Superblock1;
import io.jmd.md.format.SuperblockException;
import io.jmd.md.format.SuperblockLocation;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading and writing v1 superblocks on a member (off the I/O path: assembly, creation,
 * examine, and the md thread's updates). Reads try 1.2, 1.1 and 1.0, as mdadm does when no
 * metadata version is given.
 */
public final class SuperblockIo {
    /** A superblock with its max_dev table fits in 4 KiB (256 + 2*1920 bytes). */
    public static final int SUPERBLOCK_AREA_BYTES = 4096;

    private SuperblockIo() {
    }

    /** A superblock found on a device, with its location. */
    public record Found(Superblock1 superblock, SuperblockLocation location) {
    }

    /**
     * Finds the v1 superblock on {@code dev}. Throws {@link MdException} naming the device and,
     * for each location tried, why it was refused.
     */
    public static Found read(Env env, BlockDevice dev) throws MdException {
        long sectors = dev.sizeBytes() / 512;
        if (sectors < SuperblockLocation.MIN_DEVICE_SECTORS) {
            throw new MdException(dev.name() + ": device of " + dev.sizeBytes() + " bytes is too small to hold an md superblock");
        }
        List<String> why = new ArrayList<>();
        SuperblockLocation[] order = {SuperblockLocation.V1_2, SuperblockLocation.V1_1, SuperblockLocation.V1_0};
        for (SuperblockLocation loc : order) {
            long offset = loc.superOffsetBytes(sectors);
            byte[] bytes;
            try {
                bytes = readBytes(env, dev, offset, (int) Math.min(SUPERBLOCK_AREA_BYTES, dev.sizeBytes() - offset));
            } catch (MdException e) {
                why.add("v" + loc.versionText() + " at byte " + offset + ": " + e.getMessage());
                continue;
            }
            try {
                return new Found(Superblock1.decode(bytes, loc, sectors), loc);
            } catch (SuperblockException e) {
                why.add("v" + loc.versionText() + " at byte " + offset + ": " + e.getMessage());
            }
        }
        throw new MdException(dev.name() + ": no valid md v1 superblock (" + String.join("; ", why) + ")");
    }

    static byte[] readBytes(Env env, BlockDevice dev, long offsetBytes, int lengthBytes) throws MdException {
        Buffer buf = env.buffers().allocate(lengthBytes);
        try {
            int st = SyncIo.read(env.scheduler(), dev, offsetBytes, buf.segment());
            if (st != Errno.OK) {
                throw new MdException("read error " + Errno.name(st));
            }
            return buf.segment().toArray(ValueLayout.JAVA_BYTE);
        } finally {
            buf.release();
        }
    }

    /**
     * Writes {@code sb} to its place on {@code dev}: validated against the device first, then
     * written with FUA after a flush, so the data it describes is on disk before it.
     * Returns 0 or the errno of the failed step.
     */
    public static int write(Env env, BlockDevice dev, Superblock1 sb, SuperblockLocation loc) {
        Buffer buf = env.buffers().allocate(SUPERBLOCK_AREA_BYTES);
        try {
            return write(env, dev, sb, loc, buf);
        } finally {
            buf.release();
        }
    }

    /**
     * As {@link #write(Env, BlockDevice, Superblock1, SuperblockLocation)} with a buffer of at
     * least {@link #SUPERBLOCK_AREA_BYTES} that the caller preallocated (the md thread never
     * allocates on its way to writing a superblock).
     */
    public static int write(Env env, BlockDevice dev, Superblock1 sb, SuperblockLocation loc, Buffer buf) {
        long sectors = dev.sizeBytes() / 512;
        try {
            sb.validate(loc, sectors);
        } catch (SuperblockException e) {
            throw new IllegalStateException("refusing to write an invalid superblock to " + dev.name() + ": " + e.getMessage(), e);
        }
        byte[] bytes = sb.encode();
        assert bytes.length <= buf.lengthBytes() : "superblock of " + bytes.length + " bytes, buffer " + buf.lengthBytes();
        MemorySegment area = buf.slice(0, bytes.length);
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, area, 0, bytes.length);
        int st = SyncIo.flush(env.scheduler(), dev);
        if (st != Errno.OK) {
            return st;
        }
        return SyncIo.write(env.scheduler(), dev, loc.superOffsetBytes(sectors), area, Bio.FUA);
    }
}
