package io.jmd.md.stripe;

import io.jmd.block.Bio;
import io.jmd.block.BlockDevice;

import java.util.ArrayList;
import java.util.List;

/**
 * The stripe handler's plug (md's blk_start_plug/blk_finish_plug around raid5d's pass): member
 * bios issued while the handler goes through its stripes are held here, per member, and handed
 * to each member at once when the pass ends ({@link BlockDevice#submitBatch}), so one worker runs
 * a member's bios of many stripes in a row instead of one thread hand-off per 64 KiB bio.
 *
 * <p>Bounded: at {@link #MAX_HELD} bios the plug empties itself. The handler empties it before it
 * sleeps, so no bio waits on a sleeping handler. Bios are not pool items: holding them until the
 * end of the pass holds no pool (seed 002); their stripes were held anyway until they end.
 * Owned by one handler thread.
 */
final class MemberPlug {
    static final int MAX_HELD = 256;

    private final BlockDevice[] devices;
    private final List<Bio>[] held;
    private int count;

    @SuppressWarnings("unchecked")
    MemberPlug(int members) {
        this.devices = new BlockDevice[members];
        this.held = new List[members];
        for (int m = 0; m < members; m++) {
            held[m] = new ArrayList<>();
        }
    }

    void add(int member, BlockDevice device, Bio bio) {
        assert devices[member] == null || devices[member] == device : "member " + member + " changed device in a pass";
        devices[member] = device;
        held[member].add(bio);
        if (++count >= MAX_HELD) {
            unplug();
        }
    }

    /** Hands every held bio to its member. May wait for member slots, as submit does. */
    void unplug() {
        if (count == 0) {
            return;
        }
        count = 0;
        for (int m = 0; m < held.length; m++) {
            if (!held[m].isEmpty()) {
                devices[m].submitBatch(held[m]);
                held[m].clear();
                devices[m] = null;
            }
        }
    }
}
