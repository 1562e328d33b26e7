package io.jmd.nbd;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Parsers for option data with inner structure (layouts in {@link OptionDescriptor}). Each
 * returns null for data that does not parse exactly (lengths that overrun, or bytes left over),
 * which the handshake answers with NBD_REP_ERR_INVALID. Pure functions: fuzzed directly.
 */
final class OptionParsers {
    private OptionParsers() {
    }

    /** NBD_OPT_INFO / NBD_OPT_GO: an export name and the NBD_INFO_* types asked for. */
    record InfoRequest(byte[] name, int[] infoTypes) {
        boolean wants(int infoType) {
            for (int t : infoTypes) {
                if (t == infoType) {
                    return true;
                }
            }
            return false;
        }
    }

    /** NBD_OPT_LIST_META_CONTEXT / NBD_OPT_SET_META_CONTEXT: an export name and queries. */
    record MetaContextRequest(byte[] name, List<byte[]> queries) {
        /** SET: whether some query names {@code context} exactly. */
        boolean selectsExactly(String context) {
            byte[] c = context.getBytes(StandardCharsets.UTF_8);
            for (byte[] q : queries) {
                if (Arrays.equals(q, c)) {
                    return true;
                }
            }
            return false;
        }

        /** LIST: no queries lists everything; "ns:" lists the whole namespace; else exact names. */
        boolean listsBase(String context) {
            if (queries.isEmpty()) {
                return true;
            }
            String namespace = context.substring(0, context.indexOf(':') + 1);
            byte[] ns = namespace.getBytes(StandardCharsets.UTF_8);
            for (byte[] q : queries) {
                if (Arrays.equals(q, ns)) {
                    return true;
                }
            }
            return selectsExactly(context);
        }
    }

    static InfoRequest infoRequest(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data);
        byte[] name = string(b);
        if (name == null || b.remaining() < 2) {
            return null;
        }
        int count = Short.toUnsignedInt(b.getShort());
        if (b.remaining() != 2L * count) {
            return null;
        }
        int[] types = new int[count];
        for (int i = 0; i < count; i++) {
            types[i] = Short.toUnsignedInt(b.getShort());
        }
        assert !b.hasRemaining() : "info request fully consumed";
        return new InfoRequest(name, types);
    }

    static MetaContextRequest metaContextRequest(byte[] data) {
        ByteBuffer b = ByteBuffer.wrap(data);
        byte[] name = string(b);
        if (name == null || b.remaining() < 4) {
            return null;
        }
        long count = Integer.toUnsignedLong(b.getInt());
        // Each query takes at least its 4-byte length: a count beyond that cannot be honest.
        if (count > b.remaining() / 4) {
            return null;
        }
        List<byte[]> queries = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) {
            byte[] q = string(b);
            if (q == null) {
                return null;
            }
            queries.add(q);
        }
        return b.hasRemaining() ? null : new MetaContextRequest(name, queries);
    }

    /** A u32-length-prefixed string, or null if it overruns or is longer than proto.md allows. */
    private static byte[] string(ByteBuffer b) {
        if (b.remaining() < 4) {
            return null;
        }
        long length = Integer.toUnsignedLong(b.getInt());
        if (length > b.remaining() || length > NbdProtocol.STRING_MAX_BYTES) {
            return null;
        }
        byte[] s = new byte[(int) length];
        b.get(s);
        return s;
    }
}
