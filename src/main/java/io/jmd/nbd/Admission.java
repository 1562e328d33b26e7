package io.jmd.nbd;

import io.jmd.Env;
import io.jmd.mem.Buffer;
import io.jmd.sync.CountedResource;

/**
 * Admission control for one connection: before a request is read further or submitted, its
 * reader takes, in this order (the order is fixed; every unit is given back by the connection's
 * reply writer, never by a reader, so waiting readers cannot form a cycle):
 *
 * <ol>
 *   <li>a slot of this connection ({@link NbdLimits#requestsPerConnection});</li>
 *   <li>a slot of the server ({@link NbdLimits#requestsTotal}), shared by all connections;</li>
 *   <li>for a payload, its buffer-class bytes of this connection's byte allowance
 *       ({@link NbdLimits#inflightBytesPerConnection});</li>
 *   <li>the payload buffer itself, from {@code env.buffers()} (the process memory budget).</li>
 * </ol>
 *
 * Each step may wait: that is the backpressure. The reader thread has the CLIENT role and holds
 * no lock, so the checker allows it to wait. Release never blocks (it runs on the writer thread).
 */
final class Admission {
    /** What one admitted request holds until its reply is sent or dropped. */
    record Ticket(Buffer buffer, long chargedBytes) {
        Ticket {
            assert (buffer == null) == (chargedBytes == 0) : "a buffer iff charged bytes";
        }
    }

    private static final Ticket NO_PAYLOAD = new Ticket(null, 0);

    private final Env env;
    private final CountedResource connectionSlots;
    private final CountedResource serverSlots;
    private final CountedResource connectionBytes;

    Admission(Env env, CountedResource serverSlots, NbdLimits limits, String connectionName) {
        this.env = env;
        this.serverSlots = serverSlots;
        this.connectionSlots = new CountedResource(env.scheduler(), connectionName + " request slots",
            limits.requestsPerConnection());
        this.connectionBytes = new CountedResource(env.scheduler(), connectionName + " payload bytes",
            limits.inflightBytesPerConnection());
    }

    /** Admits one request with a payload buffer of {@code payloadBytes} (0: none); may wait. */
    Ticket admit(long payloadBytes) {
        assert payloadBytes >= 0 : "negative payload";
        connectionSlots.acquire(1);
        serverSlots.acquire(1);
        if (payloadBytes == 0) {
            return NO_PAYLOAD;
        }
        long charged = NbdLimits.bufferClassBytes(payloadBytes);
        connectionBytes.acquire(charged);
        Buffer b = env.buffers().allocate(payloadBytes);
        assert b.lengthBytes() == payloadBytes : "buffer length " + b.lengthBytes() + " != " + payloadBytes;
        return new Ticket(b, charged);
    }

    /** Gives everything back; exactly once per ticket. Never blocks. */
    void release(Ticket t) {
        if (t.buffer() != null) {
            t.buffer().release();
            connectionBytes.release(t.chargedBytes());
        }
        serverSlots.release(1);
        connectionSlots.release(1);
    }

    /** Requests admitted and not yet released (tests, diagnostics). */
    long inflightRequests() {
        return connectionSlots.capacity() - connectionSlots.available();
    }

    long inflightBytes() {
        return connectionBytes.capacity() - connectionBytes.available();
    }
}
