package io.jmd.sync;

/**
 * Anything a thread can wait on: a wait queue, lock, completion, pool, budget. Used to print
 * wait-for chains ("thread -> waits on -> held by / only providable by -> thread").
 */
public interface Waitable {
    /** A short name for diagnostics, e.g. "pool r1bio" or "lock md0.reconfig". */
    String waitName();

    /**
     * The threads that can end this wait, if known: the holder of a lock, the refiller of a pool.
     * Empty when anyone may provide it.
     */
    default java.util.List<JmdThread> providers() {
        return java.util.List.of();
    }
}
