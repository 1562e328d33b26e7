package io.jmd.md;

import io.jmd.Env;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.Raid10Layout;
import io.jmd.md.format.Raid5Algorithm;
import io.jmd.md.format.RaidLevel;
import io.jmd.md.stripe.StripeEngine;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every level and layout through the MdArray: random concurrent writes, write-zeroes and reads
 * against an in-memory model, the whole array read back, parity recomputed from the members and
 * compared (md's check), then a restart that finds the same content and a clean array.
 */
final class LevelRoundTripTest {
    static final long MIB = 1 << 20;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** One array shape: options, member sizes. */
    record Shape(String name, CreateOptions options, long[] memberBytes) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Shape shape(String name, CreateOptions o, long... memberBytes) {
        return new Shape(name, o, memberBytes);
    }

    static long[] same(int n, long bytes) {
        long[] a = new long[n];
        java.util.Arrays.fill(a, bytes);
        return a;
    }

    static Stream<Arguments> shapes() {
        List<Shape> s = new ArrayList<>();
        s.add(shape("linear of 3 different sizes", CreateOptions.defaults(RaidLevel.LINEAR, 3), 12 * MIB, 9 * MIB, 6 * MIB));
        s.add(shape("raid0 4x, 64K", CreateOptions.defaults(RaidLevel.RAID0, 4).withChunkKib(64), same(4, 8 * MIB)));
        s.add(shape("raid0 multi-zone original", CreateOptions.defaults(RaidLevel.RAID0, 3).withChunkKib(16),
            12 * MIB, 12 * MIB, 7 * MIB));
        s.add(shape("raid0 multi-zone alternate", CreateOptions.defaults(RaidLevel.RAID0, 3).withChunkKib(16).withLayout(2),
            12 * MIB, 12 * MIB, 7 * MIB));
        s.add(shape("raid4 4x, 64K", CreateOptions.defaults(RaidLevel.RAID4, 4).withChunkKib(64), same(4, 8 * MIB)));
        for (Raid5Algorithm a : Raid5Algorithm.values()) {
            if (a.validForRaid5()) {
                s.add(shape("raid5 " + a.mdadmName() + " 4x, 64K", CreateOptions.defaults(RaidLevel.RAID5, 4)
                    .withChunkKib(64).withLayout(a.layout()), same(4, 8 * MIB)));
            }
        }
        s.add(shape("raid5 3x, 256K chunk of 4 units", CreateOptions.defaults(RaidLevel.RAID5, 3).withChunkKib(256),
            same(3, 8 * MIB)));
        s.add(shape("raid5 2x, 4K chunk", CreateOptions.defaults(RaidLevel.RAID5, 2).withChunkKib(4), same(2, 8 * MIB)));
        for (Raid5Algorithm a : Raid5Algorithm.values()) {
            s.add(shape("raid6 " + a.mdadmName() + " 5x, 16K", CreateOptions.defaults(RaidLevel.RAID6, 5)
                .withChunkKib(16).withLayout(a.layout()), same(5, 6 * MIB)));
        }
        s.add(shape("raid6 4x, default 512K chunk", CreateOptions.defaults(RaidLevel.RAID6, 4), same(4, 12 * MIB)));
        s.add(shape("raid10 n2 4x", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64), same(4, 8 * MIB)));
        s.add(shape("raid10 n2 3x", CreateOptions.defaults(RaidLevel.RAID10, 3).withChunkKib(64), same(3, 8 * MIB)));
        s.add(shape("raid10 f2 4x", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64)
            .withLayout(Raid10Layout.far(2).word()), same(4, 8 * MIB)));
        s.add(shape("raid10 f2 5x", CreateOptions.defaults(RaidLevel.RAID10, 5).withChunkKib(32)
            .withLayout(Raid10Layout.far(2).word()), same(5, 8 * MIB)));
        s.add(shape("raid10 o2 4x", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64)
            .withLayout(Raid10Layout.offset(2).word()), same(4, 8 * MIB)));
        s.add(shape("raid10 n3 4x", CreateOptions.defaults(RaidLevel.RAID10, 4).withChunkKib(64)
            .withLayout(Raid10Layout.near(3).word()), same(4, 8 * MIB)));
        s.add(shape("raid10 o3 3x", CreateOptions.defaults(RaidLevel.RAID10, 3).withChunkKib(16)
            .withLayout(Raid10Layout.offset(3).word()), same(3, 8 * MIB)));
        return s.stream().map(Arguments::of);
    }

    static String[] names(int n) {
        String[] names = new String[n];
        for (int i = 0; i < n; i++) {
            names[i] = "d" + i;
        }
        return names;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void randomIoMatchesTheModelAndSurvivesARestart(Shape shape) throws Exception {
        Env env = jmd.env();
        String[] names = names(shape.memberBytes().length);
        try (Disks disks = new Disks(env)) {
            for (int i = 0; i < names.length; i++) {
                disks.add(shape.memberBytes()[i], names[i]);
            }
            ArrayModel.create(env, disks, shape.options(), names);
            ArrayModel model;
            try (MdArray array = disks.assemble(false, names)) {
                assertTrue(array.personality().isOptimal(), array.personality().status());
                model = new ArrayModel(array.sizeBytes());
                model.randomIo(env, array, 4, 70, 160 << 10, shape.name().hashCode());
                model.verify(env, array);
                if (array.personality() instanceof StripeEngine se) {
                    assertEquals(0, se.checkParity(), "parity recomputed from the members matches");
                }
            }
            try (MdArray again = disks.assemble(false, names)) {
                assertTrue(again.isClean(), "stopped clean");
                model.verify(env, again);
            }
        }
    }
}
