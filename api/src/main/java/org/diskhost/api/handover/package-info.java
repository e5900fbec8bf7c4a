/**
 * State handover across chain rebuilds. The host rebuilds a disk's chain when a backend bundle is updated, stopped
 * and started again, or when the disk is reconfigured; a chain element that holds state outside its backing store
 * (a RAM layer's contents, emulated reservations, delays changed at runtime) hands it to the element that takes its
 * place in the new chain, so nothing a guest sees changes.
 *
 * <h2>Protocol</h2>
 * <ol>
 * <li>While resolving, an element registers an exporter with
 * {@link org.diskhost.api.resolve.ResolveContext#handOverWith}.</li>
 * <li>When the chain is to be replaced, the host stops new requests, waits for those in flight, calls every
 * exporter (the old bundle is still there), and closes the old chain.</li>
 * <li>The new chain is resolved with the states; an element finds its predecessor's with
 * {@link org.diskhost.api.resolve.ResolveContext#handedOver()}. The place of an element in its chain (its kind
 * and its position among its parent's nested disks and layers) is what matches it with its predecessor.</li>
 * <li>An element that cannot read a state fails its resolution with a clear error rather than start empty: the host
 * then keeps the state, and rolls the bundle back when it can.</li>
 * </ol>
 *
 * <h2>Versioning</h2>
 * A state names its {@linkplain org.diskhost.api.handover.HandoverState#format() format} and carries a
 * {@linkplain org.diskhost.api.handover.HandoverState#version() version}. A new backend version reads the formats
 * and versions its predecessors wrote; it refuses a newer version than it knows
 * ({@link org.diskhost.api.handover.HandoverState#require}), so a downgrade never misreads state. States hold JDK
 * values only, because the successor usually comes from another class loader.
 */
@Export
@Version("1.0.0")
package org.diskhost.api.handover;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
