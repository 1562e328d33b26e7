package io.jmd.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What the interop tests write into an array: an 8 MiB head at offset 0 and a 1 MiB tail ending
 * at the array's last whole 4 KiB block, the rest left as created (zeroes: the members start
 * sparse, and parity of zeroes is zeroes). Each 4 KiB block i is one 16-byte unit
 * {@code u64le(i) || u64le(SALT ^ i)} repeated, so a block read from the wrong place shows.
 *
 * <p>The pattern disk given to the VM is head then tail (9 MiB): the guest copies its first 8 MiB
 * to the array's start and the last 1 MiB to {@link #tailOffset}.
 */
final class ArrayPattern {
    static final int BLOCK_BYTES = 4096;
    static final int HEAD_BYTES = 8 << 20;
    static final int TAIL_BYTES = 1 << 20;
    /** Block numbers of the tail continue after the head's, so no tail block equals a head block. */
    static final long TAIL_FIRST_BLOCK = HEAD_BYTES / BLOCK_BYTES;
    /** "jmd-kvm1" */
    static final long SALT = 0x6a6d642d6b766d31L;

    private ArrayPattern() {
    }

    static byte[] head() {
        return blocks(0, HEAD_BYTES / BLOCK_BYTES);
    }

    static byte[] tail() {
        return blocks(TAIL_FIRST_BLOCK, TAIL_BYTES / BLOCK_BYTES);
    }

    private static byte[] blocks(long first, int count) {
        ByteBuffer b = ByteBuffer.allocate(count * BLOCK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = first; i < first + count; i++) {
            for (int u = 0; u < BLOCK_BYTES / 16; u++) {
                b.putLong(i).putLong(SALT ^ i);
            }
        }
        return b.array();
    }

    /** Where the tail starts in an array of {@code sizeBytes}. */
    static long tailOffset(long sizeBytes) {
        long end = sizeBytes / BLOCK_BYTES * BLOCK_BYTES;
        if (end - TAIL_BYTES < HEAD_BYTES) {
            throw new IllegalArgumentException("array of " + sizeBytes + " bytes is too small for the pattern");
        }
        return end - TAIL_BYTES;
    }

    /** The disk the guest copies the pattern from: head then tail. */
    static Path writeDisk(Path file) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(head());
            out.write(tail());
        }
        return file;
    }

    /** SHA-256 (hex) of a whole array of {@code sizeBytes} that holds the pattern and zeroes. */
    static String expectedSha256(long sizeBytes) {
        MessageDigest md = sha256();
        byte[] zeroes = new byte[1 << 20];
        long tailAt = tailOffset(sizeBytes);
        md.update(head());
        zeroFill(md, zeroes, tailAt - HEAD_BYTES);
        md.update(tail());
        zeroFill(md, zeroes, sizeBytes - tailAt - TAIL_BYTES);
        return HexFormat.of().formatHex(md.digest());
    }

    private static void zeroFill(MessageDigest md, byte[] zeroes, long bytes) {
        for (long left = bytes; left > 0; left -= zeroes.length) {
            md.update(zeroes, 0, (int) Math.min(left, zeroes.length));
        }
    }

    static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Null when {@code file} (a whole array read back) holds the pattern at head and tail, else what differs. */
    static String checkPattern(Path file) throws IOException {
        long size = Files.size(file);
        byte[] gotHead = new byte[HEAD_BYTES];
        byte[] gotTail = new byte[TAIL_BYTES];
        try (var ch = Files.newByteChannel(file)) {
            ch.read(ByteBuffer.wrap(gotHead));
            ch.position(tailOffset(size));
            ch.read(ByteBuffer.wrap(gotTail));
        }
        String head = firstDifferentBlock(head(), gotHead, 0);
        if (head != null) {
            return "head: " + head;
        }
        String tail = firstDifferentBlock(tail(), gotTail, tailOffset(size));
        return tail == null ? null : "tail: " + tail;
    }

    private static String firstDifferentBlock(byte[] want, byte[] got, long base) {
        for (int off = 0; off < want.length; off += BLOCK_BYTES) {
            if (!java.util.Arrays.equals(want, off, off + BLOCK_BYTES, got, off, off + BLOCK_BYTES)) {
                long gotIndex = ByteBuffer.wrap(got, off, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
                return "4 KiB block at array offset " + (base + off) + " differs (it starts with block number "
                    + gotIndex + ")";
            }
        }
        return null;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
