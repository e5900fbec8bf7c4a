/**
 * io_uring for the native backends, over the Foreign Function &amp; Memory API: raw {@code io_uring_setup},
 * {@code io_uring_enter} and {@code io_uring_register} through libc's {@code syscall}, rings mapped with
 * {@code mmap}, no native library. The libc plumbing (binding, errno, descriptors) is
 * {@code org.diskhost.nativeio.libc}'s.
 *
 * <p>{@link org.diskhost.nativeio.uring.Uring#probe()} says once, at start, whether this kernel and process can use
 * io_uring ({@link org.diskhost.nativeio.uring.UringSupport.Available}) or why not
 * ({@link org.diskhost.nativeio.uring.UringSupport.Unavailable}: no such syscall, refused by seccomp or
 * {@code kernel.io_uring_disabled}, no native access, another platform, or forced off with the system property
 * {@value org.diskhost.nativeio.uring.UringSupport#PROPERTY}{@code =off}); a backend then keeps its portable engine
 * and logs the reason. A {@link org.diskhost.nativeio.uring.Uring} is one ring owned by one platform thread, which
 * submits, waits and completes the returned futures; any thread may submit.
 *
 * <h2>Packaging</h2>
 * This is a library, never a bundle of its own at run time: every backend that uses it copies these packages and
 * {@code org.diskhost.nativeio.libc} into itself privately (bnd {@code -conditionalpackage: org.diskhost.nativeio.*}).
 * No backend exports or imports them, so each backend keeps its own copy and hot swapping one backend never touches
 * another.
 */
package org.diskhost.nativeio.uring;
