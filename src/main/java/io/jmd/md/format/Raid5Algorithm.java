package io.jmd.md.format;

import java.util.Optional;

/**
 * raid5/raid6 layout values (md_p.h / mdadm.h ALGORITHM_*) and the names mdadm prints for them
 * (maps.c r5layout and r6layout, first name listed for each value).
 */
public enum Raid5Algorithm {
    LEFT_ASYMMETRIC(0, "left-asymmetric"),
    RIGHT_ASYMMETRIC(1, "right-asymmetric"),
    LEFT_SYMMETRIC(2, "left-symmetric"),
    RIGHT_SYMMETRIC(3, "right-symmetric"),
    PARITY_0(4, "parity-first"),
    PARITY_N(5, "parity-last"),
    /** DDF layouts, raid6 only. */
    ROTATING_ZERO_RESTART(8, "ddf-zero-restart"),
    ROTATING_N_RESTART(9, "ddf-N-restart"),
    ROTATING_N_CONTINUE(10, "ddf-N-continue"),
    /** raid6 layouts that keep Q on the last device, for raid5 to raid6 conversion. */
    LEFT_ASYMMETRIC_6(16, "left-asymmetric-6"),
    RIGHT_ASYMMETRIC_6(17, "right-asymmetric-6"),
    LEFT_SYMMETRIC_6(18, "left-symmetric-6"),
    RIGHT_SYMMETRIC_6(19, "right-symmetric-6"),
    PARITY_0_6(20, "parity-first-6");

    /** mdadm's default for raid5 and raid6. */
    public static final Raid5Algorithm DEFAULT = LEFT_SYMMETRIC;

    private final int layout;
    private final String mdadmName;

    Raid5Algorithm(int layout, String mdadmName) {
        this.layout = layout;
        this.mdadmName = mdadmName;
    }

    public int layout() {
        return layout;
    }

    public String mdadmName() {
        return mdadmName;
    }

    /** The kernel's algorithm_valid_raid5: only the first six are raid5 layouts. */
    public boolean validForRaid5() {
        return layout <= PARITY_N.layout;
    }

    public static Optional<Raid5Algorithm> fromLayout(int layout) {
        for (Raid5Algorithm algorithm : values()) {
            if (algorithm.layout == layout) {
                return Optional.of(algorithm);
            }
        }
        return Optional.empty();
    }
}
