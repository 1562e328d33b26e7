package io.jmd.sim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * What a run did, as text lines with their simulated time: the last {@code capacity} events are
 * kept (printed with a failure), and every event feeds {@link #hash()}, so two runs of one seed can
 * be compared line for line or by fingerprint. Written by the baton holder only.
 */
public final class SimTrace {
    private final int capacity;
    private final ArrayDeque<String> last;
    private final List<String> all;
    private long hash = 0xcbf29ce484222325L;
    private long events;

    /** Keeps the last {@code capacity} lines; with {@code keepAll}, every line (replay comparison). */
    public SimTrace(int capacity, boolean keepAll) {
        this.capacity = capacity;
        this.last = new ArrayDeque<>(Math.max(1, capacity));
        this.all = keepAll ? new ArrayList<>() : null;
    }

    public void event(long nowNanos, String thread, String what) {
        events++;
        hash = (hash ^ nowNanos) * 0x100000001b3L;
        hash = (hash ^ thread.hashCode()) * 0x100000001b3L;
        hash = (hash ^ what.hashCode()) * 0x100000001b3L;
        if (capacity == 0 && all == null) {
            return;
        }
        String line = String.format("%12.6f %-16s %s", nowNanos / 1e9, thread, what);
        if (capacity > 0) {
            if (last.size() == capacity) {
                last.removeFirst();
            }
            last.addLast(line);
        }
        if (all != null) {
            all.add(line);
        }
    }

    public long hash() {
        return hash;
    }

    public long events() {
        return events;
    }

    /** The last lines kept, oldest first. */
    public List<String> tail() {
        return List.copyOf(last);
    }

    /** Every line (only with keepAll). */
    public List<String> lines() {
        return all == null ? List.of() : List.copyOf(all);
    }
}
