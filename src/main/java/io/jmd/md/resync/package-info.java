/**
 * The sync engine: resync, recovery, check and repair of a running array (md_do_sync and
 * md_check_recovery), level-independent.
 *
 * <ul>
 *   <li>{@link io.jmd.md.resync.SyncEngine}: the recovery flags, the choice of action on the md
 *       thread, the start on a work queue (seed 000: never from the array thread; one at a time;
 *       a failed start clears every flag and is reported), the reaping.</li>
 *   <li>{@code SyncRun}: the sync thread's event loop over windows: bitmap skips, the barrier,
 *       throttling, checkpoints.</li>
 *   <li>{@link io.jmd.md.resync.SyncBarrier}: sync windows and normal writes kept apart per
 *       region, normal writes first (raid1.c's barrier).</li>
 *   <li>{@link io.jmd.md.resync.SyncThrottle}: sync_speed_min/max and "is the array idle".</li>
 *   <li>{@link io.jmd.md.resync.SyncLevel}: what a level provides (md's sync_request); raid1's is
 *       {@code io.jmd.md.raid1.Raid1Sync}, raid4/5/6's {@code io.jmd.md.stripe.StripeSync}. A level
 *       without one is resynced offline at assembly.</li>
 * </ul>
 */
package io.jmd.md.resync;
