package io.jmd.mem;

import io.jmd.sync.RealScheduler;
import io.jmd.testutil.Schedulers;
import io.jmd.testutil.TestThreads;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MemoryBudgetTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    @Test
    void reservesAreNeverChargedByOthers() {
        MemoryBudget b = new MemoryBudget(scheduler, "t", 1000);
        b.reserve("pool a", 400);
        assertTrue(b.tryCharge(600));
        assertFalse(b.tryCharge(1));
        assertEquals(0, b.availableBytes());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> b.reserve("pool b", 1));
        assertTrue(e.getMessage().contains("pool b"), e.getMessage());
        b.uncharge(600);
        b.unreserve(400);
        assertEquals(1000, b.availableBytes());
    }

    @Test
    void chargeThatCanNeverFitFailsAtOnce() {
        MemoryBudget b = new MemoryBudget(scheduler, "t", 1000);
        b.reserve("pool", 500);
        assertThrows(IllegalArgumentException.class, () -> b.charge(501));
    }

    @Test
    void chargeWaitsForAnUncharge() {
        MemoryBudget b = new MemoryBudget(scheduler, "t", 1000);
        assertTrue(b.tryCharge(800));
        AtomicBoolean done = new AtomicBoolean();
        Thread t = TestThreads.startDaemon("charger", () -> {
            b.charge(300);
            done.set(true);
        });
        TestThreads.sleepMillis(50);
        assertFalse(done.get());
        b.uncharge(100);
        TestThreads.joinAll(List.of(t));
        assertTrue(done.get());
        assertEquals(1000, b.chargedBytes());
    }

    /**
     * Bug: reserve() and tryCharge() each checked the sum of both counters but compare-and-set
     * only their own, so racing they could both succeed and promise more than the total. Each
     * thread raises its flag while it holds its 60 of the 100 bytes and looks at the other's: two
     * holders at once means an overcommit.
     */
    @Test
    void racingReserveAndChargeNeverOvercommit() {
        MemoryBudget b = new MemoryBudget(scheduler, "t", 100);
        AtomicBoolean[] holds = {new AtomicBoolean(), new AtomicBoolean()};
        AtomicReference<String> overcommit = new AtomicReference<>();
        TestThreads.runConcurrently(2, i -> {
            for (int n = 0; n < 300_000 && overcommit.get() == null; n++) {
                boolean got;
                if (i == 0) {
                    try {
                        b.reserve("pool", 60);
                        got = true;
                    } catch (IllegalStateException e) {
                        got = false;
                    }
                } else {
                    got = b.tryCharge(60);
                }
                if (!got) {
                    continue;
                }
                holds[i].set(true);
                if (holds[1 - i].get()) {
                    overcommit.compareAndSet(null, "reserved and charged 120 of 100 bytes");
                }
                holds[i].set(false);
                if (i == 0) {
                    b.unreserve(60);
                } else {
                    b.uncharge(60);
                }
            }
        });
        assertEquals(null, overcommit.get());
        assertEquals(0, b.reservedBytes());
        assertEquals(0, b.chargedBytes());
    }
}
