package io.jmd.block;

/** Linux errno values used as I/O results (0 = success). The NBD wire uses the same numbers. */
public final class Errno {
    public static final int OK = 0;
    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EBUSY = 16;
    public static final int EINVAL = 22;
    public static final int EFBIG = 27;
    public static final int ENOSPC = 28;
    public static final int EROFS = 30;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    private Errno() {
    }

    public static String name(int errno) {
        return switch (errno) {
            case OK -> "OK";
            case EPERM -> "EPERM";
            case EIO -> "EIO";
            case EAGAIN -> "EAGAIN";
            case ENOMEM -> "ENOMEM";
            case EBUSY -> "EBUSY";
            case EINVAL -> "EINVAL";
            case EFBIG -> "EFBIG";
            case ENOSPC -> "ENOSPC";
            case EROFS -> "EROFS";
            case EOVERFLOW -> "EOVERFLOW";
            case ENOTSUP -> "ENOTSUP";
            case ESHUTDOWN -> "ESHUTDOWN";
            default -> "errno " + errno;
        };
    }
}
