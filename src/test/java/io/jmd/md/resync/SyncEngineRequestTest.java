package io.jmd.md.resync;

import io.jmd.Env;
import io.jmd.block.Errno;
import io.jmd.md.Member;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An operator's request (sync_action check) that lands while the md thread is deciding what to
 * start. The md thread took NEEDED after looking at the request, so a request whose NEEDED fell on
 * a NEEDED already set was wiped: it answered 0, never ran, and every later request answered
 * EBUSY (seen as RedundancyTest waiting forever for a check to start). The request is injected at
 * the one point of the decision where it hurt: the host's look at its recovery work.
 */
@ExtendWith(JmdEnvExtension.class)
final class SyncEngineRequestTest {
    /** A host that lets {@code during} run once, from inside the md thread's decision. */
    static final class RacingHost extends StubSyncHost {
        final long resyncDone;
        final List<SyncAction> ended = new CopyOnWriteArrayList<>();
        final AtomicBoolean fired = new AtomicBoolean();
        volatile Runnable during = () -> { };

        RacingHost(Env env, long resyncDone) {
            super(env, new SyncBarrier(env.scheduler(), "stub"), SyncRunDrainTest.level(null));
            this.resyncDone = resyncDone;
        }

        @Override
        public boolean hasRecoveryWork() {
            if (fired.compareAndSet(false, true)) {
                during.run();
            }
            return false;
        }

        @Override
        public long resyncDoneBytes() {
            return resyncDone;
        }

        @Override
        public void syncEnded(SyncAction action, boolean completed, long doneBytes, List<Member> targets, long mismatchSectors) {
            ended.add(action);
        }
    }

    @Test
    void aRequestMadeWhileTheMdThreadFindsNothingToDoStartsOnItsNextPass(Env env) {
        RacingHost host = new RacingHost(env, Long.MAX_VALUE);
        SyncEngine engine = new SyncEngine(host);
        try {
            host.during = () -> assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
            engine.setNeeded(); // a member change, say: NEEDED is set when the request comes
            engine.checkRecovery(); // nothing else to do; the request lands in the middle
            assertTrue(host.fired.get());
            assertFalse(engine.isIdle(), "the request is still there");
            engine.checkRecovery(); // the pass its wakeup asked for
            assertEquals("check", engine.syncActionName());
            assertEquals(Errno.EBUSY, engine.request(SyncAction.REPAIR), "busy while the check runs");
        } finally {
            engine.stop();
        }
    }

    @Test
    void aRequestMadeWhileTheMdThreadChoosesAResyncRunsAfterIt(Env env) throws InterruptedException {
        RacingHost host = new RacingHost(env, 0);
        SyncEngine engine = new SyncEngine(host);
        try {
            host.during = () -> assertEquals(Errno.OK, engine.request(SyncAction.CHECK));
            engine.setNeeded();
            engine.checkRecovery(); // chooses the resync; the request lands before it is under way
            assertEquals("resync", engine.syncActionName());
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (host.ended.size() < 2 && System.nanoTime() < deadline) {
                engine.checkRecovery(); // the md thread's passes: reap, then start what is needed
                Thread.sleep(1);
            }
            assertEquals(List.of(SyncAction.RESYNC, SyncAction.CHECK), host.ended, "the check ran after the resync");
        } finally {
            engine.stop();
        }
    }
}
