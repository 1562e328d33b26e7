package io.jmd.nbd;

/**
 * A reply owed to the client: created by the reader when it admits a request, completed (by a
 * bio callback, or at once), queued to the connection's {@link ReplyWriter}, written, released.
 * Fields are written before the reply is queued and read after it is taken off the queue; the
 * queue hands them over (ConcurrentLinkedQueue publishes safely).
 */
final class Reply {
    enum Kind {
        /** Nothing but the status: WRITE, FLUSH, TRIM, WRITE_ZEROES, CACHE, and every refusal. */
        STATUS,
        /** The ticket's buffer holds the data read. */
        READ_DATA,
        /** The ticket's buffer holds {@link #payloadBytes} of BLOCK_STATUS payload. */
        BLOCK_STATUS
    }

    final Request request;
    final Kind kind;
    final Admission.Ticket ticket;
    int payloadBytes;
    /** 0 or the NBD errno to send. */
    int error;
    String message;

    Reply(Request request, Kind kind, Admission.Ticket ticket) {
        this.request = request;
        this.kind = kind;
        this.ticket = ticket;
    }

    Reply fail(int nbdError, String why) {
        assert nbdError > 0 : "fail needs an errno";
        this.error = nbdError;
        this.message = why;
        return this;
    }
}
