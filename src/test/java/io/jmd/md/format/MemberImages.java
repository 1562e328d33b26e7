package io.jmd.md.format;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** Writes sparse member image files holding the metadata {@link CreateGeometry} describes. */
final class MemberImages {
    private MemberImages() {}

    static final int SECTOR = 512;

    record Created(CreateGeometry geometry, ArrayIdentity identity, List<Path> members, List<Superblock1> superblocks) {}

    static Created create(Path dir, String prefix, CreateOptions options, long memberBytes, ArrayIdentity identity)
            throws IOException {
        long[] sectors = new long[options.raidDisks()];
        java.util.Arrays.fill(sectors, memberBytes / SECTOR);
        CreateGeometry geometry = CreateGeometry.compute(options, sectors);
        List<Path> members = new ArrayList<>();
        List<Superblock1> superblocks = new ArrayList<>();
        for (int dev = 0; dev < options.raidDisks(); dev++) {
            byte[] deviceUuid = new byte[16];
            deviceUuid[0] = (byte) 0xd0;
            deviceUuid[15] = (byte) dev;
            Superblock1 sb = geometry.memberSuperblock(dev, identity, MdUuid.of(deviceUuid));
            Path member = dir.resolve(prefix + "-m" + dev + ".img");
            write(member, memberBytes, geometry, sb);
            members.add(member);
            superblocks.add(sb);
        }
        return new Created(geometry, identity, members, superblocks);
    }

    private static void write(Path member, long memberBytes, CreateGeometry geometry, Superblock1 sb)
            throws IOException {
        SuperblockLocation location = geometry.options().location();
        try {
            sb.validate(location, memberBytes / SECTOR);
        } catch (SuperblockException e) {
            throw new AssertionError("CreateGeometry made an invalid superblock: " + e.getMessage(), e);
        }
        try (FileChannel channel = FileChannel.open(member, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            channel.truncate(memberBytes);
            channel.write(ByteBuffer.allocate(1), memberBytes - 1);
            channel.write(ByteBuffer.wrap(sb.encode()), sb.superOffsetSectors() * SECTOR);
            if (geometry.hasBitmap()) {
                byte[] area = geometry.bitmapSuperblock(sb.setUuid()).encodeArea(false);
                channel.write(ByteBuffer.wrap(area), bitmapStartBytes(sb));
            }
        }
    }

    static long bitmapStartBytes(Superblock1 sb) {
        return (sb.superOffsetSectors() + sb.bitmapOffsetSectors()) * SECTOR;
    }
}
