/**
 * Linux ioctls for the native backends, over the Foreign Function &amp; Memory API: the one place in diskhost with
 * ioctl code. {@link org.diskhost.nativeio.ioctl.Ioctl} opens and closes descriptors (through
 * {@code org.diskhost.nativeio.libc}, which holds the libc plumbing of every native library) and makes raw calls;
 * {@link org.diskhost.nativeio.ioctl.BlockIoctls} (size, block sizes, read-only flag, discard, zero-out),
 * {@link org.diskhost.nativeio.ioctl.CdromIoctls} (eject), {@link org.diskhost.nativeio.ioctl.PrIoctls} (persistent
 * reservations) and {@link org.diskhost.nativeio.ioctl.NvmePassthrough} (Identify, Reservation Report) build on it.
 * Failures are {@code org.diskhost.nativeio.libc.ErrnoException}s carrying the Linux error number
 * ({@link org.diskhost.nativeio.ioctl.Errnos}, the numbers of {@code org.diskhost.nativeio.libc.Errno}).
 *
 * <p>Request numbers are computed with {@link org.diskhost.nativeio.ioctl.IoctlRequest} from the uapi headers'
 * definitions and struct layouts ({@code MemoryLayout}s named after the headers' fields); the tests compare both
 * with the values the headers give. Everything native is checked against real loop devices; the PR and NVMe paths
 * can only be checked for their numbers, layouts and parsers here, since the test machines have no device that
 * supports them.
 *
 * <h2>Packaging</h2>
 * This is a library, never a bundle of its own at run time: every backend that uses it copies these packages into
 * itself privately (bnd {@code -conditionalpackage: org.diskhost.nativeio.*}). No backend exports or imports it, so
 * each backend keeps its own copy and hot swapping one backend never touches another.
 */
package org.diskhost.nativeio.ioctl;
