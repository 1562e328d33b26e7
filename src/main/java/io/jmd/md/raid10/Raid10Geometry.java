package io.jmd.md.raid10;

import io.jmd.md.format.Raid10Layout;

/**
 * RAID10 placement, as the kernel's raid10.c (setup_geo, calc_sectors, __raid10_find_phys): where
 * every copy of an array sector lives, for near, far and offset layouts, any copy counts, and the
 * three far-set versions of the layout word.
 *
 * <pre>
 *   near = nc, far = fc, n members, chunk C sectors
 *   chunk#   = sector / C            offset = sector % C
 *   first    = chunk# * nc           dev = first % n      stripe = first / n   (x fc for offset layouts)
 *   near copies: dev, dev+1, ... (wrapping to dev 0 moves one chunk further down)
 *   far copy f of a near copy on d: device shifted by nc within its far set, address + f * stride
 *   stride   = dev_sectors / fc (far), or C (offset)
 * </pre>
 * dev_sectors is calc_sectors' rounding of the superblock's size: whole chunks, array chunks =
 * (size / C / fc) * n / nc, used chunks per device = ceil(array chunks * copies / n).
 */
public final class Raid10Geometry {
    /** One copy: member (slot) and sector on it, relative to its data offset. */
    public record Copy(int device, long sector) {
    }

    private final int raidDisks;
    private final int near;
    private final int far;
    private final boolean offset;
    private final int farSetSize;
    private final int chunkSectors;
    private final int chunkShift;
    private final long devSectors;
    private final long stride;
    private final long arraySectors;

    /**
     * @param componentSectors the superblock's size: sectors of each member the array may use
     */
    public Raid10Geometry(int raidDisks, int layoutWord, int chunkSectors, long componentSectors) {
        Raid10Layout layout = Raid10Layout.decode(layoutWord)
            .orElseThrow(() -> new IllegalArgumentException("bad raid10 layout 0x" + Integer.toHexString(layoutWord)));
        if (chunkSectors < 8 || Integer.bitCount(chunkSectors) != 1) {
            throw new IllegalArgumentException("raid10 chunk must be a power of two of at least 4 KiB, got " + chunkSectors + " sectors");
        }
        if (layout.copies() < 2 || layout.copies() > raidDisks) {
            throw new IllegalArgumentException("raid10 layout" + layout.mdadmName() + " needs 2.." + raidDisks
                + " copies on " + raidDisks + " devices");
        }
        this.raidDisks = raidDisks;
        this.near = layout.near();
        this.far = layout.far();
        this.offset = layout.offset();
        this.farSetSize = switch (layout.version()) {
            case 0 -> raidDisks;
            case 1 -> raidDisks / far;
            case 2 -> far * near;
            default -> throw new IllegalArgumentException("raid10 far-set version " + layout.version() + " is not supported by the kernel");
        };
        if (farSetSize < 1) {
            throw new IllegalArgumentException("raid10 far-set size 0 with " + raidDisks + " devices and far=" + far);
        }
        this.chunkSectors = chunkSectors;
        this.chunkShift = Integer.numberOfTrailingZeros(chunkSectors);
        long arrayChunks = (componentSectors >> chunkShift) / far * raidDisks / near;
        long usedChunks = Math.ceilDiv(arrayChunks * near * far, raidDisks);
        this.devSectors = usedChunks << chunkShift;
        this.stride = offset ? chunkSectors : (usedChunks / far) << chunkShift;
        this.arraySectors = ((devSectors >> chunkShift) / far * raidDisks / near) << chunkShift;
    }

    public int raidDisks() {
        return raidDisks;
    }

    public int copies() {
        return near * far;
    }

    public int chunkSectors() {
        return chunkSectors;
    }

    /** The array's size (raid10_size over calc_sectors' dev_sectors). */
    public long arraySectors() {
        return arraySectors;
    }

    /** Sectors used on each member (calc_sectors' dev_sectors). */
    public long devSectors() {
        return devSectors;
    }

