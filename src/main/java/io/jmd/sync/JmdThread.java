package io.jmd.sync;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * jmd's view of one thread: its name, its roles, and what it holds and waits on. The dependency
 * checker and the simulator read this; only the thread itself writes its own fields (single
 * owner), except {@link #waitingOn}, which other threads read for wait-for chains (volatile).
 */
public final class JmdThread {
    private final String name;
    private final Set<ThreadRole> roles;
    private final Thread thread;

    /** What this thread is blocked on right now, or null. Written by the thread, read by anyone. */
    volatile Waitable waitingOn;

    /** Locks held, in acquisition order. Owner: this thread. */
    final List<Mutex> heldLocks = new ArrayList<>(4);

    /** Items held per pool (allocated, not yet handed off or freed). Owner: this thread. */
    final Map<Object, int[]> heldPoolItems = new IdentityHashMap<>();

    /**
     * Nesting depth of "must not block" sections (completion callbacks). Owner: this thread.
     * A blocking wait while positive is a {@link DependencyViolation.Rule#BLOCK_IN_ATOMIC}.
     */
    int atomicDepth;

    JmdThread(String name, Set<ThreadRole> roles, Thread thread) {
        this.name = name;
        this.roles = roles.isEmpty() ? EnumSet.noneOf(ThreadRole.class) : EnumSet.copyOf(roles);
        this.thread = thread;
    }

    public String name() {
        return name;
    }

    public boolean has(ThreadRole role) {
        return roles.contains(role);
    }

    public Set<ThreadRole> roles() {
        return Collections.unmodifiableSet(roles);
    }

    public Thread javaThread() {
        return thread;
    }

    public Waitable waitingOn() {
        return waitingOn;
    }

    /** Number of locks this thread holds now. Call from this thread only. */
    public int heldLockCount() {
        return heldLocks.size();
    }

    /** Names of locks held, for diagnostics. Call from this thread only. */
    public List<String> heldLockNames() {
        List<String> names = new ArrayList<>(heldLocks.size());
        for (Mutex m : heldLocks) {
            names.add(m.waitName());
        }
        return names;
    }

    /** Items of {@code pool} this thread holds. Call from this thread only. */
    public int heldItems(Object pool) {
        int[] n = heldPoolItems.get(pool);
        return n == null ? 0 : n[0];
    }

    /** Records that this thread took (+1) or gave up (-1) an item of {@code pool}. */
    public void adjustHeldItems(Object pool, int delta) {
        int[] n = heldPoolItems.get(pool);
        if (n == null) {
            n = new int[1];
            heldPoolItems.put(pool, n);
        }
        n[0] += delta;
        assert n[0] >= 0 : "negative held count for " + pool + " on " + name;
        // Zero entries stay: one per pool this thread ever used (a handful), and removing and
        // re-adding one on every allocation was a measurable cost on the I/O path.
    }

    public boolean inAtomic() {
        return atomicDepth > 0;
    }

    @Override
    public String toString() {
        return name + roles;
    }
}
