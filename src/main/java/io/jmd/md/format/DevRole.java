package io.jmd.md.format;

/**
 * Values of one {@code dev_roles[]} entry (md_p.h MD_DISK_ROLE_*). A value up to {@link #MAX} is the
 * slot the member fills in the array (0 .. raid_disks-1); the top values are states.
 */
public final class DevRole {
    private DevRole() {}

    /** Not in use, or a spare waiting for a slot. */
    public static final int SPARE = 0xffff;
    /** Failed; kept so its slot is not reused by mistake. */
    public static final int FAULTY = 0xfffe;
    /** A raid5 write-journal device. */
    public static final int JOURNAL = 0xfffd;
    /** Largest value that still means "active in slot N" (MD_DISK_ROLE_MAX). */
    public static final int MAX = 0xff00;

    public static boolean isSlot(int role) {
        return role >= 0 && role <= MAX;
    }

    public static String describe(int role) {
        return switch (role) {
            case SPARE -> "spare";
            case FAULTY -> "faulty";
            case JOURNAL -> "journal";
            default -> isSlot(role) ? "slot " + role : String.format("invalid role 0x%04x", role);
        };
    }
}
