package io.jmd.mem;

import io.jmd.sync.JmdThread;
import io.jmd.sync.Scheduler;
import io.jmd.sync.WaitQueue;
import io.jmd.sync.Waitable;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A mempool, as Linux's mempool_t: objects of one kind with a reserved minimum that is always
 * there for the I/O path, plus more from the shared budget while it lasts.
 *
 * <ul>
 *   <li>{@link #tryAlloc()} never waits: a fresh item from the budget, else one from the reserve,
 *       else null. Threads that must not block (the array thread, completions, the pool's
 *       refiller) use it and fall back (seed 001).</li>
 *   <li>{@link #alloc()} waits for an item to come back. The checker refuses it for the pool's
 *       refiller (seed 001) and for a thread that holds more than {@code holdAllowance} items of
 *       this pool (seed 002): submit each item as soon as it is allocated
 *       ({@link #handOff}).</li>
 * </ul>
 *
 * <p>Every pool's creator writes, next to it, the sum showing that {@code reserve} items let one
 * request finish.
 */
public final class MemPool<T extends Pooled> implements Waitable {
    private final Scheduler scheduler;
    private final MemoryBudget budget;
    private final String name;
    private final int reserveItems;
    private final long itemBytes;
    private final int holdAllowance;
    private final Supplier<T> factory;
    /*
     * The reserve. Two counts, so that neither a take nor a refill can overshoot:
     *   reserveFill  = items in the deque + items being pushed; a free claims a slot here by CAS
     *                  while it is below reserveItems, so the reserve never holds more.
     *   reserveCount = items a tryAlloc may take: counted after the push, uncounted before the
     *                  poll, so a counted item is always in the deque.
     * reserveCount <= deque size <= reserveFill <= reserveItems. A take lowers reserveFill only
     * after its poll, so meanwhile a racing free may send its item to the budget instead; the
     * reserve is then one short until the next free, never over.
     */
    private final ConcurrentLinkedDeque<T> reserve = new ConcurrentLinkedDeque<>();
    private final AtomicInteger reserveFill = new AtomicInteger();
    private final AtomicInteger reserveCount = new AtomicInteger();
    /** Items outside the pool (allocated, not freed), reserve and budget ones together. */
    private final AtomicInteger outstanding = new AtomicInteger();
    private final WaitQueue returned;
    private volatile JmdThread refiller;
    private volatile boolean closed;

    /**
     * @param reserveItems  the minimum always available to waiters (its reason, as a sum, at the caller)
     * @param itemBytes     what one item costs the budget
     * @param holdAllowance how many items one thread may hold while waiting for another; 0 unless
     *                      the reserve is proven large enough for that many per waiter
     */
    public MemPool(Scheduler scheduler, MemoryBudget budget, String name, int reserveItems, long itemBytes,
                   int holdAllowance, Supplier<T> factory) {
        if (reserveItems < 1) {
            throw new IllegalArgumentException(name + ": a mempool needs a reserve of at least one item");
        }
        this.scheduler = scheduler;
        this.budget = budget;
        this.name = name;
        this.reserveItems = reserveItems;
        this.itemBytes = itemBytes;
        this.holdAllowance = holdAllowance;
        this.factory = factory;
        this.returned = new WaitQueue(scheduler, "pool " + name, this::providers);
        budget.reserve("pool " + name, (long) reserveItems * itemBytes);
        for (int i = 0; i < reserveItems; i++) {
            T item = factory.get();
            item.pool = this;
            reserve.push(item);
        }
        reserveFill.set(reserveItems);
        reserveCount.set(reserveItems);
    }

    @Override
    public String waitName() {
        return "pool " + name;
    }

    @Override
    public List<JmdThread> providers() {
        JmdThread r = refiller;
        return r == null ? List.of() : List.of(r);
    }

    /** Declares the thread that alone returns items here (for the seed-001 check). */
    public void setRefiller(JmdThread thread) {
        this.refiller = thread;
    }

    /** Never waits: a budget item, else a reserve item, else null. */
    public T tryAlloc() {
        assert !closed : "alloc from closed pool " + name;
        T item = null;
        if (budget.tryCharge(itemBytes)) {
            item = factory.get();
            item.pool = this;
        } else if (takeReserveSlot()) {
            // free() pushes before it counts, so a counted slot always has its item in the deque.
            item = reserve.poll();
            assert item != null : "pool " + name + ": reserve count ahead of its items";
            reserveFill.decrementAndGet();
        }
        if (item != null) {
            took(item);
        }
        return item;
    }

    /** Claims one counted reserve item; the count is never more than the items in the deque. */
    private boolean takeReserveSlot() {
        while (true) {
            int r = reserveCount.get();
            if (r == 0) {
                return false;
            }
            if (reserveCount.compareAndSet(r, r - 1)) {
                return true;
            }
        }
    }

    /**
     * Waits until an item is available (see the class comment for who may). Checked on every call,
     * not only when it would wait: the seed-001/002 patterns hang only near exhaustion, and tests
     * must catch them in runs that never get there.
     */
    public T alloc() {
        JmdThread me = scheduler.current();
        scheduler.checker().beforePoolWait(me, this, name, refiller, holdAllowance);
        T item = tryAlloc();
        if (item != null) {
            return item;
        }
        @SuppressWarnings("unchecked")
        T[] got = (T[]) new Pooled[1];
        returned.waitUntil(() -> (got[0] = tryAlloc()) != null);
        return got[0];
    }

    private void took(T item) {
        assert item.pool == this : "item of " + item.pool + " in pool " + name;
        assert item.holder == null : "item handed out twice by " + name;
        JmdThread me = scheduler.current();
        item.holder = me;
        me.adjustHeldItems(this, +1);
        outstanding.incrementAndGet();
    }

    /**
     * The current thread passes the item on (it was submitted; its completion will free it). From
     * now on, holding it no longer counts against this thread.
     */
    public void handOff(T item) {
        assert item.pool == this : "hand-off to the wrong pool " + name;
        JmdThread h = item.holder;
        assert h == scheduler.current() : "hand-off of " + name + " item by " + scheduler.current() + ", held by " + h;
        if (h != null) {
            h.adjustHeldItems(this, -1);
            item.holder = null;
        }
    }

    /** Returns an item: to the reserve while it is short, else to the budget. Never blocks. */
    public void free(T item) {
        assert item.pool == this : "free to the wrong pool " + name;
        JmdThread h = item.holder;
        if (h != null) {
            assert h == scheduler.current() : "free of a held " + name + " item by " + scheduler.current() + ", held by " + h;
            h.adjustHeldItems(this, -1);
            item.holder = null;
        }
        outstanding.decrementAndGet();
        if (claimReserveRefill()) {
            reserve.push(item);
            reserveCount.incrementAndGet();
        } else {
            budget.uncharge(itemBytes);
        }
        returned.wakeAll();
    }

    /**
     * Claims one missing reserve slot for a freed item, in one compare-and-set, so that two frees
     * racing for the last missing slot cannot both refill it (the surplus item would keep its
     * budget charge in the reserve, and close() would never give it back).
     */
    private boolean claimReserveRefill() {
        while (true) {
            int f = reserveFill.get();
            if (f >= reserveItems) {
                return false;
            }
            if (reserveFill.compareAndSet(f, f + 1)) {
                return true;
            }
        }
    }

    public int outstanding() {
        return outstanding.get();
    }

    public int reserveAvailable() {
        return reserveCount.get();
    }

    public String name() {
        return name;
    }

    /**
     * Gives the reserve back; every item must have come home (TigerBeetle's shutdown check). A
     * close that throws leaves the pool open, so a caller that frees the stragglers may close again.
     */
    public void close() {
        if (closed) {
            return;
        }
        if (outstanding.get() != 0) {
            throw new IllegalStateException("pool " + name + " closed with " + outstanding.get() + " items outstanding");
        }
        assert reserveCount.get() == reserveItems : "pool " + name + ": reserve " + reserveCount.get() + " of " + reserveItems;
        closed = true;
        budget.unreserve((long) reserveItems * itemBytes);
        reserve.clear();
    }
}
