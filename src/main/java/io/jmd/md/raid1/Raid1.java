package io.jmd.md.raid1;

import io.jmd.Env;
import io.jmd.block.Bio;
import io.jmd.block.Errno;
import io.jmd.block.SyncIo;
import io.jmd.mem.MemPool;
import io.jmd.md.MdArray;
import io.jmd.md.Member;
import io.jmd.md.MemberState;
import io.jmd.md.Personality;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * RAID1, as Linux's raid1.c: every slot holds the whole array at its data offset.
 *
 * <ul>
 *   <li>Reads go to one in-sync member (read balancing: a sequential reader stays on its member,
 *       otherwise the least busy, then the nearest head); a failed read is retried on another
 *       member by the md thread.</li>
 *   <li>Writes, discards, write-zeroes and flushes fan out to every working member. Each member
 *       I/O is submitted as soon as it is allocated, and the request's count starts at 1 for the
 *       submitter (seed 002). A write that failed on some member but succeeded on another ends
 *       only after the superblock recording that member as faulty is on disk.</li>
 * </ul>
 *
 * <h2>Pools, and why their reserves are enough</h2>
 * <pre>
 *   requests:   reserve 1 R1Request
 *   member I/O: reserve raidDisks MemberIo
 *   One request needs 1 R1Request and at most raidDisks MemberIo, allocated one at a time, each
 *   submitted before the next is allocated. A MemberIo comes back when its member I/O ends, which
 *   depends only on the member device, never on another request or on the md thread. So a
 *   submitter waiting for an item is always served from the reserve eventually: one request can
 *   always finish. Retries reuse the failed MemberIo: the md thread never allocates.
 * </pre>
 */
public final class Raid1 implements Personality {
    /** Budget cost of a request's state (object headers, fields, the member Bio): generous. */
    static final long R1_REQUEST_BYTES = 256;
    static final long MEMBER_IO_BYTES = 256;
    /** jmd tracks working slots in a long. */
    public static final int MAX_RAID_DISKS = 64;

    private final MdArray array;
    private final Env env;
    private final Member[] slots;
    private final long sizeBytes;
    private final AtomicLong workingSlots = new AtomicLong();
    private final MemPool<R1Request> requests;
    private final MemPool<MemberIo> memberIos;
    /** Reads to retry on another member; consumed by the md thread only. */
    private final ConcurrentLinkedQueue<MemberIo> retries = new ConcurrentLinkedQueue<>();
    /** Writes held until the failure of a member they skipped is on disk. */
    private final io.jmd.md.HeldWrites<R1Request> held;
    private final io.jmd.block.BioCallback memberDone = this::memberDone;
    /** Online resync/recovery/check/repair (md's raid1_sync_request). */
    private final Raid1Sync sync;
    /** fix_read_error: reads that failed on a member are rewritten there from a good copy. */
    private final Raid1ReadFix readFix;

    public Raid1(MdArray array) {
        this.array = array;
        this.held = new io.jmd.md.HeldWrites<>(array, r -> endRequest(r, Errno.OK));
        this.env = array.env();
        int raidDisks = array.superblock().raidDisks();
        if (raidDisks < 1 || raidDisks > MAX_RAID_DISKS) {
            throw new IllegalArgumentException("raid1 with " + raidDisks + " devices (jmd supports 1.." + MAX_RAID_DISKS + ")");
        }
        this.slots = new Member[raidDisks];
        for (Member m : array.members()) {
            if ((m.state() == MemberState.IN_SYNC || m.state() == MemberState.RECOVERING) && m.slot() < raidDisks) {
                slots[m.slot()] = m;
                if (m.isInSync()) {
                    workingSlots.getAndUpdate(w -> w | (1L << m.slot()));
                }
            }
        }
        this.sizeBytes = array.superblock().sizeSectors() * 512;
        this.requests = new MemPool<>(env.scheduler(), env.budget(), array.name() + " r1 requests", 1,
            R1_REQUEST_BYTES, 0, R1Request::new);
        this.memberIos = new MemPool<>(env.scheduler(), env.budget(), array.name() + " r1 member io", raidDisks,
            MEMBER_IO_BYTES, 0, MemberIo::new);
        this.sync = new Raid1Sync(this, array);
        this.readFix = new Raid1ReadFix(array, this, this::endRequest);
    }

    @Override
    public String levelName() {
        return "raid1";
    }

    @Override
    public long sizeBytes() {
        return sizeBytes;
    }

    @Override
    public void submit(Bio bio) {
        R1Request r = requests.alloc();
        r.init(bio);
        if (bio.op == Bio.Op.READ) {
            submitRead(r);
        } else {
            submitFanOut(r);
        }
    }

