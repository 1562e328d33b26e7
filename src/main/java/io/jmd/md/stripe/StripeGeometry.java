package io.jmd.md.stripe;

/**
 * The arithmetic of a parity array's address spaces, in bytes.
 *
 * <pre>
 *   array:   | row 0: D0 chunk | D1 chunk | ... | D(d-1) chunk | row 1: D0 ... |
 *   member:  | row 0 chunk | row 1 chunk | ...          (same member offset on every member)
 *   a chunk is cut into units (jmd's stripe size, md's stripe_size): the stripe cache's grain
 *   key = member offset / unit      row = key / unitsPerChunk      unit in chunk = key % unitsPerChunk
 * </pre>
 * A stripe head holds one unit of every member at one key: the same member bytes on all of them,
 * so its blocks are one column set of parity equations.
 */
public final class StripeGeometry {
    /** md's PAGE_SIZE: the grain of "up to date" and of read-before-write. */
    public static final int PAGE_BYTES = 4096;
    /** jmd's stripe unit: 64 KiB (md's is one page; bigger units mean fewer, larger member I/Os). */
    public static final int UNIT_BYTES_MAX = 64 << 10;

    private final ParityLayout layout;
    private final long chunkBytes;
    private final int unitBytes;
    private final int unitsPerChunk;
    private final long rows;

    /**
     * @param componentBytes per-member space the array may use (the superblock's size); rounded
     *                       down to whole chunks as raid5_size does
     */
    public StripeGeometry(ParityLayout layout, long chunkBytes, long componentBytes) {
        if (chunkBytes < PAGE_BYTES || Long.bitCount(chunkBytes) != 1) {
            throw new IllegalArgumentException("chunk must be a power of two of at least 4 KiB, got " + chunkBytes + " bytes");
        }
        this.layout = layout;
        this.chunkBytes = chunkBytes;
        this.unitBytes = (int) Math.min(chunkBytes, UNIT_BYTES_MAX);
        this.unitsPerChunk = (int) (chunkBytes / unitBytes);
        this.rows = componentBytes / chunkBytes;
    }

    public ParityLayout layout() {
        return layout;
    }

    public int raidDisks() {
        return layout.raidDisks();
    }

    public int dataDisks() {
        return layout.dataDisks();
    }

    public long chunkBytes() {
        return chunkBytes;
    }

    public int unitBytes() {
        return unitBytes;
    }

    public int pagesPerUnit() {
        return unitBytes / PAGE_BYTES;
    }

    public int unitsPerChunk() {
        return unitsPerChunk;
    }

    /** Member bytes in use (whole chunks). */
    public long memberBytes() {
        return rows * chunkBytes;
    }

    public long arrayBytes() {
        return rows * chunkBytes * dataDisks();
    }

    public long rowOf(long key) {
        return key / unitsPerChunk;
    }

    /** The member offset (from the data offset) of a stripe head's unit. */
    public long memberOffset(long key) {
        return key * unitBytes;
    }

    /** The stripe key of array byte {@code offset}. */
    public long keyOf(long arrayOffset) {
        long chunk = arrayOffset / chunkBytes;
        long row = chunk / dataDisks();
        return row * unitsPerChunk + (arrayOffset % chunkBytes) / unitBytes;
    }

    /** The data block index (0 .. data disks - 1) of array byte {@code offset} in its row. */
    public int dataIndexOf(long arrayOffset) {
        return (int) ((arrayOffset / chunkBytes) % dataDisks());
    }

    /** Array offset of the first byte of data block k's unit in stripe {@code key}. */
    public long cellStart(long key, int k) {
        long row = key / unitsPerChunk;
        int unit = (int) (key % unitsPerChunk);
        return (row * dataDisks() + k) * chunkBytes + (long) unit * unitBytes;
    }

    /** Page mask of the byte range [lo, hi) of a unit (hi &gt; lo). */
    public static int pageMask(long lo, long hi) {
        assert lo >= 0 && hi > lo : "empty page range " + lo + ".." + hi;
        int first = (int) (lo / PAGE_BYTES);
        int last = (int) ((hi - 1) / PAGE_BYTES);
        return (int) (((1L << (last + 1)) - 1) & ~((1L << first) - 1));
    }

    /** Pages wholly inside [lo, hi). */
    public static int fullPageMask(long lo, long hi) {
        long first = Math.ceilDiv(lo, PAGE_BYTES);
        long end = hi / PAGE_BYTES;
        if (end <= first) {
            return 0;
        }
        return (int) (((1L << end) - 1) & ~((1L << first) - 1));
    }
}
