package io.jmd.work;

import io.jmd.sync.Completion;
import io.jmd.sync.RealScheduler;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.JmdThread;
import io.jmd.testutil.ForwardingScheduler;
import io.jmd.testutil.Schedulers;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreadStarterTest {
    private final RealScheduler scheduler = Schedulers.throwing();

    @Test
    void startsRequestedThreadsWithTheirRoles() {
        ThreadStarter starter = new ThreadStarter(scheduler, "starter");
        assertTrue(starter.thread().has(ThreadRole.STARTER));
        Completion roles = new Completion(scheduler, "roles");
        starter.requestStart(new ThreadStarter.Request("io", EnumSet.of(ThreadRole.IO_PROGRESS),
            () -> roles.complete(scheduler.current().has(ThreadRole.IO_PROGRESS) ? 1 : 2), () -> roles.complete(-1)));
        assertEquals(1, roles.await());
        starter.close();
    }

    @Test
    void aFailedStartRunsItsHook() {
        // A scheduler whose starts of "doomed" fail, as thread creation does when memory is short.
        ThreadStarter starter = new ThreadStarter(new ForwardingScheduler(scheduler) {
            @Override
            public JmdThread start(String name, Set<ThreadRole> roles, Runnable body) {
                if (name.equals("doomed")) {
                    throw new IllegalStateException("cannot create thread");
                }
                return super.start(name, roles, body);
            }
        }, "starter");
        Completion failed = new Completion(scheduler, "failed");
        starter.requestStart(new ThreadStarter.Request("doomed", EnumSet.noneOf(ThreadRole.class),
            () -> failed.complete(1), () -> failed.complete(-12)));
        assertEquals(-12, failed.await());
        starter.close();
    }
}
