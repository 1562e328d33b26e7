package io.jmd.md.format;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Encodings other than mdadm's usual one: odd max_dev, 1.0 placement, helpers. */
class Superblock1RoundTripTest {
    private static final long DEVICE_SECTORS = 100_003;

    private static Superblock1 sample(int... roles) {
        return new Superblock1Builder()
                .setUuid(MdUuid.parse("00112233:44556677:8899aabb:ccddeeff"))
                .setName(ArrayName.create(Optional.of("host"), "odd"))
                .ctime(new MdTime(1_700_000_000L, 123_456)).utime(MdTime.ofSeconds(1_700_000_100L))
                .level(RaidLevel.RAID1.code()).raidDisks(2).sizeSectors(90_000)
                .dataOffsetSectors(2048).dataSizeSectors(DEVICE_SECTORS - 2048).superOffsetSectors(8)
                .deviceUuid(MdUuid.parse("ffeeddcc:bbaa9988:77665544:33221100"))
                .devRoles(DevRoles.of(roles)).events(42)
                .build();
    }

    /** Straightforward restatement of calc_sb_1_csum, to cross-check the codec. */
    private static int referenceChecksum(byte[] encoded, int maxDev) {
        ByteBuffer in = ByteBuffer.wrap(encoded.clone()).order(ByteOrder.LITTLE_ENDIAN);
        in.putInt(Superblock1Layout.OFF_SB_CSUM, 0);
        long sum = 0;
        int size = 256 + 2 * maxDev;
        int i = 0;
        while (size >= 4) {
            sum += in.getInt(i) & 0xffffffffL;
            i += 4;
            size -= 4;
        }
        if (size == 2) {
            sum += in.getShort(i) & 0xffff;
        }
        return (int) ((sum & 0xffffffffL) + (sum >>> 32));
    }

    @Test
    void oddMaxDevChecksumsTheTrailingHalfWord() throws SuperblockException {
        Superblock1 sb = sample(0, 1, DevRole.SPARE);
        byte[] encoded = sb.encode();
        assertEquals(512, encoded.length, "262 bytes rounded up to a sector");
        assertEquals(referenceChecksum(encoded, 3), sb.checksum());
        assertEquals(sb, Superblock1.decode(encoded, SuperblockLocation.V1_2, DEVICE_SECTORS));
        assertEquals(0, encoded[300], "padding is zero");
    }

    @Test
    void largeMaxDevSpansSeveralSectors() throws SuperblockException {
        int[] roles = new int[384];
        java.util.Arrays.fill(roles, DevRole.SPARE);
        roles[0] = 0;
        roles[383] = 1;
        Superblock1 sb = sample(roles);
        byte[] encoded = sb.encode();
        assertEquals(1024, encoded.length);
        assertEquals(referenceChecksum(encoded, 384), sb.checksum());
        Superblock1 back = Superblock1.decode(encoded, SuperblockLocation.V1_2, DEVICE_SECTORS);
        assertEquals(1, back.devRoles().role(383));
        assertEquals(2, Superblock1Layout.onDiskSectors(384));
    }

    @Test
    void timesKeepTheirMicroseconds() throws SuperblockException {
        Superblock1 sb = Superblock1.decode(sample(0, 1).encode(), SuperblockLocation.V1_2, DEVICE_SECTORS);
        assertEquals(123_456, sb.ctime().micros());
        assertEquals(1_700_000_000L, sb.ctime().seconds());
        assertEquals(new MdTime(5, 7), MdTime.fromRaw(new MdTime(5, 7).raw()));
        assertEquals((7L << 40) | 5, new MdTime(5, 7).raw());
    }

