package io.jmd.md.format;

import java.util.Arrays;

/**
 * The {@code dev_roles[max_dev]} table: for each dev_number (a member's permanent index), its role
 * (a slot 0..raid_disks-1, or {@link DevRole#SPARE}/{@link DevRole#FAULTY}/{@link DevRole#JOURNAL}).
 * Immutable; {@link #with} returns a changed copy. The table length is max_dev.
 */
public final class DevRoles {
    private final char[] roles;

    private DevRoles(char[] roles) {
        assert roles.length <= Superblock1Layout.MAX_DEV_LIMIT : "max_dev " + roles.length;
        this.roles = roles;
    }

    /** A table of {@code maxDev} entries, all {@link DevRole#SPARE} (what mdadm starts from). */
    public static DevRoles allSpare(int maxDev) {
        checkMaxDev(maxDev);
        char[] roles = new char[maxDev];
        Arrays.fill(roles, (char) DevRole.SPARE);
        return new DevRoles(roles);
    }

    /** A table holding exactly {@code roles} (each 0..0xffff). */
    public static DevRoles of(int... roles) {
        checkMaxDev(roles.length);
        char[] copy = new char[roles.length];
        for (int i = 0; i < roles.length; i++) {
            if (roles[i] < 0 || roles[i] > 0xffff) {
                throw new IllegalArgumentException("role " + roles[i] + " does not fit u16");
            }
            copy[i] = (char) roles[i];
        }
        return new DevRoles(copy);
    }

    private static void checkMaxDev(int maxDev) {
        if (maxDev < 1 || maxDev > Superblock1Layout.MAX_DEV_LIMIT) {
            throw new IllegalArgumentException("max_dev " + maxDev + " outside 1.." + Superblock1Layout.MAX_DEV_LIMIT);
        }
    }

    /** max_dev: the number of entries. */
    public int size() {
        return roles.length;
    }

    public int role(int devNumber) {
        return roles[devNumber];
    }

    public DevRoles with(int devNumber, int role) {
        if (role < 0 || role > 0xffff) {
            throw new IllegalArgumentException("role " + role + " does not fit u16");
        }
        char[] copy = roles.clone();
        copy[devNumber] = (char) role;
        return new DevRoles(copy);
    }

    /** How many entries hold {@code role}: 2 for a slot being replaced, 0 for a missing slot. */
    public int count(int role) {
        int count = 0;
        for (char value : roles) {
            if (value == role) {
                count++;
            }
        }
        return count;
    }

    public int[] toArray() {
        int[] copy = new int[roles.length];
        for (int i = 0; i < roles.length; i++) {
            copy[i] = roles[i];
        }
        return copy;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof DevRoles that && Arrays.equals(roles, that.roles);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(roles);
    }

    @Override
    public String toString() {
        return Arrays.toString(toArray());
    }
}
