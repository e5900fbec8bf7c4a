/**
 * Kernel uevents for the native backends, over the Foreign Function &amp; Memory API: a {@code NETLINK_KOBJECT_UEVENT}
 * socket bound to the kernel's multicast group 1, read on a platform thread, no native library. The block-device
 * backend learns from them that a device changed its size ({@link org.diskhost.nativeio.netlink.Uevent#isBlockResize}:
 * {@code change@/devices/virtual/block/loop0} with {@code SUBSYSTEM=block}, {@code RESIZE=1}, {@code MAJOR},
 * {@code MINOR}) without waiting for its next poll.
 *
 * <p>{@link org.diskhost.nativeio.netlink.UeventListener#unavailable()} says whether this process can receive uevents
 * or why not: another platform, no native access, the socket or its bind refused (seccomp, some containers and
 * network namespaces), or switched off with the system property
 * {@value org.diskhost.nativeio.netlink.UeventListener#PROPERTY}{@code =off} ({@code auto}, the default, probes once;
 * the property itself is read at each call). A backend then only polls, and logs the reason.
 * {@link org.diskhost.nativeio.netlink.UeventListener#open} starts a listener; only the kernel's messages
 * ({@code nl_pid} 0) reach its handler, and a lost burst (ENOBUFS) or a failing handler does not stop it. Uevents are
 * hints: one can be lost, so a user keeps polling.
 *
 * <h2>Packaging</h2>
 * This is a library, never a bundle of its own at run time: every backend that uses it copies these packages into
 * itself privately (bnd {@code -conditionalpackage: org.diskhost.nativeio.*}). No backend exports or imports it, so
 * each backend keeps its own copy and hot swapping one backend never touches another.
 */
package org.diskhost.nativeio.netlink;
