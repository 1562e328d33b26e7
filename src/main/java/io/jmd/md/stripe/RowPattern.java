package io.jmd.md.stripe;

import java.util.Arrays;

/**
 * Where one stripe row of a RAID4/5/6 array keeps its blocks: the parity member(s), the member of
 * each data block, and each data member's RAID6 syndrome slot (the z of g^z in Q).
 *
 * <pre>
 *   left-symmetric raid5, 4 members, row 1:   D1  D2  P   D0      pd = 2, dataMember = {3, 0, 1}
 *   left-symmetric raid6, 5 members, row 0:   D0  D1  D2  P   Q   pd = 3, qd = 4, slot(m) = m
 * </pre>
 *
 * @param pd         the P member
 * @param qd         the Q member, -1 without Q (raid4/5)
 * @param dataMember member of data block k, k = 0 .. data disks - 1 (array order within the row)
 * @param slot       per member: its syndrome slot if it holds data, -1 for P and Q
 * @param slots      syndrome slots Q spans (data disks; all members for the DDF layouts)
 */
public record RowPattern(int pd, int qd, int[] dataMember, int[] slot, int slots) {
    public RowPattern {
        assert pd >= 0 && pd < slot.length : "P member " + pd;
        assert qd < slot.length && qd != pd : "Q member " + qd;
        assert slot[pd] == -1 && (qd < 0 || slot[qd] == -1) : "parity members have no slot";
        for (int k = 0; k < dataMember.length; k++) {
            assert slot[dataMember[k]] >= 0 && slot[dataMember[k]] < slots : "data member without a slot";
        }
    }

    /** Data block index of {@code member} in this row, or -1 for P/Q. */
    public int dataIndexOf(int member) {
        for (int k = 0; k < dataMember.length; k++) {
            if (dataMember[k] == member) {
                return k;
            }
        }
        return -1;
    }

    public boolean isParity(int member) {
        return member == pd || member == qd;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RowPattern r && r.pd == pd && r.qd == qd && Arrays.equals(r.dataMember, dataMember)
            && Arrays.equals(r.slot, slot) && r.slots == slots;
    }

    @Override
    public int hashCode() {
        return pd * 31 + qd + Arrays.hashCode(dataMember);
    }

    @Override
    public String toString() {
        return "RowPattern[P=" + pd + (qd >= 0 ? " Q=" + qd : "") + " data=" + Arrays.toString(dataMember)
            + " slots=" + Arrays.toString(slot) + "]";
    }
}
