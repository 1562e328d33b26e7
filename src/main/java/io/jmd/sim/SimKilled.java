package io.jmd.sim;

/**
 * Unwinds a simulated thread that was killed (a crash, or the end of a run): thrown from the next
 * wait, start or yield the thread reaches. Not an engine error: the thread body catches it.
 */
public final class SimKilled extends Error {
    public SimKilled() {
        super("simulated thread killed", null, false, false);
    }
}
