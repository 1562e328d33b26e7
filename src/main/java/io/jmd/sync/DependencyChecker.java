package io.jmd.sync;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Runtime dependency checker: lockdep for jmd's locks, pools, thread starts and outside waits.
 * It flags the seeds' anti-patterns when they are about to happen, even in runs that would not
 * have hung. Cheap on the fast path: every check is a few field reads on the current thread's own
 * {@link JmdThread}; the lock-order graph is only touched when a new (held, acquired) pair of lock
 * classes is seen for the first time.
 *
 * <p>Lock classes are lock names: every {@link Mutex} with the same name is one class, as lockdep
 * keys locks by their initialisation site.
 */
public final class DependencyChecker {
    /** What to do on a violation. */
    public enum Mode {
        /** Throw {@link DependencyViolation} in the offending thread (tests). */
        THROW,
        /** Record and report, then let the operation go on (production: never worse than before). */
        REPORT,
        /** Check nothing: only to measure what the checks cost (the simulator's overhead benchmark). */
        OFF
    }

    private final Mode mode;
    private final Consumer<String> reporter;
    /** Violations kept for {@link #violations()}; a loop that breaks a rule must not grow the heap. */
    public static final int VIOLATIONS_KEPT_MAX = 1000;

    private final List<String> violations = new ArrayList<>(); // guarded by itself
    private long violationCount; // guarded by violations
    /**
     * Lock-order edges: held class -> acquired class -> stack where first seen. Read without a
     * lock (fast path: a known edge); added and searched only under {@link #graphLock}.
     */
    private final Map<String, Map<String, Throwable>> edges = new ConcurrentHashMap<>();
    private final Object graphLock = new Object();

    public DependencyChecker(Mode mode, Consumer<String> reporter) {
        this.mode = mode;
        this.reporter = reporter;
    }

    /** Checks before a thread starts another thread (seeds 000, 003). */
    public void beforeStart(JmdThread starter, String newThreadName) {
        if (mode == Mode.OFF) {
            return;
        }
        if (starter.has(ThreadRole.IO_PROGRESS)) {
            violation(DependencyViolation.Rule.START_FROM_IO_THREAD,
                "thread " + starter.name() + " (I/O progress depends on it) starts thread " + newThreadName
                    + "; hand thread starts to the dedicated starter or a work queue");
        }
    }

    /**
     * Checks before a thread may block on {@code on}. {@code outside}: an outside party must act.
     * Every blocking call runs this on entry, whether or not it would wait this time (as the
     * kernel's might_sleep): a rule broken only when the wait is real would pass in every test run
     * where the resource happened to be free.
     */
    public void beforeBlock(JmdThread me, Waitable on, boolean outside) {
        if (mode == Mode.OFF) {
            return;
        }
        if (me.inAtomic()) {
            violation(DependencyViolation.Rule.BLOCK_IN_ATOMIC,
                "thread " + me.name() + " blocks on " + on.waitName() + " inside a must-not-block section"
                    + " (an I/O completion callback or a wait condition); hand the work to a queue instead");
        }
        if (outside && me.heldLockCount() > 0) {
            violation(DependencyViolation.Rule.OUTSIDE_WAIT_HOLDING_LOCK,
                "thread " + me.name() + " waits on outside party " + on.waitName() + " while holding "
                    + me.heldLockNames() + "; start the action, drop the lock and answer EAGAIN");
        }
    }

    /**
     * Checks before a thread may wait for memory that no reserve backs (the shared budget, the
     * buffer cache), on every such call as {@link #beforeBlock}.
     */
    public void beforeUnreservedMemoryWait(JmdThread me, Waitable on) {
        if (mode == Mode.OFF) {
            return;
        }
        if (me.has(ThreadRole.IO_PROGRESS)) {
            violation(DependencyViolation.Rule.UNRESERVED_WAIT_ON_IO_THREAD,
                "thread " + me.name() + " (I/O progress depends on it) waits for " + on.waitName()
                    + ", which only completing I/O gives back; use a mempool's reserve, a buffer allocated"
                    + " ahead, or try without waiting and fall back");
        }
    }

