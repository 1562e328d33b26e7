package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.md.format.BitmapSuperblock;
import io.jmd.md.format.ExamineFormatter;
import io.jmd.md.format.FeatureBits;
import io.jmd.md.format.SuperblockException;

import java.util.Optional;

/** Reads one member's superblock and bitmap superblock for {@code jmd examine}. Reads only. */
public final class MemberExamine {
    private MemberExamine() {
    }

    public static String examine(Env env, BlockDevice dev, String label, ExamineFormatter fmt) throws MdException {
        SuperblockIo.Found found = SuperblockIo.read(env, dev);
        return fmt.format(label, found.superblock(), dev.sizeBytes(), readBitmap(env, dev, found));
    }

    /** The bitmap superblock, if the member has the bitmap feature and a valid one is there. */
    public static Optional<BitmapSuperblock> readBitmap(Env env, BlockDevice dev, SuperblockIo.Found found) throws MdException {
        var sb = found.superblock();
        if (!sb.hasFeature(FeatureBits.BITMAP_OFFSET)) {
            return Optional.empty();
        }
        long at = (sb.superOffsetSectors() + sb.bitmapOffsetSectors()) * 512;
        if (at < 0 || at + 4096 > dev.sizeBytes()) {
            return Optional.empty();
        }
        byte[] bytes = SuperblockIo.readBytes(env, dev, at, 4096);
        try {
            return Optional.of(BitmapSuperblock.decode(bytes, sb.setUuid()));
        } catch (SuperblockException e) {
            return Optional.empty();
        }
    }
}
