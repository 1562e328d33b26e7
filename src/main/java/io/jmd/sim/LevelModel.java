package io.jmd.sim;

import io.jmd.md.Personality;
import io.jmd.md.parity.Parity;
import io.jmd.md.parity.ParityKernels;
import io.jmd.md.raid1.Raid1;
import io.jmd.md.raid10.Raid10;
import io.jmd.md.raid10.Raid10Geometry;
import io.jmd.md.stripe.ParityLayout;
import io.jmd.md.stripe.RowPattern;
import io.jmd.md.stripe.StripeEngine;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.BitSet;

/**
 * What a level can lose, in the simulator's terms: where each array sector lives on the members,
 * whether it can be read with the members' present health, which fault may be added without going
 * beyond what the level tolerates, and (after a clean stop) whether the members agree with each
 * other: mirror copies equal, every row's parity computed from its data.
 *
 * <p>Placement comes from the engine's own placement classes (Raid10Geometry, ParityLayout), which
 * the kernel interop tests hold to the kernel's. What this class adds is the level's promise: a
 * mirror sector is readable while one copy is; a parity sector while its data member reads it, or
 * while at most {@code maxDegraded} members are missing or unreadable in its grain of the row: a
 * 4 KiB page, md's STRIPE_SIZE, which jmd's stripe machine keeps read failures at too (a bad sector
 * costs its member that page of the stripe unit only: SimFoundBugsTest.raid5ReadAroundBadPagesOfTwoMembersInOneUnit).
 *
 * <p>Member sectors here count from the data offset; a {@link Health} maps slots to disks.
 */
abstract class LevelModel {
    static final int PAGE_SECTORS = 8;

    /** The slots' state now: which work (in sync, disk not failed), and their disks. */
    static final class Health {
        final boolean[] working;
        final SimDisk[] disk;
        final long dataStartSector;

        Health(int slots, long dataStartSector) {
            this.working = new boolean[slots];
            this.disk = new SimDisk[slots];
            this.dataStartSector = dataStartSector;
        }

        /** Latent errors a slot had at an earlier time too (see {@link #worstWith}), or null. */
        private java.util.TreeSet<Long>[] earlierLatent;

        boolean latent(int slot, long memberSector, int sectors) {
            if (disk[slot] == null) {
                return false;
            }
            long first = dataStartSector + memberSector;
            if (disk[slot].hasLatent(first * SimDisk.SECTOR_BYTES, (long) sectors * SimDisk.SECTOR_BYTES)) {
                return true;
            }
            if (earlierLatent == null || earlierLatent[slot] == null) {
                return false;
            }
            Long l = earlierLatent[slot].ceiling(first);
            return l != null && l < first + sectors;
        }

        /** A copy of this health with the disks' latent errors as they are now (see {@link #worstWith}). */
        @SuppressWarnings("unchecked")
        Health snapshot() {
            Health h = new Health(working.length, dataStartSector);
            System.arraycopy(working, 0, h.working, 0, working.length);
            System.arraycopy(disk, 0, h.disk, 0, disk.length);
            h.earlierLatent = new java.util.TreeSet[working.length];
            for (int k = 0; k < disk.length; k++) {
                h.earlierLatent[k] = disk[k] == null ? null : new java.util.TreeSet<>(disk[k].latentSectors());
            }
            return h;
        }

        /**
         * The union of this health's faults and those of {@code earlier} (a {@link #snapshot}):
         * what a request in flight between the two may have met. A slot works only if it worked
         * at both times; a sector is unreadable if it was at either.
         */
        Health worstWith(Health earlier) {
            Health h = new Health(working.length, dataStartSector);
            for (int k = 0; k < working.length; k++) {
                h.working[k] = working[k] && earlier.working[k];
                h.disk[k] = disk[k] != null ? disk[k] : earlier.disk[k];
            }
            h.earlierLatent = earlier.earlierLatent;
            return h;
        }

