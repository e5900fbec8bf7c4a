/**
 * Runtime changes of a disk's settings, for backends that let a user change a live disk without rebuilding it
 * (delays, fault rules, RAM sizes). A backend receives them as Configuration Admin factory configurations, one per
 * change, each naming the configured disk it is for.
 *
 * <ul>
 * <li>{@link org.diskhost.api.change.RuntimeChange#parse} reads one change from a configuration's properties: the
 * disk's name, and the settings it changes, checked against the kind's setting names, with errors that name the
 * disk, the kind and the property.</li>
 * <li>{@link org.diskhost.api.change.LiveChanges} keeps the backend's live objects by disk name and the changes by
 * configuration, and gives each live object the change in force for its disk when it opens and whenever that
 * change is updated or deleted, so a change outlives chain rebuilds.</li>
 * </ul>
 *
 * The package depends on the JDK alone: the Configuration Admin service itself stays the backend's business.
 */
@Export
@Version("1.0.0")
package org.diskhost.api.change;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
