package io.jmd.md.linear;

/**
 * md-linear placement (linear_conf): members follow each other in slot order; a member's usable
 * size is its data_size, rounded down to the chunk when the superblock has one (mdadm's
 * --rounding; 0 since Linux 2.6.16). Array sector s lives on the member whose range holds it.
 *
 * <pre>
 *   end[i] = size[0] + ... + size[i]      member i holds [end[i-1], end[i])    at s - end[i-1]
 * </pre>
 */
public final class LinearMap {
    /** One array sector's place. */
    public record Place(int device, long sector, long sectorsToDeviceEnd) {
    }

    private final long[] endSectors;

    public LinearMap(long[] memberSectors, int chunkSectors) {
        endSectors = new long[memberSectors.length];
        long end = 0;
        for (int i = 0; i < memberSectors.length; i++) {
            long s = chunkSectors > 0 ? memberSectors[i] / chunkSectors * chunkSectors : memberSectors[i];
            if (s <= 0) {
                throw new IllegalArgumentException("linear member in slot " + i + " has no usable space");
            }
            end += s;
            endSectors[i] = end;
        }
    }

    public long arraySectors() {
        return endSectors[endSectors.length - 1];
    }

    public Place place(long arraySector) {
        assert arraySector >= 0 && arraySector < arraySectors() : "sector " + arraySector + " past the linear end";
        int lo = 0;
        int hi = endSectors.length - 1;
        while (lo < hi) { // first member whose end is past the sector
            int mid = (lo + hi) >>> 1;
            if (endSectors[mid] > arraySector) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        long start = lo == 0 ? 0 : endSectors[lo - 1];
        return new Place(lo, arraySector - start, endSectors[lo] - arraySector);
    }
}
