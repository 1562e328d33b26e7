package io.jmd.sync;

/**
 * A breach of one of the seeds' rules, detected at run time before it could hang. It is a
 * programmer error: it stops the offending operation and, in tests, fails the test.
 */
public final class DependencyViolation extends Error {
    private final Rule rule;

    /** The rules of shared/seeds/README.md, named by the seed that taught each. */
    public enum Rule {
        /** Seed 001: a thread blocks on a pool it alone refills. */
        SELF_REFILL_WAIT,
        /** Seed 002: a blocking allocation while holding an item of the same pool. */
        ALLOC_WHILE_HOLDING,
        /** Seeds 000/003: a thread start (or other may-wait-on-I/O action) from an I/O-progress thread. */
        START_FROM_IO_THREAD,
        /** Seed 004: waiting on an outside party while holding a lock. */
        OUTSIDE_WAIT_HOLDING_LOCK,
        /** Lock-order inversion (lockdep). */
        LOCK_ORDER,
        /** A blocking wait in a context that must not block (completion callbacks). */
        BLOCK_IN_ATOMIC
    }

    public DependencyViolation(Rule rule, String message) {
        super(rule + ": " + message);
        this.rule = rule;
    }

    public Rule rule() {
        return rule;
    }
}
