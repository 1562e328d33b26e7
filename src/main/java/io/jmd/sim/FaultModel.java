package io.jmd.sim;

import io.jmd.block.Bio;

import java.util.SplittableRandom;

/**
 * The storage fault model of one run (see {@link SimDisk} for what each fault does). Drawn per seed
 * ({@link #random}), so that a batch of seeds sweeps quiet and hostile disks alike (swarm testing).
 *
 * @param queueDepth            in-flight slots per device: small depths make backpressure common
 * @param readLatencyMinNanos   every read takes at least this long
 * @param readLatencyMeanNanos  mean of the exponential part of a read's latency
 * @param writeLatencyMinNanos  as for reads
 * @param writeLatencyMeanNanos as for reads; a flush takes twice a write's draw
 * @param slowProbability       chance that an I/O is 20 times slower (a retrying, remapping disk)
 * @param latentPerOp           chance, per workload operation, of a new latent sector error
 * @param memberFailurePerOp    chance, per workload operation, that a member fails whole
 * @param misdirectProbability  chance that a data write lands on another sector (0: RAID1 runs)
 * @param completeOnWorkers     completions run on the Env's I/O worker pool (as a real device's
 *                              blocking syscalls do, workers started on demand by the thread
 *                              starter) instead of on the timer thread that fires them
 */
public record FaultModel(int queueDepth, long readLatencyMinNanos, long readLatencyMeanNanos,
                         long writeLatencyMinNanos, long writeLatencyMeanNanos, double slowProbability,
                         double latentPerOp, double memberFailurePerOp, double misdirectProbability,
                         boolean completeOnWorkers) {
    public FaultModel {
        if (queueDepth < 1) {
            throw new IllegalArgumentException("queue depth must be >= 1");
        }
        if (readLatencyMeanNanos < readLatencyMinNanos || writeLatencyMeanNanos < writeLatencyMinNanos) {
            throw new IllegalArgumentException("a latency mean is below its minimum");
        }
    }

    /** No faults, fixed small latencies: for scenario tests. */
    public static FaultModel quiet() {
        return new FaultModel(16, 50_000, 100_000, 50_000, 200_000, 0, 0, 0, 0, false);
    }

    /** A model drawn for one seed. */
    public static FaultModel random(SplittableRandom r) {
        int[] depths = {1, 2, 4, 8, 32};
        long readMin = 20_000 + r.nextLong(200_000);
        long writeMin = 20_000 + r.nextLong(400_000);
        return new FaultModel(depths[r.nextInt(depths.length)], readMin, readMin + r.nextLong(2_000_000),
            writeMin, writeMin + r.nextLong(4_000_000), r.nextInt(4) == 0 ? 0.01 : 0,
            r.nextInt(3) == 0 ? 0 : 0.002 + r.nextDouble() * 0.01,
            r.nextInt(2) == 0 ? 0 : 0.0005 + r.nextDouble() * 0.002, 0, r.nextBoolean());
    }

    /** Draws a latency for {@code op}: min + exponential(mean - min), sometimes 20 times slower. */
    long latencyNanos(Bio.Op op, SplittableRandom r) {
        boolean read = op == Bio.Op.READ;
        long min = read ? readLatencyMinNanos : writeLatencyMinNanos;
        long mean = read ? readLatencyMeanNanos : writeLatencyMeanNanos;
        double u = 1.0 - r.nextDouble(); // (0, 1]
        long l = min + (long) (-Math.log(u) * (mean - min));
        if (op == Bio.Op.FLUSH) {
            l *= 2;
        }
        if (slowProbability > 0 && r.nextDouble() < slowProbability) {
            l *= 20;
        }
        return l;
    }

    @Override
    public String toString() {
        return String.format("queue depth %d, read %d+%dus, write %d+%dus, slow %.3f, latent/op %.4f, member failure/op %.4f,"
                + " misdirect %.4f%s", queueDepth, readLatencyMinNanos / 1000, (readLatencyMeanNanos - readLatencyMinNanos) / 1000,
            writeLatencyMinNanos / 1000, (writeLatencyMeanNanos - writeLatencyMinNanos) / 1000, slowProbability, latentPerOp,
            memberFailurePerOp, misdirectProbability, completeOnWorkers ? ", completions on I/O workers" : "");
    }
}
