package io.jmd.nbd.client;

import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.nbd.NbdTransport;
import io.jmd.nbd.RequestDescriptor;
import io.jmd.sync.Clock;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.jmd.nbd.NbdProtocol.*;

/**
 * The sending half of a connection: takes queued bios in order, turns each into NBD requests and
 * writes them. Runs on the sender thread only (the cookie counter and header buffer are its own).
 *
 * <p>What a bio becomes, given the export's flags:
 * <ul>
 *   <li>READ, WRITE: requests of at most the maximum payload; WRITE carries FUA if asked and the
 *       server has it (else the bio gets a FLUSH once the writes are answered, when the server has
 *       FLUSH; with neither, the server keeps no write cache to flush);</li>
 *   <li>FLUSH: NBD_CMD_FLUSH, or nothing when the server has none (nothing to flush);</li>
 *   <li>DISCARD: NBD_CMD_TRIM when the server has it, else nothing (a hint);</li>
 *   <li>WRITE_ZEROES: NBD_CMD_WRITE_ZEROES (NO_HOLE for {@link Bio#NO_UNMAP}) when the server has
 *       it, else WRITEs of zeroes from one shared buffer, so md's resync and create can rely on it.</li>
 * </ul>
 * Each request goes into {@code pending} before its bytes go out, so a reply can never find it
 * missing; if the connection is found broken after that, the receiver (the only thread that
 * takes requests out of {@code pending}) is woken to end it.
 */
final class RequestSender {
    /** TRIM and WRITE_ZEROES carry no payload; cut them well inside the u32 length. */
    static final long NON_PAYLOAD_MAX_BYTES = 1L << 30;
    /** WRITE_ZEROES without server support: zeroes sent from this read-only buffer. */
    static final int ZERO_BUFFER_BYTES = 1 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(ZERO_BUFFER_BYTES).asReadOnlyBuffer();

    /** What the sender needs from its device. */
    interface Link {
        boolean broken();

        /** The connection failed: remember why, close it, wake the receiver. */
        void fail(IOException cause);

        /** Requests were put into pending after the connection broke: the receiver must end them. */
        void wakeReceiver();

        /** The last request (or the bias) of {@code w} is done: end the bio, or start its flush stage. */
        void finish(BioWork w);
    }

    private final NbdTransport transport;
    private final ExportInfo info;
    private final boolean readOnly;
    private final ConcurrentHashMap<Long, Command> pending;
    private final ConcurrentLinkedQueue<BioWork> queue;
    private final Clock clock;
    private final Link link;
    private final ByteBuffer header = ByteBuffer.allocateDirect(RequestDescriptor.BYTES);
    private long nextCookie = 1;

    RequestSender(NbdTransport transport, ExportInfo info, boolean readOnly, ConcurrentHashMap<Long, Command> pending,
                  ConcurrentLinkedQueue<BioWork> queue, Clock clock, Link link) {
        this.transport = transport;
        this.info = info;
        this.readOnly = readOnly;
        this.pending = pending;
        this.queue = queue;
        this.clock = clock;
        this.link = link;
    }

    /** Whether a FUA {@code bio} needs a FLUSH after it: the server has FLUSH but not FUA. */
    static boolean needsFlushAfter(Bio bio, ExportInfo info) {
        return bio.fua() && (bio.op == Bio.Op.WRITE || bio.op == Bio.Op.WRITE_ZEROES)
            && !info.has(TFLAG_SEND_FUA) && info.has(TFLAG_SEND_FLUSH);
    }

    /** Sends everything queued (the sender thread's handler). */
    void drain() {
        BioWork w;
        while ((w = queue.poll()) != null) {
            if (link.broken()) {
                w.fail(Errno.EIO);
            } else {
                try {
                    send(w);
                } catch (IOException e) {
                    w.fail(Errno.EIO);
                    link.fail(e);
                } catch (RuntimeException e) {
                    w.fail(Errno.EIO);
                    link.fail(new IOException("sending " + w + " failed unexpectedly: " + e, e));
                }
            }
            if (w.release()) { // the sender's bias
                link.finish(w);
            }
        }
    }

    private void send(BioWork w) throws IOException {
        Bio b = w.bio;
        if (w.flushStage) {
            request(w, CMD_FLUSH, 0, 0, 0, 0, false);
            return;
        }
        if (b.op != Bio.Op.READ && b.op != Bio.Op.FLUSH && (readOnly || info.readOnly())) {
            w.fail(Errno.EROFS);
            return;
        }
        int fua = b.fua() && info.has(TFLAG_SEND_FUA) ? CMD_FLAG_FUA : 0;
        switch (b.op) {
            case READ -> pieces(w, CMD_READ, 0, info.maxPayloadBytes(), false);
            case WRITE -> pieces(w, CMD_WRITE, fua, info.maxPayloadBytes(), false);
            case FLUSH -> {
                if (info.has(TFLAG_SEND_FLUSH)) {
                    request(w, CMD_FLUSH, 0, 0, 0, 0, false);
                }
            }
            case DISCARD -> {
                if (info.has(TFLAG_SEND_TRIM)) {
                    pieces(w, CMD_TRIM, fua, NON_PAYLOAD_MAX_BYTES, false);
                }
            }
            case WRITE_ZEROES -> {
                if (info.has(TFLAG_SEND_WRITE_ZEROES)) {
                    int noHole = (b.flags & Bio.NO_UNMAP) != 0 ? CMD_FLAG_NO_HOLE : 0;
                    pieces(w, CMD_WRITE_ZEROES, fua | noHole, NON_PAYLOAD_MAX_BYTES, false);
                } else {
                    pieces(w, CMD_WRITE, fua, Math.min(info.maxPayloadBytes(), ZERO_BUFFER_BYTES), true);
                }
            }
        }
    }

    /** The bio's range as requests of at most {@code max} bytes (a multiple of the minimum block). */
    private void pieces(BioWork w, int type, int flags, long max, boolean zeroes) throws IOException {
        Bio b = w.bio;
        for (long done = 0; done < b.lengthBytes; ) {
            long n = Math.min(max, b.lengthBytes - done);
            if (!request(w, type, flags, b.offsetBytes + done, n, done, zeroes)) {
                return;
            }
            done += n;
        }
    }

    /** Sends one request; false (having sent nothing) if the connection is broken. */
    private boolean request(BioWork w, int type, int flags, long offset, long length, long dataOffset, boolean zeroes)
        throws IOException {
        Command c = new Command(w, nextCookie++, type, flags, offset, length, dataOffset, zeroes);
        w.outstanding.incrementAndGet();
        c.sentNanos = clock.nanoTime();
        pending.put(c.cookie, c);
        if (link.broken()) {
            // The receiver may have drained pending already; it drains again when woken.
            w.fail(Errno.EIO);
            link.wakeReceiver();
            return false;
        }
        RequestDescriptor.put(header, flags, type, c.cookie, offset, length);
        header.clear();
        if (!c.carriesPayload()) {
            transport.write(header);
        } else if (zeroes) {
            transport.write(header, ZEROES.duplicate().limit((int) length));
        } else {
            transport.write(header, w.bio.data.asSlice(dataOffset, length).asByteBuffer());
        }
        return true;
    }
}