    private void submitRead(R1Request r) {
        Bio p = r.parent;
        if (!array.isReadOnly() && array.redundancy() != null && array.redundancy().readFromFirst(p.offsetBytes, p.lengthBytes)
            && slots.length > 1) {
            // Not resynced yet: the block is read from the first member and written to the others
            // before the read ends, so a value a client saw never rests on one copy (Raid1ReadFix).
            // A read-only array writes nothing: its reads only come from the first member.
            // Even with one member left in sync: a resync window may have read a member before it
            // failed and be about to write that read over the one left; the fix's frozen path
            // waits for it, so the next read finds what this one saw.
            requests.handOff(r);
            readFix.queueSyncRead(r);
            return;
        }
        Member m = chooseReadMember(r);
        requests.handOff(r);
        if (m == null) {
            endRequest(r, Errno.EIO);
            return;
        }
        MemberIo io = memberIos.alloc();
        io.init(r, m);
        memberIos.handOff(io);
        issue(io);
    }

    private void submitFanOut(R1Request r) {
        for (Member m : slots) {
            if (m == null) {
                continue;
            }
            if (m.state() == MemberState.FAULTY) {
                if (!m.isFaultRecorded()) {
                    r.memberFailed = true; // it misses this write: end only once its failure is on disk
                }
                continue;
            }
            MemberIo io = memberIos.alloc();
            io.init(r, m);
            r.remaining.incrementAndGet();
            memberIos.handOff(io);
            issue(io); // at once: the item goes back to the pool when it ends (seed 002)
        }
        requests.handOff(r);
        if (r.remaining.decrementAndGet() == 0) {
            writeFinished(r);
        }
    }

    private void issue(MemberIo io) {
        Bio p = io.request.parent;
        Member m = io.member;
        long offset = p.op == Bio.Op.FLUSH ? 0 : m.dataOffsetBytes() + p.offsetBytes;
        m.ioStarted(offset + p.lengthBytes);
        m.device().submit(new Bio(p.op, offset, p.lengthBytes, p.data, p.flags, io, memberDone));
    }

    /**
     * Whether {@code m} holds current data for the whole read: in sync, or being rebuilt and past
     * the read's end (raid1.c read_balance skips a not-In_sync rdev only while recovery_offset <
     * this_sector + sectors). The checkpoint only moves to where every sync window below has
     * written the member, and normal writes reach it all along.
     */
    private static boolean servesRead(Member m, Bio read) {
        return m.isInSync() || (m.state() == MemberState.RECOVERING
            && m.recoveryOffsetBytes() >= read.offsetBytes + read.lengthBytes);
    }

    /** Chooses a member holding the data (in sync, or rebuilt past the read), not tried yet; null if none. */
    private Member chooseReadMember(R1Request r) {
        Bio p = r.parent;
        Member best = null;
        long bestScore = Long.MAX_VALUE;
        // Where a resync has yet to make the mirrors agree, read the first one: the resync source
        // (raid1.c's choose_first), so a block reads the same until the resync copies it.
        boolean first = array.redundancy() != null && array.redundancy().readFromFirst(p.offsetBytes, p.lengthBytes);
        for (Member m : slots) {
            if (m == null || !servesRead(m, p) || (r.triedSlots & (1L << m.slot())) != 0) {
                continue;
            }
            if (first) {
                best = m;
                break;
            }
            long head = m.headPositionBytes();
            long at = m.dataOffsetBytes() + p.offsetBytes;
            long score;
            if (head == at) {
                score = 0; // sequential: stay on this member
            } else {
                score = 1 + ((long) m.pendingIo() << 40) + Math.min(Math.abs(head - at) >> 9, (1L << 39) - 1);
            }
            if (m.writeMostly()) {
                score |= 1L << 62; // only when nothing else is left
            }
            if (score < bestScore) {
                bestScore = score;
                best = m;
            }
        }
        if (best != null) {
            r.triedSlots |= 1L << best.slot();
        }
        return best;
    }

    /** Member I/O callback: a must-not-block section on an I/O thread. */
    private void memberDone(Bio bio) {
        MemberIo io = (MemberIo) bio.owner;
        io.member.ioEnded();
        R1Request r = io.request;
        int st = bio.status();
        if (r.parent.op == Bio.Op.READ) {
            if (st == Errno.OK) {
                long failed = r.triedSlots & ~(1L << io.member.slot());
                memberIos.free(io);
                if (failed != 0 && !array.isReadOnly()) {
                    readFix.queue(r, io.member, failed); // ends the request once the failed copies are rewritten
                } else {
                    endRequest(r, Errno.OK);
                }
            } else {
                io.member.countReadError();
                retries.add(io);
                array.wakeMdThread();
            }
            return;
        }
        if (st == Errno.OK) {
            r.okCount.incrementAndGet();
        } else {
            io.member.countWriteError();
            if (r.firstError == 0) {
                r.firstError = st;
            }
            if (array.memberError(io.member)) {
                r.memberFailed = true;
            }
        }
        memberIos.free(io);
        if (r.remaining.decrementAndGet() == 0) {
            writeFinished(r);
        }
    }

