package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.FaultRule;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.Raid10Layout;
import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every redundant level losing members while it serves: one member for raid4/5 and raid10, two
 * for raid6 (any two: data, P, Q). Reads are rebuilt (parity) or taken from the other copy,
 * writes go on degraded, and the survivors alone hold the model's content after a restart.
 */
final class DegradedLevelsTest {
    static final long MIB = 1 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** A shape and which members die (by slot). */
    record Case(String name, CreateOptions options, int members, int[] dying) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> cases() {
        List<Case> c = new ArrayList<>();
        c.add(new Case("raid4, parity member dies", CreateOptions.defaults(RaidLevel.RAID4, 4).withChunkKib(64), 4, new int[] {3}));
        c.add(new Case("raid4, data member dies", CreateOptions.defaults(RaidLevel.RAID4, 4).withChunkKib(64), 4, new int[] {1}));
        for (Raid5Algorithm a : new Raid5Algorithm[] {Raid5Algorithm.LEFT_SYMMETRIC, Raid5Algorithm.LEFT_ASYMMETRIC,
            Raid5Algorithm.RIGHT_SYMMETRIC, Raid5Algorithm.RIGHT_ASYMMETRIC, Raid5Algorithm.PARITY_0, Raid5Algorithm.PARITY_N}) {
            c.add(new Case("raid5 " + a.mdadmName(), CreateOptions.defaults(RaidLevel.RAID5, 4).withChunkKib(64)
                .withLayout(a.layout()), 4, new int[] {2}));
        }
        for (Raid5Algorithm a : new Raid5Algorithm[] {Raid5Algorithm.LEFT_SYMMETRIC, Raid5Algorithm.LEFT_ASYMMETRIC,
            Raid5Algorithm.RIGHT_SYMMETRIC_6, Raid5Algorithm.ROTATING_N_CONTINUE}) {
            c.add(new Case("raid6 " + a.mdadmName() + ", two members die", CreateOptions.defaults(RaidLevel.RAID6, 5)
                .withChunkKib(16).withLayout(a.layout()), 5, new int[] {1, 3}));
        }
        c.add(new Case("raid6 parity-last, P and Q die", CreateOptions.defaults(RaidLevel.RAID6, 5).withChunkKib(16)
            .withLayout(Raid5Algorithm.PARITY_N.layout()), 5, new int[] {3, 4}));
        c.add(new Case("raid6 parity-last, data and Q die", CreateOptions.defaults(RaidLevel.RAID6, 5).withChunkKib(16)
            .withLayout(Raid5Algorithm.PARITY_N.layout()), 5, new int[] {0, 4}));
        c.add(new Case("raid10 n2, one of each pair dies", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64), 4,
            new int[] {1, 2}));
        c.add(new Case("raid10 n2 of 3", CreateOptions.defaults(RaidLevel.RAID10, 3).withChunkKib(64), 3, new int[] {2}));
        c.add(new Case("raid10 f2, two apart die", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64)
            .withLayout(Raid10Layout.far(2).word()), 4, new int[] {0, 2}));
        c.add(new Case("raid10 o2", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64)
            .withLayout(Raid10Layout.offset(2).word()), 4, new int[] {3}));
        return c.stream().map(Arguments::of);
    }

    static String[] names(int n) {
        return LevelRoundTripTest.names(n);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void membersDyingUnderLoadLoseNoAcknowledgedWrite(Case k) throws Exception {
        Env env = jmd.env();
        String[] names = names(k.members());
        try (Disks disks = new Disks(env)) {
            disks.add(6 * MIB, names);
            ArrayModel.create(env, disks, k.options(), names);
            ArrayModel model;
            try (MdArray array = disks.assemble(false, names)) {
                model = new ArrayModel(array.sizeBytes());
                model.randomIo(env, array, 2, 40, 96 << 10, 1);
                for (int d : k.dying()) {
                    disks.faults(names[d]).failDevice();
                }
                model.randomIo(env, array, 3, 60, 96 << 10, 2);
                model.verify(env, array);
                for (int d : k.dying()) {
                    disks.faults(names[d]).clearRules();
                }
            }
            List<String> survivors = new ArrayList<>(Arrays.asList(names));
            for (int d : k.dying()) {
                survivors.remove(names[d]);
            }
            try (MdArray degraded = disks.assemble(true, survivors.toArray(String[]::new))) {
                assertFalse(degraded.personality().isOptimal(), degraded.personality().status());
                model.verify(env, degraded);
            }
        }
    }

    @Test
    void levelsWithoutRedundancyReportTheErrorAndKeepTheMember() throws Exception {
        Env env = jmd.env();
        for (RaidLevel level : new RaidLevel[] {RaidLevel.LINEAR, RaidLevel.RAID0}) {
            String[] names = names(3);
            try (Disks disks = new Disks(env)) {
                disks.add(4 * MIB, names);
                ArrayModel.create(env, disks, CreateOptions.defaults(level, 3).withChunkKib(64), names);
                try (MdArray array = disks.assemble(false, names)) {
                    disks.faults("d1").failDevice();
                    int eio = 0;
                    for (long at = 0; at < array.sizeBytes(); at += 1 << 20) {
                        byte[] block = new byte[64 << 10];
                        int w = io.jmd.block.SyncIo.write(env.scheduler(), array, at, java.lang.foreign.MemorySegment.ofArray(block), 0);
                        int r = io.jmd.block.SyncIo.read(env.scheduler(), array, at, java.lang.foreign.MemorySegment.ofArray(block));
                        assertEquals(w, r, level + ": a write and a read of the same place fail alike");
                        eio += w == io.jmd.block.Errno.EIO ? 1 : 0;
                    }
                    assertTrue(eio > 0, level + ": the dead member's part fails");
                    assertTrue(array.members().stream().allMatch(Member::isInSync), level + ": md never fails a member it cannot lose");
                    disks.faults("d1").restoreDevice();
                }
            }
        }
    }

    @Test
    void raid5ReadErrorsAreRebuiltFromParityAndDoNotFailTheMember() throws Exception {
        Env env = jmd.env();
        String[] names = names(4);
        try (Disks disks = new Disks(env)) {
            disks.add(6 * MIB, names);
            ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID5, 4).withChunkKib(64), names);
            try (MdArray array = disks.assemble(false, names)) {
                ArrayModel model = new ArrayModel(array.sizeBytes());
                model.randomIo(env, array, 2, 60, 128 << 10, 4);
                // ten bad sectors (latent sector errors) fail a read twice: the read, and the read of their page
                // alone that finds which page failed (md's R5_ReadNoMerge retry; an error gone by then is no error).
                // Each page is served from parity, written back to d1 and read again there (md's R5_ReWrite),
                // which then works (the disk remapped the sector)
                for (int i = 0; i < 10; i++) {
                    disks.faults("d1").addRule(FaultRule.error(2 * MIB + i * 300L * 1024, 512, Bio.Op.READ).times(2));
                }
                model.verify(env, array);
                model.randomIo(env, array, 2, 40, 128 << 10, 5);
                model.verify(env, array);
                Member d1 = array.members().stream().filter(m -> m.path().equals("d1")).findFirst().orElseThrow();
                assertTrue(d1.readErrors() > 0, "reads went to d1 and failed there");
                assertTrue(d1.correctedReads() > 0, "the blocks were rewritten from parity");
                assertTrue(d1.isInSync(), "a corrected read error does not fail a member");
                assertTrue(array.personality().isOptimal());
                disks.faults("d1").clearRules();
                assertEquals(0, ((StripeEngine) array.personality()).checkParity());
            }
        }
    }

    @Test
    void raid5MemberWhoseRewrittenBlockStillCannotBeReadIsFailed() throws Exception {
        Env env = jmd.env();
        String[] names = names(4);
        try (Disks disks = new Disks(env)) {
            disks.add(6 * MIB, names);
            ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID5, 4).withChunkKib(64), names);
            try (MdArray array = disks.assemble(false, names)) {
                ArrayModel model = new ArrayModel(array.sizeBytes());
                model.randomIo(env, array, 2, 60, 128 << 10, 4);
                disks.faults("d1").addRule(FaultRule.error(0, 6 * MIB, Bio.Op.READ)); // every read fails, even after a rewrite
                model.verify(env, array);
                Member d1 = array.members().stream().filter(m -> m.path().equals("d1")).findFirst().orElseThrow();
                assertEquals(MemberState.FAULTY, d1.state(), "md fails a member whose block reads badly again after the rewrite");
                model.verify(env, array);
                disks.faults("d1").clearRules();
            }
        }
    }

    @Test
    void raid6WithAnyTwoMembersMissingFromTheStartServesAndWrites() throws Exception {
        Env env = jmd.env();
        String[] names = names(6);
        for (int[] gone : new int[][] {{0, 5}, {2, 3}, {1, 4}}) {
            try (Disks disks = new Disks(env)) {
                disks.add(4 * MIB, names);
                ArrayModel.create(env, disks, CreateOptions.defaults(RaidLevel.RAID6, 6).withChunkKib(32), names);
                ArrayModel model;
                try (MdArray array = disks.assemble(false, names)) {
                    model = new ArrayModel(array.sizeBytes());
                    model.randomIo(env, array, 2, 40, 128 << 10, 6);
                }
                List<String> present = new ArrayList<>(Arrays.asList(names));
                present.remove(names[gone[1]]);
                present.remove(names[gone[0]]);
                String[] survivors = present.toArray(String[]::new);
                try (MdArray array = disks.assemble(true, survivors)) {
                    assertEquals("[6/4]", array.personality().status().replaceAll(".*(\\[6/4\\]).*", "$1"));
                    model.verify(env, array);
                    model.randomIo(env, array, 2, 30, 128 << 10, gone[0] * 7 + gone[1]);
                    model.verify(env, array);
                }
                try (MdArray array = disks.assemble(true, names)) {
                    assertEquals(4, array.members().size(), "the two that sat out are stale: " + array.notes());
                    model.verify(env, array);
                }
            }
        }
    }
}
