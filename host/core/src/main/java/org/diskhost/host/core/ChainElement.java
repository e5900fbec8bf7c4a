package org.diskhost.host.core;

/**
 * One element of a disk's active chain and the bundle revision whose resolver built it, for inspect and the
 * {@code swaps} command.
 *
 * @param place where it is in the chain, as {@code crypt/0:delay}
 * @param kind its disk or layer kind
 * @param bundle the symbolic name of the bundle that built it, or {@code -} outside OSGi
 * @param version that bundle's version
 * @param bundleId that bundle's id
 * @param revision how many times the host has seen that bundle updated since it started (0: as installed)
 */
record ChainElement(String place, String kind, String bundle, String version, long bundleId, int revision) {

    String describe() {
        return bundle + " " + version + " (bundle " + bundleId + ", revision " + revision + ")";
    }
}
