package io.jmd.nbd;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The exports a server offers, in the order they were added. The empty name, which proto.md
 * reserves for "the default export", means the first one. Immutable after construction, so
 * handshakes read it without locks.
 */
final class ExportTable {
    private final Map<String, Export> byName;
    private final List<Export> ordered;

    ExportTable(List<Export> exports) {
        Map<String, Export> m = new LinkedHashMap<>();
        for (Export e : exports) {
            if (m.putIfAbsent(e.name, e) != null) {
                throw new IllegalArgumentException("export name used twice: '" + e.name + "'");
            }
        }
        this.byName = Collections.unmodifiableMap(m);
        this.ordered = List.copyOf(new ArrayList<>(m.values()));
    }

    /** The export called {@code name}, the default one for "", or null. */
    Export lookup(String name) {
        Export e = byName.get(name);
        if (e == null && name.isEmpty() && !ordered.isEmpty()) {
            return ordered.getFirst();
        }
        return e;
    }

    List<Export> all() {
        return ordered;
    }

    boolean isEmpty() {
        return ordered.isEmpty();
    }
}
