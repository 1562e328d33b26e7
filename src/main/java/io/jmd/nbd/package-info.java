/**
 * The NBD server (and, in {@code io.jmd.nbd.client}, the client that opens remote exports as
 * array members; it shares this package's wire descriptors and {@link io.jmd.nbd.NbdTransport}).
 *
 * <p>The server exports {@link io.jmd.block.BlockDevice}s (md arrays, member files, memory)
 * over the NBD protocol (NetworkBlockDevice/nbd doc/proto.md) to unmodified clients: qemu, libnbd
 * (nbdinfo, nbdcopy, nbdfuse, nbdsh, fio), the Linux nbd driver.
 *
 * <h2>Entry point</h2>
 * {@link io.jmd.nbd.NbdServer#builder}: exports, then where to serve (TCP, unix socket, stdio,
 * systemd socket activation), then {@code start()}; {@code awaitTermination()} and
 * {@code close()} (graceful: stop accepting, finish in-flight requests, flush every export).
 *
 * <h2>One concern per file</h2>
 * <ul>
 *   <li>Wire formats, with byte offsets: {@code HandshakeDescriptor}, {@code OptionDescriptor},
 *       {@code RequestDescriptor}, {@code ReplyDescriptor}; numbers in {@link io.jmd.nbd.NbdProtocol}.</li>
 *   <li>Input is checked once, at the edge: {@code Handshake} and {@code OptionParsers} for option
 *       haggling, {@code RequestValidator} for requests. Past them, code asserts.</li>
 *   <li>A connection ({@code Connection}) is two CLIENT threads: the reader runs the handshake,
 *       then reads requests ({@code RequestStream}), admits them ({@code Admission}) and turns
 *       them into bios ({@code Commands}); the writer ({@code ReplyWriter}) sends replies in the
 *       order bios end, so replies go out of order and requests are pipelined.</li>
 *   <li>Bio callbacks run on I/O threads and must not block: they only queue the reply.</li>
 * </ul>
 *
 * <h2>Bounds (backpressure, never growth)</h2>
 * Per connection: request slots and payload bytes ({@link io.jmd.nbd.NbdLimits}), a 16 KiB
 * read-ahead and a fixed batch of reply headers. Per server: total request slots, the number of
 * connections, and the Env's memory budget, from which every payload buffer comes. A reader that
 * cannot admit a request stops reading its socket; a client that does not read its replies
 * therefore stops itself, and holds at most its own connection's allowance.
 *
 * <h2>Locks</h2>
 * None. State is owned by one thread (the handshake and request parsing by the reader, the socket
 * output by the writer) or is immutable (exports); hand-over goes through a lock-free queue and
 * jmd's {@link io.jmd.sync.WaitQueue}, {@link io.jmd.sync.CountedResource} and
 * {@link io.jmd.sync.Completion}.
 *
 * <h2>Flush and CAN_MULTI_CONN</h2>
 * Every connection to an export submits to the same device, there is no server-side cache, and a
 * write is answered only after its bio ended; so a FLUSH (a device FLUSH bio) covers every write
 * answered on any connection, and FUA passes down as {@link io.jmd.block.Bio#FUA}.
 */
package io.jmd.nbd;
