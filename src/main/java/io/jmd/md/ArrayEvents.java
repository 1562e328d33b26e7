package io.jmd.md;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * What happened to an array, for {@code jmd monitor}: events named as mdadm's Monitor names them
 * (Fail, FailSpare, DegradedArray, SpareActive, RebuildStarted, Rebuild20..80, RebuildFinished,
 * NewArray, DeviceDisappeared, ...). A ring of the last {@link #KEPT} events with sequence numbers;
 * a reader that falls more than that behind is told how many it missed.
 *
 * <p>Posting never blocks (md thread, completion callbacks): a slot write, a counter, and the
 * listeners, which must only wake someone.
 */
public final class ArrayEvents {
    /** Events kept for readers that fall behind: a monitor reads them in milliseconds. */
    public static final int KEPT = 256;

    /** One event. {@code member} may be null. */
    public record Event(long seq, long wallMillis, String name, String array, String member, String detail) {
        /** As jmd monitor prints it: "Fail r1 /dev/b" plus the detail. */
        public String line() {
            StringBuilder sb = new StringBuilder(name).append(' ').append(array);
            if (member != null) {
                sb.append(' ').append(member);
            }
            if (detail != null && !detail.isEmpty()) {
                sb.append(" (").append(detail).append(')');
            }
            return sb.toString();
        }
    }

    private final String array;
    private final java.util.function.LongSupplier clock;
    private final AtomicReferenceArray<Event> ring = new AtomicReferenceArray<>(KEPT);
    private final AtomicLong next = new AtomicLong(1);
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();
    private final System.Logger log = System.getLogger("io.jmd.md.events");

    public ArrayEvents(String array, java.util.function.LongSupplier wallMillis) {
        this.array = array;
        this.clock = wallMillis;
    }

    public void post(String name, String member, String detail) {
        long seq = next.getAndIncrement();
        Event e = new Event(seq, clock.getAsLong(), name, array, member, detail);
        ring.set((int) (seq % KEPT), e);
        log.log(System.Logger.Level.DEBUG, "jmd: " + e.line());
        for (Runnable l : listeners) {
            l.run();
        }
    }

    /** The sequence number the next event will get. */
    public long nextSeq() {
        return next.get();
    }

    /** Events with seq &ge; {@code from} still kept, in order (those overwritten are skipped). */
    public List<Event> since(long from) {
        List<Event> out = new ArrayList<>();
        long end = next.get();
        for (long s = Math.max(Math.max(from, 1), end - KEPT); s < end; s++) {
            Event e = ring.get((int) (s % KEPT));
            if (e == null || e.seq() < s) {
                break; // numbered, not stored yet: the next read starts here
            }
            if (e.seq() == s) {
                out.add(e);
            }
        }
        return out;
    }

    /** {@code listener} runs after every post; it must not block. */
    public void listen(Runnable listener) {
        listeners.add(listener);
    }

    public void unlisten(Runnable listener) {
        listeners.remove(listener);
    }
}
