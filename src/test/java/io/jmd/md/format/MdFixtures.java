package io.jmd.md.format;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.tukaani.xz.XZInputStream;

/**
 * The kernel-made member images in src/test/resources/fixtures/md (see its README.md): arrays
 * created by mdadm 4.2 on Linux 6.1, each member 16 MiB, xz-compressed.
 */
final class MdFixtures {
    private MdFixtures() {}

    static final String RAID1_BITMAP = "raid1-bitmap";
    static final String RAID5_LS = "raid5-ls";
    static final String RAID10_N2 = "raid10-n2";

    static final long MEMBER_BYTES = 16L * 1024 * 1024;
    static final long MEMBER_SECTORS = MEMBER_BYTES / 512;

    /** The metadata region we read: superblock at 4 KiB, bitmap at 8 KiB, bad-block log at 12 KiB. */
    static final int HEAD_BYTES = 64 * 1024;

    static int memberCount(String array) {
        return switch (array) {
            case RAID1_BITMAP -> 2;
            case RAID5_LS -> 3;
            case RAID10_N2 -> 4;
            default -> throw new IllegalArgumentException(array);
        };
    }

    /** The first {@link #HEAD_BYTES} of a member, decompressed. */
    static byte[] head(String array, int member) {
        try (InputStream in = new XZInputStream(open(array + "/m" + member + ".img.xz"))) {
            return in.readNBytes(HEAD_BYTES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The superblock's 4 KiB (1.2: at sector 8). */
    static byte[] superblockBytes(String array, int member) {
        byte[] head = head(array, member);
        byte[] out = new byte[4096];
        System.arraycopy(head, 4096, out, 0, out.length);
        return out;
    }

    /** Decompresses a whole member image to {@code target}. */
    static Path writeMember(String array, int member, Path target) {
        try (InputStream in = new XZInputStream(open(array + "/m" + member + ".img.xz"))) {
            Files.copy(in, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String examineText(String array) {
        try (InputStream in = open(array + "/examine-m0.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The value of a "Label : value" line of the examine text. */
    static String examineValue(String array, String label) {
        for (String line : examineText(array).split("\n")) {
            int colon = line.indexOf(" : ");
            if (colon > 0 && line.substring(0, colon).strip().equals(label)) {
                return line.substring(colon + 3);
            }
        }
        throw new IllegalArgumentException("no line " + label + " in " + array);
    }

    private static InputStream open(String resource) throws IOException {
        InputStream in = MdFixtures.class.getResourceAsStream("/fixtures/md/" + resource);
        if (in == null) {
            throw new IOException("missing test resource fixtures/md/" + resource);
        }
        return in;
    }

    static void overwrite(Path file, long offset, byte[] bytes) throws IOException {
        try (var channel = java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.write(java.nio.ByteBuffer.wrap(bytes), offset);
        }
    }
}
