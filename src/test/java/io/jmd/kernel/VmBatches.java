package io.jmd.kernel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Groups the arrays of an interop test into VM boots: one per kernel, and the newest kernel's
 * arrays split over {@link #SHARDS} boots that run at the same time (a TCG guest keeps one core
 * busy; CI machines have two). Each boot gets one guest script and its disks.
 */
final class VmBatches {
    /** Boots for the newest kernel's arrays: one per core of a two-core CI machine. */
    static final int SHARDS = 2;

    private final Map<String, GuestScript> scripts = new LinkedHashMap<>();
    private final Map<String, List<KernelVm.Drive>> drives = new LinkedHashMap<>();
    private final Map<String, KernelVm.Kernel> kernels = new LinkedHashMap<>();
    private final List<KernelVm.Drive> common;
    private Map<String, KernelVm.Outcome> outcomes;

    /** {@code common}: disks every boot gets first (the pattern disk). */
    VmBatches(List<KernelVm.Drive> common) {
        this.common = List.copyOf(common);
    }

    /** Shard of each newest-kernel case: greedy, to the shard with the fewest member bytes so far. */
    private static final Map<String, Integer> SHARD_OF = shards();

    private static Map<String, Integer> shards() {
        Map<String, Integer> out = new LinkedHashMap<>();
        long[] load = new long[SHARDS];
        for (RaidCase c : RaidCase.all()) {
            if (c.kernel() == KernelVm.Kernel.NEWEST) {
                int least = 0;
                for (int i = 1; i < SHARDS; i++) {
                    least = load[i] < load[least] ? i : least;
                }
                // Guest time goes with the bytes it scrubs and hashes; a degraded run does it twice.
                load[least] += c.devices() * c.memberBytes() * (c.dropSlots().isEmpty() ? 1 : 3);
                out.put(c.name(), least);
            }
        }
        return out;
    }

    /** The boot {@code c} runs in: its kernel, and for the newest kernel one of its shards. */
    static String batchOf(RaidCase c) {
        if (c.kernel() != KernelVm.Kernel.NEWEST) {
            return c.kernel().name();
        }
        return c.kernel().name() + "-" + SHARD_OF.get(c.name());
    }

    /** The guest script of {@code c}'s boot. */
    GuestScript script(RaidCase c) {
        String b = batchOf(c);
        kernels.put(b, c.kernel());
        drives.computeIfAbsent(b, k -> new ArrayList<>(common));
        return scripts.computeIfAbsent(b, k -> new GuestScript());
    }

    /** Adds {@code d} to {@code c}'s boot. */
    void drive(RaidCase c, KernelVm.Drive d) {
        script(c);
        drives.get(batchOf(c)).add(d);
    }

    /** Boots every batch (at the same time) and keeps the outcomes. */
    void run() {
        Map<String, KernelVm.Batch> batches = new LinkedHashMap<>();
        for (String b : scripts.keySet()) {
            batches.put(b, new KernelVm.Batch(kernels.get(b), scripts.get(b).text(), drives.get(b)));
        }
        outcomes = KernelVm.runAll(batches);
    }

    /** What {@code c}'s boot gave. */
    KernelVm.Outcome outcome(RaidCase c) {
        KernelVm.Outcome o = outcomes == null ? null : outcomes.get(batchOf(c));
        if (o == null) {
            fail("no VM ran for " + c.name() + " (batch " + batchOf(c) + ")");
        }
        return o;
    }
}
