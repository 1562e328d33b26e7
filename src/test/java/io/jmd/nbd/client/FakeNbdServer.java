package io.jmd.nbd.client;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;

import static io.jmd.nbd.NbdProtocol.*;

/**
 * A scripted NBD server for one connection, for tests that need a server to misbehave on purpose:
 * the script gets the accepted socket and writes whatever bytes it likes. Helpers do the usual
 * parts (a correct handshake, reading requests, well-formed replies). Test code: a plain thread.
 */
final class FakeNbdServer implements AutoCloseable {
    interface Script {
        void serve(Conn c) throws Exception;
    }

    /** A request as the server read it; {@code payload} for WRITE. */
    record Req(int flags, int type, long cookie, long offset, long length, byte[] payload) {
    }

    private final ServerSocketChannel listener;
    private final Thread thread;
    private final AtomicReference<Throwable> scriptFailure = new AtomicReference<>();
    private volatile SocketChannel accepted;

    FakeNbdServer(Script script) throws IOException {
        listener = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        thread = new Thread(() -> {
            try (SocketChannel ch = listener.accept()) {
                accepted = ch;
                script.serve(new Conn(ch));
            } catch (Throwable t) {
                scriptFailure.set(t);
            }
        }, "fake-nbd-server");
        thread.setDaemon(true);
        thread.start();
    }

    String uri(String export) {
        return "nbd://127.0.0.1:" + ((InetSocketAddress) listener.socket().getLocalSocketAddress()).getPort() + "/" + export;
    }

    /** What the script threw, if anything (a client that hung up early makes scripts fail: often expected). */
    Throwable scriptFailure() {
        return scriptFailure.get();
    }

    void join() throws InterruptedException {
        thread.join(10_000);
    }

    @Override
    public void close() throws IOException {
        SocketChannel a = accepted;
        if (a != null) {
            a.close();
        }
        listener.close();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The server's side of the connection. */
    static final class Conn {
        final SocketChannel ch;
        /** Requests seen, in order (for assertions from the test thread). */
        final ConcurrentLinkedQueue<Req> seen = new ConcurrentLinkedQueue<>();
        /** Set when the client sent NBD_CMD_DISC (rather than just closing). */
        volatile boolean discReceived;

        Conn(SocketChannel ch) {
            this.ch = ch;
        }

        ByteBuffer read(int n) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(n);
            while (b.hasRemaining()) {
                if (ch.read(b) < 0) {
                    throw new EOFException("client closed");
                }
            }
            return b.flip();
        }

        void write(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                ch.write(b);
            }
        }

        void write(byte[] b) throws IOException {
            write(ByteBuffer.wrap(b));
        }

        void greeting(int flags) throws IOException {
            write(ByteBuffer.allocate(18).putLong(NBDMAGIC).putLong(IHAVEOPT).putShort((short) flags).flip());
        }

        /** One option from the client: option number and data. */
        record Opt(int option, byte[] data) {
        }

        Opt option() throws IOException {
            ByteBuffer h = read(16);
            if (h.getLong(0) != IHAVEOPT) {
                throw new IOException("bad option magic");
            }
            int len = h.getInt(12);
            return new Opt(h.getInt(8), read(len).array());
        }

        void optionReply(int option, int type, byte[] data) throws IOException {
            write(ByteBuffer.allocate(20 + data.length).putLong(OPTION_REPLY_MAGIC).putInt(option).putInt(type)
                .putInt(data.length).put(data).flip());
        }

        /**
         * A correct fixed-newstyle handshake: STRUCTURED_REPLY answered as {@code structured} says,
         * GO answered with the export's size and flags. Returns whether structured replies are on.
         */
        boolean handshake(boolean structured, long size, int flags) throws IOException {
            return handshake(structured, size, flags, 0);
        }

        /** As above; {@code maxPayload} > 0 also sends NBD_INFO_BLOCK_SIZE (1, 4096, maxPayload). */
        boolean handshake(boolean structured, long size, int flags, int maxPayload) throws IOException {
            greeting(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES);
            read(4);
            boolean on = false;
            while (true) {
                Opt o = option();
                if (o.option() == OPT_STRUCTURED_REPLY) {
                    optionReply(o.option(), structured ? REP_ACK : REP_ERR_UNSUP, new byte[0]);
                    on = structured;
                } else if (o.option() == OPT_GO) {
                    if (maxPayload > 0) {
                        optionReply(OPT_GO, REP_INFO, ByteBuffer.allocate(14).putShort((short) INFO_BLOCK_SIZE).putInt(1)
                            .putInt(4096).putInt(maxPayload).array());
                    }
                    optionReply(OPT_GO, REP_INFO, ByteBuffer.allocate(12).putShort((short) INFO_EXPORT).putLong(size)
                        .putShort((short) (flags | TFLAG_HAS_FLAGS)).array());
                    optionReply(OPT_GO, REP_ACK, new byte[0]);
                    return on;
                } else {
                    optionReply(o.option(), REP_ERR_UNSUP, new byte[0]);
                }
            }
        }

        /** The next request, or null at end of stream / DISC. */
        Req request() throws IOException {
            ByteBuffer h = ByteBuffer.allocate(28);
            while (h.hasRemaining()) {
                if (ch.read(h) < 0) {
                    return null;
                }
            }
            h.flip();
            if (h.getInt(0) != REQUEST_MAGIC) {
                throw new IOException("bad request magic");
            }
            int type = Short.toUnsignedInt(h.getShort(6));
            long length = Integer.toUnsignedLong(h.getInt(24));
            byte[] payload = type == CMD_WRITE ? read((int) length).array() : null;
            Req r = new Req(Short.toUnsignedInt(h.getShort(4)), type, h.getLong(8), h.getLong(16), length, payload);
            if (type == CMD_DISC) {
                discReceived = true;
                return null;
            }
            seen.add(r);
            return r;
        }

        void simpleReply(long cookie, int error, byte[] data) throws IOException {
            ByteBuffer b = ByteBuffer.allocate(16 + (data == null ? 0 : data.length));
            b.putInt(SIMPLE_REPLY_MAGIC).putInt(error).putLong(cookie);
            if (data != null) {
                b.put(data);
            }
            write(b.flip());
        }

        static byte[] chunk(int flags, int type, long cookie, byte[] payload) {
            return ByteBuffer.allocate(20 + payload.length).putInt(STRUCTURED_REPLY_MAGIC).putShort((short) flags)
                .putShort((short) type).putLong(cookie).putInt(payload.length).put(payload).array();
        }

        /** Answers requests correctly from {@code disk} until the client leaves; returns what it saw. */
        List<Req> serveCorrectly(byte[] disk) throws IOException {
            List<Req> all = new ArrayList<>();
            Req r;
            while ((r = request()) != null) {
                all.add(r);
                switch (r.type()) {
                    case CMD_READ -> {
                        byte[] d = new byte[(int) r.length()];
                        System.arraycopy(disk, (int) r.offset(), d, 0, d.length);
                        simpleReply(r.cookie(), 0, d);
                    }
                    case CMD_WRITE -> {
                        System.arraycopy(r.payload(), 0, disk, (int) r.offset(), r.payload().length);
                        simpleReply(r.cookie(), 0, null);
                    }
                    case CMD_WRITE_ZEROES, CMD_TRIM -> {
                        java.util.Arrays.fill(disk, (int) r.offset(), (int) (r.offset() + r.length()), (byte) 0);
                        simpleReply(r.cookie(), 0, null);
                    }
                    default -> simpleReply(r.cookie(), 0, null);
                }
            }
            return all;
        }
    }
}
