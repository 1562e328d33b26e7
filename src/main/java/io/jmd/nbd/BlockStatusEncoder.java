package io.jmd.nbd;

import io.jmd.block.BlockDevice;

import java.nio.ByteBuffer;

/**
 * Builds the payload of a base:allocation BLOCK_STATUS chunk from what the device knows
 * ({@link BlockDevice#blockStatus}). It never claims more than the device said: flags are the
 * device's hole/zero bits, a gap or disorder in the device's extents ends the list there, and
 * if the device said nothing about the start, one extent of "data, contents unknown" (flags 0,
 * always true) covers the request.
 *
 * <p>Rules (proto.md): at least one descriptor, each of non-zero length; their sum at most the
 * request's length; one descriptor with REQ_ONE. We merge neighbours with equal flags and stop
 * at the payload capacity (replying with less than asked is allowed).
 */
final class BlockStatusEncoder implements BlockDevice.ExtentSink {
    private final long startBytes;
    private final long endBytes;
    private final ByteBuffer out;
    private final int maxDescriptors;
    private int count;
    private long cursorBytes;
    private int lastFlags = -1;
    private boolean stopped;

    private BlockStatusEncoder(long offsetBytes, long lengthBytes, ByteBuffer out, int maxDescriptors) {
        this.startBytes = offsetBytes;
        this.endBytes = offsetBytes + lengthBytes;
        this.cursorBytes = offsetBytes;
        this.out = out;
        this.maxDescriptors = maxDescriptors;
    }

    /**
     * Fills {@code out} (from position 0) with context id and descriptors for
     * [{@code offsetBytes}, +{@code lengthBytes}); returns the payload length in bytes.
     */
    static int encode(BlockDevice device, long offsetBytes, long lengthBytes, boolean reqOne, int contextId,
                      ByteBuffer out) {
        assert lengthBytes > 0 && lengthBytes <= 0xffff_ffffL : "validated length " + lengthBytes;
        int capacity = (out.capacity() - ReplyDescriptor.BLOCK_STATUS_PREFIX_BYTES) / ReplyDescriptor.BLOCK_DESCRIPTOR_BYTES;
        assert capacity >= 1 : "room for one descriptor";
        out.clear();
        out.putInt(contextId);
        BlockStatusEncoder e = new BlockStatusEncoder(offsetBytes, lengthBytes, out, reqOne ? 1 : capacity);
        device.blockStatus(offsetBytes, lengthBytes, e);
        if (e.count == 0) {
            e.append(lengthBytes, 0);
        }
        int payload = out.position();
        assert payload == ReplyDescriptor.BLOCK_STATUS_PREFIX_BYTES + e.count * ReplyDescriptor.BLOCK_DESCRIPTOR_BYTES;
        assert e.cursorBytes <= e.endBytes : "descriptors cover more than asked";
        return payload;
    }

    @Override
    public void extent(long offsetBytes, long lengthBytes, boolean hole, boolean zero) {
        if (stopped || lengthBytes <= 0) {
            return;
        }
        long from = Math.max(offsetBytes, cursorBytes);
        long to = Math.min(offsetBytes + lengthBytes, endBytes);
        if (offsetBytes > cursorBytes) {
            stopped = true; // a gap: we know nothing about [cursor, offset), so say no more
            return;
        }
        if (to <= from) {
            return; // entirely before the cursor or past the end
        }
        int flags = (hole ? NbdProtocol.STATE_HOLE : 0) | (zero ? NbdProtocol.STATE_ZERO : 0);
        if (flags == lastFlags) {
            int lastLengthAt = out.position() - ReplyDescriptor.BLOCK_DESCRIPTOR_BYTES;
            long merged = Integer.toUnsignedLong(out.getInt(lastLengthAt)) + (to - from);
            assert merged <= endBytes - startBytes : "a descriptor longer than the request";
            out.putInt(lastLengthAt, (int) merged);
            cursorBytes = to;
        } else if (count < maxDescriptors) {
            append(to - from, flags);
        } else {
            stopped = true;
        }
    }

    private void append(long lengthBytes, int flags) {
        assert lengthBytes > 0 && lengthBytes <= 0xffff_ffffL : "descriptor length " + lengthBytes;
        out.putInt((int) lengthBytes).putInt(flags);
        count++;
        lastFlags = flags;
        cursorBytes += lengthBytes;
    }
}
