package io.jmd.nbd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** A listening socket: TCP, a unix socket we bound, or one inherited by socket activation. */
final class SocketListener implements AutoCloseable {
    /** Pending connections the kernel queues while we are at {@link NbdLimits#maxConnections}. */
    static final int BACKLOG = 128;

    private final ServerSocketChannel channel;
    /** A unix socket file we created and remove on close; null otherwise. */
    private final Path ownedPath;
    private final SocketAddress address;

    private SocketListener(ServerSocketChannel channel, Path ownedPath) throws IOException {
        this.channel = channel;
        this.ownedPath = ownedPath;
        this.address = channel.getLocalAddress();
    }

    static SocketListener tcp(InetSocketAddress address) throws IOException {
        ServerSocketChannel c = ServerSocketChannel.open();
        try {
            c.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            c.bind(address, BACKLOG);
        } catch (IOException e) {
            c.close();
            throw new IOException("cannot listen on " + address + ": " + e.getMessage(), e);
        }
        return new SocketListener(c, null);
    }

    /**
     * Binds a unix socket at {@code path}. A stale socket file left by a dead server is replaced;
     * a regular file or directory there is an error (we never delete what is not a socket).
     */
    static SocketListener unix(Path path) throws IOException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                || Files.isSymbolicLink(path)) {
                throw new IOException("cannot listen on " + path + ": it exists and is not a socket");
            }
            Files.delete(path);
        }
        ServerSocketChannel c = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            c.bind(UnixDomainSocketAddress.of(path), BACKLOG);
        } catch (IOException e) {
            c.close();
            throw new IOException("cannot listen on " + path + ": " + e.getMessage(), e);
        }
        return new SocketListener(c, path);
    }

    /** An already listening socket (socket activation); not removed on close. */
    static SocketListener inherited(ServerSocketChannel channel) throws IOException {
        channel.configureBlocking(true);
        return new SocketListener(channel, null);
    }

    /** Blocks until a client connects; throws once closed. */
    SocketChannel accept() throws IOException {
        return channel.accept();
    }

    SocketAddress address() {
        return address;
    }

    boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (ownedPath != null) {
                Files.deleteIfExists(ownedPath);
            }
        }
    }

    @Override
    public String toString() {
        return address == null ? "inherited socket" : address.toString();
    }
}
