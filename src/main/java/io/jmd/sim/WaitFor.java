package io.jmd.sim;

import io.jmd.sync.JmdThread;
import io.jmd.sync.Mutex;
import io.jmd.sync.Waitable;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Wait-for chains, as the issue asks them printed:
 * {@code thread -> waits on -> held by / only providable by -> thread -> ...}, followed until a
 * thread that waits on nothing known, or a thread already on the chain (a cycle: the deadlock).
 * Read by the baton holder while every other thread is stopped, so their fields are stable.
 */
final class WaitFor {
    private WaitFor() {
    }

    static String deadlockReport(SimScheduler s, SimScheduler.SimThread me) {
        return report(s, "deadlock at t=" + seconds(s.nowNanos()) + " after " + s.switches()
            + " switches: no runnable thread and no timer, the run is not finished (" + me.name + " was last to wait)");
    }

    static String report(SimScheduler s, String headline) {
        StringBuilder sb = new StringBuilder(headline).append('\n');
        List<SimScheduler.SimThread> threads = s.liveThreads();
        sb.append("  wait-for chains:\n");
        Set<String> printed = new LinkedHashSet<>();
        for (SimScheduler.SimThread t : threads) {
            if (t.state == SimScheduler.State.PARKED && !isIdle(t.waitingOn)) {
                String chain = chain(s, t);
                if (printed.add(chain)) {
                    sb.append("    ").append(chain).append('\n');
                }
            }
        }
        sb.append("  threads:\n");
        for (SimScheduler.SimThread t : threads) {
            sb.append("    ").append(t.name).append(' ').append(t.state);
            if (t.waitingOn != null) {
                sb.append(" on ").append(t.waitingOn.waitName());
            }
            if (t.deadlineNanos != Long.MAX_VALUE) {
                sb.append(" until t=").append(seconds(t.deadlineNanos));
            }
            List<String> held = t.jmd.heldLockNames();
            if (!held.isEmpty()) {
                sb.append(" holding ").append(held);
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    /** An idle loop's wait (a daemon, work queue, timer or starter with nothing to do) is no link. */
    private static boolean isIdle(Waitable w) {
        if (w == null) {
            return true;
        }
        String n = w.waitName();
        return n.startsWith("daemon ") || n.startsWith("timer ") || n.endsWith(" requests")
            || (n.startsWith("workqueue ") && !n.endsWith(" flush")) || n.endsWith(" tasks");
    }

    private static String chain(SimScheduler s, SimScheduler.SimThread start) {
        StringBuilder sb = new StringBuilder();
        List<SimScheduler.SimThread> seen = new ArrayList<>();
        SimScheduler.SimThread t = start;
        while (true) {
            sb.append(t.name);
            if (seen.contains(t)) {
                sb.append("  (cycle)");
                return sb.toString();
            }
            seen.add(t);
            Waitable w = t.state == SimScheduler.State.PARKED ? t.waitingOn : null;
            if (w == null) {
                sb.append(" (").append(t.state == SimScheduler.State.DONE ? "ended" : "not waiting").append(')');
                return sb.toString();
            }
            sb.append(" -> waits on -> ").append(w.waitName());
            List<JmdThread> providers = w.providers();
            if (providers.isEmpty()) {
                sb.append(" -> only providable by -> (anyone: no provider is blocked on a known wait)");
                return sb.toString();
            }
            sb.append(w instanceof Mutex ? " -> held by -> " : " -> only providable by -> ");
            SimScheduler.SimThread next = s.simThreadOf(providers.get(0));
            if (next == null) {
                sb.append(providers.get(0).name()).append(" (not a live thread)");
                return sb.toString();
            }
            t = next;
        }
    }

    static String seconds(long nanos) {
        return String.format("%.6fs", nanos / 1e9);
    }
}
