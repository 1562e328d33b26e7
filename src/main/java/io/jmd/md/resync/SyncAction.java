package io.jmd.md.resync;

/**
 * What a sync thread does (md's MD_RECOVERY_* combinations, named as sync_action names them).
 *
 * <pre>
 *   RESYNC   make the members agree where they may differ (unclean shutdown: the whole array,
 *            or only the chunks the bitmap has set); source: the first in-sync member
 *   RECOVER  rebuild members that are not in sync (a spare, an added or re-added member) from
 *            the in-sync ones, from their recovery_offset on (only bitmap chunks for a re-add)
 *   CHECK    read every in-sync member and count the sectors where they differ (mismatch_cnt)
 *   REPAIR   as CHECK, and rewrite the differing blocks from the first member
 *   (raid4/5/6: resync and repair recompute the parity from the data and rewrite it where it
 *   differs; check compares it; recovery rebuilds a member's blocks from the others)
 * </pre>
 */
public enum SyncAction {
    RESYNC("resync", "resync", "Resync"),
    RECOVER("recover", "recovery", "Rebuild"),
    CHECK("check", "check", "Check"),
    REPAIR("repair", "resync", "Resync");

    private final String syncActionName;
    private final String mdstatName;
    private final String detailName;

    SyncAction(String syncActionName, String mdstatName, String detailName) {
        this.syncActionName = syncActionName;
        this.mdstatName = mdstatName;
        this.detailName = detailName;
    }

    /** As /sys/block/mdX/md/sync_action shows it. */
    public String syncActionName() {
        return syncActionName;
    }

    /** As /proc/mdstat's progress line names it. */
    public String mdstatName() {
        return mdstatName;
    }

    /** mdadm --detail's "... Status" line. */
    public String detailName() {
        return detailName;
    }

    /** Whether it reads every in-sync member and compares (check, repair). */
    public boolean compares() {
        return this == CHECK || this == REPAIR;
    }
}
