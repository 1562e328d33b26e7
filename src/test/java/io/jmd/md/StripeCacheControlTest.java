package io.jmd.md;

import io.jmd.Env;
import io.jmd.block.BlockDevice;
import io.jmd.control.ControlClient;
import io.jmd.control.ControlServer;
import io.jmd.md.format.CreateOptions;
import io.jmd.md.format.RaidLevel;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** md's stripe_cache_size changed on a running raid5 through the control socket, and refused for raid1. */
final class StripeCacheControlTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    @TempDir
    Path dir;

    @Test
    void showsAndChangesTheStripeCacheOfARunningRaid5() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            List<String> names = disks.add(16L << 20, "a", "b", "c", "d");
            List<BlockDevice> devs = new ArrayList<>();
            for (String n : names) {
                devs.add(disks.opener().open(n, false));
            }
            Creator.create(env, devs, new Creator.Request(CreateOptions.defaults(RaidLevel.RAID5, 4).withChunkKib(64),
                Optional.of("t"), "r5", 0, true, true, false));
            devs.forEach(BlockDevice::close);
            try (MdArray a = Assembler.assemble(env, disks.opener(), names, Assembler.Options.DEFAULT)) {
                Path sock = dir.resolve("r5.ctl");
                try (ControlServer server = ControlServer.start(env, List.of(a), sock);
                     ControlClient c = ControlClient.connect(sock)) {
                    ControlClient.Reply show = c.call("stripe-cache", "-");
                    assertTrue(show.ok(), show.status());
                    assertEquals("stripe_cache_size 256", show.message());
                    // idle: every stripe is free, so a shrink takes effect at once
                    ControlClient.Reply shrink = c.call("stripe-cache", "-", "64");
                    assertEquals("stripe_cache_size 64", shrink.message(), shrink.status());
                    ControlClient.Reply grow = c.call("stripe-cache", "-", "128");
                    assertEquals("stripe_cache_size 128", grow.message(), grow.status());
                    // growth stops at a quarter of the memory budget (64 MiB here: 256 stripes of 4 x 64 KiB)
                    ControlClient.Reply capped = c.call("stripe-cache", "-", "4096");
                    assertEquals("stripe_cache_size 256", capped.message(), capped.status());
                    ControlClient.Reply bad = c.call("stripe-cache", "-", "2");
                    assertTrue(bad.status().startsWith("ERR EINVAL"), bad.status());
                    assertEquals("stripe_cache_size 256", c.call("stripe-cache", "-").message());
                }
            }
        }
    }

    @Test
    void raid1HasNoStripeCache() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(16L << 20, "a", "b");
            disks.createRaid1("a", "b");
            try (MdArray a = disks.assemble(false, "a", "b")) {
                Path sock = dir.resolve("r1.ctl");
                try (ControlServer server = ControlServer.start(env, List.of(a), sock);
                     ControlClient c = ControlClient.connect(sock)) {
                    ControlClient.Reply r = c.call("stripe-cache", "-");
                    assertTrue(r.status().startsWith("ERR"), r.status());
                    assertTrue(r.status().contains("applies to raid4/5/6, not raid1"), r.status());
                }
            }
        }
    }
}
