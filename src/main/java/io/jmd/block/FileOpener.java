package io.jmd.block;

import com.sun.nio.file.ExtendedOpenOption;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Opens a member for {@link FileBlockDevice}: validates the path once, here at the edge, with an
 * operator-readable error for each way it can fail, and hands back everything the device needs.
 *
 * <p>Steps, each undone if a later one fails: create the sparse file (when asked); check the
 * type (regular file or block device, following symlinks such as /dev/disk/by-id); open the data
 * channel, with O_DIRECT when asked and allowed, else buffered; a buffered second channel for
 * unaligned bios on a direct device; a whole-file advisory lock (exclusive, shared when read-only)
 * so two jmd processes never drive one member; a libc fd for fallocate/lseek/ioctl (O_EXCL on a
 * writable block device, as mdadm does, so a mounted disk or a kernel array member is refused);
 * the size.
 */
final class FileOpener {
    /** Seam for tests: how a channel is opened (the real one is {@link FileChannel#open}). */
    @FunctionalInterface
    interface ChannelOpener {
        FileChannel open(Path path, Set<OpenOption> options) throws IOException;
    }

    static final ChannelOpener REAL = (path, options) -> FileChannel.open(path, options);

    private static final int S_IFMT = 0170000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int LOGICAL_BLOCK_BYTES = 512;

    /** What an open member consists of. {@code buffered} is null unless {@code direct}. */
    record Opened(FileChannel channel, FileChannel buffered, FileLock lock, int fd, boolean blockDevice,
                  long sizeBytes, boolean direct, String directFallbackReason, int alignmentBytes,
                  boolean discardExpected) {
    }

    private FileOpener() {
    }

    static Opened open(FileBlockDevice.Options o, ChannelOpener opener) throws DeviceOpenException {
        Path path = o.path();
        boolean created = false;
        if (o.create()) {
            createSparse(path, o.createSizeBytes());
            created = true;
        }
        FileChannel channel = null;
        FileChannel buffered = null;
        int fd = -1;
        try {
            boolean blockDevice = checkType(path);
            String[] fallback = new String[1];
            channel = openChannel(path, o, opener, fallback);
            boolean direct = o.direct() && fallback[0] == null;
            if (direct) {
                buffered = opener.open(path, dataOptions(o.readOnly(), false));
            }
            FileLock lock = lock(path, channel, o.readOnly());
            fd = openFd(path, o.readOnly(), blockDevice);
            long size = blockDevice ? blockDeviceSize(path, fd) : channel.size();
            size -= size % LOGICAL_BLOCK_BYTES;
            if (size == 0) {
                throw new DeviceOpenException(path, "is smaller than one " + LOGICAL_BLOCK_BYTES + "-byte sector");
            }
            int alignment = direct ? (int) Math.max(4096, Files.getFileStore(path).getBlockSize()) : 4096;
            boolean discard = !blockDevice || blockDeviceDiscards(path);
            return new Opened(channel, buffered, lock, fd, blockDevice, size, direct, fallback[0], alignment, discard);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            closeQuietly(buffered);
            if (fd >= 0) {
                Posix.close(fd);
            }
            if (created) {
                deleteQuietly(path);
            }
            if (e instanceof DeviceOpenException d) {
                throw d;
            }
            throw new DeviceOpenException(path, "cannot open: " + e, e);
        }
    }

    /** Creates a new sparse file of {@code sizeBytes}: no data blocks until written. */
    private static void createSparse(Path path, long sizeBytes) throws DeviceOpenException {
        int fd;
        try {
            fd = Posix.open(path.toString(), Posix.O_RDWR | Posix.O_CREAT | Posix.O_EXCL | Posix.O_CLOEXEC, 0644);
        } catch (Posix.PosixException e) {
            String why = switch (e.errno()) {
                case 17 -> "already exists; refusing to overwrite it (remove it, or open it without create)";
                case 2 -> "cannot be created: its directory does not exist";
                case 13 -> "cannot be created: permission denied";
                default -> "cannot be created: " + Posix.errnoName(e.errno());
            };
            throw new DeviceOpenException(path, why, e);
        }
        try {
            Posix.ftruncate(fd, sizeBytes);
        } catch (Posix.PosixException e) {
            deleteQuietly(path);
            throw new DeviceOpenException(path, "cannot be sized to " + sizeBytes + " bytes: " + Posix.errnoName(e.errno()), e);
        } finally {
            Posix.close(fd);
        }
    }

