/**
 * The VHD footer shared by the backends that read VHD images (kinds {@code vhd1}/{@code vhd} and {@code blob}'s
 * {@code vhd1} format). A library copied privately into each of those bundles, never exported.
 */
package org.diskhost.format.vhd;
