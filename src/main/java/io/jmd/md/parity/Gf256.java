package io.jmd.md.parity;

/**
 * GF(2^8) with md's polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11d) and generator g = {02}, the
 * field of RAID6's Q syndrome (lib/raid6: raid6_gfmul, raid6_gfexp, raid6_gfinv, raid6_gfexi are
 * tables of the same numbers). Scalar and table-driven: the wide kernels use it to build their
 * per-constant tables, tests use it as the oracle.
 */
public final class Gf256 {
    /** The reduction polynomial without its x^8 term: what a carry out of bit 7 XORs in. */
    public static final int POLY_LOW = 0x1d;

    private static final int[] EXP = new int[512];
    private static final int[] LOG = new int[256];

    static {
        int x = 1;
        for (int i = 0; i < 255; i++) {
            EXP[i] = x;
            EXP[i + 255] = x;
            LOG[x] = i;
            x = mul2(x);
        }
        EXP[510] = EXP[0];
        EXP[511] = EXP[1];
        LOG[0] = -1; // log 0 is undefined; every caller checks for zero first
        assert x == 1 : "g = 2 must generate the multiplicative group of order 255";
    }

    private Gf256() {
    }

    /** {02} · a: shift left, reduce by the polynomial when bit 7 falls out. */
    public static int mul2(int a) {
        assert a >= 0 && a < 256 : "not a field element: " + a;
        int r = a << 1;
        return (r & 0x100) != 0 ? (r ^ 0x100 ^ POLY_LOW) : r;
    }

    /** g^e, for any e >= 0 (the group has order 255). */
    public static int exp(int e) {
        assert e >= 0 : "negative exponent " + e;
        return EXP[e % 255];
    }

    /** log_g a, for a != 0. */
    public static int log(int a) {
        assert a > 0 && a < 256 : "log of " + a;
        return LOG[a];
    }

    public static int mul(int a, int b) {
        if (a == 0 || b == 0) {
            return 0;
        }
        return EXP[LOG[a] + LOG[b]];
    }

    /** Multiplicative inverse of a != 0. */
    public static int inv(int a) {
        assert a != 0 : "zero has no inverse";
        return EXP[255 - LOG[a]];
    }

    /** a / b for b != 0. */
    public static int div(int a, int b) {
        return mul(a, inv(b));
    }

    /** The low-nibble table of multiplication by c: t[x] = c · x for x in 0..15. */
    static byte[] lowNibbleTable(int c) {
        byte[] t = new byte[16];
        for (int x = 0; x < 16; x++) {
            t[x] = (byte) mul(c, x);
        }
        return t;
    }

    /** The high-nibble table of multiplication by c: t[x] = c · (x << 4) for x in 0..15. */
    static byte[] highNibbleTable(int c) {
        byte[] t = new byte[16];
        for (int x = 0; x < 16; x++) {
            t[x] = (byte) mul(c, x << 4);
        }
        return t;
    }
}
