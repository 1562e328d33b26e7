package io.jmd.md.format;

import static io.jmd.md.format.MdadmCreateRules.*;

/**
 * 1.1 / 1.2 layout of a new member: superblock, bitmap, bad-block log, gap, data.
 *
 * <pre>
 *  super_offset (0 or 8)  superblock, 4 KiB
 *  +8                     bitmap (bitmap_offset = 8), its 4 KiB-rounded size; or 4 KiB reserved
 *  +8 + bitmap space      bad-block log, 8 sectors (when it fits before data_offset)
 *  data_offset            data, to the end of the member (data_size = device - data_offset)
 * </pre>
 */
final class CreateGeometryAtStart {
    private CreateGeometryAtStart() {}

    static CreateGeometry compute(CreateOptions options, long[] memberSectors) {
        RaidLevel level = options.level();
        long superOffset = options.location().superOffsetSectors(memberSectors[0]);
        // mdadm fixes data_offset from the first member it validates, then uses it for all.
        long dataOffset = defaultDataOffsetSectors(memberSectors[0], options.chunkKib());
        long[] free = new long[memberSectors.length];
        long[] dataSize = new long[memberSectors.length];
        long[] superOffsets = new long[memberSectors.length];
        for (int i = 0; i < memberSectors.length; i++) {
            if (memberSectors[i] <= dataOffset) {
                throw new IllegalArgumentException("member " + i + " of " + memberSectors[i]
                        + " sectors is too small for data_offset " + dataOffset);
            }
            free[i] = freeSectors(options.location(), memberSectors[i], dataOffset);
            dataSize[i] = memberSectors[i] - dataOffset;
            superOffsets[i] = superOffset;
        }
        long component = componentSectors(level, options.chunkKib(), free);
        Bitmap bitmap = Bitmap.of(options, component);
        long bitmapOffset = BITMAP_OFFSET_AT_START_SECTORS;
        long bblogOffset = 0;
        long bblogSize = 0;
        if (dataOffset >= superOffset + bitmapOffset + bitmap.spaceSectors() + BBLOG_SECTORS) {
            bblogSize = BBLOG_SECTORS;
            bblogOffset = bitmapOffset + bitmap.spaceSectors();
        } else if (dataOffset >= superOffset + 16) {
            bblogSize = BBLOG_SECTORS;
            bblogOffset = dataOffset - BBLOG_SECTORS - superOffset;
        }
        long array = ArraySize.kernelSectors(level, options.raidDisks(), options.layout(), 2 * options.chunkKib(),
                component, dataSize);
        return new CreateGeometry(options, 2 * options.chunkKib(), dataOffset, component, dataSize, superOffsets,
                options.internalBitmap() ? (int) bitmapOffset : 0, bitmap.chunkBytes(), bitmap.syncSectors(),
                Math.toIntExact(bblogOffset), Math.toIntExact(bblogSize), array);
    }

    /**
     * The bitmap's numbers, or the space mdadm reserves for one that might be added later
     * (write_init_super1: the real bitmap's 4 KiB-rounded size, else choose_bm_space).
     */
    record Bitmap(int chunkBytes, long syncSectors, long spaceSectors) {
        static Bitmap of(CreateOptions options, long componentSectors) {
            if (!options.internalBitmap()) {
                return new Bitmap(0, 0, bitmapSpaceSectors(componentSectors));
            }
            long sync = bitmapSyncSectors(options.level(), options.raidDisks(), options.layout(), componentSectors);
            int chunk = bitmapChunkBytes(componentSectors, sync, options.bitmapChunkBytes());
            long space = BitmapLayout.areaBytes(sync, chunk, 4096) / Superblock1Layout.SECTOR_BYTES;
            return new Bitmap(chunk, sync, space);
        }
    }
}
