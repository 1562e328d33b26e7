package io.jmd.cli;

import io.jmd.Env;
import io.jmd.control.ControlClient;
import io.jmd.control.ControlPaths;
import io.jmd.sync.WaitQueue;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Commands that act on a running {@code jmd serve} through its control socket, as mdadm's manage
 * and misc modes act on a running md array: fail, remove, add, re-add, action (check, repair...),
 * sync-speed, status (/proc/mdstat), monitor (events). Exit codes: 0 done, 1 refused or failed
 * (the server's reason is printed), 2 wrong usage.
 */
final class ControlCommands {
    /** How long add/remove/re-add are waited for (they queue behind a quiesce of up to 30 s). */
    static final long ACTION_TIMEOUT_NANOS = 120_000_000_000L;
    static final long POLL_NANOS = 50_000_000L;

    private ControlCommands() {
    }

    /** --control and --array, shared by every command here. */
    static final class Target {
        @Option(names = "--control", paramLabel = "PATH",
            description = "control socket of the jmd serve (default: the only one in $XDG_RUNTIME_DIR/jmd or /tmp/jmd-$USER)")
        Path control;

        @Option(names = {"-a", "--array"}, paramLabel = "NAME", description = "the array, when the server serves several")
        String array;

        String arrayOrDash() {
            return array == null ? "-" : array;
        }

        ControlClient connect() throws IOException, CliException {
            Path p = control != null ? control : ControlPaths.find(System.getenv(), array);
            if (p == null) {
                throw new CliException("no running jmd serve found in " + ControlPaths.directory(System.getenv())
                    + " (none, or several): give --control=PATH");
            }
            return ControlClient.connect(p);
        }
    }

    /** Prints a reply; its exit code (EAGAIN is waited for by the callers). */
    static int print(ControlClient.Reply r) {
        r.text().forEach(System.out::println);
        if (r.ok()) {
            if (!r.message().isEmpty()) {
                System.out.println("jmd: " + r.message());
            }
            return 0;
        }
        System.err.println("jmd: " + r.status().replaceFirst("^ERR ", ""));
        return 1;
    }

    /** Sends a member change and waits for its result (polling: the server never holds the line). */
    static int memberChange(Target t, String verb, List<String> members) throws Exception {
        int rc = 0;
        try (Env env = CliSupport.env(); ControlClient c = t.connect()) {
            WaitQueue pause = new WaitQueue(env.scheduler(), "control poll");
            for (String m : members) {
                // A path is made absolute (the server has another working directory); an NBD URI is already.
                String arg = verb.equals("fail") || verb.equals("remove") || CliSupport.isNbd(m) ? m
                    : Path.of(m).toAbsolutePath().toString();
                ControlClient.Reply r = c.call(verb, t.arrayOrDash(), arg);
                long deadline = System.nanoTime() + ACTION_TIMEOUT_NANOS;
                while (r.pendingToken() >= 0 && System.nanoTime() < deadline) {
                    pause.waitUntil(() -> false, POLL_NANOS);
                    r = c.call("result", Long.toString(r.pendingToken()));
                }
                if (r.pendingToken() >= 0) {
                    System.err.println("jmd: " + verb + " " + m + ": still running after " + ACTION_TIMEOUT_NANOS / 1_000_000_000L
                        + " s; see jmd status");
                    rc = 1;
                    continue;
                }
                rc = Math.max(rc, print(r));
            }
        }
        return rc;
    }

    @Command(name = "fail", aliases = {"--fail"}, description = "Mark members of a running array faulty (mdadm --fail).")
    static final class Fail implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "member paths as served (or file names)")
        List<String> members = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return memberChange(target, "fail", members);
        }
    }

    @Command(name = "remove", aliases = {"--remove"},
        description = "Remove faulty or spare members from a running array (mdadm --remove); 'failed' removes every faulty one.")
    static final class Remove implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Parameters(arity = "1..*", paramLabel = "MEMBER", description = "member paths as served, or 'failed'")
        List<String> members = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return memberChange(target, "remove", members);
        }
    }

    @Command(name = "add", aliases = {"--add"},
        description = "Add devices to a running array (mdadm --add): a former member comes back to its slot (re-add), any other"
            + " device becomes a spare; a degraded array rebuilds onto it at once.")
    static final class Add implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Parameters(arity = "1..*", paramLabel = "DEVICE", description = "member files, block devices or NBD exports (nbd://...)")
        List<String> devices = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return memberChange(target, "add", devices);
        }
    }

    @Command(name = "re-add", aliases = {"--re-add"},
        description = "Return former members to their slots, rebuilding only what the write-intent bitmap says they missed.")
    static final class ReAdd implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Parameters(arity = "1..*", paramLabel = "DEVICE", description = "member files, block devices or NBD exports (nbd://...)")
        List<String> devices = new ArrayList<>();

        @Override
        public Integer call() throws Exception {
            return memberChange(target, "re-add", devices);
        }
    }

    @Command(name = "action", aliases = {"--action"},
        description = "Start or stop a sync (md's sync_action): check (count mismatches), repair, resync, idle, frozen.")
    static final class Action implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Parameters(index = "0", paramLabel = "ACTION", description = "check, repair, resync, idle or frozen")
        String action;

        @Override
        public Integer call() throws Exception {
            try (ControlClient c = target.connect()) {
                return print(c.call("action", target.arrayOrDash(), action));
            }
        }
    }

    @Command(name = "sync-speed", description = "Set a running array's sync speed limits in KiB/s (md's sync_speed_min/max).")
    static final class SyncSpeed implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Parameters(index = "0", paramLabel = "MIN_KIB")
        long min;

        @Parameters(index = "1", paramLabel = "MAX_KIB")
        long max;

        @Override
        public Integer call() throws Exception {
            try (ControlClient c = target.connect()) {
                return print(c.call("speed", target.arrayOrDash(), Long.toString(min), Long.toString(max)));
            }
        }
    }

    @Command(name = "stripe-cache-size",
        description = "Show or change a running raid4/5/6 array's stripe cache (md's stripe_cache_size), in stripes.")
    static final class StripeCacheSize implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Parameters(index = "0", arity = "0..1", paramLabel = "STRIPES", description = "new size (4..32768); none: show it")
        Integer stripes;

        @Override
        public Integer call() throws Exception {
            try (ControlClient c = target.connect()) {
                return stripes == null ? print(c.call("stripe-cache", target.arrayOrDash()))
                    : print(c.call("stripe-cache", target.arrayOrDash(), Integer.toString(stripes)));
            }
        }
    }

    @Command(name = "status", description = "The running arrays as /proc/mdstat shows them, with sync progress, speed and ETA.")
    static final class Status implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Override
        public Integer call() throws Exception {
            try (ControlClient c = target.connect()) {
                return print(c.call("status"));
            }
        }
    }

    @Command(name = "monitor", aliases = {"--monitor"},
        description = "Print events of the running arrays as they happen (Fail, DegradedArray, SpareActive, RebuildStarted, ...).")
    static final class Monitor implements Callable<Integer> {
        @Mixin
        Target target = new Target();

        @Option(names = "--count", description = "stop after this many events (default: run until the server stops)")
        int count;

        @Option(names = {"-t", "--test"}, description = "generate a TestMessage event for each array first")
        boolean test;

        @Override
        public Integer call() throws Exception {
            try (ControlClient c = target.connect()) {
                ControlClient.Reply r = test ? c.call("monitor", "test") : c.call("monitor");
                if (!r.ok()) {
                    return print(r);
                }
                int[] seen = {0};
                c.events(line -> {
                    System.out.println(line);
                    System.out.flush();
                    return count <= 0 || ++seen[0] < count;
                });
            }
            return 0;
        }
    }
}