    /** Every copy of {@code arraySector}, near copies first, each followed by its far copies. */
    public Copy[] copiesOf(long arraySector) {
        Copy[] out = new Copy[copies()];
        int lastFarSetStart = (raidDisks / farSetSize - 1) * farSetSize;
        int lastFarSetSize = farSetSize + raidDisks % farSetSize;
        long chunk = (arraySector >> chunkShift) * near;
        long sector = arraySector & (chunkSectors - 1);
        long stripe = chunk / raidDisks;
        int dev = (int) (chunk % raidDisks);
        if (offset) {
            stripe *= far;
        }
        sector += stripe << chunkShift;
        int slot = 0;
        for (int n = 0; n < near; n++) {
            int d = dev;
            long s = sector;
            out[slot++] = new Copy(d, s);
            for (int f = 1; f < far; f++) {
                int set = d / farSetSize;
                d += near;
                if (raidDisks % farSetSize != 0 && d > lastFarSetStart) {
                    d -= lastFarSetStart;
                    d %= lastFarSetSize;
                    d += lastFarSetStart;
                } else {
                    d %= farSetSize;
                    d += farSetSize * set;
                }
                s += stride;
                out[slot++] = new Copy(d, s);
            }
            dev++;
            if (dev >= raidDisks) {
                dev = 0;
                sector += chunkSectors;
            }
        }
        return out;
    }

    /**
     * Whether every chunk keeps at least one copy on a working device: the devices of each chunk's
     * copies repeat with the first device, so checking the chunks starting on each device suffices.
     */
    public boolean survives(long workingDevices) {
        for (long c = 0; c < raidDisks; c++) {
            boolean any = false;
            for (Copy copy : copiesOf(c << chunkShift)) {
                any |= (workingDevices & (1L << copy.device())) != 0;
            }
            if (!any) {
                return false;
            }
        }
        return true;
    }

    /**
     * Sectors of device {@code slot} rebuilt once a recovery walking the array in order has done
     * every array sector below {@code doneSectors}: the lowest sector of the device holding a copy
     * of an array sector at or above it (all of {@link #devSectors} once the array is done). Copies
     * move down a device as the array address grows within each far section, so the lowest is
     * among the copies of the few chunks from {@code doneSectors} on ({@link #scanChunks}: more
     * than two stripes of every device's near copies).
     */
    public long recoveredMemberSectors(int slot, long doneSectors) {
        if (doneSectors >= arraySectors) {
            return devSectors;
        }
        long lowest = Long.MAX_VALUE;
        long chunk = doneSectors >> chunkShift;
        long chunks = arraySectors >> chunkShift;
        long last = Math.min(chunks - 1, chunk + scanChunks());
        for (long c = chunk; c <= last; c++) {
            long at = c == chunk ? doneSectors : c << chunkShift;
            for (Copy copy : copiesOf(at)) {
                if (copy.device() == slot) {
                    lowest = Math.min(lowest, copy.sector());
                }
            }
        }
        if (lowest == Long.MAX_VALUE) {
            return last == chunks - 1 ? devSectors : 0; // no copy left on it; or (never seen) none near: nothing known
        }
        return lowest;
    }

    /**
     * Where a recovery of device {@code slot} rebuilt below {@code recoveryOffsetSectors} resumes:
     * the last chunk boundary of the array below which every copy on the device ends at or below
     * it (a binary search: that end only grows with the boundary).
     */
    public long recoveryResumeSectors(int slot, long recoveryOffsetSectors) {
        if (recoveryOffsetSectors <= 0) {
            return 0;
        }
        if (recoveryOffsetSectors >= devSectors) {
            return arraySectors;
        }
        long lo = 0;
        long hi = arraySectors >> chunkShift;
        while (lo < hi) {
            long mid = (lo + hi + 1) >>> 1;
            if (highestCopyEndBelow(slot, mid) <= recoveryOffsetSectors) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        return lo << chunkShift;
    }

    /** The end of the highest copy on {@code slot} of the chunks below {@code chunk} (0 if none). */
    private long highestCopyEndBelow(int slot, long chunk) {
        long highest = 0;
        for (long c = chunk - 1; c >= 0 && c >= chunk - 1 - scanChunks(); c--) {
            for (Copy copy : copiesOf(c << chunkShift)) {
                if (copy.device() == slot) {
                    highest = Math.max(highest, copy.sector() + chunkSectors);
                }
            }
        }
        return highest;
    }

    private int scanChunks() {
        return 4 * raidDisks + 4;
    }
}
