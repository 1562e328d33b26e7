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
    /**
     * Replies per gathering write: 32 headers and payloads (64 iovecs, far under IOV_MAX) cut the
     * syscalls of a deep pipeline of small requests by up to 32 times.
     */
    static final int BATCH_REPLIES_MAX = 32;
    /** Stop adding replies past this much payload: one large read already fills the socket buffer. */
    static final long BATCH_PAYLOAD_BYTES_MAX = 1 << 20;
    /** Header scratch for one batch, and the batch itself. Owner: the writer thread. */
    private final ByteBuffer headers = ByteBuffer.allocate(BATCH_REPLIES_MAX * ReplyDescriptor.HEADER_SCRATCH_BYTES);
    private final Reply[] batch = new Reply[BATCH_REPLIES_MAX];
    private final ByteBuffer[] iov = new ByteBuffer[2 * BATCH_REPLIES_MAX];
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
            int n = takeBatch();
            if (n == 0) {
                if (inputDone && outstanding.get() == 0) {
                    return;
                }
                continue;
            }
            if (!broken) {
                send(n);
            }
            for (int i = 0; i < n; i++) {
                admission.release(batch[i].ticket);
                batch[i] = null;
            }
            int left = outstanding.addAndGet(-n);
            assert left >= 0 : name + ": more replies than admitted requests";
        }
    }

    /** Takes up to {@link #BATCH_REPLIES_MAX} replies, stopping once {@link #BATCH_PAYLOAD_BYTES_MAX} is passed. */
    private int takeBatch() {
        int n = 0;
        long payloadBytes = 0;
        Reply r;
        while (n < BATCH_REPLIES_MAX && payloadBytes < BATCH_PAYLOAD_BYTES_MAX && (r = queue.poll()) != null) {
            batch[n++] = r;
            payloadBytes += r.kind == Reply.Kind.READ_DATA ? r.request.lengthBytes() : r.payloadBytes;
        }
        return n;
    }

    /** Encodes {@code n} replies and writes them with one gathering write. */
    private void send(int n) {
        headers.clear();
        int k = 0;
        for (int i = 0; i < n; i++) {
            int start = headers.position();
            ByteBuffer payload = encode(batch[i]);
            iov[k++] = headers.slice(start, headers.position() - start);
            if (payload != null) {
                iov[k++] = payload;
            }
        }
        try {
            transport.write(iov, 0, k);
        } catch (IOException e) {
            broken = true;
            LOG.log(System.Logger.Level.DEBUG, () -> name + ": reply not sent, dropping the rest: " + e);
            try {
                transport.close();
            } catch (IOException ignored) {
                // already failing
            }
        } finally {
            java.util.Arrays.fill(iov, 0, k, null);
        }
    }

    /** Appends the header(s) of {@code r} to {@link #headers}; returns the payload to follow, if any. */
    private ByteBuffer encode(Reply r) {
        long cookie = r.request.cookie();
        if (r.error != 0) {
            if (session.structuredReplies()) {
                ReplyDescriptor.error(headers, cookie, r.error, r.message);
            } else {
                // A simple READ error carries no data (proto.md: MUST NOT send any payload).
                ReplyDescriptor.simple(headers, r.error, cookie);
            }
            return null;
        }
        return switch (r.kind) {
            case STATUS -> {
                ReplyDescriptor.simple(headers, 0, cookie);
                yield null;
            }
            case READ_DATA -> {
                long length = r.request.lengthBytes();
                if (session.structuredReplies()) {
                    ReplyDescriptor.offsetData(headers, cookie, r.request.offsetBytes(), length, true);
                } else {
                    ReplyDescriptor.simple(headers, 0, cookie);
                }
                yield r.ticket.buffer().segment().asByteBuffer();
            }
            case BLOCK_STATUS -> {
                assert session.structuredReplies() : "BLOCK_STATUS is validated to need structured replies";
                ReplyDescriptor.blockStatus(headers, cookie, r.payloadBytes);
                yield r.ticket.buffer().slice(0, r.payloadBytes).asByteBuffer();
            }
        };
    }
}
