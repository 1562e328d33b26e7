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
import java.util.BitSet;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;

/**
 * One simulated run: the real engine (Env, assembly, MdArray, the level — raid1, raid5, raid6 or
 * raid10, {@link SimConfig#level} — its md thread and online sync, timer, starter, pools, buffer
 * cache) on {@link SimDisk}s under the {@link SimScheduler}, driven by a random workload of client
 * threads and checked against the {@link Oracle}.
 *
 * <p>The driver (the main simulated thread, the "operator") runs phases: it starts the clients,
 * sleeps in simulated time while they work, injects faults (latent sector errors, whole-member
 * failures), and ends the phase with a crash (every thread killed mid-flight, the disks' crash
 * model applied, the Env thrown away, the array reassembled from the disks: a dirty array resyncs
 * online; a dirty degraded raid5/6 is refused as md refuses it, and forced), a clean stop and
 * reassembly, or nothing. After the last phase it reads the whole array back, lets the sync
 * finish and stops cleanly.
 *
 * <p>Faults stay within what the level tolerates ({@link LevelModel}): raid1 keeps every sector
 * readable on some member; raid10 on some copy; raid5/6 keep at most one/two members missing or
 * unreadable per grain of a row, and add no fault while a crash's resync is pending (the write
 * hole: a member missing there is rebuilt from parity that may not match, which md does not
 * survive either; the oracle counts such sectors as lost, {@link Oracle#lose}). The array may
 * fail a member itself (one that kept needing corrections): the checks allow for it.
 *
 * <p>Checks: every read against the oracle (safety); every request ends within
 * {@link #LIVENESS_NANOS} of simulated time (liveness; faults here never stop a request from
 * ending, they only slow it); no deadlock (the scheduler's); no dependency-checker report; no
 * leaked buffer at a clean stop; after the last clean stop, if the sync finished with every slot
 * in sync, the members agree: mirror copies are equal and every row's parity matches its data
 * (the disks are read directly: {@link LevelModel#disagreement}).
 *
 * <p>Run one seed with {@code jmd sim --seed N --ops M [--level L]} (the replay command every
 * failure prints), a sweep with {@code jmd sim --level L --seeds A..B --ops M --parallel 2}.
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
        /** Dirty degraded parity arrays started with --force (md refuses them otherwise). */
        public long forcedStarts;
        /** Sectors lost to the parity write hole (a crash mid-write with a member missing or unreadable there). */
        public long lostSectors;
        /** Reads of lost sectors that returned what no write put there. */
        public long lostReads;
        /** Clean stops after a finished sync where the members were compared (copies, parity) and agreed. */
        public long agreementChecks;

        public long ops() {
            return reads + writes + flushes + trims;
        }

        @Override
        public String toString() {
            return ops() + " ops (" + reads + " reads, " + writes + " writes, " + flushes + " flushes, " + trims + " trims), "
                + crashes + " crashes, " + restarts + " restarts, " + memberFailures + " member failures, " + latentErrors
                + " latent sector errors, " + readErrorsExcused + " read errors within tolerance, " + sectorsVerified
                + " sectors verified" + (misdirectedReads == 0 ? "" : ", " + misdirectedReads + " misdirected reads")
                + (forcedStarts == 0 ? "" : ", " + forcedStarts + " forced starts")
                + (lostSectors == 0 ? "" : ", " + lostSectors + " sectors lost to the write hole (" + lostReads + " read wrong)")
                + (agreementChecks == 0 ? "" : ", members agreed at " + agreementChecks + " clean stop(s)");
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
    /** Placement and tolerance of the level (built at the first assembly). */
    private LevelModel model;
    /**
     * Parity levels: member pages (4 KiB, the same on every member) a crash may have left with
     * parity not matching data, until the resync has been over them (the write hole).
     */
    private final BitSet tornPages = new BitSet();
    /**
     * Torn pages of a dirty degraded array started with --force: no resync ever makes their
     * parity match, so what is rebuilt there stays undefined for the rest of the run.
     */
    private final BitSet poisonedPages = new BitSet();
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
        stopAndCompareMembers();
        stats.lostReads = oracle.lostReads();
        log("done: " + stats);
    }

    /**
     * The last stop: lets the sync (resync, recovery) finish, stops cleanly, and if every slot was
     * in sync and nothing was left to resync, compares the members' content: mirror copies must be
     * equal, every row's parity must match its data (exact: the disks are read directly).
     */
    private void stopAndCompareMembers() {
        var engine = array.redundancy() == null ? null : array.redundancy().engine();
        long deadline = sim.nowNanos() + LIVENESS_NANOS;
        while (engine != null && !engine.isIdle() && sim.failure() == null) {
            if (sim.nowNanos() > deadline) {
                sim.fail(sim.waitForReport("liveness: the sync (" + engine.syncActionName() + ") still runs "
                    + LIVENESS_NANOS / 1_000_000_000 + " s after the workload ended") + config.replayCommand());
                throw new SimKilled();
            }
            sleep(100_000_000L);
        }
        LevelModel.Health h = health();
        // Misdirected writes (a fault beyond every level here) leave members differing by design.
        boolean complete = h.notWorking() == 0 && !array.needsResync() && config.faults().misdirectProbability() == 0
            && poisonedPages.isEmpty();
        stopClean();
        if (complete && sim.failure() == null) {
            String d = model.disagreement(h);
            if (d != null) {
                sim.fail("consistency: after a clean stop with the sync done, the members disagree: " + d + "\n"
                    + config.replayCommand());
                return;
            }
            stats.agreementChecks++;
        }
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
            CreateOptions options = CreateOptions.defaults(config.level(), config.members());
            if (config.level() != RaidLevel.RAID1) {
                options = options.withLayout(config.layout()).withChunkKib(config.chunkKib());
            }
            created = Creator.create(env, devs, new Creator.Request(options, Optional.of("sim"), "sim", 0, false, true, false));
        } catch (MdException e) {
            throw new IllegalStateException("create: " + e.getMessage(), e);
        }
        devs.forEach(BlockDevice::close);
        dataOffsetBytes = created.superblock().dataOffsetSectors() * 512;
        for (SimDisk d : disks.values()) {
            d.setDataStartBytes(dataOffsetBytes);
        }
        oracle = new Oracle((int) (created.arrayBytes() / 512));
        // A lost sector written while its page's parity may not match can still be rebuilt wrong
        // (the write updates P, and Q by read-modify-write, from a block rebuilt from that parity).
        oracle.setStickyLost(s -> {
            int page = (int) (model.memberSectorOf(s) / LevelModel.PAGE_SECTORS);
            return tornPages.get(page) || poisonedPages.get(page);
        });
        log("created " + config + "; data at disk sector " + dataOffsetBytes / 512);
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
        boolean force = false;
        while (true) {
            try {
                array = Assembler.assemble(env, (n, ro) -> open(n), paths, new Assembler.Options(true, false, force));
                log("assembled " + array.personality().status() + " " + array.notes());
                if (model == null) {
                    model = LevelModel.of(array.personality(), config.members(), oracle.sectors());
                }
                if (force) {
                    poisonedPages.or(tornPages);
                }
                loseTornData();
                return;
            } catch (MdException e) {
                if (!force && e.getMessage().startsWith("cannot start dirty degraded array")) {
                    // Parity not known to match data, and a member missing: md refuses, the operator
                    // forces (mdadm --assemble --force); the write hole is the oracle's (loseTornData).
                    log("forcing: " + e.getMessage());
                    stats.forcedStarts++;
                    force = true;
                    continue;
                }
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
        if (!tornPages.isEmpty() && !array.needsResync()) {
            tornPages.clear(); // the resync has been over every row
        }
        if (config.level() != RaidLevel.RAID1) {
            noteMembersFailedByTheArray();
        }
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
        if (config.level() != RaidLevel.RAID1 && faultsHeld()) {
            return;
        }
        int added = 0;
        List<SimDisk> copies = recordedDisks();
        boolean sole = working.size() == 1 || copies.equals(List.of(d));
        for (long s = at; s < Math.min(at + run, first + sectors); s++) {
            boolean allowed = config.level() == RaidLevel.RAID1
                ? sole || readableElsewhere(copies, d, s)
                : model.latentAllowed(slotOf(d), s - first, faultHealth());
            if (allowed) {
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
        return disksOf(io.jmd.md.Member::isInSync);
    }

    /**
     * Disks of members that are copies to fall back on: in sync, and recorded so on their own
     * superblock (a member rebuilt just now comes back from a crash as being rebuilt until then:
     * {@link io.jmd.md.Member#isInSyncRecorded}). A second fault counts only these: failing the
     * last recorded copy while the rebuilt one's record is on its way is beyond what md survives
     * too (jmd sim --seed 3017 --ops 10000: assembly found only a member being rebuilt).
     */
    private List<SimDisk> recordedDisks() {
        return disksOf(m -> m.isInSync() && m.isInSyncRecorded());
    }

    private List<SimDisk> disksOf(java.util.function.Predicate<io.jmd.md.Member> which) {
        List<SimDisk> out = new ArrayList<>();
        for (var m : array.members()) {
            SimDisk d = disks.get(m.path());
            if (which.test(m) && !d.isFailed()) {
                out.add(d);
            }
        }
        return out;
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
        if (config.level() != RaidLevel.RAID1) {
            if (faultsHeld() || !model.failAllowed(slotOf(d), faultHealth())) {
                return;
            }
            failDisk(d);
            return;
        }
        List<SimDisk> rest = recordedDisks();
        rest.remove(d);
        if (rest.isEmpty()) {
            return;
        }
        if (rest.size() > 1) {
            for (SimDisk e : rest) {
                for (long s : e.latentSectors()) {
                    if (!readableElsewhere(rest, e, s)) {
                        return;
                    }
                }
            }
        }
        failDisk(d);
    }

    private void failDisk(SimDisk d) {
        d.fail();
        stats.memberFailures++;
        log("member " + d.name() + " fails");
        // Power often fails with a disk (a shared supply, a controller): crash while the failure is
        // being recorded, the window where acknowledged writes depend on that record.
        crashSoon = random.nextDouble() < config.crashAfterFailure();
    }

    /**
     * Parity levels while a crash's write hole is open (torn rows not yet resynced, or never to be
     * after a forced start): no new fault, since a member missing or unreadable in such a row is
     * rebuilt from parity that may not match (beyond what the level tolerates: md loses that data
     * too).
     */
    private boolean faultsHeld() {
        return model instanceof LevelModel.ParityModel && (array.needsResync() || !tornPages.isEmpty() || !poisonedPages.isEmpty());
    }

    private int slotOf(SimDisk d) {
        for (var m : array.members()) {
            if (m.path().equals(d.name())) {
                return m.slot();
            }
        }
        throw new IllegalStateException(d.name() + " is no member");
    }

    /** The slots' health now, for the level model. */
    private LevelModel.Health health() {
        return health(false);
    }

    /** The health a new fault is judged by: only members recorded in sync count (see {@link #recordedDisks}). */
    private LevelModel.Health faultHealth() {
        return health(true);
    }

    private LevelModel.Health health(boolean recordedOnly) {
        LevelModel.Health h = new LevelModel.Health(config.members(), dataOffsetBytes / SimDisk.SECTOR_BYTES);
        for (var m : array.members()) {
            int k = m.slot();
            if (k >= 0 && k < config.members()) {
                SimDisk d = disks.get(m.path());
                h.disk[k] = d;
                h.working[k] = m.isInSync() && (!recordedOnly || m.isInSyncRecorded()) && !d.isFailed();
            }
        }
        return h;
    }

    /**
     * At a crash, before the disks apply it (parity levels): the rows whose parity may not match
     * their data afterwards are those with a member sector the crash may change (written since the
     * last flush, or in flight) or an array write in flight (the engine may not have submitted all
     * of its member writes).
     */
    private void noteTornPages() {
        if (!(model instanceof LevelModel.ParityModel)) {
            return;
        }
        long first = dataOffsetBytes / SimDisk.SECTOR_BYTES;
        for (SimDisk d : disks.values()) {
            d.forEachVolatileSector(s -> {
                if (s >= first) {
                    tornPages.set((int) ((s - first) / LevelModel.PAGE_SECTORS));
                }
            });
        }
        oracle.forEachInFlight(s -> tornPages.set((int) (model.memberSectorOf(s) / LevelModel.PAGE_SECTORS)));
    }

    /**
     * After an assembly (parity levels): the data of a member missing or unreadable in a torn page
     * is rebuilt from parity that may not match, by reads, by the resync, or by a recovery: lost
     * (the write hole, {@link Oracle}). Once the resync is done the torn pages are forgotten.
     */
    private void loseTornData() {
        if (!(model instanceof LevelModel.ParityModel pm) || (tornPages.isEmpty() && poisonedPages.isEmpty())) {
            return;
        }
        LevelModel.Health h = health();
        int before = oracle.lostSectors();
        BitSet pages = (BitSet) tornPages.clone();
        pages.or(poisonedPages); // a forced start's torn pages never get their parity right
        for (int page = pages.nextSetBit(0); page >= 0; page = pages.nextSetBit(page + 1)) {
            for (int k = 0; k < pm.slots; k++) {
                if (!h.working[k] || pm.badInGrain(k, (long) page * LevelModel.PAGE_SECTORS, h)) {
                    pm.dataSectorsInPage(k, page, oracle::lose);
                }
            }
        }
        int lost = oracle.lostSectors() - before;
        if (lost > 0) {
            stats.lostSectors += lost;
            log(lost + " sectors lost to the write hole (" + pages.cardinality() + " torn pages)");
        }
        if (!array.needsResync()) {
            tornPages.clear();
        }
    }

    /** In-sync members at the last look, by disk name (diagnostics). */
    private final java.util.Set<String> inSyncSeen = new java.util.HashSet<>();

    /** Logs members the array failed on its own (a disk it kept correcting, a failed rewrite). */
    private void noteMembersFailedByTheArray() {
        for (var m : array.members()) {
            boolean in = m.isInSync();
            if (!in && inSyncSeen.remove(m.path()) && !disks.get(m.path()).isFailed()) {
                log("the array failed " + m.path() + " (" + m.state() + ", " + m.correctedReads() + " corrected reads"
                    + (array.needsResync() ? ", resync pending" : "") + ")");
                loseTornData(); // its rows the resync has not been over yet are rebuilt from parity that may not match
            } else if (in) {
                inSyncSeen.add(m.path());
            }
        }
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
        noteTornPages();
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
        if (config.level() != RaidLevel.RAID1) {
            LevelModel.Health h = health();
            for (int s = first; s < first + count; s++) {
                if (!model.readable(s, h)) {
                    return true;
                }
            }
            return false;
        }
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

    /** Where array sector {@code sector} lives and what it holds there now (a failure's diagnostics). */
    String describe(int sector) {
        return model == null ? "" : model.describe(sector, health());
    }

    /**
     * For levels other than raid1: the members' health now, latent errors included, to judge a
     * read that ends later against every fault it may have met ({@link #readErrorExcusedSince}).
     */
    Object healthSnapshot() {
        return config.level() == RaidLevel.RAID1 ? null : health().snapshot();
    }

    /**
     * Whether a read error is within tolerance with the faults of both {@code atSubmit} and now:
     * the array may fail a member itself while a read is in flight (one that kept needing
     * corrections), and the read may have met a latent error its own fix then removed.
     */
    boolean readErrorExcusedSince(Object atSubmit, int first, int count) {
        if (atSubmit == null) {
            return false;
        }
        LevelModel.Health h = health().worstWith((LevelModel.Health) atSubmit);
        for (int s = first; s < first + count; s++) {
            if (!model.readable(s, h)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code sector} is lost to the write hole once the members the array failed on its own
     * since the driver last looked are taken into account (a read may end before it looks).
     */
    boolean lostMeanwhile(int sector) {
        if (config.level() == RaidLevel.RAID1) {
            return false;
        }
        noteMembersFailedByTheArray();
        return oracle.countIfLost(sector);
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

    /**
     * Whether a write error on array sectors [first, first+count) is within tolerance: for raid1,
     * every member failed; for the other levels, some sector has no working member to be written
     * to, or (parity levels) its grain has more members missing or unreadable than the parity
     * covers (the array may fail a member itself, one that kept needing corrections, md's
     * max_corr_read_errors: latent errors placed within tolerance before may then be beyond it).
     */
    boolean writeErrorExcused(int first, int count) {
        if (config.level() == RaidLevel.RAID1) {
            return allMembersFailed();
        }
        LevelModel.Health h = health();
        for (int s = first; s < first + count; s++) {
            if (!model.writable(s, h)) {
                return true;
            }
        }
        return false;
    }

    /** Whether every member the array writes to has failed (then write errors are expected). */
    boolean allMembersFailed() {
        if (config.level() != RaidLevel.RAID1) {
            return !model.writable(health());
        }
        for (var m : array.members()) {
            if (m.isInSync() && !disks.get(m.path()).isFailed()) {
                return false;
            }
        }
        return true;
    }
}
