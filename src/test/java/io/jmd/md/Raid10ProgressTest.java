package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Errno;
import io.jmd.md.format.Raid10Layout;
import io.jmd.md.format.Superblock1;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncEngine;
import io.jmd.md.resync.SyncLevel;
import io.jmd.md.resync.SyncStatus;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static io.jmd.md.Raid1ArrayTest.BLOCK;
import static io.jmd.md.Raid1ArrayTest.writeStream;
import static io.jmd.md.RedundancyTest.await;
import static io.jmd.md.RedundancyTest.awaitIdle;
import static io.jmd.md.RedundancyTest.sbOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A raid10 sync's progress in /proc/mdstat's units, as md prints it: a recovery counts member
 * sectors (md_do_sync's max_sectors = dev_sectors: "recovery = x% (done/total)" with total =
 * dev_sectors / 2 blocks), a check, repair or resync the array's (resync_max_sectors =
 * raid10_size). jmd walks the array for every action; its recovery progress is scaled to md's.
 */
final class Raid10ProgressTest {
    private static final Pattern PROGRESS = Pattern.compile("(recovery|check|resync|repair) =\\s*(\\d+)\\.(\\d)% \\((\\d+)/(\\d+)\\)");

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    static Stream<Raid10RedundancyTest.Shape> shapes() {
        // near on 3 devices and far on 4: dev_sectors is 2/3 and 1/2 of the array's sectors
        return Raid10RedundancyTest.shapes().filter(s -> s.name().equals("n2x3") || s.name().equals("f2x4"));
    }

    /** md's calc_sectors: sectors used per member, from the superblock's size (whole chunks). */
    static long mdDevSectors(Superblock1 sb) {
        Raid10Layout l = Raid10Layout.decode(sb.layout()).orElseThrow();
        int shift = Integer.numberOfTrailingZeros(sb.chunkSectors());
        long chunks = (sb.sizeSectors() >> shift) / l.far() * sb.raidDisks() / l.near(); // the array's chunks
        long perDevice = Math.ceilDiv(chunks * l.copies(), sb.raidDisks());
        return perDevice << shift;
    }

    /** md's raid10_size over those dev_sectors: the array's sectors. */
    static long mdArraySectors(Superblock1 sb, long devSectors) {
        Raid10Layout l = Raid10Layout.decode(sb.layout()).orElseThrow();
        int shift = Integer.numberOfTrailingZeros(sb.chunkSectors());
        return ((devSectors >> shift) / l.far() * sb.raidDisks() / l.near()) << shift;
    }

    /** {action, per-mille, done K, total K} of the array's mdstat progress line, or null. */
    static String[] mdstatProgress(MdArray a) {
        Matcher m = PROGRESS.matcher(MdStat.format(List.of(a)));
        return m.find() ? new String[] {m.group(1), m.group(2) + m.group(3), m.group(4), m.group(5)} : null;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void recoveryCountsMemberBlocksAndCheckCountsArrayBlocksAsMdPrintsThem(Raid10RedundancyTest.Shape shape) throws Exception {
        Env env = jmd.env();
        String[] names = Raid10RedundancyTest.names(shape.devices(), "");
        try (Disks disks = new Disks(env)) {
            disks.add(RedundancyTest.DISK_BYTES, names);
            disks.add(RedundancyTest.DISK_BYTES, "s");
            Raid10RedundancyTest.create(env, disks, shape, false, names);
            try (MdArray a = RedundancyTest.assemble(disks, false, names)) {
                Superblock1 sb = sbOf(env, disks, names[0]);
                long devSectors = mdDevSectors(sb);
                long arraySectors = mdArraySectors(sb, devSectors);
                assertEquals(arraySectors * 512, a.sizeBytes(), "the array's size is md's raid10_size");
                assertTrue(devSectors != arraySectors, shape + ": the units differ for this geometry");
                SyncLevel level = a.personality().syncLevel();
                assertEquals(devSectors * 512, level.progressBytes(SyncAction.RECOVER, a.sizeBytes()), "the whole array: the whole member");
                assertEquals(a.sizeBytes(), level.progressBytes(SyncAction.CHECK, a.sizeBytes()));
                writeStream(env, a, new long[(int) (a.sizeBytes() / BLOCK)], 200, 8, n -> { }, new AtomicInteger());

                SyncEngine engine = a.redundancy().engine();
                MemberManager.fail(a, names[1]);
                MemberManager.remove(a, names[1]);
                engine.throttle().setLimits(1, 1_000);
                MemberManager.add(a, "s", false);
                await("recovery under way", () -> {
                    SyncStatus s = engine.status();
                    return s != null && s.action() == SyncAction.RECOVER && s.doneBytes() > 0;
                });
                String[] p = mdstatProgress(a);
                assertTrue(p != null && p[0].equals("recovery"), MdStat.format(List.of(a)));
                assertEquals(devSectors / 2, Long.parseLong(p[3]), "md's total: dev_sectors / 2 (" + String.join(" ", p) + ")");
                long done = Long.parseLong(p[2]);
                assertTrue(done > 0 && done < devSectors / 2, "done in member blocks: " + done);
                // the per-mille follows from the two numbers as md's status_resync computes it
                long doneSectors = done * 2;
                assertEquals((doneSectors >> 10) * 1000 / ((devSectors >> 10) + 1), Long.parseLong(p[1]), String.join(" ", p));
                engine.throttle().setLimits(1_000, 10_000_000);
                awaitIdle(a);
                assertTrue(a.personality().isOptimal(), a.personality().status());

                // a check walks the array, as md's does: its total is the array's blocks
                engine.throttle().setLimits(1, 1_000);
                assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
                await("check under way", () -> engine.status() != null && engine.status().action() == SyncAction.CHECK);
                p = mdstatProgress(a);
                assertTrue(p != null && p[0].equals("check"), MdStat.format(List.of(a)));
                assertEquals(arraySectors / 2, Long.parseLong(p[3]), "md's total: resync_max_sectors / 2");
                engine.interrupt();
                engine.throttle().setLimits(1_000, 10_000_000);
                awaitIdle(a);
            }
        }
    }
}
