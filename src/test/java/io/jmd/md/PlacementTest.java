package io.jmd.md;

import io.jmd.md.format.Raid10Layout;
import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.linear.LinearMap;
import io.jmd.md.raid0.Raid0Zones;
import io.jmd.md.raid10.Raid10Geometry;
import io.jmd.md.raid4.Raid4Layout;
import io.jmd.md.raid5.Raid5Layout;
import io.jmd.md.raid6.Raid6Layout;
import io.jmd.md.stripe.ParityLayout;
import io.jmd.md.stripe.RowPattern;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Data placement against tables worked out by hand from the kernel's raid5_compute_sector,
 * raid6_idx_to_slot, __raid10_find_phys, raid0's create_strip_zones/map_sector and md-linear.
 * Each row of a table: {P, Q or -1, member of data block 0, 1, ...}.
 */
final class PlacementTest {
    static void assertRows(ParityLayout layout, int[][] rows) {
        for (int r = 0; r < rows.length; r++) {
            RowPattern p = layout.pattern(r);
            int[] want = rows[r];
            assertEquals(want[0], p.pd(), layout.levelName() + " row " + r + " P");
            assertEquals(want[1], p.qd(), layout.levelName() + " row " + r + " Q");
            assertArrayEquals(Arrays.copyOfRange(want, 2, want.length), p.dataMember(), layout.levelName() + " row " + r + " data");
        }
    }

    @Test
    void raid5LayoutsOfFourMembers() {
        // left-symmetric, the classic picture:  D0 D1 D2 P | D4 D5 P D3 | D8 P D6 D7 | P D9 D10 D11
        assertRows(new Raid5Layout(4, Raid5Algorithm.LEFT_SYMMETRIC), new int[][] {
            {3, -1, 0, 1, 2}, {2, -1, 3, 0, 1}, {1, -1, 2, 3, 0}, {0, -1, 1, 2, 3}, {3, -1, 0, 1, 2}});
        assertRows(new Raid5Layout(4, Raid5Algorithm.LEFT_ASYMMETRIC), new int[][] {
            {3, -1, 0, 1, 2}, {2, -1, 0, 1, 3}, {1, -1, 0, 2, 3}, {0, -1, 1, 2, 3}});
        assertRows(new Raid5Layout(4, Raid5Algorithm.RIGHT_ASYMMETRIC), new int[][] {
            {0, -1, 1, 2, 3}, {1, -1, 0, 2, 3}, {2, -1, 0, 1, 3}, {3, -1, 0, 1, 2}});
        assertRows(new Raid5Layout(4, Raid5Algorithm.RIGHT_SYMMETRIC), new int[][] {
            {0, -1, 1, 2, 3}, {1, -1, 2, 3, 0}, {2, -1, 3, 0, 1}, {3, -1, 0, 1, 2}});
        assertRows(new Raid5Layout(4, Raid5Algorithm.PARITY_0), new int[][] {{0, -1, 1, 2, 3}, {0, -1, 1, 2, 3}});
        assertRows(new Raid5Layout(4, Raid5Algorithm.PARITY_N), new int[][] {{3, -1, 0, 1, 2}, {3, -1, 0, 1, 2}});
        assertRows(new Raid4Layout(4), new int[][] {{3, -1, 0, 1, 2}, {3, -1, 0, 1, 2}});
    }

    @Test
    void raid5SectorMapping() {
        ParityLayout ls = new Raid5Layout(4, Raid5Algorithm.LEFT_SYMMETRIC);
        // chunk 8 sectors; array sector 43 = chunk 5 (row 1, data block 2) + 3 -> member 1, sector 8 + 3
        assertEquals(new ParityLayout.Place(11, 1, 2, -1), ls.place(43, 8));
        assertEquals(new ParityLayout.Place(0, 0, 3, -1), ls.place(0, 8));
        // chunk 11: row 3, data block 2 -> member 3 at sector 24 + 7
        assertEquals(new ParityLayout.Place(31, 3, 0, -1), ls.place(8 * 11 + 7, 8));
        ParityLayout ra = new Raid5Layout(3, Raid5Algorithm.RIGHT_ASYMMETRIC);
        // 3 members, row 2 (chunks 4, 5): P on 2, data on 0 and 1
        assertEquals(new ParityLayout.Place(16 + 1, 1, 2, -1), ra.place(5 * 8 + 1, 8));
    }

