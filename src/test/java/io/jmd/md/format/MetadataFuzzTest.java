package io.jmd.md.format;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;
import io.jmd.block.DeviceOpener;
import io.jmd.block.Errno;
import io.jmd.block.MemoryBlockDevice;
import io.jmd.block.SyncIo;
import io.jmd.md.Assembler;
import io.jmd.md.MdArray;
import io.jmd.md.MdException;
import io.jmd.md.MemberExamine;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

import static io.jmd.md.format.MdFixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Damaged metadata, from the kernel-made fixtures: whatever the bytes, decoding a superblock or a
 * bitmap superblock either refuses with a {@link SuperblockException} that says why or gives
 * metadata that encodes and decodes back to itself; examining and assembling members whose heads
 * were damaged either works or refuses with an {@link MdException}, and never writes a byte
 * (read-only assembly never writes; a refused assembly writes nothing either).
 *
 * <p>The {@code @Test} methods run a fixed number of seeded damages in the normal suite (about 5 s).
 * The {@code @FuzzTest} methods run the same checks on Jazzer's data for a longer campaign, one at a
 * time: {@code JAZZER_FUZZ=1 ./mvnw test -Dtest='MetadataFuzzTest#memberHeads'}; the pom's fuzz
 * profile turns Jazzer's agent on for it, so the campaign is coverage-guided (README, fuzz section).
 */
class MetadataFuzzTest {
    private static final String[] ARRAYS = {RAID1_BITMAP, RAID5_LS, RAID10_N2};
    /** The superblock and the bitmap superblock inside a member's head (v1.2: 4 KiB, then 8 KiB). */
    private static final int SB_AT = 4096;
    private static final int BITMAP_AT = 8192;
    private static final int SEEDED_DECODES = 3000;
    private static final int SEEDED_MEMBERS = 150;

    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    /** Where the damage comes from: a seeded generator, or Jazzer's data. */
    interface Source {
        int pick(int bound);

        byte anyByte();
    }

    static Source seeded(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Source() {
            @Override
            public int pick(int bound) {
                return r.nextInt(bound);
            }

            @Override
            public byte anyByte() {
                return (byte) r.nextInt(256);
            }
        };
    }

    static Source fuzzed(FuzzedDataProvider d) {
        return new Source() {
            @Override
            public int pick(int bound) {
                return d.consumeInt(0, bound - 1);
            }

            @Override
            public byte anyByte() {
                return d.consumeByte();
            }
        };
    }

    /** The heads (first 64 KiB) of every fixture member, decompressed once. */
    private static final byte[][][] HEADS = new byte[ARRAYS.length][][];

    private static synchronized byte[] head(int array, int member) {
        if (HEADS[array] == null) {
            byte[][] heads = new byte[memberCount(ARRAYS[array])][];
            for (int m = 0; m < heads.length; m++) {
                heads[m] = MdFixtures.head(ARRAYS[array], m);
            }
            HEADS[array] = heads;
        }
        return HEADS[array][member].clone();
    }

    /**
     * Damages {@code head} in place: a few bytes, mostly in the superblock's checksummed part, some
     * in the bitmap superblock or elsewhere; the superblock checksum is then made valid again most of
     * the time, so the damage reaches the field checks behind it.
     */
    static void damage(byte[] head, Source s) {
        int edits = 1 + s.pick(6);
        for (int i = 0; i < edits; i++) {
            int at = switch (s.pick(10)) {
                case 0, 1 -> BITMAP_AT + s.pick(256);
                case 2 -> s.pick(head.length);
                default -> SB_AT + s.pick(256 + 2 * 64);
            };
            head[at] = s.anyByte();
        }
        if (s.pick(4) != 0) {
            ByteBuffer sb = ByteBuffer.wrap(head, SB_AT, 4096).slice().order(ByteOrder.LITTLE_ENDIAN);
            int maxDev = sb.getInt(Superblock1Layout.OFF_MAX_DEV);
            if (maxDev >= 0 && maxDev <= 1920) {
                sb.putInt(Superblock1Layout.OFF_SB_CSUM, Superblock1Codec.checksum(sb, maxDev));
            }
        }
    }

