/**
 * The disk contract: {@link org.diskhost.api.DiskIo} (what a backend implements), {@link org.diskhost.api.Disk}
 * (the validated handle a frontend holds), and the error model ({@link org.diskhost.api.DiskError}).
 *
 * <h2>Units</h2>
 * Sectors are logical sectors of {@link org.diskhost.api.DiskIo#sectorSize()} bytes. Sector numbers and counts are
 * 64-bit values that come from guests; {@link org.diskhost.api.Disk} treats them as unsigned and guarantees a
 * backend that {@code (sector + count) * sectorSize} neither overflows nor exceeds {@code 2^63 - 1}.
 *
 * <h2>Asynchrony</h2>
 * Every I/O method returns a {@link java.util.concurrent.CompletableFuture} and never blocks its caller. A failed
 * request completes exceptionally with a {@link org.diskhost.api.DiskException} carrying the
 * {@link org.diskhost.api.DiskError}.
 */
@Export
@Version("1.0.0")
package org.diskhost.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
