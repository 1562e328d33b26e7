package io.jmd.md.raid5;

import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.stripe.ParityLayout;
import io.jmd.md.stripe.RowPattern;

/**
 * RAID5 placement, the six md layouts (raid5_compute_sector, level 5). With n members and d = n - 1
 * data blocks per row, s = row % n:
 * <pre>
 *   layout                 P member     data block k
 *   0 left-asymmetric      d - s        k &lt; P ? k : k + 1
 *   1 right-asymmetric     s            k &lt; P ? k : k + 1
 *   2 left-symmetric       d - s        (P + 1 + k) % n        (mdadm's default)
 *   3 right-symmetric      s            (P + 1 + k) % n
 *   4 parity-first         0            k + 1
 *   5 parity-last          d            k
 * </pre>
 */
public final class Raid5Layout extends ParityLayout {
    private final Raid5Algorithm algorithm;

    public Raid5Layout(int raidDisks, Raid5Algorithm algorithm) {
        super(raidDisks, 1);
        if (!algorithm.validForRaid5()) {
            throw new IllegalArgumentException("layout " + algorithm.mdadmName() + " is not a raid5 layout");
        }
        this.algorithm = algorithm;
    }

    @Override
    public String levelName() {
        return "raid5";
    }

    public Raid5Algorithm algorithm() {
        return algorithm;
    }

    @Override
    protected int period() {
        return algorithm == Raid5Algorithm.PARITY_0 || algorithm == Raid5Algorithm.PARITY_N ? 1 : raidDisks;
    }

    @Override
    protected RowPattern computePattern(long row) {
        int n = raidDisks;
        int d = dataDisks();
        int s = (int) (row % n);
        int pd = switch (algorithm) {
            case LEFT_ASYMMETRIC, LEFT_SYMMETRIC -> d - s;
            case RIGHT_ASYMMETRIC, RIGHT_SYMMETRIC -> s;
            case PARITY_0 -> 0;
            case PARITY_N -> d;
            default -> throw new AssertionError(algorithm);
        };
        int[] data = new int[d];
        for (int k = 0; k < d; k++) {
            data[k] = switch (algorithm) {
                case LEFT_ASYMMETRIC, RIGHT_ASYMMETRIC -> k < pd ? k : k + 1;
                case LEFT_SYMMETRIC, RIGHT_SYMMETRIC -> (pd + 1 + k) % n;
                case PARITY_0 -> k + 1;
                case PARITY_N -> k;
                default -> throw new AssertionError(algorithm);
            };
        }
        return new RowPattern(pd, -1, data, mdSlots(pd, -1, data), d);
    }
}
