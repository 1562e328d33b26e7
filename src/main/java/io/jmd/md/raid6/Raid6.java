package io.jmd.md.raid6;

import io.jmd.md.MdArray;
import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.stripe.StripeEngine;

/** RAID6: P and Q per row, placed by {@link Raid6Layout}; survives any two members. */
public final class Raid6 extends StripeEngine {
    public Raid6(MdArray array) {
        super(array, layoutOf(array));
    }

    static Raid6Layout layoutOf(MdArray array) {
        int word = array.superblock().layout();
        Raid5Algorithm algorithm = Raid5Algorithm.fromLayout(word)
            .orElseThrow(() -> new IllegalArgumentException("raid6 layout " + word + " is not one md knows"));
        return new Raid6Layout(array.superblock().raidDisks(), algorithm);
    }

    @Override
    public String levelName() {
        return "raid6";
    }
}
