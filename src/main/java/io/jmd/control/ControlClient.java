package io.jmd.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** The CLI's side of the control socket: one request, its reply (see {@link ControlProtocol}). */
public final class ControlClient implements AutoCloseable {
    /** A reply: the "= " text lines and the status line. */
    public record Reply(List<String> text, String status) {
        public boolean ok() {
            return status.startsWith("OK");
        }

        /** The token of an action still running, or -1. */
        public long pendingToken() {
            if (!status.startsWith("EAGAIN ")) {
                return -1;
            }
            String[] w = status.split(" ", 3);
            return Long.parseLong(w[1]);
        }

        /** The status line without its keyword (and token). */
        public String message() {
            String[] w = status.split(" ", status.startsWith("OK") ? 2 : 3);
            return w.length > (status.startsWith("OK") ? 1 : 2) ? w[w.length - 1] : "";
        }
    }

    private final SocketChannel channel;
    private final InputStream in;
    private final OutputStream out;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.in = Channels.newInputStream(channel);
        this.out = Channels.newOutputStream(channel);
    }

    public static ControlClient connect(Path socket) throws IOException {
        SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            c.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            c.close();
            throw new IOException("cannot reach jmd serve at " + socket + ": " + e.getMessage()
                + " (is it running? give --control=PATH)", e);
        }
        return new ControlClient(c);
    }

    public Reply call(String verb, String... args) throws IOException {
        out.write((ControlProtocol.request(verb, args) + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
        List<String> text = new ArrayList<>();
        while (true) {
            String line = readLine();
            if (line == null) {
                throw new IOException("jmd serve closed the control connection");
            }
            if (line.startsWith("= ")) {
                text.add(line.substring(2));
            } else {
                return new Reply(text, line);
            }
        }
    }

    /**
     * Reads lines of a monitor stream (after "monitor" was answered OK), passing each event line
     * to {@code onEvent} until it returns false or the server goes away.
     */
    public void events(Predicate<String> onEvent) throws IOException {
        String line;
        while ((line = readLine()) != null) {
            if (line.startsWith("EVENT ") && !onEvent.test(line.substring(6))) {
                return;
            }
        }
    }

    private String readLine() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int ch = in.read();
            if (ch < 0) {
                return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
            }
            if (ch == '\n') {
                return b.toString(StandardCharsets.UTF_8);
            }
            b.write(ch);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
