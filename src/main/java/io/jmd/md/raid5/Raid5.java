package io.jmd.md.raid5;

import io.jmd.md.MdArray;
import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.stripe.StripeEngine;

/** RAID5: one rotating (or fixed) parity block per row, placed by {@link Raid5Layout}. */
public final class Raid5 extends StripeEngine {
    public Raid5(MdArray array) {
        super(array, layoutOf(array));
    }

    static Raid5Layout layoutOf(MdArray array) {
        int word = array.superblock().layout();
        Raid5Algorithm algorithm = Raid5Algorithm.fromLayout(word).filter(Raid5Algorithm::validForRaid5)
            .orElseThrow(() -> new IllegalArgumentException("raid5 layout " + word + " is not one md knows (0..5)"));
        return new Raid5Layout(array.superblock().raidDisks(), algorithm);
    }

    @Override
    public String levelName() {
        return "raid5";
    }
}
