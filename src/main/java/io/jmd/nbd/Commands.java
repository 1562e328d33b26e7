package io.jmd.nbd;

import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;

import java.io.IOException;

import static io.jmd.nbd.NbdProtocol.*;

/**
 * Turns validated requests into bios on the export's device. Runs on the connection's reader
 * thread; bio callbacks (I/O threads, must not block) only complete the reply and queue it.
 *
 * <p>Flush and CAN_MULTI_CONN: we reply to a write only after its bio ended, and every
 * connection to an export submits to the same device with no cache of ours in between. So when
 * a FLUSH arrives, every write replied to on any connection has ended at the device, and the
 * device's FLUSH bio covers it; FUA passes {@link Bio#FUA} down so the reply waits for
 * durability. This relies on BlockDevice FLUSH meaning "everything that ended before is durable",
 * like a disk cache flush.
 */
final class Commands {
    private final Session session;
    private final BlockDevice device;
    private final Admission admission;
    private final ReplyWriter writer;
    private final RequestStream input;
    /** BLOCK_STATUS replies are built on the reader, into this many bytes from the budget. */
    private static final int BLOCK_STATUS_BYTES = NbdLimits.BLOCK_STATUS_BUFFER_BYTES;

    Commands(Session session, Admission admission, ReplyWriter writer, RequestStream input) {
        this.session = session;
        this.device = session.export().device;
        this.admission = admission;
        this.writer = writer;
        this.input = input;
    }

    /** Answers a refused request (its payload, if any, was already skipped). */
    void reject(Request r, RequestValidator.Rejection x) {
        Reply reply = new Reply(r, Reply.Kind.STATUS, admit(0));
        writer.enqueue(reply.fail(x.error(), x.message()));
    }

    void dispatch(Request r) throws IOException {
        switch (r.type()) {
            case CMD_READ -> read(r);
            case CMD_WRITE -> write(r);
            case CMD_FLUSH -> submit(r, new Reply(r, Reply.Kind.STATUS, admit(0)), Bio.Op.FLUSH, 0, 0, 0);
            case CMD_TRIM -> submit(r, new Reply(r, Reply.Kind.STATUS, admit(0)), Bio.Op.DISCARD,
                r.offsetBytes(), r.lengthBytes(), fua(r));
            case CMD_WRITE_ZEROES -> writeZeroes(r);
            case CMD_CACHE -> writer.enqueue(new Reply(r, Reply.Kind.STATUS, admit(0))); // advisory: nothing to do
            case CMD_BLOCK_STATUS -> blockStatus(r);
            default -> throw new AssertionError("validator let through " + r);
        }
    }

    private Admission.Ticket admit(long payloadBytes) {
        Admission.Ticket t = admission.admit(payloadBytes);
        writer.admitted();
        return t;
    }

    private void read(Request r) {
        Reply reply = new Reply(r, Reply.Kind.READ_DATA, admit(r.lengthBytes()));
        Bio bio = Bio.read(r.offsetBytes(), reply.ticket.buffer().segment(), reply, b -> ended(reply, b));
        submit(reply, bio);
    }

    private void write(Request r) throws IOException {
        Admission.Ticket t = admission.admit(r.lengthBytes());
        try {
            input.readPayload(t.buffer().segment().asByteBuffer());
        } catch (IOException | RuntimeException e) {
            admission.release(t); // never reached the writer: give it back here
            throw e;
        }
        writer.admitted();
        Reply reply = new Reply(r, Reply.Kind.STATUS, t);
        submit(reply, Bio.write(r.offsetBytes(), t.buffer().segment(), fua(r), reply, b -> ended(reply, b)));
    }

    private void writeZeroes(Request r) {
        Reply reply = new Reply(r, Reply.Kind.STATUS, admit(0));
        if (r.has(CMD_FLAG_FAST_ZERO)) {
            // We cannot know that the device zeroes faster than it writes: proto.md wants ENOTSUP then.
            writer.enqueue(reply.fail(ENOTSUP, "fast zeroing is not available"));
            return;
        }
        int flags = fua(r) | (r.has(CMD_FLAG_NO_HOLE) ? Bio.NO_UNMAP : 0);
        submit(r, reply, Bio.Op.WRITE_ZEROES, r.offsetBytes(), r.lengthBytes(), flags);
    }

    private void blockStatus(Request r) {
        Reply reply = new Reply(r, Reply.Kind.BLOCK_STATUS, admit(BLOCK_STATUS_BYTES));
        try {
            reply.payloadBytes = BlockStatusEncoder.encode(device, r.offsetBytes(), r.lengthBytes(),
                r.has(CMD_FLAG_REQ_ONE), Handshake.BASE_ALLOCATION_ID, reply.ticket.buffer().segment().asByteBuffer());
        } catch (RuntimeException e) {
            // The admitted reply must reach the writer whatever happens, or the connection never ends.
            reply.fail(EIO, "block status failed: " + e.getMessage());
        }
        writer.enqueue(reply);
    }

    private void submit(Request r, Reply reply, Bio.Op op, long offsetBytes, long lengthBytes, int flags) {
        assert reply.request == r;
        submit(reply, new Bio(op, offsetBytes, lengthBytes, null, flags, reply, b -> ended(reply, b)));
    }

    private void submit(Reply reply, Bio bio) {
        try {
            device.submit(bio);
        } catch (RuntimeException e) {
            if (!bio.ended()) {
                // The device refused the bio outright (closed, say): an I/O error for this request only.
                writer.enqueue(reply.fail(EIO, "device refused the request: " + e.getMessage()));
            } else {
                throw e;
            }
        }
    }

    /** Bio callback: must not block. */
    private void ended(Reply reply, Bio bio) {
        int error = NbdErrors.fromErrno(bio.status(), reply.request.flags());
        if (error != 0) {
            reply.fail(error, bio.op + " failed: " + NbdErrors.describe(bio.status()));
        }
        writer.enqueue(reply);
    }

    private static int fua(Request r) {
        return r.has(CMD_FLAG_FUA) ? Bio.FUA : 0;
    }
}
