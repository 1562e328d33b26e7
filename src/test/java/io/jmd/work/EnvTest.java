package io.jmd.work;

import io.jmd.Env;
import io.jmd.mem.Buffer;
import io.jmd.sync.Completion;
import io.jmd.sync.DependencyChecker;
import io.jmd.sync.Mutex;
import io.jmd.sync.ThreadRole;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Env's shared pools work together, and the test extension catches what it promises to. */
@ExtendWith(JmdEnvExtension.class)
class EnvTest {
    @Test
    void sharedPoolsWorkTogether(Env env) {
        Completion done = new Completion(env.scheduler(), "done");
        AtomicInteger steps = new AtomicInteger();
        // An I/O worker queues a timer task, which hands a thread start to the starter: the chain
        // of hand-offs an I/O-progress thread uses instead of doing these things itself.
        env.ioWorkers().execute(() -> {
            assertTrue(env.scheduler().current().has(ThreadRole.IO_PROGRESS));
            steps.incrementAndGet();
            env.timer().schedule(1_000_000L, () -> {
                steps.incrementAndGet();
                env.starter().requestStart(new ThreadStarter.Request("sync", EnumSet.noneOf(ThreadRole.class),
                    () -> done.complete(steps.incrementAndGet()), () -> done.complete(-1)));
            });
        });
        assertEquals(3, done.await());
        Buffer b = env.buffers().allocate(8192);
        b.release();
    }

    @Test
    void theChecksCatchALeakedBuffer() {
        Env env = Env.forTests(1 << 20);
        Buffer leaked = env.buffers().allocate(4096);
        env.close();
        AssertionError e = assertThrows(AssertionError.class, () -> JmdEnvExtension.check(env));
        assertTrue(e.getMessage().contains("theChecksCatchALeakedBuffer"), e.getMessage());
        leaked.release();
        JmdEnvExtension.check(env);
    }

    @Test
    void theChecksCatchAViolationThrownOnABackgroundThread() {
        Env env = Env.forTests(1 << 20);
        Mutex a = new Mutex(env.scheduler(), "A");
        Completion thrown = new Completion(env.scheduler(), "thrown");
        // A completion callback that blocks: the violation is thrown on a pool worker, where no
        // test would see it; the checker's record is what the extension reads.
        env.ioWorkers().execute(() -> {
            try {
                DependencyChecker.runAtomic(env.scheduler().current(), a::lock);
            } finally {
                thrown.complete(0);
            }
        });
        thrown.await();
        env.close();
        AssertionError e = assertThrows(AssertionError.class, () -> JmdEnvExtension.check(env));
        assertTrue(e.getMessage().contains("BLOCK_IN_ATOMIC"), e.getMessage());
    }
}
