package io.jmd.nbd.client;

import io.jmd.block.Errno;
import io.jmd.nbd.NbdProtocol;
import io.jmd.nbd.NbdTransport;
import io.jmd.nbd.ReplyDescriptor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ConcurrentHashMap;

import static io.jmd.nbd.NbdProtocol.*;

/**
 * The receiving half of a connection: reads replies, matches them to requests by cookie, puts
 * READ data straight into the bio's buffer, and hands each answered request to the completer.
 * Runs on the receiver thread only; it is the only code that takes requests out of
 * {@code pending} while the connection works, so a READ's buffer is never written after its bio
 * ended.
 *
 * <p>Checks, each a {@link NbdProtocolError} that ends the connection: reply magic; a cookie that
 * is not in flight; a structured reply that was not negotiated; a simple reply with data to a
 * READ under structured replies; chunk types that do not fit the request (data chunks for
 * anything but READ, BLOCK_STATUS we never ask for, unknown non-error types); chunk ranges outside
 * the request or overlapping each other; a READ answered as a success without every byte; an
 * error chunk with error 0 or a message longer than its chunk; chunks longer than any request
 * can need. Nothing is buffered beyond a fixed scratch area, so a hostile length cannot exhaust
 * memory, and every read is of a length checked first, so a malformed reply never makes us wait
 * for bytes that will not come except on a server that also stops sending (the reply timeout).
 */
final class ReplyReader {
    /** Error chunks carry a message for a human; longer than this is not a reply we understand. */
    static final int ERROR_CHUNK_MAX_BYTES = 64 * 1024;

    interface Completer {
        /** {@code c} was answered; {@code errno} 0 or the error it ended with. */
        void complete(Command c, int errno);
    }

    private static final System.Logger LOG = System.getLogger(ReplyReader.class.getName());

    private final NbdTransport transport;
    private final ConcurrentHashMap<Long, Command> pending;
    private final boolean structured;
    private final String name;
    private final Completer completer;
    private final ByteBuffer header = ByteBuffer.allocateDirect(ReplyDescriptor.CHUNK_BYTES);
    private final ByteBuffer scratch = ByteBuffer.allocate(ERROR_CHUNK_MAX_BYTES);
    /** Zeroes for OFFSET_HOLE chunks. */
    private static final MemorySegment ZEROES = MemorySegment.ofArray(new byte[64 * 1024]);
    private volatile String lastServerMessage;

    ReplyReader(NbdTransport transport, ConcurrentHashMap<Long, Command> pending, boolean structured, String name,
                Completer completer) {
        this.transport = transport;
        this.pending = pending;
        this.structured = structured;
        this.name = name;
        this.completer = completer;
    }

    /** The text of the last error chunk, for diagnostics (null if none came). */
    String lastServerMessage() {
        return lastServerMessage;
    }

    /** Reads replies until the server ends the stream between replies (returns) or anything fails (throws). */
    void run() throws IOException {
        while (true) {
            header.clear().limit(4);
            if (!transport.readFully(header)) {
                return;
            }
            int magic = ReplyDescriptor.magic(header);
            if (magic == SIMPLE_REPLY_MAGIC) {
                header.limit(ReplyDescriptor.SIMPLE_BYTES);
                transport.readExactly(header);
                simple(ReplyDescriptor.simpleError(header), ReplyDescriptor.simpleCookie(header));
            } else if (magic == STRUCTURED_REPLY_MAGIC) {
                if (!structured) {
                    throw new NbdProtocolError(name + ": structured reply, but structured replies were not negotiated");
                }
                header.limit(ReplyDescriptor.CHUNK_BYTES);
                transport.readExactly(header);
                chunk(ReplyDescriptor.chunkFlags(header), ReplyDescriptor.chunkType(header),
                    ReplyDescriptor.chunkCookie(header), ReplyDescriptor.chunkLength(header));
            } else {
                throw new NbdProtocolError(name + ": bad reply magic 0x" + Integer.toHexString(magic));
            }
        }
    }

