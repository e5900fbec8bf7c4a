package org.diskhost.api.inspect;

import org.osgi.annotation.versioning.ConsumerType;

/** Something that describes its current state for diagnostics. */
@ConsumerType
public interface Inspectable {

    /**
     * Writes this object's state into {@code out}. It must be cheap, must not block on I/O, and must never write
     * secrets (key material, credentials).
     */
    void inspect(Inspector out);
}
