package io.jmd.md.stripe;

/**
 * Data placement of a parity level, as the kernel's raid5_compute_sector: array sector to member
 * sector, data member, P and Q member. Subclasses (one per level's package) give the pattern of a
 * row; this class does the arithmetic common to all of them.
 *
 * <pre>
 *   chunk     = arraySector / chunkSectors          offset = arraySector % chunkSectors
 *   row       = chunk / dataDisks                   k      = chunk % dataDisks   (data block in the row)
 *   member    = pattern(row).dataMember[k]          memberSector = row * chunkSectors + offset
 * </pre>
 * Every member holds row r at the same member sectors, so a row's blocks line up (a "stripe").
 * Patterns repeat with a short period (at most raidDisks rows), so they are computed once.
 */
public abstract class ParityLayout {
    /** One array sector's place: the member and member sector of its data, and the row's parity. */
    public record Place(long memberSector, int dataMember, int pd, int qd) {
    }

    protected final int raidDisks;
    protected final int maxDegraded;
    private volatile RowPattern[] patterns;

    protected ParityLayout(int raidDisks, int maxDegraded) {
        if (raidDisks < maxDegraded + 1) {
            throw new IllegalArgumentException(raidDisks + " members cannot hold " + maxDegraded + " parity blocks and data");
        }
        this.raidDisks = raidDisks;
        this.maxDegraded = maxDegraded;
    }

    /** The level name, for messages ("raid5"). */
    public abstract String levelName();

    /** How many rows before the pattern repeats. */
    protected abstract int period();

    /** The pattern of {@code row}, computed (called for rows 0 .. period - 1 only). */
    protected abstract RowPattern computePattern(long row);

    public final int raidDisks() {
        return raidDisks;
    }

    /** 1 for raid4/5, 2 for raid6: members the array can lose. */
    public final int maxDegraded() {
        return maxDegraded;
    }

    public final int dataDisks() {
        return raidDisks - maxDegraded;
    }

    /** The pattern of stripe row {@code row}. */
    public final RowPattern pattern(long row) {
        RowPattern[] p = patterns;
        if (p == null) {
            p = new RowPattern[period()];
            for (int r = 0; r < p.length; r++) {
                p[r] = computePattern(r);
            }
            patterns = p;
        }
        return p[(int) (row % p.length)];
    }

    /** raid5_compute_sector for a {@code chunkSectors} chunk. */
    public final Place place(long arraySector, int chunkSectors) {
        long chunk = arraySector / chunkSectors;
        long offset = arraySector % chunkSectors;
        long row = chunk / dataDisks();
        int k = (int) (chunk % dataDisks());
        RowPattern pat = pattern(row);
        return new Place(row * chunkSectors + offset, pat.dataMember()[k], pat.pd(), pat.qd());
    }

    /**
     * Syndrome slots of the md (non-DDF) layouts: walking the members from the one after Q
     * (member 0 if Q is the last), data members take slots 0, 1, 2, ... in the order met
     * (raid6_d0 and raid6_idx_to_slot). Without Q, slot = data index.
     */
    protected final int[] mdSlots(int pd, int qd, int[] dataMember) {
        int[] slot = new int[raidDisks];
        java.util.Arrays.fill(slot, -1);
        if (qd < 0) {
            for (int k = 0; k < dataMember.length; k++) {
                slot[dataMember[k]] = k;
            }
            return slot;
        }
        int d0 = qd == raidDisks - 1 ? 0 : qd + 1;
        int count = 0;
        for (int i = 0, m = d0; i < raidDisks; i++, m = (m + 1) % raidDisks) {
            if (m != pd && m != qd) {
                slot[m] = count++;
            }
        }
        return slot;
    }

    /** Syndrome slots of the DDF layouts: every member takes the slot of its index, from member 0. */
    protected final int[] ddfSlots(int pd, int qd) {
        int[] slot = new int[raidDisks];
        for (int m = 0; m < raidDisks; m++) {
            slot[m] = m == pd || m == qd ? -1 : m;
        }
        return slot;
    }
}
