package io.jmd.md.resync;

import io.jmd.Env;
import io.jmd.md.MdException;
import io.jmd.md.Member;
import io.jmd.md.bitmap.WriteIntentBitmap;

import java.util.List;

/** What the sync engine needs from its array (implemented in io.jmd.md; fakes in tests). */
public interface SyncHost {
    String name();

    Env env();

    SyncBarrier barrier();

    /** The write-intent bitmap, or null. */
    WriteIntentBitmap bitmap();

    /** The level's sync operations, or null when the level has none (yet). */
    SyncLevel syncLevel();

    boolean isReadOnly();

    /** recovery_cp in bytes of the resync address space; Long.MAX_VALUE when in sync. */
    long resyncDoneBytes();

    /** Members not in sync that hold a slot, or spares that could take an empty one. */
    boolean hasRecoveryWork();

    /**
     * Gives spares the empty slots (md's remove_and_add_spares) and returns every member that
     * now needs recovering, with the superblocks recording them. From the start work (a thread
     * that may wait); the sync thread is not running.
     */
    List<Member> prepareRecovery() throws MdException;

    /** Where recovery of {@code m} starts (its recovery_offset, bytes). */
    long recoveryStartBytes(Member m);

    /** Whether {@code m} was re-added (its recovery may follow the bitmap). */
    boolean isReAdded(Member m);

    /** Records progress so that a restart resumes (a superblock write is requested, not waited for). */
    void checkpoint(SyncAction action, long doneBytes, List<Member> targets);

    /**
     * The sync ended; called once, on the md thread (or the stopping thread): records the result
     * (resync point, members now in sync, mismatch count) and asks for a superblock write.
     */
    void syncEnded(SyncAction action, boolean completed, long doneBytes, List<Member> targets, long mismatchSectors);

    /** Requests admitted so far (to tell whether the array is idle). */
    long normalRequests();

    void wakeMdThread();

    /** Reports an event (mdadm Monitor names) and logs it. */
    void event(String event, String member, String detail);
}
