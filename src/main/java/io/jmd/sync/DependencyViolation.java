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
        BLOCK_IN_ATOMIC,
        /**
         * Seeds 000/001 (common law 1): an I/O-progress thread waits for memory that no reserve
         * backs (the shared budget, the buffer cache): that memory may only come back when I/O
         * completes, which needs this thread. Such threads use a mempool, a buffer allocated
         * ahead, or a try-and-fall-back.
         */
        UNRESERVED_WAIT_ON_IO_THREAD
    }

    public DependencyViolation(Rule rule, String message) {
        super(rule + ": " + message);
        this.rule = rule;
    }

    public Rule rule() {
        return rule;
    }
}
