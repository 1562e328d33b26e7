package io.jmd.md.raid4;

import io.jmd.md.MdArray;
import io.jmd.md.stripe.StripeEngine;

/** RAID4: parity on the last member ({@link Raid4Layout}). */
public final class Raid4 extends StripeEngine {
    public Raid4(MdArray array) {
        super(array, new Raid4Layout(array.superblock().raidDisks()));
    }

    @Override
    public String levelName() {
        return "raid4";
    }
}
