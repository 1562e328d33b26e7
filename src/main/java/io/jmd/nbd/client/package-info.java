/**
 * jmd's NBD client: a remote export as a {@link io.jmd.block.BlockDevice}, so that array members
 * can be {@code nbd://host[:port]/export} or {@code nbd+unix:///export?socket=path} (mirroring
 * over the network).
 *
 * <h2>One concern per file</h2>
 * <ul>
 *   <li>{@link io.jmd.nbd.client.NbdUri}: the NBD URI standard (doc/uri.md).</li>
 *   <li>{@code Connector}: the socket, the handshake under a deadline, whether the export can be a
 *       member.</li>
 *   <li>{@code ClientHandshake}: fixed newstyle negotiation, NBD_OPT_STRUCTURED_REPLY, NBD_OPT_GO
 *       with NBD_INFO_BLOCK_SIZE, NBD_OPT_EXPORT_NAME for servers without GO; its result is an
 *       {@link io.jmd.nbd.client.ExportInfo}.</li>
 *   <li>{@code RequestSender} (the sender thread): bios to requests, split at the maximum payload,
 *       FUA and WRITE_ZEROES emulated where the server lacks them.</li>
 *   <li>{@code ReplyReader} (the receiver thread): simple and structured replies matched by
 *       cookie and checked; READ data lands in the bio's buffer directly.</li>
 *   <li>{@code BioWork} / {@code Command}: a bio and the requests it became; the count that makes
 *       each bio end exactly once.</li>
 *   <li>{@link io.jmd.nbd.client.NbdBlockDevice}: the device, its slots, its two threads, and
 *       failure: any broken connection ends every bio with EIO (md fails the member).</li>
 * </ul>
 * Byte layouts are the server's descriptors ({@link io.jmd.nbd.RequestDescriptor},
 * {@link io.jmd.nbd.ReplyDescriptor}, {@link io.jmd.nbd.OptionDescriptor},
 * {@link io.jmd.nbd.HandshakeDescriptor}); this package has none of its own.
 */
package io.jmd.nbd.client;
