package io.jmd.block;

import io.jmd.Env;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A layer over any device that injects faults, as nbdkit's error and delay filters wrap
 * {@code next}: errors on a byte range (for reads, writes, ...; always, the first N times, or with
 * a probability), added latency on a range, and whole-device failure (a pulled disk: every bio
 * fails with EIO from then on, including those in flight when it happened). Rules are added and
 * removed while I/O runs.
 *
 * <p>Life of a bio:
 * <pre>
 *   submit ── slot ──┬─ device failed / an error rule fires ── (I/O worker) ──┐
 *                    └─ child bio to next ── next ends it ────────────────────┤
 *                                                                             v
 *        complete: failed now? EIO.  delay rules matching? ── timer ──> end ──> callback
 * </pre>
 * Latency is added on the way back, through {@link Env#timer()}, never by blocking a worker;
 * the bio keeps its slot here while delayed, so a slow range turns into backpressure on the
 * submitter, as a slow disk would. An errored bio never reaches {@code next} (a failed write
 * writes nothing).
 *
 * <p>Shared state: the rule list (copy-on-write), the failure flag (volatile), counters and the
 * random-draw sequence (atomics); nothing is locked. Random draws come from a SplitMix64 sequence
 * seeded once from {@link Env#random()}, so a seed replays the same faults for the same order of
 * bios, and threads never share a non-thread-safe generator.
 *
 * <p>The layer owns {@code next}: closing it closes {@code next}.
 */
public final class FaultInjectingDevice implements BlockDevice {
    private final Env env;
    private final BlockDevice next;
    private final String name;
    private final InFlight inFlight;
    private final CopyOnWriteArrayList<FaultRule> rules = new CopyOnWriteArrayList<>();
    private volatile boolean failed;
    private final long seed;
    private final AtomicLong draws = new AtomicLong();
    private final AtomicLong injectedErrors = new AtomicLong();
    private final AtomicLong injectedDelays = new AtomicLong();
    private final AtomicLong failedBios = new AtomicLong();
    private volatile boolean closed;

    public FaultInjectingDevice(Env env, BlockDevice next, int queueDepth) {
        this.env = env;
        this.next = next;
        this.name = "faulty:" + next.name();
        this.inFlight = new InFlight(env.scheduler(), name, queueDepth);
        this.seed = env.random().nextLong();
    }

    /** With the default queue depth of a member ({@link FileBlockDevice#QUEUE_DEPTH_DEFAULT}). */
    public FaultInjectingDevice(Env env, BlockDevice next) {
        this(env, next, FileBlockDevice.QUEUE_DEPTH_DEFAULT);
    }

    public BlockDevice next() {
        return next;
    }

    /** Adds a rule, effective for bios submitted (errors) or completing (delays) from now on. */
    public FaultRule addRule(FaultRule rule) {
        rules.add(rule);
        return rule;
    }

    public boolean removeRule(FaultRule rule) {
        return rules.remove(rule);
    }

    public void clearRules() {
        rules.clear();
    }

    public List<FaultRule> rules() {
        return List.copyOf(rules);
    }

    /** Pulls the disk: every bio fails with EIO from now on, in flight or new. */
    public void failDevice() {
        failed = true;
    }

    /** Puts the disk back (as re-adding a member that came back). */
    public void restoreDevice() {
        failed = false;
    }

    public boolean isFailed() {
        return failed;
    }

    /** Bios ended with a rule's errno. */
    public long injectedErrors() {
        return injectedErrors.get();
    }

    /** Bios delayed by a rule. */
    public long injectedDelays() {
        return injectedDelays.get();
    }

    /** Bios failed because the whole device was failed. */
    public long failedBios() {
        return failedBios.get();
    }

    public int inFlight() {
        return inFlight.inFlight();
    }

    public long callbackFailures() {
        return inFlight.callbackFailures();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long sizeBytes() {
        return next.sizeBytes();
    }

    @Override
    public int logicalBlockBytes() {
        return next.logicalBlockBytes();
    }

    @Override
    public int optimalIoBytes() {
        return next.optimalIoBytes();
    }

    @Override
    public boolean supportsDiscard() {
        return next.supportsDiscard();
    }

    @Override
    public void blockStatus(long offsetBytes, long lengthBytes, ExtentSink out) {
        next.blockStatus(offsetBytes, lengthBytes, out);
    }

    @Override
    public void submit(Bio bio) {
        assert BlockDevice.submittable(this, bio, closed);
        inFlight.acquire();
        start(bio, true);
    }

    @Override
    public boolean trySubmit(Bio bio) {
        assert BlockDevice.submittable(this, bio, closed);
        if (!inFlight.tryAcquire()) {
            return false;
        }
        return start(bio, false);
    }

    /** With a slot held: fails the bio here or passes it down. False if next refused (trySubmit). */
    private boolean start(Bio bio, boolean mayWait) {
        int errno = 0;
        if (failed) {
            failedBios.incrementAndGet();
            errno = Errno.EIO;
        } else {
            errno = injectedError(bio);
        }
        if (errno != 0) {
            int status = errno;
            try {
                env.ioWorkers().execute(() -> complete(bio, status));
            } catch (RuntimeException e) {
                inFlight.releaseUnstarted();
                throw e;
            }
            return true;
        }
        Bio child = new Bio(bio.op, bio.offsetBytes, bio.lengthBytes, bio.data, bio.flags, bio,
            c -> complete(bio, c.status()));
        if (mayWait) {
            next.submit(child);
        } else if (!next.trySubmit(child)) {
            inFlight.releaseUnstarted();
            return false;
        }
        return true;
    }

    /** The errno of the first error rule that fires for this bio, or 0. */
    private int injectedError(Bio bio) {
        for (FaultRule rule : rules) {
            if (rule.kind() == FaultRule.Kind.ERROR && rule.matches(bio) && rule.fires(draw(rule))) {
                injectedErrors.incrementAndGet();
                return rule.errno();
            }
        }
        return 0;
    }

    /** The longest delay among the delay rules that fire for this bio, or 0. */
    private long injectedDelay(Bio bio) {
        long delay = 0;
        for (FaultRule rule : rules) {
            if (rule.kind() == FaultRule.Kind.DELAY && rule.matches(bio) && rule.fires(draw(rule))) {
                delay = Math.max(delay, rule.delayNanos());
            }
        }
        if (delay > 0) {
            injectedDelays.incrementAndGet();
        }
        return delay;
    }

    private double draw(FaultRule rule) {
        if (!rule.random()) {
            return 0.0;
        }
        long z = seed + draws.incrementAndGet() * 0x9E3779B97F4A7C15L; // SplitMix64
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }

    /** On an I/O-progress thread, in a must-not-block section (next's callback) or a worker task. */
    private void complete(Bio bio, int status) {
        int s = status;
        if (failed && s == Errno.OK) {
            failedBios.incrementAndGet(); // in flight when the disk was pulled
            s = Errno.EIO;
        }
        long delay = injectedDelay(bio);
        if (delay > 0) {
            int delayed = s;
            env.timer().schedule(delay, () -> inFlight.end(bio, delayed));
        } else {
            inFlight.end(bio, s);
        }
    }

    /** Closes this layer and {@code next}. Every bio must have ended (delayed ones too). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        inFlight.assertIdle();
        closed = true;
        next.close();
    }

    @Override
    public String toString() {
        return "FaultInjectingDevice[" + next + ", " + rules.size() + " rules" + (failed ? ", FAILED" : "") + "]";
    }
}
