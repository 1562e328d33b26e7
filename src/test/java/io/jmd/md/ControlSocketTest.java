package io.jmd.md;

import io.jmd.Env;
import io.jmd.control.ControlClient;
import io.jmd.control.ControlServer;
import io.jmd.testutil.JmdEnvExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The control socket in-process: status in /proc/mdstat's layout, fail answered at once, add
 * answered EAGAIN and polled, monitor streaming events, check through action, errors for bad
 * requests.
 */
final class ControlSocketTest {
    @RegisterExtension
    final JmdEnvExtension jmd = new JmdEnvExtension(256L << 20);

    @TempDir
    Path dir;

    static ControlClient.Reply until(ControlClient c, ControlClient.Reply r) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (r.pendingToken() >= 0) {
            assertTrue(System.nanoTime() < deadline, "action never finished");
            Thread.sleep(20);
            r = c.call("result", Long.toString(r.pendingToken()));
        }
        return r;
    }

    @Test
    void operatorFailsAddsChecksAndWatchesThroughTheSocket() throws Exception {
        Env env = jmd.env();
        try (Disks disks = new Disks(env)) {
            disks.add(RedundancyTest.DISK_BYTES, "a", "b", "c");
            RedundancyTest.create(env, disks, true, "a", "b");
            try (MdArray a = RedundancyTest.assemble(disks, false, "a", "b")) {
                Path sock = dir.resolve("r1.ctl");
                try (ControlServer server = ControlServer.start(env, List.of(a), sock);
                     ControlClient c = ControlClient.connect(sock);
                     ControlClient mon = ControlClient.connect(sock)) {
                    ControlClient.Reply st = c.call("status");
                    assertTrue(st.ok(), st.status());
                    String text = String.join("\n", st.text());
                    assertTrue(text.startsWith("Personalities : [raid1]"), text);
                    assertTrue(text.contains("r1 : active raid1 b[1] a[0]"), text);
                    assertTrue(text.contains("blocks super 1.2 [2/2] [UU]"), text);
                    assertTrue(text.contains("bitmap: "), text);

                    assertTrue(mon.call("monitor").ok());
                    List<String> events = new ArrayList<>();
                    Thread watcher = Thread.ofPlatform().start(() -> {
                        try {
                            mon.events(line -> {
                                synchronized (events) {
                                    events.add(line);
                                }
                                return !line.startsWith("SpareActive");
                            });
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    });

                    ControlClient.Reply f = c.call("fail", "-", "b");
                    assertTrue(f.ok() && f.message().contains("set b faulty"), f.status());
                    ControlClient.Reply last = c.call("fail", "r1", "a");
                    assertEquals("ERR", last.status().substring(0, 3), last.status());
                    assertTrue(last.status().contains("EBUSY"), last.status());
                    ControlClient.Reply rm = until(c, c.call("remove", "-", "b"));
                    assertTrue(rm.ok(), rm.status());
                    ControlClient.Reply add = c.call("add", "-", "c");
                    assertTrue(add.pendingToken() >= 0, "add answers EAGAIN at once: " + add.status());
                    add = until(c, add);
                    assertTrue(add.ok() && add.message().startsWith("added c"), add.status());
                    watcher.join(20_000);
                    synchronized (events) {
                        String all = String.join("\n", events);
                        assertTrue(all.contains("Fail r1 b"), all);
                        assertTrue(all.contains("RebuildStarted r1"), all);
                        assertTrue(all.contains("SpareActive r1 c"), all);
                    }
                    RedundancyTest.awaitIdle(a);
                    ControlClient.Reply chk = c.call("action", "-", "check");
                    assertTrue(chk.ok(), chk.status());
                    RedundancyTest.awaitIdle(a);
                    String after = String.join("\n", c.call("status").text());
                    assertTrue(after.contains("mismatch_cnt: 0"), after);
                    assertTrue(after.contains("c[2] a[0]"), after);
                    String detail = String.join("\n", c.call("detail", "r1").text());
                    assertTrue(detail.contains("State : clean") || detail.contains("State : active"), detail);
                    assertTrue(detail.contains("active sync   c") || detail.contains("active sync"), detail);
                    assertTrue(c.call("nonsense").status().startsWith("ERR EINVAL"));
                    assertTrue(c.call("fail", "nope", "a").status().startsWith("ERR"));
                }
                assertTrue(!java.nio.file.Files.exists(sock), "socket file removed at close");
            }
        }
    }

    @Test
    void progressLineHasMdstatsShape() {
        var s = new io.jmd.md.resync.SyncStatus(io.jmd.md.resync.SyncAction.RECOVER, 132480L * 1024, 1047552L * 1024,
            132480L * 1024, 0, 0, 0);
        assertEquals("[==>..................]  recovery = 12.6% (132480/1047552) finish=0.1min speed=132480K/sec",
            MdStat.progress(s));
    }
}
