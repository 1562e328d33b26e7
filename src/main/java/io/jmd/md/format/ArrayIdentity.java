package io.jmd.md.format;

import java.util.Objects;

/** What every member of one array shares: its UUID, name and creation time. */
public record ArrayIdentity(MdUuid setUuid, ArrayName name, MdTime ctime) {
    public ArrayIdentity {
        Objects.requireNonNull(setUuid, "setUuid");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(ctime, "ctime");
    }
}
