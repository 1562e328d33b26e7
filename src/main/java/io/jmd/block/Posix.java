package io.jmd.block;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The few Linux system calls that FileChannel does not offer, through FFM: hole punching and
 * zeroing (fallocate), hole maps (lseek SEEK_DATA/SEEK_HOLE), block-device ioctls, and creating
 * a sparse member file. Everything here works on a plain int fd that the caller owns.
 *
 * <p>Constants are the x86-64 and arm64 Linux values (the two agree on every one used here).
 * Each call that fails throws {@link PosixException} carrying errno; EINTR is retried.
 */
@SuppressWarnings("restricted") // the FFM downcalls are this class's purpose; the launcher enables native access
final class Posix {
    static final int O_RDONLY = 0;
    static final int O_RDWR = 2;
    static final int O_CREAT = 0100;
    static final int O_EXCL = 0200;
    static final int O_CLOEXEC = 02000000;

    static final int SEEK_DATA = 3;
    static final int SEEK_HOLE = 4;

    static final int FALLOC_FL_KEEP_SIZE = 0x01;
    static final int FALLOC_FL_PUNCH_HOLE = 0x02;
    static final int FALLOC_FL_ZERO_RANGE = 0x10;

    /** _IOR(0x12, 114, size_t): device size in bytes. */
    static final long BLKGETSIZE64 = 0x80081272L;
    /** _IO(0x12, 119): discard a {start, length} range. */
    static final long BLKDISCARD = 0x1277L;
    /** _IO(0x12, 127): zero a {start, length} range (the kernel may use WRITE ZEROES). */
    static final long BLKZEROOUT = 0x127fL;

    static final int EINTR = 4;
    static final int ENXIO = 6;
    static final int EINVAL = 22;
    static final int ENOSPC = 28;
    static final int ENOTTY = 25;
    static final int EOPNOTSUPP = 95;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE = Linker.Option.captureCallState("errno");

    private static final MethodHandle OPEN = downcall("open",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FTRUNCATE = downcall("ftruncate",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FALLOCATE = downcall("fallocate",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle LSEEK = downcall("lseek",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle IOCTL = downcall("ioctl",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), Linker.Option.firstVariadicArg(2));
    private static final MethodHandle PWRITEV = downcall("pwritev",
        FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    /** struct iovec (uapi/linux/uio.h): iov_base at 0 (8 bytes), iov_len at 8 (8 bytes). */
    static final long IOVEC_BYTES = 16;

    private Posix() {
    }

    private static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... extra) {
        Linker.Option[] options = new Linker.Option[extra.length + 1];
        options[0] = CAPTURE;
        System.arraycopy(extra, 0, options, 1, extra.length);
        MemorySegment symbol = LINKER.defaultLookup().find(name)
            .orElseThrow(() -> new IllegalStateException("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** A failed system call: which one, on what, and errno. */
    static final class PosixException extends IOException {
        private final int errno;

        PosixException(String call, String what, int errno) {
            super(call + "(" + what + ") failed: " + errnoName(errno));
            this.errno = errno;
        }

        int errno() {
            return errno;
        }
    }

    static String errnoName(int errno) {
        return switch (errno) {
            case 2 -> "ENOENT (no such file or directory)";
            case 13 -> "EACCES (permission denied)";
            case 17 -> "EEXIST (file exists)";
            case 20 -> "ENOTDIR";
            case 21 -> "EISDIR";
            case ENXIO -> "ENXIO";
            case ENOTTY -> "ENOTTY (not a block device)";
            case EOPNOTSUPP -> "EOPNOTSUPP (not supported by the file system or device)";
            default -> Errno.name(errno);
        };
    }

    private static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** open(2); returns the fd. {@code mode} is used with O_CREAT. */
    static int open(String path, int flags, int mode) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            MemorySegment cPath = arena.allocateFrom(path);
            while (true) {
                int fd = (int) OPEN.invokeExact(state, cPath, flags, mode);
                if (fd >= 0) {
                    return fd;
                }
                int e = errno(state);
                if (e != EINTR) {
                    throw new PosixException("open", path, e);
                }
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall open", t);
        }
    }

    /** close(2); errors are ignored (the fd is gone either way, as on Linux). */
    static void close(int fd) {
        assert fd >= 0 : "close of bad fd " + fd;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            int ignored = (int) CLOSE.invokeExact(state, fd);
        } catch (Throwable t) {
            throw new AssertionError("downcall close", t);
        }
    }

    static void ftruncate(int fd, long sizeBytes) throws PosixException {
        call("ftruncate", "fd " + fd + ", " + sizeBytes, state -> (int) FTRUNCATE.invokeExact(state, fd, sizeBytes));
    }

    static void fallocate(int fd, int mode, long offsetBytes, long lengthBytes) throws PosixException {
        call("fallocate", "fd " + fd + ", mode " + mode + ", " + offsetBytes + "+" + lengthBytes,
            state -> (int) FALLOCATE.invokeExact(state, fd, mode, offsetBytes, lengthBytes));
    }

    /** lseek(2) with SEEK_DATA or SEEK_HOLE; returns the new offset, or -1 for ENXIO (no more data). */
    static long seek(int fd, long offsetBytes, int whence) throws PosixException {
        assert whence == SEEK_DATA || whence == SEEK_HOLE : "whence " + whence;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            long r = (long) LSEEK.invokeExact(state, fd, offsetBytes, whence);
            if (r >= 0) {
                return r;
            }
            int e = errno(state);
            if (e == ENXIO) {
                return -1;
            }
            throw new PosixException("lseek", "fd " + fd + ", " + offsetBytes + ", " + whence, e);
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall lseek", t);
        }
    }

    /** ioctl BLKGETSIZE64: a block device's size in bytes. */
    static long blockDeviceSize(int fd) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(JAVA_LONG);
            call("ioctl", "fd " + fd + ", BLKGETSIZE64", state -> (int) IOCTL.invokeExact(state, fd, BLKGETSIZE64, out));
            return out.get(JAVA_LONG, 0);
        }
    }

    /** ioctl BLKDISCARD or BLKZEROOUT on {@code offsetBytes + lengthBytes}. */
    static void blockDeviceRange(int fd, long request, long offsetBytes, long lengthBytes) throws PosixException {
        assert request == BLKDISCARD || request == BLKZEROOUT : "request " + request;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment range = arena.allocate(JAVA_LONG, 2);
            range.setAtIndex(JAVA_LONG, 0, offsetBytes);
            range.setAtIndex(JAVA_LONG, 1, lengthBytes);
            String name = request == BLKDISCARD ? "BLKDISCARD" : "BLKZEROOUT";
            call("ioctl", "fd " + fd + ", " + name + ", " + offsetBytes + "+" + lengthBytes,
                state -> (int) IOCTL.invokeExact(state, fd, request, range));
        }
    }

