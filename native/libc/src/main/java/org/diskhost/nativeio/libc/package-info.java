/**
 * The libc plumbing of the native libraries ({@code org.diskhost.nativeio.*}) over the Foreign Function &amp; Memory
 * API, in one place: {@link org.diskhost.nativeio.libc.Libc} says whether native calls can be made here and why not
 * (another platform than Linux on x86_64 or aarch64; native access denied, {@code IllegalCallerException}), captures
 * errno through the linker, opens ({@code O_CLOEXEC}, EINTR retried) and closes (never retried) descriptors and
 * holds the open flags; {@link org.diskhost.nativeio.libc.Downcalls} binds each library's own functions;
 * {@link org.diskhost.nativeio.libc.Errno} names the error numbers and
 * {@link org.diskhost.nativeio.libc.ErrnoException} carries one.
 *
 * <h2>Packaging</h2>
 * This is a library, never a bundle of its own at run time: every backend that uses it (directly or through another
 * native library) copies these packages into itself privately (bnd {@code -conditionalpackage:
 * org.diskhost.nativeio.*}). No backend exports or imports it, so each backend keeps its own copy and hot swapping one
 * backend never touches another.
 */
package org.diskhost.nativeio.libc;
