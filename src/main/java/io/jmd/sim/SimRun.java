package io.jmd.sim;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.md.Assembler;
import io.jmd.md.Creator;
import io.jmd.md.MdArray;
import io.jmd.md.MdException;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * One simulated run: the real engine (Env, assembly, MdArray, RAID1, md thread, timer, starter,
 * pools, buffer cache) on {@link SimDisk}s under the {@link SimScheduler}, driven by a random
 * workload of client threads and checked against the {@link Oracle}.
 *
 * <p>The driver (the main simulated thread, the "operator") runs phases: it starts the clients,
 * sleeps in simulated time while they work, injects faults (latent sector errors, whole-member
 * failures), and ends the phase with a crash (every thread killed mid-flight, the disks' crash
 * model applied, the Env thrown away, the array reassembled from the disks), a clean stop and
 * reassembly, or nothing. After the last phase it reads the whole array back and stops cleanly.
 *
 * <p>Checks: every read against the oracle (safety); every request ends within
 * {@link #LIVENESS_NANOS} of simulated time (liveness; faults here never stop a request from
 * ending, they only slow it); no deadlock (the scheduler's); no dependency-checker report; no
 * leaked buffer at a clean stop.
 */
public final class SimRun {
    /** A request not done within this much simulated time is a liveness failure. */
    static final long LIVENESS_NANOS = 120_000_000_000L;
    /** Largest request: 64 sectors (32 KiB). */
    static final int REQUEST_SECTORS_MAX = 64;
    /** Requests the clients complete, roughly, while the driver sleeps one step (the fault rates' unit). */
    static final int OPS_PER_STEP = 20;
    /** Real time a run may take before it counts as hung outside the simulation. */
    static final long REAL_TIMEOUT_MILLIS = 120_000;

    /** What a run did and found. */
    public record Result(SimConfig config, boolean ok, String failure, Stats stats, long switches, long simNanos,
                         long traceHash, List<String> traceTail) {
        public String replayCommand() {
            return config.replayCommand();
        }
    }

    /** Counters of one run. */
    public static final class Stats {
        public long reads;
        public long writes;
        public long flushes;
        public long trims;
        public long crashes;
        public long restarts;
        public long memberFailures;
        public long latentErrors;
        public long readErrorsExcused;
        public long tornSuperblocksLeftOut;
        public long budgetWaits;
        public long sectorsVerified;
        /** Wrong reads explained by a misdirected write (RAID1 cannot detect those: no checksums). */
        public long misdirectedReads;

        public long ops() {
            return reads + writes + flushes + trims;
        }

        @Override
        public String toString() {
            return ops() + " ops (" + reads + " reads, " + writes + " writes, " + flushes + " flushes, " + trims + " trims), "
                + crashes + " crashes, " + restarts + " restarts, " + memberFailures + " member failures, " + latentErrors
                + " latent sector errors, " + readErrorsExcused + " read errors within tolerance, " + sectorsVerified
                + " sectors verified" + (misdirectedReads == 0 ? "" : ", " + misdirectedReads + " misdirected reads");
        }
    }

    private final SimConfig config;
    private final SimScheduler sim;
    private final SimTrace trace;
    private final DependencyChecker checker;
    private final SplittableRandom random;
    private final Map<String, SimDisk> disks = new LinkedHashMap<>();
    private final Stats stats = new Stats();
    private Oracle oracle;
    private Env env;
    private MdArray array;
    private long dataOffsetBytes;
    private long nextValue;
    private long opsStarted;
    private long phaseEnd;
    private int clientsRunning;
    private WaitQueue sleepQueue;
    /** The driver crashes at its next step (after a member failure). */
    private boolean crashSoon;
    private final List<JmdThread> clients = new ArrayList<>();

    private SimRun(SimConfig config, SimTrace trace) {
        this.config = config;
        this.trace = trace;
        this.random = new SplittableRandom(SimConfig.mix(config.seed(), 2));
        this.checker = new DependencyChecker(DependencyChecker.Mode.REPORT, s -> { });
        this.sim = new SimScheduler(SimConfig.mix(config.seed(), 3), checker, config.yieldProbability(),
            Math.max(10_000_000L, config.ops() * 2_000), trace);
    }

    /** Runs {@code config}; {@code trace} receives the run's events. */
    public static Result run(SimConfig config, SimTrace trace) {
        SimRun r = new SimRun(config, trace);
        SimScheduler.Outcome o = r.sim.run("driver", r::drive, REAL_TIMEOUT_MILLIS);
        String failure = o.failure();
        if (failure == null && !r.checker.violations().isEmpty()) {
            failure = "dependency checker: " + String.join("\n", r.checker.violations());
        }
        return new Result(config, failure == null, failure, r.stats, o.switches(), o.simNanos(),
            o.traceHash() ^ trace.hash(), trace.tail());
    }

    public static Result run(SimConfig config) {
        return run(config, new SimTrace(200, false));
    }

    // ---------------------------------------------------------------------------------------------
    // The driver.

    private void drive() {
        create();
        boot();
        while (opsStarted < config.ops() && sim.failure() == null) {
            phase();
        }
        if (sim.failure() != null) {
            return;
        }
        verifyAll();
        stopClean();
        log("done: " + stats);
    }

    private void log(String what) {
        trace.event(sim.nowNanos(), "driver", what);
    }

    private void create() {
        for (int i = 0; i < config.members(); i++) {
            String n = "disk" + i;
            disks.put(n, new SimDisk(n, config.diskBytes()));
        }
        newEnv();
        List<BlockDevice> devs = new ArrayList<>();
        for (String n : disks.keySet()) {
            devs.add(open(n));
        }
        Creator.Result created;
        try {
            created = Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID1, config.members()),
                Optional.of("sim"), "sim", 0, false, true, false));
        } catch (MdException e) {
            throw new IllegalStateException("create: " + e.getMessage(), e);
        }
        devs.forEach(BlockDevice::close);
        dataOffsetBytes = created.superblock().dataOffsetSectors() * 512;
        for (SimDisk d : disks.values()) {
            d.setDataStartBytes(dataOffsetBytes);
        }
        oracle = new Oracle((int) (created.arrayBytes() / 512));
        log("created " + config);
    }

    private void newEnv() {
        env = new Env(sim, new SplittableRandom(random.nextLong()), config.budgetBytes(), true);
        sim.chargeThreadStarts(env.budget(), SimScheduler.THREAD_START_BYTES_DEFAULT);
    }

    private SimDevice open(String name) {
        return new SimDevice(env, sim, disks.get(name), config.faults(), new SplittableRandom(random.nextLong()));
    }

    /** Assembles from every disk that is not failed; a member the operator cannot use is left out. */
    private void boot() {
        List<String> paths = new ArrayList<>();
        for (SimDisk d : disks.values()) {
            if (!d.isFailed()) {
                paths.add(d.name());
            }
        }
        while (true) {
            try {
                array = Assembler.assemble(env, (n, ro) -> open(n), paths, new Assembler.Options(true, false));
                log("assembled " + array.personality().status() + " " + array.notes());
                return;
            } catch (MdException e) {
                String bad = paths.stream().filter(p -> e.getMessage().startsWith(p + ": no valid md v1 superblock")).findFirst()
                    .orElse(null);
                if (bad == null || paths.size() == 1) {
                    sim.fail("assembly failed: " + e.getMessage() + "\n" + config.replayCommand());
                    throw new SimKilled();
                }
                // A superblock torn by the crash: mdadm refuses such a member too; the operator leaves it out.
                log("leaving out " + bad + ": " + e.getMessage());
                stats.tornSuperblocksLeftOut++;
                paths.remove(bad);
            }
        }
    }

    private void phase() {
        long n = Math.min(config.ops() - opsStarted, 50 + random.nextInt(400));
        phaseEnd = opsStarted + n;
        boolean crash = random.nextDouble() < config.crashPerPhase();
        long crashAt = crash ? opsStarted + random.nextLong(n) : Long.MAX_VALUE;
        startClients();
        while (clientsRunning > 0 && sim.failure() == null) {
            if (crashSoon) {
                sleep(random.nextLong(3_000_000));
                crashSoon = false;
                crash();
                return;
            }
            sleep(10_000 + random.nextLong(5_000_000));
            injectFaults();
            if (opsStarted >= crashAt) {
                crash();
                return;
            }
        }
        crashSoon = false;
        for (JmdThread c : clients) {
            sim.join(c);
        }
        clients.clear();
        checkViolations();
        if (random.nextDouble() < config.restartPerPhase()) {
            if (random.nextBoolean()) {
                verifyAll();
            }
            stopClean();
            healSome();
            newEnv();
            boot();
            stats.restarts++;
        }
    }

    private void startClients() {
        clients.clear();
        clientsRunning = config.clients();
        for (int i = 0; i < config.clients(); i++) {
            Client c = new Client(this, i);
            clients.add(env.scheduler().start("client" + i, EnumSet.of(ThreadRole.CLIENT), c::run));
        }
    }

    /** The driver sleeps in simulated time (its own queue: nothing ever wakes it early). */
    private void sleep(long nanos) {
        if (sleepQueue == null) {
            sleepQueue = new WaitQueue(sim, "driver sleep");
        }
        sleepQueue.waitUntil(() -> false, nanos);
    }

    /** One driver step: clients complete about {@link #OPS_PER_STEP} requests during its sleep. */
    private void injectFaults() {
        FaultModel f = config.faults();
        if (f.latentPerOp() > 0 && random.nextDouble() < f.latentPerOp() * OPS_PER_STEP) {
            addLatent();
        }
        if (f.memberFailurePerOp() > 0 && random.nextDouble() < f.memberFailurePerOp() * OPS_PER_STEP) {
            failMember();
        }
    }

    /**
     * Adds a run of latent sector errors on one working disk, within RAID1's tolerance (as
     * TigerBeetle's fault atlas): a sector becomes latent only if another working member can still
     * read it, so every sector keeps a readable copy while two or more members work.
     */
    private void addLatent() {
        List<SimDisk> working = workingDisks();
        if (working.isEmpty()) {
            return;
        }
        SimDisk d = working.get(random.nextInt(working.size()));
        long first = dataOffsetBytes / SimDisk.SECTOR_BYTES;
        long sectors = d.sizeBytes() / SimDisk.SECTOR_BYTES - first;
        long at = first + random.nextLong(sectors);
        int run = 1 + random.nextInt(8);
        int added = 0;
        for (long s = at; s < Math.min(at + run, first + sectors); s++) {
            if (working.size() == 1 || readableElsewhere(working, d, s)) {
                d.addLatent(s);
                added++;
            }
        }
        stats.latentErrors += added;
        log("latent sector error on " + d.name() + " at sector " + at + " x" + added);
    }

    private static boolean readableElsewhere(List<SimDisk> working, SimDisk d, long sector) {
        for (SimDisk e : working) {
            if (e != d && !e.hasLatent(sector * SimDisk.SECTOR_BYTES, SimDisk.SECTOR_BYTES)) {
                return true;
            }
        }
        return false;
    }

    /** Disks of in-sync members that have not failed. */
    private List<SimDisk> workingDisks() {
        List<SimDisk> working = new ArrayList<>();
        for (var m : array.members()) {
            SimDisk d = disks.get(m.path());
            if (m.isInSync() && !d.isFailed()) {
                working.add(d);
            }
        }
        return working;
    }

    /**
     * Fails one member whole, within RAID1's tolerance: never the last working one, and only if
     * the members left can still read every sector between them (or one member is left, which
     * never resyncs).
     */
    private void failMember() {
        List<SimDisk> working = workingDisks();
        if (working.size() < 2) {
            return;
        }
        SimDisk d = working.get(random.nextInt(working.size()));
        List<SimDisk> rest = new ArrayList<>(working);
        rest.remove(d);
        if (rest.size() > 1) {
            for (SimDisk e : rest) {
                for (long s : e.latentSectors()) {
                    if (!readableElsewhere(rest, e, s)) {
                        return;
                    }
                }
            }
        }
        d.fail();
        stats.memberFailures++;
        log("member " + d.name() + " fails");
        // Power often fails with a disk (a shared supply, a controller): crash while the failure is
        // being recorded, the window where acknowledged writes depend on that record.
        crashSoon = random.nextDouble() < config.crashAfterFailure();
    }

    /** Failed disks come back (a cable, a power cycle) with their stale content, sometimes. */
    private void healSome() {
        for (SimDisk d : disks.values()) {
            if (d.isFailed() && random.nextDouble() < config.healPerRestart()) {
                d.heal();
                log(d.name() + " is back");
            }
        }
    }

    private void crash() {
        log("crash with " + inFlightWrites() + " writes in flight");
        sim.killAllOthers();
        // The dead Env's buffer memory is off-heap (shared arenas): give back what its killed
        // threads released on the way out, or every crash would leak the budget's worth.
        env.buffers().trim();
        clients.clear();
        clientsRunning = 0;
        checkViolations();
        for (SimDisk d : disks.values()) {
            d.crash(random);
        }
        oracle.crash();
        stats.crashes++;
        healSome();
        newEnv();
        boot();
        if (random.nextBoolean()) {
            verifyAll(); // what the crash left, read back at once (pins every sector)
        }
    }

    private int inFlightWrites() {
        return disks.values().stream().mapToInt(SimDisk::inFlightWrites).sum();
    }

    private void stopClean() {
        array.close();
        env.close();
        env.buffers().assertNoLeaks();
        env.buffers().trim(); // off-heap: cached slabs live until trimmed
        checkViolations();
    }

    private void checkViolations() {
        if (!checker.violations().isEmpty()) {
            sim.fail("dependency checker: " + checker.violations().get(0));
        }
    }

    /** Reads the whole array back, 64 sectors at a time, from the driver. */
    private void verifyAll() {
        Client reader = new Client(this, -1);
        for (int s = 0; s < oracle.sectors() && sim.failure() == null; s += REQUEST_SECTORS_MAX) {
            reader.read(s, Math.min(REQUEST_SECTORS_MAX, oracle.sectors() - s));
        }
    }

    // ---------------------------------------------------------------------------------------------
    // For clients (all run with the baton: plain fields are safe).

    Env env() {
        return env;
    }

    MdArray array() {
        return array;
    }

    Oracle oracle() {
        return oracle;
    }

    SplittableRandom random() {
        return random;
    }

    Stats stats() {
        return stats;
    }

    SimScheduler sim() {
        return sim;
    }

    SimConfig config() {
        return config;
    }

    long nextValue() {
        return ++nextValue;
    }

    /** Takes one operation of the phase; false when the phase has all it needs. */
    boolean takeOp() {
        if (opsStarted >= phaseEnd || sim.failure() != null) {
            return false;
        }
        opsStarted++;
        return true;
    }

    void clientDone() {
        clientsRunning--;
    }

    void logClient(String who, String what) {
        trace.event(sim.nowNanos(), who, what);
    }

    /**
     * Whether a read error on array sectors [first, first+count) is within RAID1's tolerance: some
     * sector of the range is unreadable on every in-sync member (failed, or a latent error there).
     * The client asks when it submits and when the read ends: a write may repair a sector between.
     */
    boolean readErrorExcused(int first, int count) {
        for (int s = first; s < first + count; s++) {
            long off = dataOffsetBytes + (long) s * 512;
            boolean readable = false;
            for (var m : array.members()) {
                SimDisk d = disks.get(m.path());
                if (m.isInSync() && !d.isFailed() && !d.hasLatent(off, 512)) {
                    readable = true;
                    break;
                }
            }
            if (!readable) {
                return true;
            }
        }
        return false;
    }

    /** Whether a misdirected write touched array sector {@code sector} on some member. */
    boolean misdirectExplains(int sector) {
        long off = dataOffsetBytes + (long) sector * 512;
        for (SimDisk d : disks.values()) {
            if (d.misdirectedIn(off, 512)) {
                return true;
            }
        }
        return false;
    }

    /** Whether every member the array writes to has failed (then write errors are expected). */
    boolean allMembersFailed() {
        for (var m : array.members()) {
            if (m.isInSync() && !disks.get(m.path()).isFailed()) {
                return false;
            }
        }
        return true;
    }
}