    @Test
    void raid6LayoutsOfFiveMembersAndTheirSyndromeSlots() {
        Raid6Layout ls = new Raid6Layout(5, Raid5Algorithm.LEFT_SYMMETRIC);
        assertRows(ls, new int[][] {
            {4, 0, 1, 2, 3}, {3, 4, 0, 1, 2}, {2, 3, 4, 0, 1}, {1, 2, 3, 4, 0}, {0, 1, 2, 3, 4}});
        // slots start after Q: row 0 (Q=0) -> 1,2,3 get 0,1,2; row 2 (Q=3) -> 4,0,1 get 0,1,2
        assertArrayEquals(new int[] {-1, 0, 1, 2, -1}, ls.pattern(0).slot());
        assertArrayEquals(new int[] {0, 1, 2, -1, -1}, ls.pattern(1).slot());
        assertArrayEquals(new int[] {1, 2, -1, -1, 0}, ls.pattern(2).slot());
        Raid6Layout la = new Raid6Layout(5, Raid5Algorithm.LEFT_ASYMMETRIC);
        assertRows(la, new int[][] {
            {4, 0, 1, 2, 3}, {3, 4, 0, 1, 2}, {2, 3, 0, 1, 4}, {1, 2, 0, 3, 4}, {0, 1, 2, 3, 4}});
        // asymmetric: data block 0 of row 2 sits on member 0, but Q's walk starts at member 4
        assertArrayEquals(new int[] {1, 2, -1, -1, 0}, la.pattern(2).slot());
        assertRows(new Raid6Layout(5, Raid5Algorithm.RIGHT_ASYMMETRIC), new int[][] {
            {0, 1, 2, 3, 4}, {1, 2, 0, 3, 4}, {2, 3, 0, 1, 4}, {3, 4, 0, 1, 2}, {4, 0, 1, 2, 3}});
        assertRows(new Raid6Layout(5, Raid5Algorithm.RIGHT_SYMMETRIC), new int[][] {
            {0, 1, 2, 3, 4}, {1, 2, 3, 4, 0}, {2, 3, 4, 0, 1}, {3, 4, 0, 1, 2}, {4, 0, 1, 2, 3}});
        assertRows(new Raid6Layout(5, Raid5Algorithm.PARITY_0), new int[][] {{0, 1, 2, 3, 4}});
        assertRows(new Raid6Layout(5, Raid5Algorithm.PARITY_N), new int[][] {{3, 4, 0, 1, 2}});
        // the -6 layouts: raid5's layout on the first n-1 members, Q on the last
        assertRows(new Raid6Layout(5, Raid5Algorithm.LEFT_SYMMETRIC_6), new int[][] {
            {3, 4, 0, 1, 2}, {2, 4, 3, 0, 1}, {1, 4, 2, 3, 0}, {0, 4, 1, 2, 3}, {3, 4, 0, 1, 2}});
        assertRows(new Raid6Layout(5, Raid5Algorithm.LEFT_ASYMMETRIC_6), new int[][] {
            {3, 4, 0, 1, 2}, {2, 4, 0, 1, 3}, {1, 4, 0, 2, 3}, {0, 4, 1, 2, 3}});
        assertRows(new Raid6Layout(5, Raid5Algorithm.RIGHT_ASYMMETRIC_6), new int[][] {
            {0, 4, 1, 2, 3}, {1, 4, 0, 2, 3}, {2, 4, 0, 1, 3}, {3, 4, 0, 1, 2}});
        assertRows(new Raid6Layout(5, Raid5Algorithm.RIGHT_SYMMETRIC_6), new int[][] {
            {0, 4, 1, 2, 3}, {1, 4, 2, 3, 0}, {2, 4, 3, 0, 1}, {3, 4, 0, 1, 2}});
        assertRows(new Raid6Layout(5, Raid5Algorithm.PARITY_0_6), new int[][] {{0, 4, 1, 2, 3}});
        // Q last: the walk starts at member 0
        assertArrayEquals(new int[] {0, 1, 2, -1, -1}, new Raid6Layout(5, Raid5Algorithm.LEFT_SYMMETRIC_6).pattern(0).slot());
        // DDF: ddf-N-continue puts Q before P and numbers slots by member index
        Raid6Layout nc = new Raid6Layout(5, Raid5Algorithm.ROTATING_N_CONTINUE);
        assertRows(nc, new int[][] {{4, 3, 0, 1, 2}, {3, 2, 4, 0, 1}});
        assertArrayEquals(new int[] {0, 1, 2, -1, -1}, nc.pattern(0).slot());
        assertEquals(5, nc.pattern(0).slots());
        assertRows(new Raid6Layout(5, Raid5Algorithm.ROTATING_N_RESTART), new int[][] {{3, 4, 0, 1, 2}, {2, 3, 0, 1, 4}});
    }

