package io.jmd.md.mapped;

import io.jmd.mem.Pooled;

/**
 * One member I/O of a {@link MappedRequest}: a piece of the request on one copy. A read keeps every
 * copy of its piece, so that the md thread can retry it on another one without allocating.
 */
final class MappedIo extends Pooled {
    MappedRequest request;
    /** Byte offset of the piece in the parent request, and its length. */
    long pieceOffsetBytes;
    long lengthBytes;
    /** The copies of the piece: slot and byte offset from the member's data offset. */
    final int[] devices;
    final long[] memberOffsets;
    int copies;
    /** The copy this I/O goes to now (index into devices). */
    int current;
    /** Copies a read was tried on (submitter, then the md thread: never concurrently). */
    long tried;

    MappedIo(int maxCopies) {
        devices = new int[maxCopies];
        memberOffsets = new long[maxCopies];
    }

    void init(MappedRequest request, long pieceOffsetBytes, long lengthBytes) {
        this.request = request;
        this.pieceOffsetBytes = pieceOffsetBytes;
        this.lengthBytes = lengthBytes;
        this.copies = 0;
        this.current = -1;
        this.tried = 0;
    }
}
