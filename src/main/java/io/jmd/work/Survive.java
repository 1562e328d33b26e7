package io.jmd.work;

/**
 * Runs one task of a long-lived engine thread (a worker, the md thread, a work queue, the timer)
 * so that an exception ends only that task: it is reported with its stack on stderr and the
 * thread goes on serving. A thread that died silently would leave every later wait on it hanging,
 * which is worse than any one failed task. Dependency-checker violations thrown in THROW mode are
 * also recorded by the checker, so tests still fail on them. The JVM's own errors
 * (out of memory, stack overflow) are not caught.
 */
final class Survive {
    private Survive() {
    }

    static void run(String where, Runnable task) {
        try {
            task.run();
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            System.err.println("jmd: " + where + ": a task threw " + e + "; the thread goes on");
            e.printStackTrace(System.err);
        }
    }
}
