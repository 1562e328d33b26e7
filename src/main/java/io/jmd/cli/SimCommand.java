package io.jmd.cli;

import io.jmd.md.format.RaidLevel;
import io.jmd.sim.SimBatch;
import io.jmd.sim.SimConfig;
import io.jmd.sim.SimRun;
import io.jmd.sim.SimTrace;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code jmd sim}: runs the deterministic simulator (io.jmd.sim) on one seed or a range. A failing
 * seed prints the one-line command that replays it exactly; {@code --trace} prints every event.
 */
@Command(name = "sim", mixinStandardHelpOptions = true,
    description = "Run the deterministic simulator: the real engine on simulated threads, time and faulty disks.")
public final class SimCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--seed", description = "Run this one seed.")
    Long seed;

    @Option(names = "--seeds", description = "Run a range of seeds, A..B (inclusive).")
    String seeds;

    @Option(names = "--ops", defaultValue = "2000", description = "Client requests per seed (default ${DEFAULT-VALUE}).")
    long ops;

    @Option(names = "--level", defaultValue = "raid1",
        description = "Level to simulate: raid1, raid5, raid6 or raid10 (default ${DEFAULT-VALUE}); its shape is drawn per seed.")
    String level;

    @Option(names = "--parallel", defaultValue = "1", description = "Seeds run at once (default ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--trace", description = "Print every event of the run (with --seed).")
    boolean trace;

    @Override
    public Integer call() throws CliException {
        // The engine's assertions are part of what a simulated run checks; classes load lazily, so
        // this reaches every engine class the run uses (the launcher runs without -ea).
        SimCommand.class.getClassLoader().setPackageAssertionStatus("io.jmd", true);
        PrintWriter out = spec.commandLine().getOut();
        if ((seed == null) == (seeds == null)) {
            throw new CliException("give exactly one of --seed N and --seeds A..B", 2);
        }
        if (ops < 1) {
            throw new CliException("--ops must be at least 1", 2);
        }
        RaidLevel lvl = SimConfig.LEVELS.stream().filter(l -> l.mdadmName().equals(level)).findFirst()
            .orElseThrow(() -> new CliException("--level takes raid1, raid5, raid6 or raid10, got " + level, 2));
        if (seed != null) {
            SimTrace t = new SimTrace(trace ? 0 : 200, trace);
            SimRun.Result r = SimRun.run(SimConfig.of(seed, ops, lvl), t);
            if (trace) {
                t.lines().forEach(out::println);
            }
            print(out, r, true);
            return r.ok() ? 0 : 1;
        }
        long[] range = parseRange(seeds);
        SimBatch.Summary s = SimBatch.run(range[0], range[1], ops, lvl, parallel, r -> print(out, r, false));
        out.println("sim: " + s);
        for (SimRun.Result f : s.failures()) {
            out.println("sim: FAILED: " + f.replayCommand());
        }
        return s.failed() == 0 ? 0 : 1;
    }

    private static void print(PrintWriter out, SimRun.Result r, boolean verbose) {
        if (r.ok()) {
            if (verbose) {
                out.println("sim: " + r.config());
            }
            out.printf("sim: seed %d ok: %s; %.3f s simulated, %d switches, trace %016x%n", r.config().seed(), r.stats(),
                r.simNanos() / 1e9, r.switches(), r.traceHash());
        } else {
            out.println("sim: seed " + r.config().seed() + " FAILED: " + r.config());
            out.println(r.failure());
            out.println("  last events:");
            r.traceTail().forEach(l -> out.println("    " + l));
            out.println("sim: replay with: " + r.replayCommand());
        }
        out.flush();
    }

    static long[] parseRange(String text) throws CliException {
        int dots = text.indexOf("..");
        if (dots < 0) {
            throw new CliException("--seeds takes A..B, got " + text, 2);
        }
        try {
            long a = Long.parseLong(text.substring(0, dots).trim());
            long b = Long.parseLong(text.substring(dots + 2).trim());
            if (b < a) {
                throw new CliException("--seeds " + text + " is empty", 2);
            }
            return new long[] {a, b};
        } catch (NumberFormatException e) {
            throw new CliException("--seeds takes A..B with whole numbers, got " + text, 2);
        }
    }
}
