package io.jmd.nbd.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * Where an NBD export is, as the NBD URI standard (NetworkBlockDevice/nbd doc/uri.md) writes it:
 * {@code nbd://host[:port]/[export]} (TCP, port 10809 by default) or
 * {@code nbd+unix:///[export]?socket=/path} (a unix domain socket). The export name is the path
 * without its leading '/', percent-decoded (so {@code nbd://h//disk} names "/disk" and
 * {@code nbd://h} the empty name).
 *
 * <p>Refused with a message that says why: TLS schemes (nbds, nbds+unix: jmd has no TLS, and
 * the standard forbids falling back to plain text), vsock, a missing host or socket, a unix URI
 * with a host, and query parameters jmd does not understand (the standard asks clients to
 * diagnose them rather than ignore them).
 *
 * @param uri        the text as given (member names are shown as given)
 * @param host       TCP host (IPv6 literals without brackets), or null for a unix socket
 * @param port       TCP port, or -1 for a unix socket
 * @param socket     unix socket path, or null for TCP
 * @param exportName the export name, possibly empty
 */
public record NbdUri(String uri, String host, int port, Path socket, String exportName) {
    public static final int DEFAULT_PORT = 10809;

    public NbdUri {
        Objects.requireNonNull(uri, "uri");
        Objects.requireNonNull(exportName, "exportName");
        if ((host == null) == (socket == null)) {
            throw new IllegalArgumentException(uri + ": exactly one of a host and a socket");
        }
    }

    /** Whether {@code name} is meant as an NBD URI (and so must parse as one), not a file. */
    public static boolean looksLikeNbdUri(String name) {
        int colon = name.indexOf("://");
        if (colon <= 0) {
            return false;
        }
        String scheme = name.substring(0, colon).toLowerCase(Locale.ROOT);
        return scheme.equals("nbd") || scheme.startsWith("nbd+") || scheme.startsWith("nbds");
    }

    public boolean isUnix() {
        return socket != null;
    }

    /** For messages: where the server is (host:port or the socket path). */
    public String where() {
        if (isUnix()) {
            return "unix socket " + socket;
        }
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    @Override
    public String toString() {
        return uri;
    }

    /** Parses {@code text}; the message of the exception says what is wrong with it. */
    public static NbdUri parse(String text) {
        URI u;
        try {
            u = new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(text + ": not a valid NBD URI: " + e.getReason()
                + " (write nbd://HOST[:PORT]/EXPORT or nbd+unix:///EXPORT?socket=PATH; percent-encode spaces)");
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (u.isOpaque()) {
            throw new IllegalArgumentException(text + ": an NBD URI needs '//' after the scheme"
                + " (nbd://HOST/EXPORT or nbd+unix:///EXPORT?socket=PATH)");
        }
        switch (scheme) {
            case "nbd", "nbd+unix" -> {
            }
            case "nbds", "nbds+unix" -> throw new IllegalArgumentException(text + ": " + scheme
                + " requires TLS, which jmd's NBD client does not have (use nbd:// or nbd+unix://, over a trusted"
                + " network or a local socket)");
            default -> throw new IllegalArgumentException(text + ": unsupported NBD URI scheme '" + scheme
                + "' (jmd connects with nbd:// and nbd+unix://)");
        }
        String exportName = exportName(u.getRawPath(), text);
        String socket = null;
        String raw = u.getRawQuery();
        if (raw != null && !raw.isEmpty()) {
            for (String param : raw.split("&")) {
                int eq = param.indexOf('=');
                String key = decode(eq < 0 ? param : param.substring(0, eq), text);
                String value = eq < 0 ? "" : decode(param.substring(eq + 1), text);
                if (key.equals("socket") && scheme.equals("nbd+unix")) {
                    if (socket != null) {
                        throw new IllegalArgumentException(text + ": socket= is given twice");
                    }
                    socket = value;
                } else if (key.startsWith("tls")) {
                    throw new IllegalArgumentException(text + ": query parameter '" + key
                        + "' asks for TLS, which jmd's NBD client does not have");
                } else {
                    throw new IllegalArgumentException(text + ": unknown query parameter '" + key + "'"
                        + (key.equals("socket") ? " (socket= belongs to nbd+unix:// URIs)" : ""));
                }
            }
        }
        if (u.getFragment() != null) {
            throw new IllegalArgumentException(text + ": an NBD URI has no #fragment");
        }
        if (scheme.equals("nbd+unix")) {
            if (u.getRawAuthority() != null && !u.getRawAuthority().isEmpty()) {
                throw new IllegalArgumentException(text + ": nbd+unix:// takes no host (write nbd+unix:///EXPORT?socket=PATH)");
            }
            if (socket == null || socket.isEmpty()) {
                throw new IllegalArgumentException(text + ": nbd+unix:// needs ?socket=PATH");
            }
            if (socket.charAt(0) == '\0') {
                throw new IllegalArgumentException(text + ": abstract unix sockets are not supported");
            }
            return new NbdUri(text, null, -1, Path.of(socket), exportName);
        }
        String host = u.getHost();
        if (host == null || host.isEmpty()) {
            throw new IllegalArgumentException(text + ": nbd:// needs a host (nbd://HOST[:PORT]/EXPORT)"
                + (u.getRawAuthority() != null ? "; '" + u.getRawAuthority() + "' is not a valid host[:port]" : ""));
        }
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = u.getPort() < 0 ? DEFAULT_PORT : u.getPort();
        if (port == 0 || port > 65535) {
            throw new IllegalArgumentException(text + ": port " + port + " is out of range 1..65535");
        }
        return new NbdUri(text, host, port, null, exportName);
    }

    private static String exportName(String rawPath, String text) {
        if (rawPath == null || rawPath.isEmpty()) {
            return "";
        }
        assert rawPath.charAt(0) == '/' : "a hierarchical URI's path after an authority starts with '/'";
        String name = decode(rawPath.substring(1), text);
        if (name.indexOf('\0') >= 0) {
            throw new IllegalArgumentException(text + ": an export name cannot contain NUL");
        }
        if (name.getBytes(StandardCharsets.UTF_8).length > io.jmd.nbd.NbdProtocol.STRING_MAX_BYTES) {
            throw new IllegalArgumentException(text + ": export name longer than "
                + io.jmd.nbd.NbdProtocol.STRING_MAX_BYTES + " bytes");
        }
        return name;
    }

    /** RFC 3986 percent-decoding: '+' stays '+' (only HTML forms read it as a space). */
    private static String decode(String raw, String text) {
        try {
            return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(text + ": bad percent-encoding in '" + raw + "'");
        }
    }
}