    /** Where {@link #pwritev}'s iovecs start in its scratch: after the errno capture, 16-aligned. */
    private static final long PWRITEV_IOV_AT = (CAPTURE_LAYOUT.byteSize() + 15) & ~15L;

    /** Bytes of a {@link #pwritev} scratch segment for up to {@code count} parts (allocate it 16-aligned). */
    static long pwritevScratchBytes(int count) {
        return PWRITEV_IOV_AT + IOVEC_BYTES * count;
    }

    /**
     * A gathering write: the iovecs are {@code parts}' native addresses and sizes, in order, at
     * {@code offsetBytes}. Returns the bytes written, which may be short (a regular file meeting
     * ENOSPC or its size limit): the caller finishes the rest. Retries EINTR. {@code scratch}
     * ({@link #pwritevScratchBytes} for the count, 16-aligned) holds the iovecs and errno for the
     * call, so that a caller doing many can reuse one; it is free again once this returns.
     */
    static long pwritev(int fd, MemorySegment[] parts, int from, int to, long offsetBytes, MemorySegment scratch)
        throws PosixException {
        int count = to - from;
        assert count > 0 && count <= IOV_MAX : "iovec count " + count;
        assert scratch.byteSize() >= pwritevScratchBytes(count) && scratch.address() % 16 == 0 : "pwritev scratch " + scratch;
        MemorySegment state = scratch.asSlice(0, CAPTURE_LAYOUT.byteSize());
        MemorySegment iov = scratch.asSlice(PWRITEV_IOV_AT, IOVEC_BYTES * count);
        for (int i = 0; i < count; i++) {
            MemorySegment part = parts[from + i];
            assert part.isNative() : "pwritev of a heap segment";
            iov.set(JAVA_LONG, i * IOVEC_BYTES, part.address()); // iov_base
            iov.set(JAVA_LONG, i * IOVEC_BYTES + 8, part.byteSize()); // iov_len
        }
        try {
            while (true) {
                long n = (long) PWRITEV.invokeExact(state, fd, iov, count, offsetBytes);
                if (n >= 0) {
                    return n;
                }
                int e = errno(state);
                if (e != EINTR) {
                    throw new PosixException("pwritev", "fd " + fd + ", " + count + " parts at " + offsetBytes, e);
                }
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall pwritev", t);
        }
    }

    /** Linux's UIO_MAXIOV: the most iovecs one call takes. */
    static final int IOV_MAX = 1024;

    @FunctionalInterface
    private interface Syscall {
        int invoke(MemorySegment state) throws Throwable;
    }

    /** Runs a call that returns 0 or -1 with errno, retrying EINTR. */
    private static void call(String name, String what, Syscall syscall) throws PosixException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE_LAYOUT);
            while (true) {
                int r = syscall.invoke(state);
                if (r == 0) {
                    return;
                }
                int e = errno(state);
                if (e != EINTR) {
                    throw new PosixException(name, what, e);
                }
            }
        } catch (PosixException e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("downcall " + name, t);
        }
    }
}
