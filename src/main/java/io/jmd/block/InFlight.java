package io.jmd.block;

import io.jmd.sync.CountedResource;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.Scheduler;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A device's in-flight slots and the one way its bios end. Shared by every device (this package's
 * and the NBD client's).
 *
 * <p>Slots: a bio takes one at submit (waiting when the device is saturated: backpressure, or
 * failing fast for trySubmit) and gives it back just before its callback runs, so a callback that
 * submits the next bio with trySubmit finds the slot free. The queue depth bounds the tasks a
 * device can have on the shared I/O pool.
 *
 * <p>Ending: the callback runs inside a must-not-block section ({@link DependencyChecker#runAtomic}).
 * A callback that throws (in tests: a {@link io.jmd.sync.DependencyViolation} because it blocked)
 * has still ended its bio, since {@link Bio#end} records the status before calling back; the
 * failure is counted, kept and reported here, and does not escape into the worker that ran it, so
 * the device never loses track of a slot and the pool never loses a worker to a caller's bug.
 * Virtual-machine errors (out of memory) still propagate.
 */
public final class InFlight {
    private final Scheduler scheduler;
    private final String deviceName;
    private final CountedResource slots;
    private final AtomicLong callbackFailures = new AtomicLong();
    private final AtomicReference<Throwable> firstCallbackFailure = new AtomicReference<>();

    public InFlight(Scheduler scheduler, String deviceName, int queueDepth) {
        if (queueDepth < 1) {
            throw new IllegalArgumentException(deviceName + ": queue depth must be >= 1, got " + queueDepth);
        }
        this.scheduler = scheduler;
        this.deviceName = deviceName;
        this.slots = new CountedResource(scheduler, "slots " + deviceName, queueDepth);
    }

    /** Takes a slot, waiting while the device is saturated. Not from a must-not-block section. */
    public void acquire() {
        slots.acquire(1);
    }

    /** Takes a slot if one is free now. */
    public boolean tryAcquire() {
        return slots.tryAcquire(1);
    }

    /** Gives back a slot taken for a bio that was never started (its submission failed). */
    public void releaseUnstarted() {
        slots.release(1);
    }

    /** Frees the bio's slot and runs its callback in a must-not-block section on this thread. */
    public void end(Bio bio, int status) {
        assert !bio.ended() : "bio ended twice on " + deviceName + ": " + bio;
        slots.release(1);
        try {
            DependencyChecker.runAtomic(scheduler.current(), () -> bio.end(status));
        } catch (VirtualMachineError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            callbackFailures.incrementAndGet();
            firstCallbackFailure.compareAndSet(null, e);
            // No logger is injected (Env has none); stderr is where the checker reports too.
            System.err.println("jmd: " + deviceName + ": callback of " + bio + " (status "
                + Errno.name(status) + ") threw " + e + "; the bio is ended, the device goes on");
        }
    }

    public int queueDepth() {
        return (int) slots.capacity();
    }

    /** Bios submitted and not yet handed to their callbacks. */
    public int inFlight() {
        return (int) (slots.capacity() - slots.available());
    }

    public long callbackFailures() {
        return callbackFailures.get();
    }

    public Throwable firstCallbackFailure() {
        return firstCallbackFailure.get();
    }

    /** Close-time check: every bio ended (the BlockDevice contract). */
    public void assertIdle() {
        int n = inFlight();
        if (n != 0) {
            throw new IllegalStateException(deviceName + " closed with " + n + " bio(s) in flight");
        }
    }
}