    private void writeFinished(R1Request r) {
        if (r.okCount.get() == 0) {
            endRequest(r, r.firstError != 0 ? r.firstError : Errno.EIO);
        } else if (r.memberFailed) {
            held.hold(r);
        } else {
            endRequest(r, Errno.OK);
        }
    }

    private void endRequest(R1Request r, int status) {
        Bio parent = r.parent;
        r.parent = null;
        requests.free(r);
        parent.end(status);
    }

    @Override
    public void mdThreadWork() {
        readFix.mdThreadWork();
        MemberIo io;
        while ((io = retries.poll()) != null) {
            R1Request r = io.request;
            Member next = chooseReadMember(r);
            if (next == null) {
                memberIos.free(io);
                endRequest(r, r.parent.lengthBytes > 512 ? readPiecewise(r.parent) : Errno.EIO);
                continue;
            }
            io.init(r, next);
            issue(io);
        }
    }

    /**
     * Every in-sync member failed the whole read: reads it a sector at a time, each sector from any
     * member that can read it, synchronously on the md thread, as raid1d's fix_read_error does.
     * Different bad sectors on each mirror then cost time, not data (found by the simulator: a
     * read spanning a latent error on each member ended with EIO). EIO only if some sector is
     * unreadable on every member.
     */
    private int readPiecewise(Bio p) {
        for (long at = 0; at < p.lengthBytes; at += 512) {
            boolean read = false;
            for (Member m : slots) {
                if (m != null && m.isInSync() && SyncIo.read(env.scheduler(), m.device(),
                    m.dataOffsetBytes() + p.offsetBytes + at, p.data.asSlice(at, 512)) == Errno.OK) {
                    read = true;
                    break;
                }
            }
            if (!read) {
                return Errno.EIO;
            }
        }
        return Errno.OK;
    }

    @Override
    public void superblockWritten() {
        held.releaseWritten();
    }

    @Override
    public boolean tryFail(Member m) {
        if (m.slot() < 0 || m.slot() >= slots.length || slots[m.slot()] != m) {
            return true; // not holding data of any slot
        }
        long bit = 1L << m.slot();
        while (true) {
            long w = workingSlots.get();
            if ((w & bit) == 0) {
                return true;
            }
            if ((w & ~bit) == 0) {
                return false;
            }
            if (workingSlots.compareAndSet(w, w & ~bit)) {
                return true;
            }
        }
    }

    @Override
    public boolean canRun() {
        return workingSlots.get() != 0;
    }

    @Override
    public boolean isOptimal() {
        return Long.bitCount(workingSlots.get()) == slots.length;
    }

    @Override
    public String status() {
        StringBuilder sb = new StringBuilder();
        sb.append('[').append(slots.length).append('/').append(Long.bitCount(workingSlots.get())).append("] [");
        for (Member m : slots) {
            sb.append(m != null && m.isInSync() ? 'U' : '_');
        }
        return sb.append(']').toString();
    }

    /** Members by slot (null where missing). */
    public List<Member> slots() {
        return java.util.Arrays.asList(slots.clone());
    }

    @Override
    public io.jmd.md.resync.SyncLevel syncLevel() {
        return sync;
    }

    @Override
    public boolean allSlotsWritable() {
        for (Member m : slots) {
            if (m == null || m.state() == MemberState.FAULTY) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void attachMember(Member m, int slot) {
        assert slot >= 0 && slot < slots.length : "slot " + slot;
        assert slots[slot] == null || slots[slot].state() == MemberState.FAULTY : "slot " + slot + " is held";
        slots[slot] = m; // the array is quiesced: every request admitted after sees it
    }

    @Override
    public void memberInSync(Member m) {
        assert slots[m.slot()] == m : m + " is not in its slot";
        workingSlots.getAndUpdate(w -> w | (1L << m.slot()));
    }

    @Override
    public void detachMember(Member m) {
        int slot = m.slot();
        if (slot >= 0 && slot < slots.length && slots[slot] == m) {
            slots[slot] = null;
            workingSlots.getAndUpdate(w -> w & ~(1L << slot));
        }
    }

    @Override
    public void stop() {
        assert retries.isEmpty() : "retries left at stop";
        assert held.isEmpty() : "held writes left at stop";
        assert readFix.isEmpty() : "read fixes left at stop";
        readFix.close();
        requests.close();
        memberIos.close();
    }
}
