package io.jmd.md.raid1;

import io.jmd.mem.Pooled;
import io.jmd.md.Member;

/** One member's part of an {@link R1Request}: md's per-mirror bio. Reused through its pool. */
final class MemberIo extends Pooled {
    R1Request request;
    Member member;

    void init(R1Request request, Member member) {
        this.request = request;
        this.member = member;
    }
}
