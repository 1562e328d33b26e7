package io.jmd.md.resync;

/**
 * A running sync as /proc/mdstat and mdadm --detail show it (a snapshot; any thread). Positions
 * and speed are in the units md reports the action in ({@link SyncLevel#progressBytes}: the resync
 * address space, except raid10's recovery, counted in member bytes as md does).
 *
 * @param action       what runs
 * @param doneBytes    where the sync is done below (curr_resync_completed)
 * @param totalBytes   the end of the range it covers (md's max_sectors)
 * @param speedBytesPerSec recent speed (0 at first)
 * @param mismatchSectors  sectors found different so far (check, repair)
 * @param skippedChunks    bitmap chunks skipped as clean; syncedChunks: chunks visited
 */
public record SyncStatus(SyncAction action, long doneBytes, long totalBytes, long speedBytesPerSec,
                         long mismatchSectors, long skippedChunks, long syncedChunks) {
    /** Per-mille done, as md computes it for the bar. */
    public int perMille() {
        if (totalBytes <= 0) {
            return 0;
        }
        return (int) Math.min(1000, (doneBytes / 512 >> 10) * 1000 / ((totalBytes / 512 >> 10) + 1));
    }

    /** Seconds left at the recent speed; -1 when unknown. */
    public long etaSeconds() {
        return speedBytesPerSec <= 0 ? -1 : (totalBytes - doneBytes) / speedBytesPerSec;
    }
}
