package io.jmd.nbd.client;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The NBD URI standard's examples (doc/uri.md) and what jmd refuses, with the reason. */
class NbdUriTest {
    @Test
    void exportNamesAsTheStandardTabulatesThem() {
        assertEquals("disk", NbdUri.parse("nbd://example.com/disk").exportName());
        assertEquals("disk", NbdUri.parse("nbd+unix:///disk?socket=sock").exportName());
        assertEquals("", NbdUri.parse("nbd://example.com/").exportName());
        assertEquals("", NbdUri.parse("nbd://example.com").exportName());
        assertEquals("/disk", NbdUri.parse("nbd://example.com//disk").exportName());
        assertEquals("hello world", NbdUri.parse("nbd://example.com/hello%20world").exportName());
        assertEquals("a+b", NbdUri.parse("nbd://example.com/a+b").exportName(), "'+' is not a space in a path");
    }

    @Test
    void hostsPortsAndSockets() {
        NbdUri t = NbdUri.parse("nbd://example.com:10810/x");
        assertEquals("example.com", t.host());
        assertEquals(10810, t.port());
        assertNull(t.socket());
        assertFalse(t.isUnix());
        assertEquals(NbdUri.DEFAULT_PORT, NbdUri.parse("nbd://h/x").port());
        NbdUri v6 = NbdUri.parse("nbd://[::1]:7000/x");
        assertEquals("::1", v6.host());
        assertEquals("[::1]:7000", v6.where());
        NbdUri u = NbdUri.parse("nbd+unix:///e?socket=/run/a%20b.sock");
        assertTrue(u.isUnix());
        assertEquals(Path.of("/run/a b.sock"), u.socket());
        assertEquals("e", u.exportName());
        assertEquals(-1, u.port());
    }

    @Test
    void whatLooksLikeAUri() {
        assertTrue(NbdUri.looksLikeNbdUri("nbd://h/x"));
        assertTrue(NbdUri.looksLikeNbdUri("NBD+UNIX:///x?socket=s"));
        assertTrue(NbdUri.looksLikeNbdUri("nbds://h/x"), "so that it is refused as TLS, not opened as a file");
        assertFalse(NbdUri.looksLikeNbdUri("/srv/a.img"));
        assertFalse(NbdUri.looksLikeNbdUri("nbd.img"));
        assertFalse(NbdUri.looksLikeNbdUri("dir/nbd://x"), "a relative path that merely contains the text");
    }

    @Test
    void refusalsSayWhy() {
        refused("nbds://h/x", "requires TLS");
        refused("nbds+unix:///x?socket=s", "requires TLS");
        refused("nbd+vsock://1/x", "unsupported NBD URI scheme");
        refused("nbd+unix:///x", "needs ?socket=PATH");
        refused("nbd+unix://host/x?socket=s", "takes no host");
        refused("nbd:///x", "needs a host");
        refused("nbd://h/x?socket=/s", "socket= belongs to nbd+unix");
        refused("nbd://h/x?tls-type=x509", "asks for TLS");
        refused("nbd://h/x?frobnicate=1", "unknown query parameter 'frobnicate'");
        refused("nbd://h:0/x", "out of range");
        refused("nbd://h/a b", "not a valid NBD URI");
        refused("nbd+unix:///x?socket=a&socket=b", "given twice");
        refused("nbd://h/x%00y", "cannot contain NUL");
    }

    private static void refused(String uri, String why) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NbdUri.parse(uri), uri);
        assertTrue(e.getMessage().startsWith(uri) && e.getMessage().contains(why), uri + " -> " + e.getMessage());
    }
}
