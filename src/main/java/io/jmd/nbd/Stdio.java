package io.jmd.nbd;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.Channel;
import java.nio.channels.SocketChannel;

/**
 * The connection on stdin/stdout, as nbd_connect_command(3) and nbdkit -s use it: libnbd
 * passes one end of a socketpair as both descriptor 0 and 1, which Java gets as the inherited
 * SocketChannel; a plain pair of pipes works too.
 *
 * <p>From here on descriptor 1 carries protocol bytes, so {@link System#out} is pointed at
 * stderr: a stray println anywhere in the process would otherwise corrupt the stream.
 */
final class Stdio {
    private Stdio() {
    }

    static NbdTransport open() throws IOException {
        Channel inherited = System.inheritedChannel();
        System.setOut(new PrintStream(new FileOutputStream(FileDescriptor.err), true));
        if (inherited instanceof SocketChannel socket) {
            return ChannelTransport.of(socket);
        }
        return ChannelTransport.of(new FileInputStream(FileDescriptor.in).getChannel(),
            new FileOutputStream(FileDescriptor.out).getChannel(), "stdio");
    }
}