    @Test
    void locations() {
        assertEquals(8, SuperblockLocation.V1_2.superOffsetSectors(DEVICE_SECTORS));
        assertEquals(0, SuperblockLocation.V1_1.superOffsetSectors(DEVICE_SECTORS));
        assertEquals((DEVICE_SECTORS - 16) & ~7L, SuperblockLocation.V1_0.superOffsetSectors(DEVICE_SECTORS));
        assertEquals(99_984, SuperblockLocation.V1_0.superOffsetSectors(DEVICE_SECTORS));
        assertEquals(32_752, SuperblockLocation.V1_0.superOffsetSectors(32_768));
        assertEquals(4096, SuperblockLocation.V1_2.superOffsetBytes(DEVICE_SECTORS));
        assertThrows(IllegalArgumentException.class, () -> SuperblockLocation.V1_0.superOffsetSectors(23));
        assertEquals(SuperblockLocation.V1_1, SuperblockLocation.fromSuperOffsetAsMdadm(0));
        assertEquals(SuperblockLocation.V1_2, SuperblockLocation.fromSuperOffsetAsMdadm(8));
        assertEquals(SuperblockLocation.V1_0, SuperblockLocation.fromSuperOffsetAsMdadm(99_984));
    }

    @Test
    void metadataAtTheEndRoundTrips() throws SuperblockException {
        long superOffset = SuperblockLocation.V1_0.superOffsetSectors(DEVICE_SECTORS);
        Superblock1 sb = sample(0, 1).toBuilder().dataOffsetSectors(0).dataSizeSectors(superOffset - 8)
                .superOffsetSectors(superOffset).bblogOffsetSectors(-8).bblogSizeSectors(8).build();
        assertEquals(sb, Superblock1.decode(sb.encode(), SuperblockLocation.V1_0, DEVICE_SECTORS));
        Superblock1 overlapping = sb.toBuilder().dataSizeSectors(superOffset + 1).build();
        assertThrows(SuperblockException.class, () -> overlapping.validate(SuperblockLocation.V1_0, DEVICE_SECTORS));
    }

    @Test
    void names() {
        assertEquals("homehost:jmdtest", ArrayName.create(Optional.of("homehost"), "jmdtest").text());
        assertEquals("a:b", ArrayName.create(Optional.of("homehost"), "a:b").text(), "names with ':' are kept");
        String longHost = "h".repeat(20);
        assertEquals("n".repeat(12), ArrayName.create(Optional.of(longHost), "n".repeat(12)).text(),
                "host + ':' + name must stay under 32 bytes");
        assertEquals("x".repeat(31), ArrayName.create(Optional.empty(), "x".repeat(40)).text());
        ArrayName name = ArrayName.ofText("fixture:jmdfx");
        assertEquals(Optional.of("fixture"), name.homehost());
        assertEquals("jmdfx", name.shortName());
        assertTrue(name.isLocalTo("fixture"));
        assertFalse(name.isLocalTo("fix"));
        assertEquals(Optional.empty(), ArrayName.ofText("plain").homehost());
    }

    @Test
    void uuids() {
        MdUuid uuid = MdUuid.parse("79e4c376:fe337a00:f415d134:4433496f");
        assertEquals("79e4c376:fe337a00:f415d134:4433496f", uuid.format());
        assertEquals(uuid, MdUuid.parse("79e4c376fe337a00f415d1344433496f"));
        assertEquals((byte) 0x79, uuid.toBytes()[0]);
    }

    @Test
    void raid10Layouts() {
        assertEquals(0x102, Raid10Layout.near(2).word());
        assertEquals(0x201, Raid10Layout.far(2).word());
        assertEquals(0x10201, Raid10Layout.offset(2).word());
        assertEquals(" near=2", Raid10Layout.near(2).mdadmName());
        assertEquals(" far=2", Raid10Layout.far(2).mdadmName());
        assertEquals(" offset=3", Raid10Layout.offset(3).mdadmName());
        assertEquals(" near=2, far=2", Raid10Layout.decode(0x202).orElseThrow().mdadmName());
        assertEquals("NO REDUNDANCY", Raid10Layout.near(1).mdadmName());
        assertTrue(Raid10Layout.decode(1 << 19 | 0x102).isEmpty());
        assertTrue(Raid10Layout.decode(0x100).isEmpty());
    }
}
