package io.jmd.md.format;

import java.util.Optional;

/**
 * The "Unused Space" figures of mdadm --examine (super1.c getinfo_super1): sectors free before
 * the data (room to move data_offset down in a reshape) and after it. Arithmetic is unsigned 64-bit
 * as in mdadm, including its quirks: the bitmap end is taken as bitmap_offset + size without adding
 * super_offset, and "after" may wrap when the device is smaller than the superblock claims.
 *
 * @param beforeSectors space between the metadata and data_offset
 * @param afterSectors  space after the data; wrapped (above Long.MAX_VALUE unsigned) when truncated
 */
record ExamineSpace(long beforeSectors, long afterSectors) {
    /** mdadm's value meaning "nothing to show" (it prints no Unused Space line). */
    static final long HIDDEN = 1;

    /** The kernel's idea of the smallest data_offset after a 1.1/1.2 superblock (32 KiB + 4 KiB). */
    private static final long EARLIEST_AFTER_SUPERBLOCK_SECTORS = (32 + 4) * 2;

    static ExamineSpace of(Superblock1 sb, long deviceSectors, Optional<BitmapSuperblock> bitmap) {
        long superOffset = sb.superOffsetSectors();
        long dataOffset = sb.dataOffsetSectors();
        long dataSize = sb.level() > 0 ? sb.sizeSectors() : sb.dataSizeSectors();
        ExamineSpace space = Long.compareUnsigned(dataOffset, superOffset) < 0
                ? dataBeforeSuperblock(sb, dataSize)
                : dataAfterSuperblock(sb, deviceSectors, dataSize, bitmap);
        if (space.beforeSectors == 0 && space.afterSectors == 0) {
            space = new ExamineSpace(0, HIDDEN);
        }
        if (sb.role() == DevRole.JOURNAL) {
            // A journal uses whole 4 KiB blocks: only the sub-block remainder is unused.
            space = new ExamineSpace(space.beforeSectors, Long.remainderUnsigned(deviceSectors - dataOffset, 8));
        }
        return space;
    }

    /** 1.0: data first, metadata at the end. */
    private static ExamineSpace dataBeforeSuperblock(Superblock1 sb, long dataSize) {
        long superOffset = sb.superOffsetSectors();
        long end = superOffset;
        if (sb.bblogOffsetSectors() != 0 && sb.bblogSizeSectors() != 0) {
            long bblog = superOffset + sb.bblogOffsetSectors();
            if (Long.compareUnsigned(bblog, end) < 0) {
                end = bblog;
            }
        }
        long metadataStart = superOffset + bitmapOffset(sb) + pplOffset(sb);
        if (Long.compareUnsigned(metadataStart, end) < 0) {
            end = metadataStart;
        }
        long dataEnd = sb.dataOffsetSectors() + dataSize;
        long after = Long.compareUnsigned(dataEnd, end) < 0 ? end - dataSize - sb.dataOffsetSectors() : 0;
        return new ExamineSpace(sb.dataOffsetSectors(), after);
    }

    /** 1.1 / 1.2: metadata first, data after it. */
    private static ExamineSpace dataAfterSuperblock(Superblock1 sb, long deviceSectors, long dataSize,
            Optional<BitmapSuperblock> bitmap) {
        long earliest = sb.superOffsetSectors() + EARLIEST_AFTER_SUPERBLOCK_SECTORS;
        long bitmapOffset = bitmapOffset(sb);
        if (bitmapOffset > 0) {
            long bitmapSectors = bitmap.map(b -> b.areaBytes(4096) / Superblock1Layout.SECTOR_BYTES).orElse(0L);
            earliest = maxUnsigned(earliest, bitmapOffset + bitmapSectors);
        } else if (pplOffset(sb) > 0) {
            earliest = maxUnsigned(earliest, pplOffset(sb) + pplSize(sb));
        }
        if (sb.bblogOffsetSectors() != 0 && sb.bblogSizeSectors() != 0) {
            long bblogEnd = sb.superOffsetSectors() + sb.bblogOffsetSectors() + sb.bblogSizeSectors();
            earliest = maxUnsigned(earliest, bblogEnd);
        }
        long before = Long.compareUnsigned(earliest, sb.dataOffsetSectors()) < 0 ? sb.dataOffsetSectors() - earliest : 0;
        return new ExamineSpace(before, deviceSectors - dataSize - sb.dataOffsetSectors());
    }

    /** mdadm only takes bitmap_offset from the superblock when the bitmap feature is on. */
    private static long bitmapOffset(Superblock1 sb) {
        return sb.hasFeature(FeatureBits.BITMAP_OFFSET) ? sb.bitmapOffsetSectors() : 0;
    }

    /** With PPL (and no bitmap) mdadm reads the union's halves as unsigned 16-bit numbers. */
    private static long pplOffset(Superblock1 sb) {
        return hasPplOnly(sb) ? sb.bitmapOffsetSectors() & 0xffff : 0;
    }

    private static long pplSize(Superblock1 sb) {
        return hasPplOnly(sb) ? sb.pplSizeSectors() : 0;
    }

    private static boolean hasPplOnly(Superblock1 sb) {
        return !sb.hasFeature(FeatureBits.BITMAP_OFFSET)
                && (sb.hasFeature(FeatureBits.PPL) || sb.hasFeature(FeatureBits.MULTIPLE_PPLS));
    }

    private static long maxUnsigned(long a, long b) {
        return Long.compareUnsigned(a, b) >= 0 ? a : b;
    }

    boolean isShown() {
        return afterSectors != HIDDEN;
    }

    /** mdadm's test for a device smaller than the superblock says (unsigned "after" above INT64_MAX). */
    boolean isTruncated() {
        return afterSectors < 0;
    }
}
