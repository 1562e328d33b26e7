package io.jmd.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code jmd sim}: one seed, a range, and wrong usage. */
final class SimCommandTest {
    @Test
    void oneSeedAndARangeRunAndPass() {
        assertEquals(0, Main.run("sim", "--seed", "3", "--ops", "200"));
        assertEquals(0, Main.run("sim", "--seeds", "1..3", "--ops", "150", "--parallel", "2"));
    }

    @Test
    void everyRedundantLevelRuns() {
        for (String level : new String[] {"raid1", "raid5", "raid6", "raid10"}) {
            assertEquals(0, Main.run("sim", "--seed", "3", "--ops", "200", "--level", level), level);
        }
    }

    @Test
    void wrongUsageIsExitCodeTwo() {
        assertEquals(2, Main.run("sim"));
        assertEquals(2, Main.run("sim", "--seed", "1", "--seeds", "1..2"));
        assertEquals(2, Main.run("sim", "--seeds", "9..2"));
        assertEquals(2, Main.run("sim", "--seeds", "x"));
        assertEquals(2, Main.run("sim", "--seed", "1", "--ops", "0"));
        assertEquals(2, Main.run("sim", "--seed", "1", "--level", "raid0"));
        assertEquals(2, Main.run("sim", "--seed", "1", "--level", "raid4"));
    }

    @Test
    void seedRangesParse() throws Exception {
        assertArrayEquals(new long[] {5, 9}, SimCommand.parseRange("5..9"));
        assertArrayEquals(new long[] {7, 7}, SimCommand.parseRange(" 7 .. 7 "));
    }
}
