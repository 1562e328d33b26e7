package io.jmd.md.resync;

import io.jmd.Env;
import io.jmd.md.Member;
import io.jmd.md.bitmap.WriteIntentBitmap;

import java.util.List;

/**
 * A {@link SyncHost} for engine unit tests: a clean array with no bitmap, no recovery work and
 * nothing to checkpoint; a test overrides what it exercises.
 */
class StubSyncHost implements SyncHost {
    final Env env;
    final SyncBarrier barrier;
    final SyncLevel level;

    StubSyncHost(Env env, SyncBarrier barrier, SyncLevel level) {
        this.env = env;
        this.barrier = barrier;
        this.level = level;
    }

    @Override
    public String name() {
        return "stub";
    }

    @Override
    public Env env() {
        return env;
    }

    @Override
    public SyncBarrier barrier() {
        return barrier;
    }

    @Override
    public WriteIntentBitmap bitmap() {
        return null;
    }

    @Override
    public SyncLevel syncLevel() {
        return level;
    }

    @Override
    public boolean isReadOnly() {
        return false;
    }

    /** In sync (md's MaxSector). */
    @Override
    public long resyncDoneBytes() {
        return Long.MAX_VALUE;
    }

    @Override
    public boolean hasRecoveryWork() {
        return false;
    }

    @Override
    public List<Member> prepareRecovery() {
        return List.of();
    }

    @Override
    public long recoveryStartBytes(Member m) {
        return 0;
    }

    @Override
    public boolean isReAdded(Member m) {
        return false;
    }

    @Override
    public void checkpoint(SyncAction action, long doneBytes, List<Member> targets) {
    }

    @Override
    public void syncEnded(SyncAction action, boolean completed, long doneBytes, List<Member> targets, long mismatchSectors) {
    }

    @Override
    public long normalRequests() {
        return 0;
    }

    @Override
    public void wakeMdThread() {
    }

    @Override
    public void event(String event, String member, String detail) {
    }
}