    /** Decodes the head's superblock and bitmap superblock; checks what the decoders promise. */
    static void checkDecoders(byte[] head) {
        byte[] sbBytes = java.util.Arrays.copyOfRange(head, SB_AT, SB_AT + 4096);
        Superblock1 sb;
        try {
            sb = Superblock1.decode(sbBytes, SuperblockLocation.V1_2, MEMBER_SECTORS);
        } catch (SuperblockException e) {
            assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a refusal says why");
            sb = null;
        }
        if (sb != null) {
            // check after reading, check before writing: what was accepted encodes, and decodes back
            byte[] again = sb.encode();
            Superblock1 back = assertDoesNotThrow(() -> Superblock1.decode(java.util.Arrays.copyOf(again, 4096),
                SuperblockLocation.V1_2, MEMBER_SECTORS));
            assertArrayEquals(again, back.encode(), "superblock round trip");
            ExamineFormatter.utc().format("m", sb, MEMBER_BYTES, java.util.Optional.empty());
        }
        byte[] bmBytes = java.util.Arrays.copyOfRange(head, BITMAP_AT, BITMAP_AT + 4096);
        try {
            BitmapSuperblock bm = BitmapSuperblock.decode(bmBytes);
            BitmapSuperblock back = assertDoesNotThrow(() -> BitmapSuperblock.decode(
                java.util.Arrays.copyOf(bm.encode(), 4096)));
            assertEquals(bm, back, "bitmap round trip");
        } catch (SuperblockException e) {
            assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a refusal says why");
        }
    }

    @Test
    void seededDamageToSuperblocksIsRefusedOrRoundTrips() {
        for (int seed = 0; seed < SEEDED_DECODES; seed++) {
            Source s = seeded(seed);
            int array = s.pick(ARRAYS.length);
            byte[] head = head(array, s.pick(memberCount(ARRAYS[array])));
            damage(head, s);
            try {
                checkDecoders(head);
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ": " + e, e);
            }
        }
    }

    @FuzzTest(maxDuration = "60s")
    void superblockAndBitmapDecoders(FuzzedDataProvider d) {
        Source s = fuzzed(d);
        int array = s.pick(ARRAYS.length);
        byte[] head = head(array, s.pick(memberCount(ARRAYS[array])));
        damage(head, s);
        checkDecoders(head);
    }

    /** Counts every bio that could change a member. */
    static final class WriteSpy implements BlockDevice {
        final BlockDevice next;
        final AtomicLong changes;

        WriteSpy(BlockDevice next, AtomicLong changes) {
            this.next = next;
            this.changes = changes;
        }

        @Override
        public String name() {
            return next.name();
        }

        @Override
        public long sizeBytes() {
            return next.sizeBytes();
        }

        @Override
        public void submit(Bio bio) {
            count(bio);
            next.submit(bio);
        }

        @Override
        public boolean trySubmit(Bio bio) {
            count(bio);
            return next.trySubmit(bio);
        }

        private void count(Bio bio) {
            if (bio.op != Bio.Op.READ && bio.op != Bio.Op.FLUSH) {
                changes.incrementAndGet();
            }
        }

        @Override
        public void close() {
            // the medium outlives the array, as a disk does
        }
    }

    /**
     * One array's members in memory, one of them with a damaged head; examines each member, then
     * assembles read-only (never a write) and read-write (a write only if it started).
     */
    void checkMembers(Source s) throws IOException {
        Env env = jmd.env();
        int array = s.pick(ARRAYS.length);
        int members = memberCount(ARRAYS[array]);
        int damaged = s.pick(members);
        List<MemoryBlockDevice> media = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int m = 0; m < members; m++) {
            byte[] head = head(array, m);
            if (m == damaged) {
                damage(head, s);
            }
            MemoryBlockDevice medium = new MemoryBlockDevice(env, "m" + m, MEMBER_BYTES);
            assertEquals(Errno.OK, SyncIo.write(env.scheduler(), medium, 0, MemorySegment.ofArray(head), 0));
            media.add(medium);
            names.add("m" + m);
        }
        AtomicLong changes = new AtomicLong();
        DeviceOpener opener = (name, readOnly) -> new WriteSpy(media.get(Integer.parseInt(name.substring(1))), changes);
        for (String n : names) {
            try {
                MemberExamine.examine(env, opener.open(n, true), n, ExamineFormatter.utc());
            } catch (MdException e) {
                assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a refusal says why");
            }
        }
        assertEquals(0, changes.get(), "examine wrote to a member");
        for (boolean readOnly : new boolean[] {true, false}) {
            boolean started = false;
            try (MdArray a = Assembler.assemble(env, opener, names, new Assembler.Options(true, readOnly))) {
                started = true;
                assertTrue(a.sizeBytes() > 0);
            } catch (MdException e) {
                assertFalse(e.getMessage() == null || e.getMessage().isBlank(), "a refusal says why");
            }
            if (readOnly || !started) {
                assertEquals(0, changes.get(), (readOnly ? "read-only" : "refused") + " assembly wrote to a member");
            }
        }
        for (MemoryBlockDevice m : media) {
            m.close();
        }
    }

    @Test
    void seededDamageToMemberHeadsNeverWritesWhereItMustNot() throws IOException {
        for (int seed = 0; seed < SEEDED_MEMBERS; seed++) {
            try {
                checkMembers(seeded(1_000_000L + seed));
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + (1_000_000L + seed) + ": " + e, e);
            }
        }
    }

    @FuzzTest(maxDuration = "60s")
    void memberHeads(FuzzedDataProvider d) throws IOException {
        checkMembers(fuzzed(d));
    }
}
