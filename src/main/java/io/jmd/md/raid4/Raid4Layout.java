package io.jmd.md.raid4;

import io.jmd.md.stripe.ParityLayout;
import io.jmd.md.stripe.RowPattern;

/**
 * RAID4 placement (raid5_compute_sector, level 4): parity always on the last member, data block k
 * on member k. The layout field is ignored by the kernel for level 4, and so it is here.
 */
public final class Raid4Layout extends ParityLayout {
    public Raid4Layout(int raidDisks) {
        super(raidDisks, 1);
    }

    @Override
    public String levelName() {
        return "raid4";
    }

    @Override
    protected int period() {
        return 1;
    }

    @Override
    protected RowPattern computePattern(long row) {
        int d = dataDisks();
        int[] data = new int[d];
        for (int k = 0; k < d; k++) {
            data[k] = k;
        }
        return new RowPattern(d, -1, data, mdSlots(d, -1, data), d);
    }
}
