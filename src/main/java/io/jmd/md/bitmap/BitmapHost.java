package io.jmd.md.bitmap;

import io.jmd.Env;
import io.jmd.md.Member;

import java.util.List;

/** What the bitmap needs from its array (implemented by the array; a fake in tests). */
public interface BitmapHost {
    String name();

    Env env();

    /**
     * Members whose copy of the bitmap is kept current: every member that is not faulty (in sync,
     * recovering, spare), in-sync ones first: they are the ones a load reads from.
     */
    List<Member> bitmapMembers();

    /** Byte offset of the bitmap area on {@code m}: its superblock offset plus bitmap_offset. */
    long bitmapAreaOffsetBytes(Member m);

    /** A bitmap write failed on {@code m}: fail it if the array can lose it (never blocks). */
    void memberError(Member m);

    /** Whether some slot is missing or failed (md's mddev->degraded != 0). */
    boolean isDegraded();

    /** The array's superblock events now. */
    long events();
}
