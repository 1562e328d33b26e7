package io.jmd.sim;

/**
 * Unwinds a simulated thread that was killed (a crash, or the end of a run): thrown from the next
 * wait, start or yield the thread reaches. Not an engine error: the thread body catches it.
 *
 * <p>A {@link VirtualMachineError} because the simulated machine lost its power: engine code that
 * survives a failing task or callback (workers, daemons, the timer, device callbacks) rethrows VM
 * errors, so a killed thread unwinds at once instead of running more of the dead machine's work.
 */
public final class SimKilled extends VirtualMachineError {
    public SimKilled() {
        super("simulated thread killed");
    }
}
