package io.jmd.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * Runs seeds {@code from..to} (inclusive) of one level, {@code parallel} at a time (each run is its
 * own simulation: runs never share state), reporting each result in seed order.
 */
public final class SimBatch {
    /** Totals of a batch. */
    public record Summary(long seeds, long failed, long ops, long crashes, long memberFailures, long realNanos,
                          List<SimRun.Result> failures) {
        public double opsPerSecond() {
            return realNanos == 0 ? 0 : ops * 1e9 / realNanos;
        }

        @Override
        public String toString() {
            return String.format("%d seeds, %d failed, %d ops, %d crashes, %d member failures in %.1f s (%.0f simulated ops/s)",
                seeds, failed, ops, crashes, memberFailures, realNanos / 1e9, opsPerSecond());
        }
    }

    private SimBatch() {
    }

    /** A raid1 batch. */
    public static Summary run(long from, long to, long ops, int parallel, Consumer<SimRun.Result> each) {
        return run(from, to, ops, io.jmd.md.format.RaidLevel.RAID1, parallel, each);
    }

    public static Summary run(long from, long to, long ops, io.jmd.md.format.RaidLevel level, int parallel,
                              Consumer<SimRun.Result> each) {
        if (to < from) {
            throw new IllegalArgumentException("empty seed range " + from + ".." + to);
        }
        long start = System.nanoTime();
        long totalOps = 0;
        long crashes = 0;
        long memberFailures = 0;
        List<SimRun.Result> failures = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, parallel))) {
            List<Future<SimRun.Result>> window = new ArrayList<>();
            long next = from;
            while (next <= to || !window.isEmpty()) {
                while (next <= to && window.size() < Math.max(1, parallel) * 2) {
                    long seed = next++;
                    window.add(pool.submit(() -> SimRun.run(SimConfig.of(seed, ops, level))));
                }
                SimRun.Result r;
                try {
                    r = window.remove(0).get();
                } catch (Exception e) {
                    throw new IllegalStateException("simulation runner failed", e);
                }
                totalOps += r.stats().ops();
                crashes += r.stats().crashes;
                memberFailures += r.stats().memberFailures;
                if (!r.ok()) {
                    failures.add(r);
                }
                each.accept(r);
            }
        }
        return new Summary(to - from + 1, failures.size(), totalOps, crashes, memberFailures, System.nanoTime() - start, failures);
    }
}
