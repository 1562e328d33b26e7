package io.jmd.testutil;

import io.jmd.sync.Clock;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.RealScheduler;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Real schedulers with a checker whose reports a test can read. */
public final class Schedulers {
    private Schedulers() {
    }

    /** A real scheduler whose checker throws on a violation; reports go to {@code reports}. */
    public static RealScheduler throwing(List<String> reports) {
        return new RealScheduler(Clock.SYSTEM, new DependencyChecker(DependencyChecker.Mode.THROW, reports::add));
    }

    public static RealScheduler throwing() {
        return throwing(new CopyOnWriteArrayList<>());
    }

    /** A real scheduler whose checker only records (to test what it would have flagged). */
    public static RealScheduler reporting() {
        return new RealScheduler(Clock.SYSTEM, new DependencyChecker(DependencyChecker.Mode.REPORT, s -> { }));
    }
}