    private Command inFlight(long cookie, String what) throws NbdProtocolError {
        Command c = pending.get(cookie);
        if (c == null) {
            throw new NbdProtocolError(name + ": " + what + " for cookie " + Long.toUnsignedString(cookie)
                + ", which is not in flight");
        }
        return c;
    }

    private void simple(int error, long cookie) throws IOException {
        Command c = inFlight(cookie, "simple reply");
        if (c.type == CMD_READ && structured && error == 0) {
            throw new NbdProtocolError(name + ": simple reply with data to " + c + " under structured replies");
        }
        pending.remove(cookie);
        if (c.type == CMD_READ && error == 0) {
            try {
                readInto(c, c.dataOffset, c.lengthBytes);
            } catch (IOException e) {
                completer.complete(c, Errno.EIO); // out of pending already: nobody else would end it
                throw e;
            }
        }
        completer.complete(c, errnoOf(error));
    }

    private void chunk(int flags, int type, long cookie, long length) throws IOException {
        Command c = inFlight(cookie, "reply chunk type " + type);
        boolean done = (flags & REPLY_FLAG_DONE) != 0;
        if (++c.chunks > c.lengthBytes / 512 + 16) {
            throw new NbdProtocolError(name + ": more than " + c.chunks + " chunks for " + c);
        }
        if ((type & 0x8000) != 0) {
            errorChunk(c, type, length);
        } else {
            switch (type) {
                case REPLY_TYPE_NONE -> {
                    if (length != 0 || !done) {
                        throw new NbdProtocolError(name + ": NONE chunk with " + length + " bytes"
                            + (done ? "" : " and without DONE") + " for " + c);
                    }
                }
                case REPLY_TYPE_OFFSET_DATA -> offsetData(c, length);
                case REPLY_TYPE_OFFSET_HOLE -> offsetHole(c, length);
                default -> throw new NbdProtocolError(name + ": chunk type " + type + " for " + c
                    + (type == REPLY_TYPE_BLOCK_STATUS ? " (no block status was asked for)" : " (unknown)"));
            }
        }
        if (!done) {
            return;
        }
        pending.remove(cookie);
        if (c.error == 0 && c.type == CMD_READ && c.coveredBytes != c.lengthBytes) {
            completer.complete(c, Errno.EIO);
            throw new NbdProtocolError(name + ": " + c + " answered as done with " + c.coveredBytes + " of "
                + c.lengthBytes + " bytes");
        }
        completer.complete(c, c.error == 0 ? 0 : errnoOf(c.error));
    }

    private void offsetData(Command c, long length) throws IOException {
        if (c.type != CMD_READ || length <= ReplyDescriptor.OFFSET_DATA_PREFIX_BYTES) {
            throw new NbdProtocolError(name + ": OFFSET_DATA chunk of " + length + " bytes for " + c);
        }
        long at = readLong();
        long n = length - ReplyDescriptor.OFFSET_DATA_PREFIX_BYTES;
        checkRange(c, at, n, "OFFSET_DATA");
        readInto(c, c.dataOffset + (at - c.offsetBytes), n);
    }

    private void offsetHole(Command c, long length) throws IOException {
        if (c.type != CMD_READ || length != ReplyDescriptor.OFFSET_HOLE_BYTES) {
            throw new NbdProtocolError(name + ": OFFSET_HOLE chunk of " + length + " bytes for " + c);
        }
        long at = readLong();
        long n = Integer.toUnsignedLong(readInt());
        if (n == 0) {
            throw new NbdProtocolError(name + ": empty OFFSET_HOLE for " + c);
        }
        checkRange(c, at, n, "OFFSET_HOLE");
        MemorySegment into = c.work.bio.data.asSlice(c.dataOffset + (at - c.offsetBytes), n);
        for (long done = 0; done < n; done += ZEROES.byteSize()) {
            long k = Math.min(ZEROES.byteSize(), n - done);
            into.asSlice(done, k).copyFrom(ZEROES.asSlice(0, k));
        }
    }

