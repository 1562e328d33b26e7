/**
 * The control socket of {@code jmd serve}: {@link io.jmd.control.ControlServer} (the protocol is
 * in {@link io.jmd.control.ControlProtocol}), {@link io.jmd.control.ControlClient} for the CLI,
 * {@link io.jmd.control.ControlPaths} for where sockets live. Seed 004 is the rule here: a request
 * never makes its thread wait for the array while holding anything; actions that wait for a
 * quiesce or a superblock write run on the array's work queue and are polled.
 */
package io.jmd.control;
