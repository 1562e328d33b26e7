/**
 * The internal write-intent bitmap at run time, md-compatible on disk and in behaviour.
 *
 * <ul>
 *   <li>{@link io.jmd.md.bitmap.BitmapCounters}: a 16-bit counter per chunk (NEEDED, RESYNC, a
 *       count), the life cycle of md-bitmap.h drawn there; every transition is one CAS.</li>
 *   <li>{@code BitmapStore}: the on-disk area on every member, written in blocks built from the
 *       counters at write time; why no set bit is lost and no bit is cleared too early is written
 *       there.</li>
 *   <li>{@link io.jmd.md.bitmap.WriteIntentBitmap}: load (stale means every bit set), the write
 *       hooks (a bit durable before the first write to its chunk), the sync hooks, the daemon
 *       (2 -> 1 -> 0 over daemon periods, events_cleared first), bitmap events in step with the
 *       superblock's.</li>
 * </ul>
 * The array side lives in {@code io.jmd.md.Redundancy}; the sync side in {@code io.jmd.md.resync}.
 */
package io.jmd.md.bitmap;
