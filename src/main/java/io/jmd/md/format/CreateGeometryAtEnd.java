package io.jmd.md.format;

import static io.jmd.md.format.MdadmCreateRules.*;

/**
 * 1.0 layout of a new member: data from sector 0, then bitmap, bad-block log and superblock at
 * the end.
 *
 * <pre>
 *  0                          data (data_offset = 0), data_size sectors
 *  ...                        bitmap (bitmap_offset &lt; 0) or space reserved for one
 *  super_offset - 8           bad-block log, 8 sectors (bblog_offset = -8)
 *  (device - 16) &amp; ~7        superblock
 * </pre>
 */
final class CreateGeometryAtEnd {
    private CreateGeometryAtEnd() {}

    static CreateGeometry compute(CreateOptions options, long[] memberSectors) {
        RaidLevel level = options.level();
        long[] free = new long[memberSectors.length];
        long[] superOffsets = new long[memberSectors.length];
        for (int i = 0; i < memberSectors.length; i++) {
            free[i] = freeSectors(options.location(), memberSectors[i], 0);
            superOffsets[i] = options.location().superOffsetSectors(memberSectors[i]);
        }
        long component = componentSectors(level, options.chunkKib(), free);
        CreateGeometryAtStart.Bitmap bitmap = CreateGeometryAtStart.Bitmap.of(options, component);
        long[] dataSize = new long[memberSectors.length];
        boolean bblog = true;
        for (int i = 0; i < memberSectors.length; i++) {
            // write_init_super1 case 0: reserve bitmap space + the bad-block log before the superblock,
            // shrinking the reserve when the component size does not leave that much.
            long reserved = bitmap.spaceSectors() + BBLOG_SECTORS;
            if (superOffsets[i] < component + reserved) {
                reserved = superOffsets[i] - component;
            }
            dataSize[i] = superOffsets[i] - reserved;
            bblog &= reserved >= BBLOG_SECTORS;
        }
        int bitmapOffset = options.internalBitmap()
                ? bitmapOffsetAtEndSectors(bitmap.syncSectors(), bitmap.chunkBytes())
                : 0;
        long array = ArraySize.kernelSectors(level, options.raidDisks(), options.layout(), 2 * options.chunkKib(),
                component, dataSize);
        return new CreateGeometry(options, 2 * options.chunkKib(), 0, component, dataSize, superOffsets,
                bitmapOffset, bitmap.chunkBytes(), bitmap.syncSectors(), bblog ? -BBLOG_SECTORS : 0,
                bblog ? BBLOG_SECTORS : 0, array);
    }
}
