package io.jmd.md.resync;

import io.jmd.md.Member;

/**
 * A level's part of a sync (md's pers->sync_request): what one window of the resync address
 * space needs read, compared and written. The engine ({@link SyncRun}) owns ordering, bitmap
 * skips, barriers, throttling and checkpoints; the level only moves data.
 *
 * <p>Called on the sync thread only. {@link #step} submits the window's next I/O through
 * {@link SyncWindow#submit} and returns false, or returns true when the window is finished; the
 * engine calls it again once every I/O it submitted has ended. It may wait on member I/O
 * slots (backpressure), never on anything else.
 */
public interface SyncLevel {
    /** Bytes of the resync address space (raid1: the array; raid4/5/6: one member's data). */
    long sizeBytes();

    /** Window buffers one window of {@code action} needs (check/repair: one per in-sync member). */
    int buffersPerWindow(SyncAction action);

    /** Advances {@code w}; true when it is finished (nothing submitted). */
    boolean step(SyncWindow w);

    /** Start of the resync address range array byte {@code arrayBytes} maps to (raid1, raid10: itself). */
    default long syncStartBytes(long arrayBytes) {
        return arrayBytes;
    }

    /** End of the resync address range array bytes up to {@code arrayEndBytes} map to. */
    default long syncEndBytes(long arrayEndBytes) {
        return arrayEndBytes;
    }

    /**
     * A recovery of {@code m} finished every window of the resync address space below
     * {@code doneBytes}: the member bytes (from its data offset) below which {@code m} is rebuilt,
     * as the superblock's recovery_offset records it (md counts it in the member's own sectors).
     * Raid1: the same number. A level whose resync space is not the member's (raid10: the array's)
     * returns a bound below which every member byte holds data of a window already done.
     */
    default long recoveredMemberBytes(Member m, long doneBytes) {
        return doneBytes;
    }

    /**
     * Where a recovery of {@code m} resumes, in the resync address space, given its recovery_offset
     * (member bytes): every byte of the space below it must have all its copies on {@code m} below
     * {@code recoveryOffsetBytes}. Raid1: the same number.
     */
    default long recoveryResumeBytes(Member m, long recoveryOffsetBytes) {
        return recoveryOffsetBytes;
    }

    /**
     * Bytes of the resync address space (a position or a speed) of {@code action} in the units md
     * reports that action's progress in (/proc/mdstat, sync_completed, sync_speed): md counts in
     * the space its own md_do_sync walks, resync_max_sectors for a resync, check or repair and
     * dev_sectors (member sectors) for a recovery. Raid1, raid4/5/6: the same number (jmd walks
     * what md walks). A level whose walk differs (raid10's recovery) scales it.
     */
    default long progressBytes(SyncAction action, long syncBytes) {
        return syncBytes;
    }

    /** Whether every slot would hold current data with the recovery targets in sync. */
    boolean fullAfterSync(SyncWindow.Targets targets);
}
