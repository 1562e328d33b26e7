package io.jmd.nbd.client;

import io.jmd.nbd.NbdProtocol;

import java.util.Map;
import java.util.TreeMap;

/**
 * One NBD request on the wire: its cookie, command, range on the export, and where its data sits
 * in the bio ({@code dataOffset}: READ fills, WRITE sends bio.data from there). Created by the
 * sender; after it is sent only the receiver thread touches the reply fields, so they need no
 * synchronisation.
 */
final class Command {
    final BioWork work;
    final long cookie;
    final int type;
    final int flags;
    final long offsetBytes;
    final long lengthBytes;
    /** Offset into bio.data of this request's bytes (READ and WRITE). */
    final long dataOffset;
    /** WRITE_ZEROES done as WRITEs of zeroes: the payload comes from the zero buffer. */
    final boolean zeroPayload;
    /** When it went out (clock nanos), for the reply timeout. */
    volatile long sentNanos;

    // ---- receiver-only state for structured replies ----
    /** First error a chunk reported (NBD errno), 0 if none. */
    int error;
    /** READ bytes covered by data and hole chunks. */
    long coveredBytes;
    /** Chunks seen, bounded so that a server cannot make us keep an endless range map. */
    int chunks;
    /** READ ranges covered (start -> end), to refuse overlapping chunks; made on the second chunk. */
    private TreeMap<Long, Long> covered;
    private long firstStart = -1;
    private long firstEnd = -1;

    Command(BioWork work, long cookie, int type, int flags, long offsetBytes, long lengthBytes, long dataOffset,
            boolean zeroPayload) {
        assert lengthBytes >= 0 && lengthBytes <= 0xffff_ffffL : "NBD lengths are u32: " + lengthBytes;
        this.work = work;
        this.cookie = cookie;
        this.type = type;
        this.flags = flags;
        this.offsetBytes = offsetBytes;
        this.lengthBytes = lengthBytes;
        this.dataOffset = dataOffset;
        this.zeroPayload = zeroPayload;
    }

    boolean carriesPayload() {
        return type == NbdProtocol.CMD_WRITE;
    }

    /**
     * Records that a chunk covered [start, start + length) of this READ; false if it overlaps a
     * range covered before (proto.md: chunks of one reply MUST NOT overlap).
     */
    boolean cover(long start, long length) {
        long end = start + length;
        coveredBytes += length;
        if (firstStart < 0) {
            firstStart = start;
            firstEnd = end;
            return true;
        }
        if (covered == null) {
            covered = new TreeMap<>();
            covered.put(firstStart, firstEnd);
        }
        Map.Entry<Long, Long> below = covered.floorEntry(start);
        if (below != null && below.getValue() > start) {
            return false;
        }
        Map.Entry<Long, Long> above = covered.ceilingEntry(start);
        if (above != null && above.getKey() < end) {
            return false;
        }
        covered.put(start, end);
        return true;
    }

    @Override
    public String toString() {
        return NbdProtocol.commandName(type) + "@" + offsetBytes + "+" + lengthBytes + " cookie " + cookie;
    }
}
