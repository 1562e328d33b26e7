package io.jmd.nbd;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The LISTEN_PID/LISTEN_FDS check (the inheriting itself runs in CaptiveInteropTest's child). */
class SocketActivationTest {
    @Test
    void passedOnlyWhenListenPidIsThisProcess() {
        assertEquals(1, SocketActivation.passedFds(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "1"), 42));
        assertEquals(2, SocketActivation.passedFds(Map.of("LISTEN_PID", " 42 ", "LISTEN_FDS", "2"), 42));
        assertEquals(0, SocketActivation.passedFds(Map.of("LISTEN_PID", "41", "LISTEN_FDS", "1"), 42), "a wrapper's pid");
        assertEquals(0, SocketActivation.passedFds(Map.of("LISTEN_FDS", "1"), 42), "no LISTEN_PID");
        assertEquals(0, SocketActivation.passedFds(Map.of("LISTEN_PID", "42"), 42), "no LISTEN_FDS");
        assertEquals(0, SocketActivation.passedFds(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "x"), 42));
        assertEquals(0, SocketActivation.passedFds(Map.of("LISTEN_PID", "42", "LISTEN_FDS", "-3"), 42));
        assertEquals(0, SocketActivation.passedFds(Map.of(), 42));
    }
}