    @Test
    void everyParityLayoutPlacesEachMemberOnceAndNumbersSlotsOnce() {
        for (int n = 4; n <= 9; n++) {
            for (Raid5Algorithm a : Raid5Algorithm.values()) {
                ParityLayout l = new Raid6Layout(n, a);
                checkRows(l, n);
                if (a.validForRaid5()) {
                    checkRows(new Raid5Layout(n, a), n);
                }
            }
        }
    }

    private static void checkRows(ParityLayout l, int n) {
        for (int r = 0; r < 3 * n; r++) {
            RowPattern p = l.pattern(r);
            Set<Integer> seen = new HashSet<>();
            seen.add(p.pd());
            if (p.qd() >= 0) {
                seen.add(p.qd());
            }
            Set<Integer> slots = new HashSet<>();
            for (int m : p.dataMember()) {
                assertTrue(seen.add(m), l.levelName() + " member " + m + " twice in row " + r);
                assertTrue(slots.add(p.slot()[m]), "slot twice");
            }
            assertEquals(n, seen.size());
        }
    }

    @Test
    void raid10NearFarAndOffsetCopies() {
        int c = 8; // chunk sectors
        Raid10Geometry n2 = new Raid10Geometry(4, Raid10Layout.near(2).word(), c, 8 * c);
        assertCopies(n2.copiesOf(0), 0, 0, 1, 0);
        assertCopies(n2.copiesOf(c + 3), 2, 3, 3, 3);
        assertCopies(n2.copiesOf(2 * c), 0, c, 1, c);
        assertEquals(16L * c, n2.arraySectors());
        Raid10Geometry n2of3 = new Raid10Geometry(3, Raid10Layout.near(2).word(), c, 8 * c);
        assertCopies(n2of3.copiesOf(c), 2, 0, 0, c); // the second copy wraps to member 0, one chunk down
        assertCopies(n2of3.copiesOf(2 * c), 1, c, 2, c);
        assertCopies(n2of3.copiesOf(3 * c), 0, 2 * c, 1, 2 * c);
        assertEquals(12L * c, n2of3.arraySectors());
        Raid10Geometry f2 = new Raid10Geometry(4, Raid10Layout.far(2).word(), c, 8 * c);
        // 8 chunks per member: array 16 chunks, far copies start at chunk 4 of each member, shifted by one member
        assertCopies(f2.copiesOf(0), 0, 0, 1, 4 * c);
        assertCopies(f2.copiesOf(3 * c), 3, 0, 0, 4 * c);
        assertCopies(f2.copiesOf(5 * c + 1), 1, c + 1, 2, 5 * c + 1);
        assertEquals(16L * c, f2.arraySectors());
        Raid10Geometry o2 = new Raid10Geometry(4, Raid10Layout.offset(2).word(), c, 8 * c);
        assertCopies(o2.copiesOf(0), 0, 0, 1, c);
        assertCopies(o2.copiesOf(3 * c), 3, 0, 0, c);
        assertCopies(o2.copiesOf(4 * c), 0, 2 * c, 1, 3 * c);
        Raid10Geometry n3 = new Raid10Geometry(4, Raid10Layout.near(3).word(), c, 9 * c);
        assertCopies(n3.copiesOf(c), 3, 0, 0, c, 1, c);
        assertEquals(12L * c, n3.arraySectors());
        // n2 on 4: members 0+1 and 2+3 are pairs; f2: any two neighbours
        assertTrue(n2.survives(0b1010));
        assertTrue(!n2.survives(0b1100));
        assertTrue(!f2.survives(0b1001) && f2.survives(0b0101));
    }

