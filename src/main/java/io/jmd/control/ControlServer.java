package io.jmd.control;

import io.jmd.Env;
import io.jmd.block.Errno;
import io.jmd.md.ArrayEvents;
import io.jmd.md.Detail;
import io.jmd.md.MdArray;
import io.jmd.md.MdException;
import io.jmd.md.MdStat;
import io.jmd.md.MemberManager;
import io.jmd.md.resync.SyncAction;
import io.jmd.md.resync.SyncEngine;
import io.jmd.sync.CountedResource;
import io.jmd.sync.JmdThread;
import io.jmd.sync.ThreadRole;
import io.jmd.sync.WaitQueue;
import io.jmd.work.Work;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The control socket of a running {@code jmd serve}: a unix socket through which {@code jmd
 * fail/add/remove/re-add/action/status/detail/monitor} act on the served arrays (protocol in
 * {@link ControlProtocol}).
 *
 * <h2>Threads and bounds</h2>
 * One accept thread and one thread per connection, all CLIENT threads (they serve an outside
 * party), at most {@link #CONNECTIONS_MAX} connections (more are told EBUSY). A connection never
 * waits for the md thread, a superblock write or a quiesce: fail only marks state; add, re-add
 * and remove run on the array's misc work queue and answer EAGAIN with a token (at most
 * {@link #ACTIONS_MAX} known at once); monitor waits on the arrays' event logs, holding nothing.
 */
public final class ControlServer implements AutoCloseable {
    public static final int CONNECTIONS_MAX = 16;
    /** Actions whose results are kept for "result TOKEN" (oldest finished ones go first). */
    public static final int ACTIONS_MAX = 64;
    static final long MONITOR_POLL_NANOS = 1_000_000_000L;

    private static final System.Logger LOG = System.getLogger("io.jmd.control");

    /** An action run on an array's work queue; {@code result} null while it runs. */
    private static final class Action {
        final long token;
        final String what;
        volatile String result;
        volatile boolean ok;

        Action(long token, String what) {
            this.token = token;
            this.what = what;
        }
    }

    private final Env env;
    private final List<MdArray> arrays;
    private final Path path;
    private final ServerSocketChannel channel;
    private final CountedResource connections;
    private final Map<Long, Action> actions = new ConcurrentHashMap<>();
    private final AtomicLong nextToken = new AtomicLong(1);
    private final WaitQueue eventsWait;
    private final Runnable eventListener;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private JmdThread acceptThread;
    private JmdThread logThread;

    private ControlServer(Env env, List<MdArray> arrays, Path path, ServerSocketChannel channel) {
        this.env = env;
        this.arrays = List.copyOf(arrays);
        this.path = path;
        this.channel = channel;
        this.connections = new CountedResource(env.scheduler(), "control connections", CONNECTIONS_MAX);
        this.eventsWait = new WaitQueue(env.scheduler(), "control monitor events");
        this.eventListener = eventsWait::wakeAll;
    }

    /** Binds {@code path} (replacing a stale socket file, never anything else) and starts accepting. */
    public static ControlServer start(Env env, List<MdArray> arrays, Path path) throws IOException {
        ControlPaths.prepare(path);
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isRegularFile(path, LinkOption.NOFOLLOW_LINKS) || Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)
                || Files.isSymbolicLink(path)) {
                throw new IOException("cannot create the control socket " + path + ": it exists and is not a socket");
            }
            Files.delete(path);
        }
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot create the control socket " + path + ": " + e.getMessage(), e);
        }
        ControlServer s = new ControlServer(env, arrays, path, ch);
        for (MdArray a : s.arrays) {
            a.redundancy().eventLog().listen(s.eventListener);
        }
        s.acceptThread = env.scheduler().start("control-accept", EnumSet.of(ThreadRole.CLIENT), s::acceptLoop);
        return s;
    }

    public Path path() {
        return path;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = channel.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.WARNING, "control: accept failed: " + e);
                }
                return;
            }
            if (!connections.tryAcquire(1)) {
                reject(c);
                continue;
            }
            open.add(c);
            try {
                env.scheduler().start("control-conn", EnumSet.of(ThreadRole.CLIENT), () -> connection(c));
            } catch (RuntimeException | OutOfMemoryError e) {
                open.remove(c);
                connections.release(1);
                reject(c);
            }
        }
    }

    private static void reject(SocketChannel c) {
        try (c) {
            c.write(ByteBuffer.wrap(("ERR EBUSY too many control connections (" + CONNECTIONS_MAX + ")\n")
                .getBytes(StandardCharsets.UTF_8)));
        } catch (IOException ignored) {
            // the client went away
        }
    }

    private void connection(SocketChannel c) {
        try (c) {
            InputStream in = Channels.newInputStream(c);
            OutputStream out = Channels.newOutputStream(c);
            String line;
            while ((line = readLine(in)) != null) {
                if (!handle(line, c, out)) {
                    return;
                }
                out.flush();
            }
        } catch (IOException e) {
            // the client went away or sent junk: nothing to answer
        } finally {
            open.remove(c);
            connections.release(1);
        }
    }

    /** A line of at most LINE_BYTES_MAX bytes; null at end of stream. */
    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (true) {
            int ch = in.read();
            if (ch < 0) {
                return b.size() == 0 ? null : b.toString(StandardCharsets.UTF_8);
            }
            if (ch == '\n') {
                String s = b.toString(StandardCharsets.UTF_8);
                return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
            }
            if (b.size() >= ControlProtocol.LINE_BYTES_MAX) {
                throw new IOException("control request longer than " + ControlProtocol.LINE_BYTES_MAX + " bytes");
            }
            b.write(ch);
        }
    }

    private static void send(OutputStream out, String s) throws IOException {
        out.write((s + "\n").getBytes(StandardCharsets.UTF_8));
    }

    private static void text(OutputStream out, String body) throws IOException {
        String trimmed = body.endsWith("\n") ? body.substring(0, body.length() - 1) : body;
        for (String l : trimmed.split("\n", -1)) {
            send(out, "= " + l);
        }
    }

    /** Serves one request; false when the connection is done (monitor ended). */
    private boolean handle(String line, SocketChannel c, OutputStream out) throws IOException {
        List<String> f = ControlProtocol.fields(line);
        if (f.isEmpty()) {
            send(out, "ERR EINVAL empty request");
            return true;
        }
        String verb = f.get(0);
        List<String> args = f.subList(1, f.size());
        try {
            switch (verb) {
                case "arrays" -> {
                    for (MdArray a : arrays) {
                        send(out, "= " + a.name() + " " + a.personality().levelName() + " " + a.personality().status());
                    }
                    send(out, "OK");
                }
                case "status" -> {
                    text(out, MdStat.format(arrays));
                    send(out, "OK");
                }
                case "detail" -> {
                    MdArray a = array(args.isEmpty() ? "-" : args.get(0));
                    text(out, Detail.format(a, ZoneId.systemDefault()));
                    send(out, "OK");
                }
                case "fail" -> send(out, "OK " + MemberManager.fail(array(arg(args, 0)), arg(args, 1)));
                case "remove", "add", "re-add" -> startAction(verb, array(arg(args, 0)), arg(args, 1), out);
                case "result" -> result(arg(args, 0), out);
                case "action" -> action(array(arg(args, 0)), arg(args, 1), out);
                case "speed" -> {
                    SyncEngine e = array(arg(args, 0)).redundancy().engine();
                    e.setSpeedLimits(Long.parseLong(arg(args, 1)), Long.parseLong(arg(args, 2)));
                    send(out, "OK sync speed limits " + e.throttle().minKib() + " - " + e.throttle().maxKib() + " KiB/s");
                }
                case "stripe-cache" -> stripeCache(array(arg(args, 0)), args.size() > 1 ? args.get(1) : null, out);
                case "monitor" -> {
                    monitor(c, out, !args.isEmpty() && args.get(0).equals("test"));
                    return false;
                }
                default -> send(out, "ERR EINVAL unknown request '" + verb + "'");
            }
        } catch (MdException e) {
            send(out, "ERR " + errnoOf(e.getMessage()) + " " + e.getMessage());
        } catch (IllegalArgumentException e) {
            send(out, "ERR EINVAL " + e.getMessage());
        }
        return true;
    }

    private static String errnoOf(String message) {
        for (String n : List.of("EBUSY", "EROFS", "ENOSPC", "EIO")) {
            if (message != null && message.contains("(" + n + ")")) {
                return n;
            }
        }
        return "EINVAL";
    }

    private static String arg(List<String> args, int i) {
        if (i >= args.size()) {
            throw new IllegalArgumentException("missing argument " + (i + 1));
        }
        return args.get(i);
    }

    private MdArray array(String name) throws MdException {
        if (name.equals("-")) {
            if (arrays.size() != 1) {
                throw new MdException("several arrays are served (" + String.join(", ", names()) + "): name one");
            }
            return arrays.get(0);
        }
        for (MdArray a : arrays) {
            if (a.name().equals(name)) {
                return a;
            }
        }
        throw new MdException("no array " + name + " here (served: " + String.join(", ", names()) + ")");
    }

    private List<String> names() {
        return arrays.stream().map(MdArray::name).toList();
    }

    private void startAction(String verb, MdArray a, String member, OutputStream out) throws IOException, MdException {
        if (actions.size() >= ACTIONS_MAX) {
            actions.values().removeIf(x -> x.result != null);
        }
        if (actions.size() >= ACTIONS_MAX) {
            throw new MdException("too many member changes under way (" + ACTIONS_MAX + ") (EBUSY)");
        }
        Action act = new Action(nextToken.getAndIncrement(), verb + " " + member + " on " + a.name());
        actions.put(act.token, act);
        a.redundancy().engine().queue(new Work("control " + act.what, () -> {
            try {
                String msg = switch (verb) {
                    case "remove" -> MemberManager.remove(a, member);
                    case "add" -> MemberManager.add(a, member, false);
                    default -> MemberManager.add(a, member, true);
                };
                act.ok = true;
                act.result = msg;
            } catch (MdException | RuntimeException e) {
                act.ok = false;
                act.result = e.getMessage() == null ? e.toString() : e.getMessage();
            }
        }));
        send(out, "EAGAIN " + act.token + " " + act.what + " started");
    }

    private void result(String token, OutputStream out) throws IOException, MdException {
        Action act;
        try {
            act = actions.get(Long.parseLong(token));
        } catch (NumberFormatException e) {
            throw new MdException("bad token " + token);
        }
        if (act == null) {
            throw new MdException("no action " + token + " (finished long ago, or never started)");
        }
        String r = act.result;
        if (r == null) {
            send(out, "EAGAIN " + act.token + " " + act.what + " still running");
        } else {
            actions.remove(act.token);
            send(out, act.ok ? "OK " + r : "ERR " + errnoOf(r) + " " + r);
        }
    }

    private void action(MdArray a, String what, OutputStream out) throws IOException, MdException {
        SyncEngine e = a.redundancy().engine();
        int st = switch (what) {
            case "check" -> e.request(SyncAction.CHECK);
            case "repair" -> e.request(SyncAction.REPAIR);
            case "resync" -> e.request(SyncAction.RESYNC);
            case "idle" -> {
                e.setFrozen(false);
                e.interrupt();
                yield Errno.OK;
            }
            case "frozen" -> {
                e.setFrozen(true);
                yield Errno.OK;
            }
            default -> throw new MdException("unknown sync action '" + what + "' (check, repair, resync, idle, frozen)");
        };
        if (st != Errno.OK) {
            send(out, "ERR " + Errno.name(st) + " cannot start " + what + " on " + a.name() + ": "
                + (st == Errno.EBUSY ? "a sync is running (" + e.syncActionName() + ")"
                : st == Errno.ENOTSUP ? a.personality().levelName() + " has no redundancy to sync"
                : "the array is read-only"));
        } else {
            send(out, "OK " + what + " on " + a.name());
        }
    }

    private void monitor(SocketChannel c, OutputStream out, boolean test) throws IOException {
        long[] cursor = new long[arrays.size()];
        for (int i = 0; i < arrays.size(); i++) {
            cursor[i] = arrays.get(i).redundancy().eventLog().nextSeq();
        }
        send(out, "OK monitoring " + String.join(", ", names()));
        out.flush();
        if (test) {
            for (MdArray a : arrays) {
                a.redundancy().eventLog().post("TestMessage", null, "jmd monitor --test");
            }
        }
        while (!closed) {
            eventsWait.waitUntil(() -> closed || anyNew(cursor), MONITOR_POLL_NANOS);
            for (int i = 0; i < arrays.size(); i++) {
                for (ArrayEvents.Event e : arrays.get(i).redundancy().eventLog().since(cursor[i])) {
                    send(out, "EVENT " + e.line());
                    cursor[i] = e.seq() + 1;
                }
            }
            out.flush();
            if (clientGone(c)) {
                return;
            }
        }
    }

    /** md's sysfs stripe_cache_size: shown, or changed while the array runs (raid4/5/6 only). */
    private static void stripeCache(MdArray a, String newSize, OutputStream out) throws IOException, MdException {
        if (!(a.personality() instanceof io.jmd.md.stripe.StripeEngine se)) {
            throw new MdException("stripe_cache_size applies to raid4/5/6, not " + a.personality().levelName() + " (ENOTSUP)");
        }
        if (newSize != null) {
            se.setStripeCacheSize(Integer.parseInt(newSize));
        }
        send(out, "OK stripe_cache_size " + se.stripeCacheSize());
    }

    private boolean anyNew(long[] cursor) {
        for (int i = 0; i < arrays.size(); i++) {
            if (arrays.get(i).redundancy().eventLog().nextSeq() > cursor[i]) {
                return true;
            }
        }
        return false;
    }

    /** A monitor client sends nothing: end of stream (or an error) means it left. */
    private static boolean clientGone(SocketChannel c) {
        try {
            c.configureBlocking(false);
            try {
                return c.read(ByteBuffer.allocate(64)) < 0;
            } finally {
                c.configureBlocking(true);
            }
        } catch (IOException e) {
            return true;
        }
    }

    /**
     * Prints every array event to {@code log} ("jmd: Fail r1 b"), from a thread of its own, from
     * the array's first one on: an array starts (and its resync with it) before its control
     * socket, and a short resync could otherwise start and finish unlogged.
     */
    public void logEvents(java.io.PrintStream log) {
        long[] cursor = new long[arrays.size()];
        java.util.Arrays.fill(cursor, 1);
        logThread = env.scheduler().start("control-events", EnumSet.of(ThreadRole.CLIENT), () -> {
            while (!closed) {
                eventsWait.waitUntil(() -> closed || anyNew(cursor), MONITOR_POLL_NANOS);
                for (int i = 0; i < arrays.size(); i++) {
                    for (ArrayEvents.Event e : arrays.get(i).redundancy().eventLog().since(cursor[i])) {
                        log.println("jmd: " + e.line());
                        cursor[i] = e.seq() + 1;
                    }
                }
            }
        });
    }

    /** Stops accepting, closes every connection and removes the socket file (before the arrays stop). */
    @Override
    public void close() {
        closed = true;
        eventsWait.wakeAll();
        for (MdArray a : arrays) {
            a.redundancy().eventLog().unlisten(eventListener);
        }
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (SocketChannel c : new ArrayList<>(open)) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (acceptThread != null && env.scheduler().current() != acceptThread) {
            env.scheduler().join(acceptThread);
        }
        if (logThread != null && env.scheduler().current() != logThread) {
            env.scheduler().join(logThread);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // a socket file left behind is replaced by the next server
        }
    }
}