    /** A data or hole chunk must lie inside the request and not overlap an earlier one. */
    private void checkRange(Command c, long at, long n, String what) throws NbdProtocolError {
        boolean inside = at >= c.offsetBytes && n <= c.lengthBytes && at - c.offsetBytes <= c.lengthBytes - n;
        if (!inside) {
            throw new NbdProtocolError(name + ": " + what + " at " + Long.toUnsignedString(at) + "+" + n
                + " outside " + c);
        }
        if (!c.cover(at, n)) {
            throw new NbdProtocolError(name + ": " + what + " at " + at + "+" + n + " overlaps an earlier chunk of " + c);
        }
    }

    /** ERROR, ERROR_OFFSET, or an error type we do not know (proto.md: treat it as an error all the same). */
    private void errorChunk(Command c, int type, long length) throws IOException {
        if (length < ReplyDescriptor.ERROR_PREFIX_BYTES || length > ERROR_CHUNK_MAX_BYTES) {
            throw new NbdProtocolError(name + ": error chunk of " + length + " bytes for " + c);
        }
        scratch.clear().limit((int) length);
        transport.readExactly(scratch);
        int error = scratch.getInt(0);
        int messageBytes = Short.toUnsignedInt(scratch.getShort(4));
        long rest = length - ReplyDescriptor.ERROR_PREFIX_BYTES - messageBytes;
        boolean fits = type == REPLY_TYPE_ERROR_OFFSET ? rest == ReplyDescriptor.ERROR_OFFSET_SUFFIX_BYTES
            : type == REPLY_TYPE_ERROR ? rest == 0 : rest >= 0;
        if (!fits) {
            throw new NbdProtocolError(name + ": error chunk type 0x" + Integer.toHexString(type) + " of " + length
                + " bytes with a message of " + messageBytes + " for " + c);
        }
        if (error == 0) {
            throw new NbdProtocolError(name + ": error chunk with error 0 for " + c);
        }
        String message = new String(scratch.array(), ReplyDescriptor.ERROR_PREFIX_BYTES, messageBytes, StandardCharsets.UTF_8);
        lastServerMessage = message;
        LOG.log(System.Logger.Level.DEBUG, () -> name + ": " + c + " failed on the server: " + errnoName(error)
            + (message.isEmpty() ? "" : ": " + message));
        if (c.error == 0) {
            c.error = error;
        }
    }

    private void readInto(Command c, long bioOffset, long n) throws IOException {
        ByteBuffer b = c.work.bio.data.asSlice(bioOffset, n).asByteBuffer();
        transport.readExactly(b);
    }

    private long readLong() throws IOException {
        scratch.clear().limit(8);
        transport.readExactly(scratch);
        return scratch.getLong(0);
    }

    private int readInt() throws IOException {
        scratch.clear().limit(4);
        transport.readExactly(scratch);
        return scratch.getInt(0);
    }

    /** The server's NBD error as the bio's errno: the numbers are Linux's; unknown ones are EIO. */
    static int errnoOf(int nbdError) {
        return switch (nbdError) {
            case 0 -> Errno.OK;
            case NbdProtocol.EPERM, NbdProtocol.EIO, NbdProtocol.ENOMEM, NbdProtocol.EINVAL, NbdProtocol.ENOSPC,
                 NbdProtocol.EOVERFLOW, NbdProtocol.ENOTSUP, NbdProtocol.ESHUTDOWN -> nbdError;
            default -> Errno.EIO;
        };
    }

    private static String errnoName(int nbdError) {
        return Errno.name(errnoOf(nbdError)) + (errnoOf(nbdError) == nbdError ? "" : " (" + Integer.toUnsignedString(nbdError) + ")");
    }
}
