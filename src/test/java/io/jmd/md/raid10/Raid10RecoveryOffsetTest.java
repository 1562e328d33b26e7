package io.jmd.md.raid10;

import io.jmd.md.format.Raid10Layout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * recovery_offset conversions between a member's sectors (md's unit) and the array address a
 * raid10 recovery walks, checked against every sector of small geometries: nothing is called
 * rebuilt that was not, a resume never skips an array sector whose copy is not rebuilt, and near
 * layouts do not lose more than a few stripes of progress across a restart.
 */
final class Raid10RecoveryOffsetTest {
    record Case(String name, Raid10Layout layout, int devices) {
        @Override
        public String toString() {
            return name + "x" + devices;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
            new Case("n2", Raid10Layout.near(2), 2), new Case("n2", Raid10Layout.near(2), 3),
            new Case("n2", Raid10Layout.near(2), 4), new Case("n3", Raid10Layout.near(3), 5),
            new Case("f2", Raid10Layout.far(2), 2), new Case("f2", Raid10Layout.far(2), 3),
            new Case("f2", Raid10Layout.far(2), 4), new Case("f3", Raid10Layout.far(3), 5),
            new Case("o2", Raid10Layout.offset(2), 2), new Case("o2", Raid10Layout.offset(2), 3),
            new Case("o2", Raid10Layout.offset(2), 4), new Case("o3", Raid10Layout.offset(3), 4),
            new Case("n2f2", new Raid10Layout(2, 2, false, 0), 4),
            new Case("f2v1", new Raid10Layout(1, 2, false, 1), 5),
            new Case("f2v2", new Raid10Layout(1, 2, false, 2), 5));
    }

    static final int CHUNK = 8;

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void conversionsAreSafeBothWays(Case c) {
        Raid10Geometry g = new Raid10Geometry(c.devices(), c.layout().word(), CHUNK, 97 * CHUNK + 3);
        long array = g.arraySectors();
        assertTrue(array > 40 * CHUNK, "array of " + array + " sectors");
        for (int slot = 0; slot < c.devices(); slot++) {
            // lowest device sector holding a copy of array sector >= x, by brute force
            long[] lowestFrom = new long[(int) array + 1];
            lowestFrom[(int) array] = Long.MAX_VALUE;
            long[] highestEndBelow = new long[(int) array + 1];
            for (long x = array - 1; x >= 0; x--) {
                long low = lowestFrom[(int) x + 1];
                for (Raid10Geometry.Copy copy : g.copiesOf(x)) {
                    if (copy.device() == slot) {
                        low = Math.min(low, copy.sector());
                    }
                }
                lowestFrom[(int) x] = low;
            }
            for (long x = 0; x < array; x++) {
                long high = highestEndBelow[(int) x];
                for (Raid10Geometry.Copy copy : g.copiesOf(x)) {
                    if (copy.device() == slot) {
                        high = Math.max(high, copy.sector() + 1);
                    }
                }
                highestEndBelow[(int) x + 1] = high;
            }
            for (long done = 0; done <= array; done++) {
                long r = g.recoveredMemberSectors(slot, done);
                long exact = done == array ? g.devSectors() : Math.min(lowestFrom[(int) done], g.devSectors());
                assertTrue(r <= exact, c + " slot " + slot + ": done " + done + " calls " + r + " rebuilt, only " + exact + " is");
                assertEquals(exact, r, c + " slot " + slot + ": done " + done + " (the conversion should be exact)");
            }
            for (long ro = 0; ro <= g.devSectors(); ro++) {
                long a = g.recoveryResumeSectors(slot, ro);
                assertTrue(highestEndBelow[(int) a] <= ro || a == array && ro == g.devSectors(),
                    c + " slot " + slot + ": recovery_offset " + ro + " resumes at " + a + " but array sectors below hold copies up to "
                        + highestEndBelow[(int) a]);
                assertEquals(0, a % CHUNK, "resumes at a chunk boundary");
            }
            if (c.layout().far() == 1) {
                for (long done = 0; done < array; done += CHUNK) {
                    long a = g.recoveryResumeSectors(slot, g.recoveredMemberSectors(slot, done));
                    assertTrue(a >= done - 2L * c.devices() * CHUNK, c + " slot " + slot + ": done " + done + " resumes at " + a);
                }
            }
        }
    }
}