        /** Working and no latent error in the range. */
        boolean good(int slot, long memberSector, int sectors) {
            return working[slot] && !latent(slot, memberSector, sectors);
        }

        int notWorking() {
            int n = 0;
            for (boolean w : working) {
                n += w ? 0 : 1;
            }
            return n;
        }
    }

    final int slots;
    final int arraySectors;
    /** Per slot, per member sector: the array sector kept there, -1 for none (parity, unused). */
    final int[][] arraySectorAt;

    LevelModel(int slots, int arraySectors, long memberSectors) {
        this.slots = slots;
        this.arraySectors = arraySectors;
        this.arraySectorAt = new int[slots][(int) memberSectors];
        for (int[] a : arraySectorAt) {
            Arrays.fill(a, -1);
        }
    }

    /** The model of the array {@code p} runs, of {@code arraySectors} sectors. */
    static LevelModel of(Personality p, int raidDisks, int arraySectors) {
        if (p instanceof StripeEngine se) {
            return new ParityModel(se.layout(), (int) (se.geometry().chunkBytes() / 512), se.geometry().memberBytes() / 512,
                arraySectors);
        }
        if (p instanceof Raid10 r10) {
            Raid10Geometry g = r10.geometry();
            int[][] slot = new int[arraySectors][];
            long[][] at = new long[arraySectors][];
            for (int s = 0; s < arraySectors; s++) {
                Raid10Geometry.Copy[] c = g.copiesOf(s);
                slot[s] = new int[c.length];
                at[s] = new long[c.length];
                for (int i = 0; i < c.length; i++) {
                    slot[s][i] = c[i].device();
                    at[s][i] = c[i].sector();
                }
            }
            return new MirrorModel(g.raidDisks(), arraySectors, g.devSectors(), slot, at);
        }
        if (p instanceof Raid1) {
            int n = raidDisks;
            int[][] slot = new int[arraySectors][];
            long[][] at = new long[arraySectors][];
            for (int s = 0; s < arraySectors; s++) {
                slot[s] = new int[n];
                at[s] = new long[n];
                for (int i = 0; i < n; i++) {
                    slot[s][i] = i;
                    at[s][i] = s;
                }
            }
            return new MirrorModel(n, arraySectors, arraySectors, slot, at);
        }
        throw new IllegalArgumentException("no simulator model of " + p.getClass().getSimpleName());
    }

    /** The array sector at {@code memberSector} of {@code slot}, or -1. */
    int arraySectorAt(int slot, long memberSector) {
        return memberSector < arraySectorAt[slot].length ? arraySectorAt[slot][(int) memberSector] : -1;
    }

    /** Whether the array can return {@code sector} now (else a read error is within tolerance). */
    abstract boolean readable(int sector, Health h);

    /** Whether a latent error at {@code memberSector} of {@code slot} keeps every sector readable. */
    abstract boolean latentAllowed(int slot, long memberSector, Health h);

    /** Whether failing {@code slot} whole keeps every sector readable. */
    abstract boolean failAllowed(int slot, Health h);

    /** Whether every array sector still has a working member to be written to. */
    abstract boolean writable(Health h);

    /** Whether a write of {@code sector} can succeed with the members' present health. */
    abstract boolean writable(int sector, Health h);

    /**
     * Checks that the members agree (mirror copies equal, parity consistent with data), reading
     * the disks' content directly. Call only when every slot is in sync and nothing is in flight.
     * Returns null, or the first disagreement and how many pages disagree.
     */
    abstract String disagreement(Health h);

    /** Where {@code sector} lives and what each place holds now, decoded (diagnostics of a failure). */
    abstract String describe(int sector, Health h);

    static String place(Health h, int slot, long memberSector, int sector) {
        SimDisk d = h.disk[slot];
        if (d == null) {
            return "slot " + slot + ": no member";
        }
        byte[] content = d.sectorContent(h.dataStartSector + memberSector);
        return "slot " + slot + " " + d.name() + " member sector " + memberSector + (h.working[slot] ? "" : " (not working)")
            + (h.latent(slot, memberSector, 1) ? " (latent)" : "") + ": "
            + Oracle.name(Oracle.decode(MemorySegment.ofArray(content), 0, sector));
    }

