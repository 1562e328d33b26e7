package io.jmd.bench;

import io.jmd.md.parity.Parity;
import io.jmd.md.parity.ParityKernels;
import io.jmd.md.parity.ScalarKernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * JMH throughput of the parity kernels, one thread, in cache: {@code disks} data blocks of
 * {@code blockBytes} each (4 KiB, md's stripe page, and 64 KiB, jmd's stripe unit). One operation
 * processes every data block once; the report converts to GB/s of data (what lib/raid6's boot-time
 * benchmark prints: data disks × block size per second).
 *
 * <p>Run: {@code ./scripts/bench-parity} (builds, then runs this main; extra arguments go to JMH,
 * e.g. {@code -p blockBytes=4096}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"@scripts/jvm.args"})
public class ParityBench {
    @Param({"4096", "65536"})
    public int blockBytes;

    /** Data disks: a 6 + P + Q RAID6 or a 6 + P RAID5. */
    @Param({"6"})
    public int disks;

    @Param({"vector", "scalar"})
    public String kernels;

    ParityKernels k;
    MemorySegment[] data;
    MemorySegment p;
    MemorySegment q;

    @Setup(Level.Trial)
    public void setup() {
        k = kernels.equals("scalar") ? ScalarKernels.INSTANCE : Parity.kernels();
        Arena arena = Arena.ofAuto();
        SplittableRandom r = new SplittableRandom(1);
        data = new MemorySegment[disks];
        for (int i = 0; i < disks; i++) {
            data[i] = arena.allocate(blockBytes, 4096);
            for (long j = 0; j < blockBytes; j += 8) {
                data[i].set(java.lang.foreign.ValueLayout.JAVA_LONG, j, r.nextLong());
            }
        }
        p = arena.allocate(blockBytes, 4096);
        q = arena.allocate(blockBytes, 4096);
        k.genSyndrome(data, disks, p, q, 0, blockBytes);
    }

    /** RAID5 parity: P = XOR of the data blocks. */
    @Benchmark
    public MemorySegment xor() {
        k.xor(p, data, disks, 0, blockBytes);
        return p;
    }

    /** RAID6 P and Q of the data blocks. */
    @Benchmark
    public MemorySegment raid6Gen() {
        k.genSyndrome(data, disks, p, q, 0, blockBytes);
        return q;
    }

    /** Two lost data blocks (slots 1 and 4) rebuilt from the rest and P, Q. */
    @Benchmark
    public MemorySegment raid6Recover2Data() {
        Parity.recoverTwoData(k, data, disks, 1, 4, p, q, 0, blockBytes);
        return data[1];
    }

    /** A lost data block (slot 2) and P rebuilt from the rest and Q. */
    @Benchmark
    public MemorySegment raid6RecoverDataP() {
        Parity.recoverDataAndP(k, data, disks, 2, p, q, 0, blockBytes);
        return data[2];
    }

    public static void main(String[] args) throws Exception {
        org.openjdk.jmh.runner.options.CommandLineOptions cli = new org.openjdk.jmh.runner.options.CommandLineOptions(args);
        Collection<RunResult> results = new Runner(new OptionsBuilder().parent(cli).include(ParityBench.class.getSimpleName())
            .build()).run();
        System.out.println();
        System.out.println("kernel throughput, GB/s of data per core (1 GB = 1e9 bytes):");
        for (RunResult r : results) {
            var params = r.getParams();
            double opsPerSecond = r.getPrimaryResult().getScore();
            int block = Integer.parseInt(params.getParam("blockBytes"));
            int n = Integer.parseInt(params.getParam("disks"));
            double gbps = opsPerSecond * block * n / 1e9;
            String name = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
            System.out.printf(Locale.ROOT, "  %-18s %-7s %6d B x %d  %8.2f GB/s%n", name, params.getParam("kernels"), block, n, gbps);
        }
    }
}
