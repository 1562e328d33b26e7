package io.jmd.nbd;

/**
 * Every bound of the server, with where it comes from. Overload turns into backpressure at these
 * bounds: the accept thread stops accepting, a connection's reader stops reading its socket.
 *
 * <p>Memory held by one connection's requests is at most {@code inflightBytesPerConnection}
 * of payload buffers (charged to the Env's memory budget as well), plus per request a few
 * hundred bytes of heap (request, reply, bio) times {@code requestsPerConnection}. The whole
 * server holds at most {@code maxConnections} times that, and no more than the budget: a reader
 * that finds the budget spent waits for another request's reply to go out.
 *
 * @param maxConnections             connections served at once (each costs two threads);
 *                                   further clients wait in the listen backlog
 * @param requestsPerConnection      admitted, unanswered requests per connection; 128 is the
 *                                   Linux nbd driver's default queue depth and above qemu's 16
 * @param requestsTotal              admitted, unanswered requests in the whole server
 * @param inflightBytesPerConnection payload bytes (buffer size classes) one connection may hold;
 *                                   at least two maximal payloads so one can be received while
 *                                   another is answered
 * @param maxPayloadBytes            largest READ/WRITE; proto.md asks servers to accept 32 MiB
 * @param shutdownTimeoutNanos       how long close() lets connections finish their requests and
 *                                   send replies before it closes their sockets
 * @param handshakeTimeoutNanos      how long a client may take to reach transmission; a client
 *                                   that connects and says nothing would otherwise hold a
 *                                   connection (and its thread) for ever
 */
public record NbdLimits(int maxConnections, int requestsPerConnection, int requestsTotal,
                        long inflightBytesPerConnection, int maxPayloadBytes, long shutdownTimeoutNanos,
                        long handshakeTimeoutNanos) {
    public static final int MAX_CONNECTIONS_DEFAULT = 256;
    public static final int REQUESTS_PER_CONNECTION_DEFAULT = 128;
    public static final int REQUESTS_TOTAL_DEFAULT = 4096;
    public static final int MAX_PAYLOAD_BYTES_DEFAULT = 32 << 20;
    public static final long INFLIGHT_BYTES_PER_CONNECTION_DEFAULT = 2L * MAX_PAYLOAD_BYTES_DEFAULT;
    public static final long SHUTDOWN_TIMEOUT_NANOS_DEFAULT = 10_000_000_000L;
    /** nbd-server and nbdkit give a client about a minute to finish option haggling too. */
    public static final long HANDSHAKE_TIMEOUT_NANOS_DEFAULT = 60_000_000_000L;

    /** Bytes a BLOCK_STATUS reply buffer takes: the smallest buffer class, 511 descriptors. */
    static final int BLOCK_STATUS_BUFFER_BYTES = 4096;

    public NbdLimits {
        if (maxConnections < 1 || requestsPerConnection < 1 || requestsTotal < requestsPerConnection) {
            throw new IllegalArgumentException("bad connection/request limits: " + maxConnections + "/"
                + requestsPerConnection + "/" + requestsTotal);
        }
        if (Integer.bitCount(maxPayloadBytes) != 1 || maxPayloadBytes < 65536) {
            throw new IllegalArgumentException("max payload must be a power of two >= 64 KiB: " + maxPayloadBytes);
        }
        if (inflightBytesPerConnection < maxPayloadBytes) {
            throw new IllegalArgumentException("in-flight bytes per connection (" + inflightBytesPerConnection
                + ") must hold one maximal payload (" + maxPayloadBytes + ")");
        }
        if (shutdownTimeoutNanos < 0 || handshakeTimeoutNanos <= 0) {
            throw new IllegalArgumentException("bad timeouts: shutdown " + shutdownTimeoutNanos + ", handshake "
                + handshakeTimeoutNanos);
        }
    }

    public static NbdLimits defaults() {
        return new NbdLimits(MAX_CONNECTIONS_DEFAULT, REQUESTS_PER_CONNECTION_DEFAULT, REQUESTS_TOTAL_DEFAULT,
            INFLIGHT_BYTES_PER_CONNECTION_DEFAULT, MAX_PAYLOAD_BYTES_DEFAULT, SHUTDOWN_TIMEOUT_NANOS_DEFAULT,
            HANDSHAKE_TIMEOUT_NANOS_DEFAULT);
    }

    public NbdLimits withMaxConnections(int n) {
        return new NbdLimits(n, requestsPerConnection, requestsTotal, inflightBytesPerConnection, maxPayloadBytes,
            shutdownTimeoutNanos, handshakeTimeoutNanos);
    }

    public NbdLimits withRequestsPerConnection(int n) {
        return new NbdLimits(maxConnections, n, Math.max(requestsTotal, n), inflightBytesPerConnection,
            maxPayloadBytes, shutdownTimeoutNanos, handshakeTimeoutNanos);
    }

    public NbdLimits withInflightBytesPerConnection(long bytes) {
        return new NbdLimits(maxConnections, requestsPerConnection, requestsTotal, bytes, maxPayloadBytes,
            shutdownTimeoutNanos, handshakeTimeoutNanos);
    }

    public NbdLimits withMaxPayloadBytes(int bytes) {
        return new NbdLimits(maxConnections, requestsPerConnection, requestsTotal,
            Math.max(inflightBytesPerConnection, bytes), bytes, shutdownTimeoutNanos, handshakeTimeoutNanos);
    }

    public NbdLimits withShutdownTimeoutNanos(long nanos) {
        return new NbdLimits(maxConnections, requestsPerConnection, requestsTotal, inflightBytesPerConnection,
            maxPayloadBytes, nanos, handshakeTimeoutNanos);
    }

    public NbdLimits withHandshakeTimeoutNanos(long nanos) {
        return new NbdLimits(maxConnections, requestsPerConnection, requestsTotal, inflightBytesPerConnection,
            maxPayloadBytes, shutdownTimeoutNanos, nanos);
    }

    /** The budget bytes a payload of {@code bytes} is charged (BufferCache's power-of-two classes). */
    static long bufferClassBytes(long bytes) {
        assert bytes > 0 : "no buffer for an empty payload";
        long c = Long.highestOneBit(bytes);
        if (c < bytes) {
            c <<= 1;
        }
        return Math.max(c, 1L << io.jmd.mem.BufferCache.MIN_CLASS_SHIFT);
    }
}