    /** Member sector of array sector {@code sector}'s data (parity levels: the row's page holds it). */
    abstract long memberSectorOf(int sector);

    // ---------------------------------------------------------------------------------------------

    /** raid1 and raid10: a sector is readable while one copy is. */
    static final class MirrorModel extends LevelModel {
        private final int[][] copySlot;
        private final long[][] copyAt;

        MirrorModel(int slots, int arraySectors, long memberSectors, int[][] copySlot, long[][] copyAt) {
            super(slots, arraySectors, memberSectors);
            this.copySlot = copySlot;
            this.copyAt = copyAt;
            for (int s = 0; s < arraySectors; s++) {
                for (int i = 0; i < copySlot[s].length; i++) {
                    arraySectorAt[copySlot[s][i]][(int) copyAt[s][i]] = s;
                }
            }
        }

        @Override
        boolean readable(int sector, Health h) {
            for (int i = 0; i < copySlot[sector].length; i++) {
                if (h.good(copySlot[sector][i], copyAt[sector][i], 1)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        boolean latentAllowed(int slot, long memberSector, Health h) {
            int s = arraySectorAt(slot, memberSector);
            if (s < 0) {
                return true;
            }
            for (int i = 0; i < copySlot[s].length; i++) {
                boolean same = copySlot[s][i] == slot && copyAt[s][i] == memberSector;
                if (!same && h.good(copySlot[s][i], copyAt[s][i], 1)) {
                    return true;
                }
            }
            return false;
        }

        @Override
        boolean failAllowed(int slot, Health h) {
            boolean was = h.working[slot];
            h.working[slot] = false;
            try {
                for (int s = 0; s < arraySectors; s++) {
                    if (!readable(s, h)) {
                        return false;
                    }
                }
                return true;
            } finally {
                h.working[slot] = was;
            }
        }

        @Override
        boolean writable(Health h) {
            for (int s = 0; s < arraySectors; s++) {
                boolean any = false;
                for (int c : copySlot[s]) {
                    any |= h.working[c];
                }
                if (!any) {
                    return false;
                }
            }
            return true;
        }

        @Override
        boolean writable(int sector, Health h) {
            for (int c : copySlot[sector]) {
                if (h.working[c]) {
                    return true;
                }
            }
            return false;
        }

        @Override
        String disagreement(Health h) {
            String first = null;
            long bad = 0;
            for (int s = 0; s < arraySectors; s++) {
                byte[] a = h.disk[copySlot[s][0]].sectorContent(h.dataStartSector + copyAt[s][0]);
                for (int i = 1; i < copySlot[s].length; i++) {
                    byte[] b = h.disk[copySlot[s][i]].sectorContent(h.dataStartSector + copyAt[s][i]);
                    if (!Arrays.equals(a, b)) {
                        bad++;
                        if (first == null) {
                            first = "array sector " + s + ": the copy on slot " + copySlot[s][0] + " (member sector "
                                + copyAt[s][0] + ", " + Oracle.name(decode(a, s)) + ") differs from the copy on slot "
                                + copySlot[s][i] + " (member sector " + copyAt[s][i] + ", " + Oracle.name(decode(b, s)) + ")";
                        }
                        break;
                    }
                }
            }
            return first == null ? null : first + "; " + bad + " sectors differ";
        }

        @Override
        long memberSectorOf(int sector) {
            return copyAt[sector][0];
        }

        @Override
        String describe(int sector, Health h) {
            StringBuilder sb = new StringBuilder("array sector " + sector + " copies:");
            for (int i = 0; i < copySlot[sector].length; i++) {
                sb.append("\n    ").append(place(h, copySlot[sector][i], copyAt[sector][i], sector));
            }
            return sb.toString();
        }

        private static long decode(byte[] content, int sector) {
            return Oracle.decode(MemorySegment.ofArray(content), 0, sector);
        }
    }

    // ---------------------------------------------------------------------------------------------

    /**
     * raid4/5/6: a data sector is readable from its member, or rebuilt from the rest of its page
     * of the row while at most {@code maxDegraded} members are missing or unreadable there.
     */
    static final class ParityModel extends LevelModel {
        private final ParityLayout layout;
        private final int chunkSectors;
        private final long memberSectors;
        /** Sectors of the grain faults are counted in: a page (class comment). */
        private final int grainSectors;

        ParityModel(ParityLayout layout, int chunkSectors, long memberSectors, int arraySectors) {
            super(layout.raidDisks(), arraySectors, memberSectors);
            this.layout = layout;
            this.chunkSectors = chunkSectors;
            this.memberSectors = memberSectors;
            this.grainSectors = PAGE_SECTORS;
            for (int s = 0; s < arraySectors; s++) {
                ParityLayout.Place p = layout.place(s, chunkSectors);
                arraySectorAt[p.dataMember()][(int) p.memberSector()] = s;
            }
        }

        int maxDegraded() {
            return layout.maxDegraded();
        }

        /**
         * Slots missing or unreadable in the grain holding {@code memberSector}, counting
         * {@code extra} (-1: none) as bad.
         */
        int badInGrain(long memberSector, Health h, int extra) {
            int bad = 0;
            for (int k = 0; k < slots; k++) {
                if (k == extra || !h.working[k] || badInGrain(k, memberSector, h)) {
                    bad++;
                }
            }
            return bad;
        }

        /** Whether {@code slot} has a latent error in the grain holding {@code memberSector}. */
        boolean badInGrain(int slot, long memberSector, Health h) {
            return h.latent(slot, memberSector / grainSectors * grainSectors, grainSectors);
        }

        @Override
        boolean readable(int sector, Health h) {
            ParityLayout.Place p = layout.place(sector, chunkSectors);
            return h.good(p.dataMember(), p.memberSector(), 1) || badInGrain(p.memberSector(), h, -1) <= maxDegraded();
        }

        @Override
        boolean latentAllowed(int slot, long memberSector, Health h) {
            return memberSector >= memberSectors || badInGrain(memberSector, h, slot) <= maxDegraded();
        }

        @Override
        boolean failAllowed(int slot, Health h) {
            if (h.notWorking() + (h.working[slot] ? 1 : 0) > maxDegraded()) {
                return false;
            }
            BitSet grains = new BitSet();
            for (int k = 0; k < slots; k++) {
                if (k != slot && h.working[k]) {
                    for (long ds : h.disk[k].latentSectors()) {
                        long ms = ds - h.dataStartSector;
                        if (ms < memberSectors) {
                            grains.set((int) (ms / grainSectors));
                        }
                    }
                }
            }
            for (int g = grains.nextSetBit(0); g >= 0; g = grains.nextSetBit(g + 1)) {
                if (badInGrain((long) g * grainSectors, h, slot) > maxDegraded()) {
                    return false;
                }
            }
            return true;
        }

        @Override
        boolean writable(Health h) {
            return h.notWorking() <= maxDegraded();
        }

        @Override
        boolean writable(int sector, Health h) {
            // a write reads what parity needs (old data and parity, or the rest of the row)
            return badInGrain(layout.place(sector, chunkSectors).memberSector(), h, -1) <= maxDegraded();
        }

        @Override
        long memberSectorOf(int sector) {
            return layout.place(sector, chunkSectors).memberSector();
        }

        @Override
        String describe(int sector, Health h) {
            ParityLayout.Place p = layout.place(sector, chunkSectors);
            StringBuilder latent = new StringBuilder();
            long g0 = p.memberSector() / grainSectors * grainSectors;
            for (int k = 0; k < slots; k++) {
                if (h.disk[k] != null) {
                    for (long ds : h.disk[k].latentSectors()) {
                        if (ds - h.dataStartSector >= g0 && ds - h.dataStartSector < g0 + grainSectors) {
                            latent.append(" slot ").append(k).append(" member sector ").append(ds - h.dataStartSector);
                        }
                    }
                }
            }
            return "array sector " + sector + " data: " + place(h, p.dataMember(), p.memberSector(), sector)
                + "; latent errors in its grain (member sectors " + g0 + "+" + grainSectors + "):" + latent + "; slots not working:"
                + java.util.stream.IntStream.range(0, slots).filter(k -> !h.working[k]).mapToObj(k -> " " + k
                    + (h.disk[k] == null ? " (none)" : " " + h.disk[k].name() + (h.disk[k].isFailed() ? " (failed disk)" : "")))
                    .collect(java.util.stream.Collectors.joining()) + "; its page has "
                + badInGrain(p.memberSector(), h, -1) + " members missing or unreadable in its grain, P on slot " + p.pd()
                + (p.qd() >= 0 ? ", Q on slot " + p.qd() : "");
        }

        /** Array sectors whose data {@code slot} holds in member page {@code page}. */
        void dataSectorsInPage(int slot, long page, java.util.function.IntConsumer each) {
            for (long ms = page * PAGE_SECTORS; ms < (page + 1) * PAGE_SECTORS; ms++) {
                int s = arraySectorAt(slot, ms);
                if (s >= 0) {
                    each.accept(s);
                }
            }
        }

        @Override
        String disagreement(Health h) {
            ParityKernels kernels = Parity.kernels();
            int bytes = chunkSectors * 512;
            byte[][] member = new byte[slots][bytes];
            MemorySegment[] seg = new MemorySegment[slots];
            MemorySegment[] data = new MemorySegment[slots];
            MemorySegment p = MemorySegment.ofArray(new byte[bytes]);
            MemorySegment q = MemorySegment.ofArray(new byte[bytes]);
            String first = null;
            long bad = 0;
            for (long row = 0; row < memberSectors / chunkSectors; row++) {
                for (int k = 0; k < slots; k++) {
                    h.disk[k].peek((h.dataStartSector + row * chunkSectors) * 512, member[k]);
                    seg[k] = MemorySegment.ofArray(member[k]);
                }
                RowPattern pat = layout.pattern(row);
                Arrays.fill(data, null);
                if (pat.qd() < 0) {
                    for (int k = 0; k < pat.dataMember().length; k++) {
                        data[k] = seg[pat.dataMember()[k]];
                    }
                    kernels.xor(p, data, pat.dataMember().length, 0, bytes);
                } else {
                    for (int k = 0; k < pat.dataMember().length; k++) {
                        int m = pat.dataMember()[k];
                        data[pat.slot()[m]] = seg[m];
                    }
                    kernels.genSyndrome(data, pat.slots(), p, q, 0, bytes);
                }
                for (int off = 0; off < bytes; off += PAGE_SECTORS * 512) {
                    int end = off + PAGE_SECTORS * 512;
                    boolean pBad = MemorySegment.mismatch(p, off, end, seg[pat.pd()], off, end) >= 0;
                    boolean qBad = pat.qd() >= 0 && MemorySegment.mismatch(q, off, end, seg[pat.qd()], off, end) >= 0;
                    if (pBad || qBad) {
                        bad++;
                        if (first == null) {
                            first = "row " + row + " page " + off / 4096 + " (member sector " + (row * chunkSectors + off / 512) + "): "
                                + (pBad ? "P on slot " + pat.pd() : "") + (pBad && qBad ? " and " : "")
                                + (qBad ? "Q on slot " + pat.qd() : "") + " does not match the data";
                        }
                    }
                }
            }
            return first == null ? null : first + "; " + bad + " pages mismatch";
        }
    }
}
