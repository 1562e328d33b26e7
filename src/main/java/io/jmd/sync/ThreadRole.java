package io.jmd.sync;

/**
 * What a thread is for. The dependency checker uses roles to flag the seeds' anti-patterns.
 */
public enum ThreadRole {
    /**
     * I/O progress depends on this thread: the array ("md") thread, member I/O workers, completion
     * handlers. Such a thread must never start a thread or wait on anything that waits on I/O
     * (seeds 000 and 003).
     */
    IO_PROGRESS,
    /** The dedicated thread starter (seed 003): the only engine thread allowed to start threads. */
    STARTER,
    /** A thread serving an outside party (an NBD connection, a control socket client). */
    CLIENT,
    /** A thread jmd did not start (main, test runner, ...). */
    EXTERNAL
}