    private static void assertCopies(Raid10Geometry.Copy[] copies, long... deviceSectorPairs) {
        assertEquals(deviceSectorPairs.length / 2, copies.length);
        for (int i = 0; i < copies.length; i++) {
            assertEquals(deviceSectorPairs[2 * i], copies[i].device(), "copy " + i + " device");
            assertEquals(deviceSectorPairs[2 * i + 1], copies[i].sector(), "copy " + i + " sector");
        }
    }

    @Test
    void raid0ZonesAndBothMultiZoneLayouts() {
        int c = 8;
        long[] sizes = {10 * c + 3, 10 * c, 5 * c}; // the odd sectors are rounded away
        Raid0Zones orig = new Raid0Zones(sizes, c, Raid0Zones.ORIGINAL_LAYOUT);
        assertEquals(2, orig.zones().size());
        assertEquals(15L * c, orig.zones().get(0).end());
        assertEquals(25L * c, orig.arraySectors());
        assertEquals(new Raid0Zones.Place(1, c + 2), orig.place(4 * c + 2)); // zone 0: chunk 4 -> member 1, row 1
        // zone 1 starts at chunk 15 with members 0 and 1 from their chunk 5
        assertEquals(new Raid0Zones.Place(1, 5 * c), orig.place(15 * c)); // original: 15 % 2 = 1
        assertEquals(new Raid0Zones.Place(0, 5 * c), orig.place(16 * c));
        assertEquals(new Raid0Zones.Place(1, 6 * c + 7), orig.place(17 * c + 7));
        Raid0Zones alt = new Raid0Zones(sizes, c, Raid0Zones.ALTERNATE_LAYOUT);
        assertEquals(new Raid0Zones.Place(0, 5 * c), alt.place(15 * c)); // alternate: zone-relative chunk 0
        assertEquals(new Raid0Zones.Place(1, 5 * c), alt.place(16 * c));
        assertEquals(new Raid0Zones.Place(0, 6 * c + 7), alt.place(17 * c + 7));
        IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> new Raid0Zones(sizes, c, -1));
        assertTrue(none.getMessage().contains("multi-zone"), none.getMessage());
        // one longer member: its own zone, one device, no layout needed
        Raid0Zones single = new Raid0Zones(new long[] {4 * c, 4 * c, 6 * c}, c, -1);
        assertEquals(new Raid0Zones.Place(2, 4 * c + 1), single.place(12 * c + 1));
        assertEquals(Raid0Zones.ORIGINAL_LAYOUT, single.layout());
    }

    @Test
    void linearConcatenatesInSlotOrder() {
        LinearMap map = new LinearMap(new long[] {10, 7, 5}, 0);
        assertEquals(22, map.arraySectors());
        assertEquals(new LinearMap.Place(0, 9, 1), map.place(9));
        assertEquals(new LinearMap.Place(1, 2, 5), map.place(12));
        assertEquals(new LinearMap.Place(2, 0, 5), map.place(17));
        LinearMap rounded = new LinearMap(new long[] {10, 7}, 4); // --rounding: whole 4-sector units
        assertEquals(12, rounded.arraySectors());
        assertEquals(new LinearMap.Place(1, 0, 4), rounded.place(8));
    }
}
