package io.jmd.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * A simulated disk medium: survives crashes and restarts (the {@link SimDevice} over it does not).
 * Its fault model, as TigerBeetle's testing/storage.zig, in the terms of a disk with a volatile
 * write cache:
 *
 * <ul>
 *   <li><b>Atomic unit</b>: {@link #SECTOR_BYTES} (512 bytes, a 512n disk). A write is never torn
 *       inside a sector; a multi-sector write (a 4 KiB block, a superblock) may land partly.</li>
 *   <li><b>Volatile cache</b>: a completed write is visible to reads at once but durable only after
 *       a FLUSH completes, or at once with FUA. Each sector written since the last flush keeps its
 *       versions (at most {@link #VERSIONS_MAX} newest).</li>
 *   <li><b>Crash</b> ({@link #crash}): every in-flight write (submitted, not completed) lands sector
 *       by sector with probability 1/2; then each unflushed sector ends up as any one of its
 *       durable value and its versions (the cache drained in any order, or not at all).</li>
 *   <li><b>Latent sector errors</b>: a sector marked latent fails every read with EIO until it is
 *       written (the disk remaps on write). Placed by the workload, never in the metadata area
 *       below {@link #dataStartBytes()} (md keeps one superblock copy per member).</li>
 *   <li><b>Misdirected writes</b> (off unless enabled): a write lands on another sector of the data
 *       area, the intended sectors keep their old content. RAID1 has no checksums: this is beyond
 *       what the level can detect, so affected sectors are remembered ({@link #misdirected}) and a
 *       wrong read that one explains is reported as such, not as an engine bug.</li>
 *   <li><b>Whole-device failure</b> ({@link #fail}): every I/O ends with EIO until {@link #heal}.</li>
 * </ul>
 * Latency is the device's ({@link SimDevice}); the disk performs an operation when it completes.
 * Touched only by the baton holder.
 */
public final class SimDisk {
    public static final int SECTOR_BYTES = 512;
    /** Unflushed versions kept per sector: enough to show reordering, bounded memory. */
    static final int VERSIONS_MAX = 3;
    private static final byte[] ZERO = new byte[SECTOR_BYTES];

    /** A write submitted to the disk and not yet completed: it may land partly at a crash. */
    static final class Pending {
        final long offsetBytes;
        final byte[] data;

        Pending(long offsetBytes, byte[] data) {
            this.offsetBytes = offsetBytes;
            this.data = data;
        }
    }

    private final String name;
    private final long sizeBytes;
    /** What reads see. Absent: zeroes. */
    private final Map<Long, byte[]> current = new HashMap<>();
    /** What survives a crash for sectors with no unflushed versions. Absent: zeroes. */
    private final Map<Long, byte[]> durable = new HashMap<>();
    /** Sectors written since the last flush and their versions, oldest first. */
    private final Map<Long, List<byte[]>> unflushed = new HashMap<>();
    private final TreeSet<Long> latent = new TreeSet<>();
    private final Set<Long> misdirected = new HashSet<>();
    private final List<Pending> inFlight = new ArrayList<>();
    private boolean failed;
    /** Power cycles so far: a device opened before the last one is from a dead machine. */
    private int epoch;
    private long dataStartBytes;
    private long writes;
    private long reads;

    public SimDisk(String name, long sizeBytes) {
        if (sizeBytes <= 0 || sizeBytes % SECTOR_BYTES != 0) {
            throw new IllegalArgumentException(name + ": size must be a positive multiple of " + SECTOR_BYTES);
        }
        this.name = name;
        this.sizeBytes = sizeBytes;
    }

    public String name() {
        return name;
    }

    public long sizeBytes() {
        return sizeBytes;
    }

    /** Start of the data area: faults are placed at or above it. */
    public long dataStartBytes() {
        return dataStartBytes;
    }

    public void setDataStartBytes(long bytes) {
        this.dataStartBytes = bytes;
    }

    public boolean isFailed() {
        return failed;
    }

    /** Whole-device failure: every I/O fails from now on. */
    public void fail() {
        failed = true;
    }

    public void heal() {
        failed = false;
    }

    public long writeCount() {
        return writes;
    }

    public long readCount() {
        return reads;
    }

    // ---------------------------------------------------------------------------------------------
    // Operations (performed when the device completes them).

    /** Reads into {@code into}; false (EIO) if a sector is latent or the disk failed. */
    boolean read(long offsetBytes, byte[] into, int lengthBytes) {
        assertRange(offsetBytes, lengthBytes);
        reads++;
        if (failed || hasLatent(offsetBytes, lengthBytes)) {
            return false;
        }
        for (int done = 0; done < lengthBytes; done += SECTOR_BYTES) {
            byte[] s = current.get((offsetBytes + done) / SECTOR_BYTES);
            System.arraycopy(s == null ? ZERO : s, 0, into, done, SECTOR_BYTES);
        }
        return true;
    }

    /** Whether a latent sector error lies in the range. */
    public boolean hasLatent(long offsetBytes, long lengthBytes) {
        Long l = latent.ceiling(offsetBytes / SECTOR_BYTES);
        return l != null && l < (offsetBytes + lengthBytes + SECTOR_BYTES - 1) / SECTOR_BYTES;
    }

    Pending beginWrite(long offsetBytes, byte[] data) {
        assertRange(offsetBytes, data.length);
        Pending p = new Pending(offsetBytes, data);
        inFlight.add(p);
        return p;
    }

    /**
     * Completes a write: false (EIO) if the disk failed. {@code data} null writes zeroes
     * (discard, write-zeroes). {@code misdirectTo}: a sector to land on instead, or -1.
     */
    boolean write(Pending p, boolean fua, long misdirectTo) {
        if (p != null) {
            inFlight.remove(p);
        }
        if (failed) {
            return false;
        }
        writes++;
        int sectors = p.data.length / SECTOR_BYTES;
        long first = p.offsetBytes / SECTOR_BYTES;
        if (misdirectTo >= 0) {
            for (int i = 0; i < sectors; i++) {
                misdirected.add(first + i);
                misdirected.add(misdirectTo + i);
                putSector(misdirectTo + i, slice(p.data, i), fua);
            }
            return true;
        }
        for (int i = 0; i < sectors; i++) {
            putSector(first + i, slice(p.data, i), fua);
        }
        return true;
    }

    /** Completes a discard or write-zeroes of the range: zeroes, as a write of zeroes. */
    boolean zero(long offsetBytes, long lengthBytes, boolean fua) {
        assertRange(offsetBytes, lengthBytes);
        if (failed) {
            return false;
        }
        writes++;
        for (long s = offsetBytes / SECTOR_BYTES; s < (offsetBytes + lengthBytes) / SECTOR_BYTES; s++) {
            putSector(s, null, fua);
        }
        return true;
    }

    private static byte[] slice(byte[] data, int sector) {
        byte[] s = new byte[SECTOR_BYTES];
        System.arraycopy(data, sector * SECTOR_BYTES, s, 0, SECTOR_BYTES);
        return s;
    }

    private void putSector(long sector, byte[] bytes, boolean fua) {
        latent.remove(sector);
        if (bytes == null) {
            current.remove(sector);
        } else {
            current.put(sector, bytes);
        }
        if (fua) {
            unflushed.remove(sector);
            setDurable(sector, bytes);
            return;
        }
        List<byte[]> versions = unflushed.computeIfAbsent(sector, k -> new ArrayList<>(2));
        if (versions.size() == VERSIONS_MAX) {
            versions.remove(0);
        }
        versions.add(bytes);
    }

    private void setDurable(long sector, byte[] bytes) {
        if (bytes == null) {
            durable.remove(sector);
        } else {
            durable.put(sector, bytes);
        }
    }

    /** Completes a flush: everything completed so far is durable. False (EIO) if failed. */
    boolean flush() {
        if (failed) {
            return false;
        }
        for (Long s : unflushed.keySet()) {
            setDurable(s, current.get(s));
        }
        unflushed.clear();
        return true;
    }

    // ---------------------------------------------------------------------------------------------
    // Faults.

    public int epoch() {
        return epoch;
    }

    /** Power loss: applies the crash model (class comment) with {@code random}. */
    public void crash(SplittableRandom random) {
        epoch++;
        for (Pending p : inFlight) {
            long first = p.offsetBytes / SECTOR_BYTES;
            for (int i = 0; i < p.data.length / SECTOR_BYTES; i++) {
                if (random.nextBoolean()) {
                    unflushed.computeIfAbsent(first + i, k -> new ArrayList<>(1)).add(slice(p.data, i));
                }
            }
        }
        inFlight.clear();
        // Sorted: HashMap order must not decide which random draw goes to which sector.
        for (Long s : new TreeSet<>(unflushed.keySet())) {
            List<byte[]> versions = unflushed.get(s);
            int pick = random.nextInt(versions.size() + 1);
            if (pick < versions.size()) {
                setDurable(s, versions.get(pick));
            }
        }
        unflushed.clear();
        current.clear();
        current.putAll(durable);
    }

    /** Marks a latent sector error at {@code sector} (data area only). */
    public void addLatent(long sector) {
        assert sector * SECTOR_BYTES >= dataStartBytes : name + ": latent error in the metadata area";
        latent.add(sector);
    }

    /** The latent sectors, ascending. */
    public java.util.List<Long> latentSectors() {
        return java.util.List.copyOf(latent);
    }

    public int latentCount() {
        return latent.size();
    }

    /** Whether a misdirected write touched a sector of the range (as source or target). */
    public boolean misdirectedIn(long offsetBytes, long lengthBytes) {
        for (long s = offsetBytes / SECTOR_BYTES; s < (offsetBytes + lengthBytes + SECTOR_BYTES - 1) / SECTOR_BYTES; s++) {
            if (misdirected.contains(s)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Every sector whose content a crash could change now: written since the last flush, or
     * under a write in flight.
     */
    public void forEachVolatileSector(java.util.function.LongConsumer each) {
        unflushed.keySet().forEach(each::accept);
        for (Pending p : inFlight) {
            for (long s = p.offsetBytes / SECTOR_BYTES; s < (p.offsetBytes + p.data.length) / SECTOR_BYTES; s++) {
                each.accept(s);
            }
        }
    }

    /** The content of {@code sector} as reads see it, failed or latent or not (not to be changed). */
    byte[] sectorContent(long sector) {
        byte[] s = current.get(sector);
        return s == null ? ZERO : s;
    }

    /** Copies the content at {@code offsetBytes} into {@code into}, as {@link #sectorContent} (a check, not a read). */
    void peek(long offsetBytes, byte[] into) {
        assertRange(offsetBytes, into.length);
        for (int done = 0; done < into.length; done += SECTOR_BYTES) {
            byte[] s = current.get((offsetBytes + done) / SECTOR_BYTES);
            System.arraycopy(s == null ? ZERO : s, 0, into, done, SECTOR_BYTES);
        }
    }

    public int inFlightWrites() {
        return inFlight.size();
    }

    private void assertRange(long offsetBytes, long lengthBytes) {
        assert offsetBytes >= 0 && lengthBytes >= 0 && offsetBytes + lengthBytes <= sizeBytes
            : name + ": " + offsetBytes + "+" + lengthBytes + " past " + sizeBytes;
        assert offsetBytes % SECTOR_BYTES == 0 && lengthBytes % SECTOR_BYTES == 0
            : name + ": " + offsetBytes + "+" + lengthBytes + " not in whole " + SECTOR_BYTES + "-byte sectors";
    }
}
