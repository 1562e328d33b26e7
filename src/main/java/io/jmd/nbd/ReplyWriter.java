package io.jmd.nbd;

import io.jmd.sync.Scheduler;
import io.jmd.sync.WaitQueue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The writing half of a connection, on a thread of its own: replies arrive in any order (bio
 * callbacks on I/O threads, or the reader for immediate answers) and go out in arrival order.
 * Bio callbacks must not block, and a socket write can, so they only {@link #enqueue}.
 *
 * <p>The queue is bounded by admission: a reply exists only for an admitted request, and a
 * request keeps its slot until its reply has left here. Once the socket fails, replies are
 * dropped but still released, so every buffer comes back exactly once.
 *
 * <p>Ends when the reader has stopped ({@link #inputDone}) and every admitted request has been
 * answered or dropped; in-flight bios are always waited for, never abandoned.
 */
final class ReplyWriter {
    private static final System.Logger LOG = System.getLogger(ReplyWriter.class.getName());

    private final NbdTransport transport;
    private final Session session;
    private final Admission admission;
    private final String name;
    private final ConcurrentLinkedQueue<Reply> queue = new ConcurrentLinkedQueue<>();
    private final WaitQueue ready;
    /** Admitted requests not yet released. Incremented by the reader, decremented here. */
    private final AtomicInteger outstanding = new AtomicInteger();
    private volatile boolean inputDone;
    /** Header scratch, reused for every reply. Owner: the writer thread. */
    private final ByteBuffer header = ByteBuffer.allocate(ReplyDescriptor.HEADER_SCRATCH_BYTES);
    /** The socket failed: drop replies from now on. Owner: the writer thread. */
    private boolean broken;

    ReplyWriter(Scheduler scheduler, NbdTransport transport, Session session, Admission admission, String name) {
        this.transport = transport;
        this.session = session;
        this.admission = admission;
        this.name = name;
        this.ready = new WaitQueue(scheduler, name + " replies");
    }

    /** The reader admitted a request whose reply will be enqueued. */
    void admitted() {
        outstanding.incrementAndGet();
    }

    /** Hands a completed reply over; never blocks (safe in bio callbacks). */
    void enqueue(Reply r) {
        queue.add(r);
        ready.wakeAll();
    }

    /** The reader will admit nothing more. */
    void inputDone() {
        inputDone = true;
        ready.wakeAll();
    }

    int outstanding() {
        return outstanding.get();
    }

    void run() {
        while (true) {
            ready.waitUntil(() -> !queue.isEmpty() || (inputDone && outstanding.get() == 0));
            Reply r = queue.poll();
            if (r == null) {
                if (inputDone && outstanding.get() == 0) {
                    return;
                }
                continue;
            }
            if (!broken) {
                send(r);
            }
            admission.release(r.ticket);
            int left = outstanding.decrementAndGet();
            assert left >= 0 : name + ": more replies than admitted requests";
        }
    }

    private void send(Reply r) {
        try {
            header.clear();
            ByteBuffer payload = encode(r);
            header.flip();
            if (payload == null) {
                transport.write(header);
            } else {
                transport.write(header, payload);
            }
        } catch (IOException e) {
            broken = true;
            LOG.log(System.Logger.Level.DEBUG, () -> name + ": reply not sent, dropping the rest: " + e);
            try {
                transport.close();
            } catch (IOException ignored) {
                // already failing
            }
        }
    }

    /** Writes the header(s) of {@code r} into {@link #header}; returns the payload to follow, if any. */
    private ByteBuffer encode(Reply r) {
        long cookie = r.request.cookie();
        if (r.error != 0) {
            if (session.structuredReplies()) {
                ReplyDescriptor.error(header, cookie, r.error, r.message);
            } else {
                // A simple READ error carries no data (proto.md: MUST NOT send any payload).
                ReplyDescriptor.simple(header, r.error, cookie);
            }
            return null;
        }
        return switch (r.kind) {
            case STATUS -> {
                ReplyDescriptor.simple(header, 0, cookie);
                yield null;
            }
            case READ_DATA -> {
                long length = r.request.lengthBytes();
                if (session.structuredReplies()) {
                    ReplyDescriptor.offsetData(header, cookie, r.request.offsetBytes(), length, true);
                } else {
                    ReplyDescriptor.simple(header, 0, cookie);
                }
                yield r.ticket.buffer().segment().asByteBuffer();
            }
            case BLOCK_STATUS -> {
                assert session.structuredReplies() : "BLOCK_STATUS is validated to need structured replies";
                ReplyDescriptor.blockStatus(header, cookie, r.payloadBytes);
                yield r.ticket.buffer().slice(0, r.payloadBytes).asByteBuffer();
            }
        };
    }
}
