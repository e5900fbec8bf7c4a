package org.diskhost.api.inspect;

import org.osgi.annotation.versioning.ProviderType;

/** Receives the named values and children of one node of an inspection tree. */
@ProviderType
public interface Inspector {

    /** Adds a leaf value: a string, number, boolean or enum; {@code null} shows as absent. */
    Inspector value(String name, Object value);

    /** Adds a child node filled by {@code child}. */
    Inspector child(String name, Inspectable child);
}
