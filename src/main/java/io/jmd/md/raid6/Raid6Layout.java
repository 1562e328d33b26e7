package io.jmd.md.raid6;

import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.stripe.ParityLayout;
import io.jmd.md.stripe.RowPattern;

/**
 * RAID6 placement, every layout of raid5_compute_sector's level 6. n members, d = n - 2 data blocks
 * per row, s = row % n (row % (n - 1) for the -6 layouts):
 * <pre>
 *   layout                     P          Q                    data block k
 *   0  left-asymmetric         n-1-s      P+1 (0 if P=n-1)     P=n-1 ? k+1 : k&lt;P ? k : k+2
 *   1  right-asymmetric        s          as left-asymmetric   as left-asymmetric
 *   2  left-symmetric          n-1-s      (P+1) % n            (P+2+k) % n           (mdadm's default)
 *   3  right-symmetric         s          (P+1) % n            (P+2+k) % n
 *   4  parity-first            0          1                    k+2
 *   5  parity-last             d          d+1                  k
 *   8  ddf-zero-restart        s          as right-asymmetric  as right-asymmetric   (DDF slots)
 *   9  ddf-N-restart           n-1-(row+1)%n  as left-asym.    as left-asymmetric    (DDF slots)
 *   10 ddf-N-continue          n-1-s      (P+n-1) % n          (P+1+k) % n           (DDF slots)
 *   16 left-asymmetric-6       d-s'       n-1                  k&lt;P ? k : k+1         s' = row % (n-1)
 *   17 right-asymmetric-6      s'         n-1                  k&lt;P ? k : k+1
 *   18 left-symmetric-6        d-s'       n-1                  (P+1+k) % (n-1)
 *   19 right-symmetric-6       s'         n-1                  (P+1+k) % (n-1)
 *   20 parity-first-6          0          n-1                  k+1
 * </pre>
 * Q's syndrome slots: md layouts start at the member after Q, DDF layouts at member 0 counting
 * every member (see {@link ParityLayout#mdSlots}, {@link ParityLayout#ddfSlots}).
 */
public final class Raid6Layout extends ParityLayout {
    private final Raid5Algorithm algorithm;

    public Raid6Layout(int raidDisks, Raid5Algorithm algorithm) {
        super(raidDisks, 2);
        this.algorithm = algorithm;
    }

    @Override
    public String levelName() {
        return "raid6";
    }

    public Raid5Algorithm algorithm() {
        return algorithm;
    }

    public boolean isDdf() {
        return algorithm == Raid5Algorithm.ROTATING_ZERO_RESTART || algorithm == Raid5Algorithm.ROTATING_N_RESTART
            || algorithm == Raid5Algorithm.ROTATING_N_CONTINUE;
    }

    @Override
    protected int period() {
        return switch (algorithm) {
            case PARITY_0, PARITY_N, PARITY_0_6 -> 1;
            case LEFT_ASYMMETRIC_6, RIGHT_ASYMMETRIC_6, LEFT_SYMMETRIC_6, RIGHT_SYMMETRIC_6 -> raidDisks - 1;
            default -> raidDisks;
        };
    }

    @Override
    protected RowPattern computePattern(long row) {
        int n = raidDisks;
        int d = dataDisks();
        int s = (int) (row % n);
        int s6 = (int) (row % (n - 1));
        int pd;
        int qd;
        int[] data = new int[d];
        switch (algorithm) {
            case LEFT_ASYMMETRIC, RIGHT_ASYMMETRIC, ROTATING_ZERO_RESTART, ROTATING_N_RESTART -> {
                pd = switch (algorithm) {
                    case LEFT_ASYMMETRIC -> n - 1 - s;
                    case ROTATING_N_RESTART -> n - 1 - (int) ((row + 1) % n);
                    default -> s;
                };
                qd = pd == n - 1 ? 0 : pd + 1;
                for (int k = 0; k < d; k++) {
                    data[k] = pd == n - 1 ? k + 1 : k < pd ? k : k + 2;
                }
            }
            case LEFT_SYMMETRIC, RIGHT_SYMMETRIC -> {
                pd = algorithm == Raid5Algorithm.LEFT_SYMMETRIC ? n - 1 - s : s;
                qd = (pd + 1) % n;
                for (int k = 0; k < d; k++) {
                    data[k] = (pd + 2 + k) % n;
                }
            }
            case ROTATING_N_CONTINUE -> {
                pd = n - 1 - s;
                qd = (pd + n - 1) % n;
                for (int k = 0; k < d; k++) {
                    data[k] = (pd + 1 + k) % n;
                }
            }
            case PARITY_0 -> {
                pd = 0;
                qd = 1;
                for (int k = 0; k < d; k++) {
                    data[k] = k + 2;
                }
            }
            case PARITY_N -> {
                pd = d;
                qd = d + 1;
                for (int k = 0; k < d; k++) {
                    data[k] = k;
                }
            }
            case LEFT_ASYMMETRIC_6, RIGHT_ASYMMETRIC_6 -> {
                pd = algorithm == Raid5Algorithm.LEFT_ASYMMETRIC_6 ? d - s6 : s6;
                qd = n - 1;
                for (int k = 0; k < d; k++) {
                    data[k] = k < pd ? k : k + 1;
                }
            }
            case LEFT_SYMMETRIC_6, RIGHT_SYMMETRIC_6 -> {
                pd = algorithm == Raid5Algorithm.LEFT_SYMMETRIC_6 ? d - s6 : s6;
                qd = n - 1;
                for (int k = 0; k < d; k++) {
                    data[k] = (pd + 1 + k) % (n - 1);
                }
            }
            case PARITY_0_6 -> {
                pd = 0;
                qd = n - 1;
                for (int k = 0; k < d; k++) {
                    data[k] = k + 1;
                }
            }
            default -> throw new AssertionError(algorithm);
        }
        if (isDdf()) {
            return new RowPattern(pd, qd, data, ddfSlots(pd, qd), n);
        }
        return new RowPattern(pd, qd, data, mdSlots(pd, qd, data), d);
    }
}
