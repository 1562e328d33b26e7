package io.jmd.md;

/**
 * A member's state in a running array (md's rdev flags, reduced to what jmd uses).
 *
 * <pre>
 *   SPARE --(recovery done)--> IN_SYNC --(I/O error / operator fail)--> FAULTY
 * </pre>
 * FAULTY is final for a run: a failed member is removed and added back (re-add) to return.
 */
public enum MemberState {
    /** Holds current data for its slot; reads and writes go to it. */
    IN_SYNC,
    /** Has a slot but is being rebuilt: writes go to it, reads do not. */
    RECOVERING,
    /** No slot: waits to replace a failed member. */
    SPARE,
    /** Failed: no I/O goes to it; recorded as faulty (0xfffe) in the survivors' dev_roles. */
    FAULTY
}
