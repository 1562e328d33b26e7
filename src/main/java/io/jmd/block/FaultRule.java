package io.jmd.block;

import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One fault to inject in a {@link FaultInjectingDevice}, after nbdkit's error and delay filters:
 * an error (errno, EIO by default) or a delay, for the bios of the given operations that overlap
 * a byte range. FLUSH has no range; a rule whose operations include FLUSH matches every flush.
 *
 * <p>Refinements return a new rule (build it before adding it): {@link #times} fires only on the
 * first N matching bios, {@link #withProbability} fires on each with probability p, drawn from
 * the device's seeded generator. Once added, a rule's only mutable state is its two counters
 * (atomics), so any thread may match it.
 */
public final class FaultRule {
    /** What the rule does. */
    public enum Kind {
        ERROR, DELAY
    }

    /** No limit on how often a rule fires. */
    public static final long UNLIMITED = -1;

    private final Kind kind;
    private final long offsetBytes;
    private final long lengthBytes;
    private final Set<Bio.Op> ops;
    private final int errno;
    private final long delayNanos;
    private final long limit;
    private final double probability;
    /** Firings left when limited; counts down, never below 0. */
    private final AtomicLong remaining;
    private final AtomicLong hits = new AtomicLong();

    private FaultRule(Kind kind, long offsetBytes, long lengthBytes, Set<Bio.Op> ops, int errno, long delayNanos,
                      long limit, double probability) {
        if (offsetBytes < 0 || lengthBytes <= 0) {
            throw new IllegalArgumentException("fault range " + offsetBytes + "+" + lengthBytes);
        }
        if (ops.isEmpty()) {
            throw new IllegalArgumentException("a fault rule needs at least one operation");
        }
        if (errno <= 0 && kind == Kind.ERROR) {
            throw new IllegalArgumentException("an error rule needs an errno > 0, got " + errno);
        }
        if (delayNanos < 0 || (kind == Kind.DELAY && delayNanos == 0)) {
            throw new IllegalArgumentException("bad delay " + delayNanos + " ns");
        }
        if (limit < 0 && limit != UNLIMITED) {
            throw new IllegalArgumentException("bad limit " + limit);
        }
        if (!(probability >= 0.0 && probability <= 1.0)) {
            throw new IllegalArgumentException("probability must be in [0, 1], got " + probability);
        }
        this.kind = kind;
        this.offsetBytes = offsetBytes;
        this.lengthBytes = lengthBytes;
        this.ops = EnumSet.copyOf(ops);
        this.errno = errno;
        this.delayNanos = delayNanos;
        this.limit = limit;
        this.probability = probability;
        this.remaining = new AtomicLong(limit);
    }

    private static Set<Bio.Op> opSet(Bio.Op first, Bio.Op... more) {
        return EnumSet.of(first, more);
    }

    /** EIO on every bio of {@code ops} overlapping {@code offsetBytes + lengthBytes}. */
    public static FaultRule error(long offsetBytes, long lengthBytes, Bio.Op op, Bio.Op... more) {
        return new FaultRule(Kind.ERROR, offsetBytes, lengthBytes, opSet(op, more), Errno.EIO, 0, UNLIMITED, 1.0);
    }

    /** Adds {@code delayNanos} to every bio of {@code ops} overlapping the range. */
    public static FaultRule delay(long offsetBytes, long lengthBytes, long delayNanos, Bio.Op op, Bio.Op... more) {
        return new FaultRule(Kind.DELAY, offsetBytes, lengthBytes, opSet(op, more), 0, delayNanos, UNLIMITED, 1.0);
    }

    /** The same rule ending bios with {@code value} instead of EIO. */
    public FaultRule withErrno(int value) {
        assert kind == Kind.ERROR : "errno on a " + kind + " rule";
        return new FaultRule(kind, offsetBytes, lengthBytes, ops, value, delayNanos, limit, probability);
    }

    /** The same rule firing only the first {@code n} times it would fire. */
    public FaultRule times(long n) {
        return new FaultRule(kind, offsetBytes, lengthBytes, ops, errno, delayNanos, n, probability);
    }

    /** The same rule firing on each matching bio with probability {@code p}. */
    public FaultRule withProbability(double p) {
        return new FaultRule(kind, offsetBytes, lengthBytes, ops, errno, delayNanos, limit, p);
    }

    public Kind kind() {
        return kind;
    }

    public int errno() {
        return errno;
    }

    public long delayNanos() {
        return delayNanos;
    }

    /** How often it fired. */
    public long hits() {
        return hits.get();
    }

    /** Whether the bio is of one of the rule's operations and overlaps its range. */
    boolean matches(Bio bio) {
        if (!ops.contains(bio.op)) {
            return false;
        }
        if (bio.op == Bio.Op.FLUSH) {
            return true;
        }
        // [b, b + bl) and [o, o + l) overlap; written with differences so that a rule covering
        // everything (length Long.MAX_VALUE) cannot overflow.
        long b = bio.offsetBytes;
        return b >= offsetBytes ? b - offsetBytes < lengthBytes : offsetBytes - b < bio.lengthBytes;
    }

    /** For a matching bio: whether the rule fires this time, given a uniform draw in [0, 1). */
    boolean fires(double draw) {
        if (draw >= probability) {
            return false;
        }
        if (limit != UNLIMITED) {
            while (true) {
                long r = remaining.get();
                if (r <= 0) {
                    return false;
                }
                if (remaining.compareAndSet(r, r - 1)) {
                    break;
                }
            }
        }
        hits.incrementAndGet();
        return true;
    }

    /** Whether a limited rule has used up its firings. */
    public boolean exhausted() {
        return limit != UNLIMITED && remaining.get() <= 0;
    }

    /** Whether the rule asks for a random draw (so a device need not spend one otherwise). */
    boolean random() {
        return probability < 1.0;
    }

    @Override
    public String toString() {
        String what = kind == Kind.ERROR ? Errno.name(errno) : delayNanos + "ns delay";
        return what + " on " + ops + " " + offsetBytes + "+" + lengthBytes
            + (limit == UNLIMITED ? "" : " x" + limit) + (probability < 1.0 ? " p=" + probability : "");
    }
}
