package io.jmd.sync;

/**
 * Injected time. Engine code never reads the system clock directly, so that the simulator can run
 * it on simulated time and a seed replays a whole run.
 */
public interface Clock {
    /** Monotonic time in nanoseconds; only differences are meaningful. */
    long nanoTime();

    /** Wall-clock time in milliseconds since the epoch (superblock ctime/utime). */
    long wallMillis();

    /** The real clock of the machine. */
    Clock SYSTEM = new Clock() {
        @Override
        public long nanoTime() {
            return System.nanoTime();
        }

        @Override
        public long wallMillis() {
            return System.currentTimeMillis();
        }
    };
}
