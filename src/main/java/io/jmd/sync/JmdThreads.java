package io.jmd.sync;

import java.util.Set;

/**
 * Makes {@link JmdThread}s for schedulers outside this package (the simulator's). A scheduler owns
 * the mapping from its Java threads to jmd's view of them; this is the one way to create that view.
 */
public final class JmdThreads {
    private JmdThreads() {
    }

    /** jmd's view of {@code javaThread}, named {@code name}, with {@code roles}. */
    public static JmdThread create(String name, Set<ThreadRole> roles, Thread javaThread) {
        return new JmdThread(name, roles, javaThread);
    }
}