    /** Returns whether it is a block device; throws unless it is that or a regular file. */
    private static boolean checkType(Path path) throws DeviceOpenException {
        Map<String, Object> attrs;
        try {
            attrs = Files.readAttributes(path, "unix:mode");
        } catch (NoSuchFileException e) {
            throw new DeviceOpenException(path, "does not exist", e);
        } catch (AccessDeniedException e) {
            throw new DeviceOpenException(path, "permission denied (cannot even look at it)", e);
        } catch (IOException e) {
            throw new DeviceOpenException(path, "cannot be examined: " + e, e);
        }
        int type = (Integer) attrs.get("mode") & S_IFMT;
        return switch (type) {
            case S_IFREG -> false;
            case S_IFBLK -> true;
            case S_IFDIR -> throw new DeviceOpenException(path, "is a directory, not a member file or block device");
            case S_IFCHR -> throw new DeviceOpenException(path, "is a character device, not a member file or block device");
            default -> throw new DeviceOpenException(path, "is not a regular file or block device (file type "
                + Integer.toOctalString(type) + ")");
        };
    }

    private static Set<OpenOption> dataOptions(boolean readOnly, boolean direct) {
        Set<OpenOption> options = new HashSet<>();
        options.add(StandardOpenOption.READ);
        if (!readOnly) {
            options.add(StandardOpenOption.WRITE);
        }
        if (direct) {
            options.add(ExtendedOpenOption.DIRECT);
        }
        return options;
    }

    /** Opens the data channel; {@code fallback[0]} is set to why O_DIRECT was refused, if it was. */
    private static FileChannel openChannel(Path path, FileBlockDevice.Options o, ChannelOpener opener,
                                           String[] fallback) throws DeviceOpenException {
        if (o.direct()) {
            try {
                return opener.open(path, dataOptions(o.readOnly(), true));
            } catch (AccessDeniedException e) {
                throw permissionDenied(path, o.readOnly(), e);
            } catch (IOException | UnsupportedOperationException e) {
                fallback[0] = "O_DIRECT refused (" + e + "); using buffered I/O";
            }
        }
        try {
            return opener.open(path, dataOptions(o.readOnly(), false));
        } catch (AccessDeniedException e) {
            throw permissionDenied(path, o.readOnly(), e);
        } catch (IOException e) {
            throw new DeviceOpenException(path, "cannot be opened: " + e, e);
        }
    }

    private static DeviceOpenException permissionDenied(Path path, boolean readOnly, IOException e) {
        return new DeviceOpenException(path, "permission denied opening it " + (readOnly ? "read-only"
            : "read-write (is it read-only for this user? open it read-only to assemble without writing)"), e);
    }

    private static FileLock lock(Path path, FileChannel channel, boolean shared) throws DeviceOpenException {
        FileLock lock;
        try {
            lock = channel.tryLock(0, Long.MAX_VALUE, shared);
        } catch (OverlappingFileLockException e) {
            throw new DeviceOpenException(path, "is already open in this process", e);
        } catch (IOException e) {
            throw new DeviceOpenException(path, "cannot be locked: " + e, e);
        }
        if (lock == null) {
            throw new DeviceOpenException(path, "is locked by another process (another jmd using this member?)");
        }
        return lock;
    }

    private static int openFd(Path path, boolean readOnly, boolean blockDevice) throws DeviceOpenException {
        int flags = (readOnly ? Posix.O_RDONLY : Posix.O_RDWR) | Posix.O_CLOEXEC;
        if (blockDevice && !readOnly) {
            flags |= Posix.O_EXCL;
        }
        try {
            return Posix.open(path.toString(), flags, 0);
        } catch (Posix.PosixException e) {
            if (e.errno() == Errno.EBUSY) {
                throw new DeviceOpenException(path, "is in use (mounted, or a member of a kernel md array?)", e);
            }
            throw new DeviceOpenException(path, "cannot be opened: " + Posix.errnoName(e.errno()), e);
        }
    }

    private static long blockDeviceSize(Path path, int fd) throws DeviceOpenException {
        try {
            return Posix.blockDeviceSize(fd);
        } catch (Posix.PosixException e) {
            throw new DeviceOpenException(path, "cannot read its size (BLKGETSIZE64): " + Posix.errnoName(e.errno()), e);
        }
    }

    /**
     * Whether the kernel says the block device takes discards (queue/discard_max_bytes > 0), so
     * that NBD does not advertise TRIM for a disk that ignores it. Unknown counts as yes: the first
     * EOPNOTSUPP turns discards into no-ops anyway.
     */
    private static boolean blockDeviceDiscards(Path path) {
        try {
            long rdev = ((Number) Files.getAttribute(path, "unix:rdev")).longValue();
            long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
            long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
            Path max = Path.of("/sys/dev/block", major + ":" + minor, "queue", "discard_max_bytes");
            return Long.parseLong(Files.readString(max).trim()) > 0;
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Opening failed already; that error is the one to report.
            }
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // Best effort: the open error is the one to report.
        }
    }
}
