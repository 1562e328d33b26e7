package io.jmd.sim;

import io.jmd.mem.MemoryBudget;
import io.jmd.sync.Clock;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.JmdThread;
import io.jmd.sync.JmdThreads;
import io.jmd.sync.Scheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.Waitable;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A deterministic {@link Scheduler}: real Java (virtual) threads, of which exactly one runs at a
 * time. The running thread holds the <em>baton</em>; at every wait primitive (park), thread start
 * and unpark, a seeded choice decides who runs next. Time is simulated: when no thread is
 * runnable, the clock jumps to the earliest timed waiter's deadline. Given the same seed and the
 * same program, every run makes the same choices: {@link #traceHash()} is the fingerprint.
 *
 * <pre>
 *   thread states:  RUNNABLE --(baton)--> RUNNING --park--> PARKED --unpark/deadline--> RUNNABLE
 *                                            \--end--> DONE
 *   baton hand-off: the running thread picks the next one, writes {@link #running} (volatile),
 *                   LockSupport.unparks its Java thread and parks its own until it is picked again.
 * </pre>
 *
 * <p>Deadlock: no runnable thread and no timed waiter while the run is not finished. The report is
 * the wait-for chain ({@link WaitFor}). A run whose threads are merely slow (periodic timers keep
 * the clock moving) is caught by the workload's liveness bound instead.
 *
 * <p>Every field below is touched only by the thread holding the baton (or by the outer thread
 * while no sim thread runs), so none needs a lock; the volatile {@link #running} hand-off orders
 * them (a volatile write before the next holder's volatile read).
 */
public final class SimScheduler implements Scheduler {
    /** Wall clock of every run's start: runs are independent of the real date. */
    public static final long EPOCH_MILLIS = 1_767_225_600_000L; // 2026-01-01T00:00:00Z
    /** Cost of a thread start charged to the coupled budget: a stack and task struct, roughly. */
    public static final long THREAD_START_BYTES_DEFAULT = 16 * 1024;

    enum State { RUNNABLE, RUNNING, PARKED, DONE }

    /** One simulated thread. Fields: baton holder only. */
    static final class SimThread {
        final int id;
        final String name;
        Thread java;
        JmdThread jmd;
        State state = State.RUNNABLE;
        boolean permit;
        long deadlineNanos = Long.MAX_VALUE;
        long timedSeq;
        Waitable waitingOn;
        boolean killed;
        final List<SimThread> joiners = new ArrayList<>(1);
        /** Budget charged for this thread's start, uncharged when it ends. */
        MemoryBudget charged;
        long chargedBytes;

        SimThread(int id, String name) {
            this.id = id;
            this.name = name;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** How a run ended. */
    public record Outcome(boolean ok, String failure, long switches, long simNanos, long traceHash) {
    }

    private final SplittableRandom random;
    private final DependencyChecker checker;
    private final Clock clock;
    private final double yieldProbability;
    private long nowNanos;
    private final List<SimThread> runnable = new ArrayList<>();
    private final TreeSet<SimThread> timed = new TreeSet<>(
        Comparator.comparingLong((SimThread t) -> t.deadlineNanos).thenComparingLong(t -> t.timedSeq));
    /** Live threads in creation order. */
    private final List<SimThread> live = new ArrayList<>();
    private final Map<JmdThread, SimThread> byJmd = new IdentityHashMap<>();
    private final ThreadLocal<SimThread> self = new ThreadLocal<>();
    private volatile SimThread running;
    private int nextId;
    private long timedSeq;
    private long switches;
    private long traceHash = 0xcbf29ce484222325L;
    private final long maxSwitches;
    /** Where a killed thread hands the baton when it has unwound: the killer, or null (outer). */
    private SimThread killer;
    private volatile String failure;
    private volatile boolean stopping;
    private SimThread main;
    private final CountDownLatch finished = new CountDownLatch(1);
    private MemoryBudget threadStartBudget;
    private long threadStartBytes;
    private final SimTrace trace;

    /**
     * @param seed             drives every scheduling choice
     * @param checker          the dependency checker engine code sees
     * @param yieldProbability chance that a thread gives up the baton at an unpark, a start or a
     *                         park that would not wait (preemption points)
     * @param maxSwitches      a run that switches more often than this fails (livelock bound)
     */
    public SimScheduler(long seed, DependencyChecker checker, double yieldProbability, long maxSwitches, SimTrace trace) {
        this.random = new SplittableRandom(seed);
        this.checker = checker;
        this.yieldProbability = yieldProbability;
        this.maxSwitches = maxSwitches;
        this.trace = trace;
        this.clock = new Clock() {
            @Override
            public long nanoTime() {
                return nowNanos;
            }

            @Override
            public long wallMillis() {
                return EPOCH_MILLIS + nowNanos / 1_000_000;
            }
        };
    }

    @Override
    public Clock clock() {
        return clock;
    }

    @Override
    public DependencyChecker checker() {
        return checker;
    }

    /** Simulated nanoseconds since the run began. */
    public long nowNanos() {
        return nowNanos;
    }

    public long switches() {
        return switches;
    }

    /** A fingerprint of every scheduling decision so far (thread picked, time): replay equality. */
    public long traceHash() {
        return traceHash;
    }

    /**
     * Couples thread creation to memory: each start charges {@code bytes} to {@code budget},
     * waiting (on the starting thread) while the budget is full, as a kernel thread start
     * allocates and may wait for writeback (seeds 000, 003). Null turns it off.
     */
    public void chargeThreadStarts(MemoryBudget budget, long bytes) {
        this.threadStartBudget = budget;
        this.threadStartBytes = bytes;
    }

    @Override
    public JmdThread current() {
        SimThread t = self.get();
        if (t == null) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName() + " is not a simulated thread");
        }
        return t.jmd;
    }

    private SimThread me() {
        SimThread t = self.get();
        if (t == null) {
            throw new IllegalStateException("thread " + Thread.currentThread().getName() + " is not a simulated thread");
        }
        assert running == t : "simulated thread " + t + " runs without the baton (holder " + running + ")";
        return t;
    }

    // ---------------------------------------------------------------------------------------------
    // Running a simulation (from the outer, non-simulated thread).

    /**
     * Runs {@code body} as the main simulated thread until it ends, the run fails (deadlock, a
     * thread's uncaught exception, {@link #fail}) or {@code realTimeoutMillis} of real time pass
     * (a hang outside the simulation's control: a thread blocked on a raw JDK lock). Then kills
     * every thread still alive and returns the outcome.
     */
    public Outcome run(String name, Runnable body, long realTimeoutMillis) {
        assert self.get() == null : "run from inside the simulation";
        main = newThread(name, EnumSet.of(ThreadRole.EXTERNAL), body);
        runnable.remove(main);
        main.state = State.RUNNING;
        running = main;
        main.java.start();
        boolean done;
        try {
            done = finished.await(realTimeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        if (!done) {
            SimThread r = running;
            recordFailure("real-time hang: the simulation made no progress for " + realTimeoutMillis
                + " ms (a thread blocked outside jmd's primitives?); running: " + r
                + (r == null ? "" : "\n" + stackOf(r.java)));
            return new Outcome(false, failure, switches, nowNanos, traceHash);
        }
        killAllFromOutside();
        return new Outcome(failure == null, failure, switches, nowNanos, traceHash);
    }

    private static String stackOf(Thread t) {
        StringBuilder sb = new StringBuilder();
        for (StackTraceElement e : t.getStackTrace()) {
            sb.append("    at ").append(e).append('\n');
        }
        return sb.toString();
    }

    /** Kills every live thread, one at a time, each unwinding with the baton. */
    private void killAllFromOutside() {
        for (SimThread t : new ArrayList<>(live)) {
            if (t.state == State.DONE) {
                continue;
            }
            killer = null;
            t.killed = true;
            runnable.remove(t);
            timed.remove(t);
            t.state = State.RUNNING;
            running = t;
            LockSupport.unpark(t.java);
            try {
                t.java.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * From a simulated thread: kills every other live thread (a crash: they vanish mid-step).
     * Each one unwinds in turn with the baton (its finally blocks run; it can no longer wait,
     * start threads or wake anyone), then hands the baton back here.
     */
    public void killAllOthers() {
        SimThread me = me();
        for (SimThread t : new ArrayList<>(live)) {
            if (t == me || t.state == State.DONE) {
                continue;
            }
            t.killed = true;
            runnable.remove(t);
            timed.remove(t);
            t.deadlineNanos = Long.MAX_VALUE;
            killer = me;
            handTo(t);
            awaitBaton(me);
            me.state = State.RUNNING;
        }
        killer = null;
        trace.event(nowNanos, me.name, "killed all other threads");
    }

    /**
     * Fails the run with {@code message} (the first failure wins). The calling thread goes on to
     * its next switch point, where the run stops.
     */
    public void fail(String message) {
        recordFailure(message);
    }

    private void recordFailure(String message) {
        if (failure == null) {
            failure = message;
        }
        stopping = true;
    }

    public String failure() {
        return failure;
    }

    // ---------------------------------------------------------------------------------------------
    // Scheduler.

    @Override
    public JmdThread start(String name, Set<ThreadRole> roles, Runnable body) {
        SimThread me = me();
        checkAlive(me);
        checker.beforeStart(me.jmd, name);
        MemoryBudget budget = threadStartBudget;
        long bytes = threadStartBytes;
        if (budget != null && bytes > 0) {
            budget.charge(bytes); // may wait for writeback: the seeds' coupling
        }
        SimThread t = newThread(name, roles, body);
        t.charged = budget;
        t.chargedBytes = budget == null ? 0 : bytes;
        t.java.start();
        trace.event(nowNanos, me.name, "start " + name);
        maybeYield(me);
        return t.jmd;
    }

    private SimThread newThread(String name, Set<ThreadRole> roles, Runnable body) {
        SimThread t = new SimThread(++nextId, name);
        t.java = Thread.ofVirtual().name("sim:" + name).unstarted(() -> threadBody(t, body));
        t.jmd = JmdThreads.create(name, roles, t.java);
        live.add(t);
        byJmd.put(t.jmd, t);
        runnable.add(t);
        return t;
    }

    private void threadBody(SimThread t, Runnable body) {
        self.set(t);
        awaitBaton(t);
        try {
            if (!t.killed) {
                body.run();
            }
        } catch (SimKilled k) {
            // unwound by a crash or the end of the run
        } catch (Throwable e) {
            if (!t.killed) {
                recordFailure("thread " + t.name + " threw " + e + "\n" + stackOf(e));
            }
        } finally {
            threadEnded(t);
        }
    }

    static String stackOf(Throwable e) {
        java.io.StringWriter w = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(w));
        return w.toString();
    }

    private void threadEnded(SimThread t) {
        t.state = State.DONE;
        live.remove(t);
        byJmd.remove(t.jmd);
        runnable.remove(t);
        timed.remove(t);
        for (SimThread j : t.joiners) {
            wake(j);
        }
        t.joiners.clear();
        if (t.charged != null && !t.killed) {
            t.charged.uncharge(t.chargedBytes);
        }
        if (t.killed) {
            SimThread k = killer;
            if (k == null) {
                running = null; // the outer thread joins this Java thread
            } else {
                handTo(k);
            }
            return;
        }
        if (t == main) {
            running = null;
            finished.countDown();
            return;
        }
        switchAway(t);
    }

    @Override
    public void park(Waitable on, long deadlineNanos) {
        SimThread me = me();
        checkAlive(me);
        if (me.permit) {
            me.permit = false;
            maybeYield(me);
            return;
        }
        if (deadlineNanos != Long.MAX_VALUE && deadlineNanos - nowNanos <= 0) {
            maybeYield(me);
            return;
        }
        me.state = State.PARKED;
        me.waitingOn = on;
        me.deadlineNanos = deadlineNanos;
        if (deadlineNanos != Long.MAX_VALUE) {
            me.timedSeq = ++timedSeq;
            timed.add(me);
        }
        switchAway(me);
        me.waitingOn = null;
        checkAlive(me);
    }

    @Override
    public void unpark(JmdThread thread) {
        SimThread me = self.get();
        SimThread t = byJmd.get(thread);
        if (t == null || t.killed) {
            return;
        }
        if (t.state == State.PARKED) {
            wake(t);
        } else if (t.state != State.DONE) {
            t.permit = true;
        }
        if (me != null && !me.killed && me != t) {
            maybeYield(me);
        }
    }

    @Override
    public void yieldPoint() {
        SimThread me = me();
        checkAlive(me);
        maybeYield(me);
    }

    @Override
    public void join(JmdThread thread) {
        SimThread me = me();
        SimThread t = byJmd.get(thread);
        if (t == null || t.state == State.DONE) {
            return;
        }
        Waitable w = new Waitable() {
            @Override
            public String waitName() {
                return "end of thread " + t.name;
            }

            @Override
            public List<JmdThread> providers() {
                return List.of(t.jmd);
            }
        };
        t.joiners.add(me);
        while (t.state != State.DONE) {
            park(w, Long.MAX_VALUE);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // The baton.

    private void wake(SimThread t) {
        if (t.state != State.PARKED) {
            return;
        }
        if (t.deadlineNanos != Long.MAX_VALUE) {
            timed.remove(t);
            t.deadlineNanos = Long.MAX_VALUE;
        }
        t.state = State.RUNNABLE;
        runnable.add(t);
    }

    private void checkAlive(SimThread me) {
        if (me.killed) {
            throw new SimKilled();
        }
    }

    private void maybeYield(SimThread me) {
        if (stopping) {
            stopHere(me);
            return;
        }
        if (killer != null || runnable.isEmpty() || random.nextDouble() >= yieldProbability) {
            return;
        }
        me.state = State.RUNNABLE;
        runnable.add(me);
        switchAway(me);
        checkAlive(me);
    }

    /**
     * Gives the baton away: {@code me} is PARKED, RUNNABLE (in {@link #runnable}) or DONE. Returns
     * when {@code me} holds the baton again (never, for DONE).
     */
    private void switchAway(SimThread me) {
        if (stopping) {
            stopHere(me);
            return;
        }
        SimThread next = pickNext();
        if (next == null) {
            recordFailure(WaitFor.deadlockReport(this, me));
            stopHere(me);
            return;
        }
        if (++switches > maxSwitches) {
            recordFailure("livelock bound: more than " + maxSwitches + " thread switches");
            runnable.add(next);
            next.state = State.RUNNABLE;
            stopHere(me);
            return;
        }
        traceHash = (traceHash ^ next.id) * 0x100000001b3L;
        traceHash = (traceHash ^ nowNanos) * 0x100000001b3L;
        if (next == me) {
            me.state = State.RUNNING;
            return;
        }
        handTo(next);
        if (me.state != State.DONE) {
            awaitBaton(me);
            me.state = State.RUNNING;
        }
    }

    /** The run stops: tell the outer thread, then wait to be killed (unless this thread ended). */
    private void stopHere(SimThread me) {
        running = null;
        finished.countDown();
        if (me.state != State.DONE) {
            awaitBaton(me);
            me.state = State.RUNNING;
            checkAlive(me);
            throw new SimKilled(); // reached only when picked without being killed: never
        }
    }

    private SimThread pickNext() {
        while (true) {
            if (!runnable.isEmpty()) {
                SimThread t = runnable.remove(random.nextInt(runnable.size()));
                return t;
            }
            SimThread first = timed.pollFirst();
            if (first == null) {
                return null;
            }
            if (first.deadlineNanos - nowNanos > 0) {
                nowNanos = first.deadlineNanos;
            }
            first.deadlineNanos = Long.MAX_VALUE;
            first.state = State.RUNNABLE;
            runnable.add(first);
            while (!timed.isEmpty() && timed.first().deadlineNanos - nowNanos <= 0) {
                SimThread t = timed.pollFirst();
                t.deadlineNanos = Long.MAX_VALUE;
                t.state = State.RUNNABLE;
                runnable.add(t);
            }
        }
    }

    private void handTo(SimThread next) {
        next.state = State.RUNNING;
        running = next;
        LockSupport.unpark(next.java);
    }

    private void awaitBaton(SimThread me) {
        while (running != me) {
            LockSupport.park(this);
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Views for reports (baton holder only).

    /** Live threads in creation order (for wait-for reports). */
    List<SimThread> liveThreads() {
        return List.copyOf(live);
    }

    SimThread simThreadOf(JmdThread t) {
        return byJmd.get(t);
    }

    /** Whether some thread is parked with a deadline (a timer that will move the clock). */
    boolean hasTimedWaiters() {
        return !timed.isEmpty();
    }

    /** The wait-for report of every thread now, for liveness failures found by the workload. */
    public String waitForReport(String headline) {
        return WaitFor.report(this, headline);
    }
}
