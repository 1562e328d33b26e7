package io.jmd.sim;

import io.jmd.Env;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.DependencyViolation;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;

/**
 * A small simulated world for scenario tests: a {@link SimScheduler} with a reporting checker (so
 * that a flagged pattern goes on and shows whether it also hangs), an Env with a small budget whose
 * thread starts are charged to it, and a body run as the main simulated thread.
 */
final class Scenario {
    /** Scenarios are small: a naive variant must be caught within this many thread switches. */
    static final long SWITCHES_MAX = 200_000;
    static final long THREAD_BYTES = SimScheduler.THREAD_START_BYTES_DEFAULT;

    record Result(SimScheduler.Outcome outcome, List<String> violations) {
        boolean deadlocked() {
            return !outcome.ok() && outcome.failure().startsWith("deadlock");
        }

        boolean flagged(DependencyViolation.Rule rule) {
            return violations.stream().anyMatch(v -> v.startsWith(rule.name() + ":"));
        }

        /** Neither a deadlock, nor any failure, nor any checker report. */
        boolean clean() {
            return outcome.ok() && violations.isEmpty();
        }

        @Override
        public String toString() {
            return (outcome.ok() ? "completed" : outcome.failure()) + "; " + violations.size() + " checker report(s)"
                + (violations.isEmpty() ? "" : ", first: " + violations.get(0).lines().findFirst().orElse(""));
        }
    }

    private Scenario() {
    }

    static Result run(long seed, long budgetBytes, BiConsumer<Env, SimScheduler> body) {
        DependencyChecker checker = new DependencyChecker(DependencyChecker.Mode.REPORT, s -> { });
        SimScheduler sim = new SimScheduler(seed, checker, 0.3, SWITCHES_MAX, new SimTrace(0, false));
        SimScheduler.Outcome o = sim.run("main", () -> {
            Env env = new Env(sim, new SplittableRandom(seed), budgetBytes, false);
            sim.chargeThreadStarts(env.budget(), THREAD_BYTES);
            body.accept(env, sim);
            env.close();
            env.buffers().trim(); // off-heap memory: cached slabs live until trimmed
        }, 60_000);
        return new Result(o, checker.violations());
    }
}
