package io.jmd.md;

import io.jmd.block.Bio;

/**
 * A RAID level's operations, as md's struct md_personality: the array hands it every request,
 * wakes it on the md thread, and tells it when a member failed. One package per level.
 */
public interface Personality {
    /** The level name as mdadm prints it ("raid1"). */
    String levelName();

    /** The array's usable size in bytes. */
    long sizeBytes();

    /**
     * Starts serving a request whose offsets are relative to the array. The bio ends exactly once.
     * Called on a thread that may wait (request admission), after the array accounted for it.
     */
    void submit(Bio bio);

    /** Runs on the md thread each time it wakes: retries, deferred completions. Never blocks on memory. */
    void mdThreadWork();

    /**
     * Called on the md thread after a superblock update was written to disk: requests held back
     * until a member's failure was recorded may now end.
     */
    void superblockWritten();

    /**
     * Takes {@code m} out of the working set if the array can lose it; false when it is the last
     * member holding some of the data (md never fails the last working device; the error goes up
     * instead). True if it was already out. Atomic: concurrent calls never fail every member.
     * Called from completion callbacks: never blocks.
     */
    boolean tryFail(Member m);

    /** Whether the array can run (and serve every block) with the members that are in sync now. */
    boolean canRun();

    /** True when no member is missing or failed. */
    boolean isOptimal();

    /** A short status, as /proc/mdstat's second line ("[2/2] [UU]"). */
    String status();

    /**
     * Whether md refuses to start the array as it is: not shut down clean and degraded, on a level
     * whose missing data is rebuilt from parity that may not match it (raid4/5/6: "cannot start
     * dirty degraded array"). Assembly then refuses unless forced.
     */
    default boolean isDirtyDegraded() {
        return false;
    }

    /**
     * The level's part of online resync, recovery, check and repair (md's sync_request), or null
     * for a level without redundancy (linear, raid0): nothing to sync, no bitmap kept, no member
     * to rebuild. Every redundant level has one.
     */
    default io.jmd.md.resync.SyncLevel syncLevel() {
        return null;
    }

    /**
     * Whether a write issued now reaches every slot (the bitmap's "success": a write that missed
     * a slot leaves its chunk needing a resync). Members being rebuilt count: they get writes.
     */
    default boolean allSlotsWritable() {
        return isOptimal();
    }

    /**
     * A spare takes {@code slot} to be rebuilt (md's hot_add_disk); it gets writes from now on,
     * reads only once {@link #memberInSync}. Called with the array quiesced.
     */
    default void attachMember(Member m, int slot) throws MdException {
        throw new MdException(levelName() + " has no redundancy: a member added to it would have nothing to rebuild"
            + " (growing a linear array by a member is not supported)");
    }

    /** A rebuilt member is in sync: it serves reads from now on (md thread). */
    default void memberInSync(Member m) {
    }

    /** A faulty member gives up its slot (md's hot_remove_disk). Called with the array quiesced. */
    default void detachMember(Member m) {
    }

    /** Releases pools once every request has ended. */
    void stop();
}
