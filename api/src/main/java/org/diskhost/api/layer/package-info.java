/**
 * The layer contract: a layered disk is a stack of {@link org.diskhost.api.layer.LayerIo layers}, top first, where
 * each layer may hold some sectors and the layers below show through where it holds none. A layer kind is
 * registered as a {@link org.diskhost.api.resolve.LayerResolver}, which builds an
 * {@link org.diskhost.api.layer.UnattachedLayer}; the layered disk attaches its layers from the bottom up, so a lazy
 * layer can take its size and sector size from the layer below ({@link org.diskhost.api.layer.LowerLayer}).
 *
 * <h2>Units and ranges</h2>
 * As for {@link org.diskhost.api.DiskIo}: sectors are the layer's logical sectors, numbers and counts come from
 * guests, and every I/O method fails with {@link org.diskhost.api.DiskError.IllegalBlock} for a range outside
 * {@link org.diskhost.api.layer.LayerIo#sectorCount()}. A layer never assumes that its caller checked.
 */
@Export
@Version("1.0.0")
package org.diskhost.api.layer;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