    /**
     * Checks before a blocking allocation from a pool (seeds 001, 002). {@code refiller}: the
     * thread that alone returns items to the pool, or null; {@code holdAllowance}: how many items of
     * this pool a thread may hold while blocking for another (0 unless the pool's reserve proves more).
     */
    public void beforePoolWait(JmdThread me, Object pool, String poolName, JmdThread refiller, int holdAllowance) {
        if (mode == Mode.OFF) {
            return;
        }
        if (refiller != null && refiller == me) {
            violation(DependencyViolation.Rule.SELF_REFILL_WAIT,
                "thread " + me.name() + " blocks on pool " + poolName + " that only it refills;"
                    + " try without waiting, then fall back");
        }
        int held = me.heldItems(pool);
        if (held > holdAllowance) {
            violation(DependencyViolation.Rule.ALLOC_WHILE_HOLDING,
                "thread " + me.name() + " blocks on pool " + poolName + " while holding " + held
                    + " of its items (allowance " + holdAllowance + "); submit each item as soon as it is allocated");
        }
    }

    /**
     * Records a blocking lock acquisition (before it may wait); flags a cycle in the lock-order
     * graph. Not for tryLock: a lock that is only ever tried never waits, so it cannot close a
     * cycle (lockdep likewise adds no dependency for a trylock); locks taken while holding it do.
     */
    public void onLockAcquired(JmdThread me, Mutex lock) {
        if (mode == Mode.OFF) {
            return;
        }
        String acquired = lock.waitName();
        for (Mutex held : me.heldLocks) {
            String heldName = held.waitName();
            if (heldName.equals(acquired)) {
                continue; // same class nesting (e.g. per-member locks) is allowed, as lockdep subclasses
            }
            Map<String, Throwable> out = edges.get(heldName);
            if (out != null && out.containsKey(acquired)) {
                continue; // fast path: this order was seen and checked before
            }
            addEdge(me, heldName, acquired);
        }
    }

    /**
     * Checks for the reverse path and records the edge as one step under the graph lock: two
     * threads seeing A -> B and B -> A for the first time at once must not both search before
     * either records, or the cycle would never be reported (the fast path skips known edges).
     * Only first sightings get here, so the lock is not on any hot path.
     */
    private void addEdge(JmdThread me, String heldName, String acquired) {
        Throwable reverse;
        synchronized (graphLock) {
            Map<String, Throwable> out = edges.computeIfAbsent(heldName, k -> new ConcurrentHashMap<>());
            if (out.containsKey(acquired)) {
                return;
            }
            reverse = findPath(acquired, heldName, new java.util.HashSet<>());
            out.put(acquired, new Throwable("first seen: " + heldName + " -> " + acquired));
        }
        if (reverse != null) {
            violation(DependencyViolation.Rule.LOCK_ORDER,
                "thread " + me.name() + " takes " + acquired + " while holding " + heldName
                    + ", but the order " + acquired + " -> ... -> " + heldName + " was seen before at:\n"
                    + stackOf(reverse));
        }
    }

    private Throwable findPath(String from, String to, Set<String> seen) {
        if (!seen.add(from)) {
            return null;
        }
        Map<String, Throwable> out = edges.get(from);
        if (out == null) {
            return null;
        }
        for (Map.Entry<String, Throwable> e : out.entrySet()) {
            if (e.getKey().equals(to)) {
                return e.getValue();
            }
            Throwable t = findPath(e.getKey(), to, seen);
            if (t != null) {
                return t;
            }
        }
        return null;
    }

    private static String stackOf(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("    at ").append(e).append('\n');
        }
        return sb.toString();
    }

    /** Runs {@code body} as a must-not-block section on the current thread (completion callbacks). */
    public static void runAtomic(JmdThread me, Runnable body) {
        me.atomicDepth++;
        try {
            body.run();
        } finally {
            me.atomicDepth--;
        }
    }

    private void violation(DependencyViolation.Rule rule, String message) {
        String full = rule + ": " + message + "\n  at\n" + stackOf(new Throwable());
        synchronized (violations) {
            // REPORT mode runs for ever: keep the first ones (the cause), count the rest.
            if (violations.size() < VIOLATIONS_KEPT_MAX) {
                violations.add(full);
            }
            violationCount++;
        }
        reporter.accept("jmd dependency checker: " + full);
        if (mode == Mode.THROW) {
            throw new DependencyViolation(rule, message);
        }
    }

    /** Every violation seen so far, also those past {@link #VIOLATIONS_KEPT_MAX}. */
    public long violationCount() {
        synchronized (violations) {
            return violationCount;
        }
    }

    /** The first violations seen (REPORT mode keeps going; tests assert this is empty). */
    public List<String> violations() {
        synchronized (violations) {
            return List.copyOf(violations);
        }
    }
}
