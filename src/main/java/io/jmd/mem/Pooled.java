package io.jmd.mem;

import io.jmd.sync.JmdThread;

/**
 * Base of every object that comes from a {@link MemPool}: it records which thread holds it, so the
 * dependency checker can tell whether a thread that blocks on the pool already holds one of its
 * items (seed 002). An item is held from allocation until it is handed off (submitted: from then
 * on its completion returns it) or freed.
 */
public abstract class Pooled {
    /** The thread that allocated it and has not handed it off yet; null otherwise. */
    JmdThread holder;
    /** The pool it belongs to, set at first allocation. */
    MemPool<?> pool;

    /** Whether a thread holds this item now. */
    public final boolean isHeld() {
        return holder != null;
    }
}
