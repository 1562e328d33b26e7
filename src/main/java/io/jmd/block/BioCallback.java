package io.jmd.block;

/** Runs once when a {@link Bio} ends. Must not block (see {@link Bio}). */
@FunctionalInterface
public interface BioCallback {
    void done(Bio bio);
}
