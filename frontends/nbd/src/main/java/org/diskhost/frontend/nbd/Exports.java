package org.diskhost.frontend.nbd;

import java.util.List;
import java.util.Optional;

/** The exports a server offers at this moment; they change as disks and configuration come and go. */
interface Exports {

    /** The export called {@code name}; the empty name means the default export, if there is one. */
    Optional<Export> find(String name);

    /**
     * The export called {@code name} (as {@link #find}), waiting for it until {@code deadlineNanos} (a
     * {@link System#nanoTime()}) if it is configured but not ready yet: its disk is still coming up, or being rebuilt.
     * A name that is not configured, or whose disk failed, is refused at once.
     */
    Lookup await(String name, long deadlineNanos) throws InterruptedException;

    /** Every export that can be used now, in a stable order. */
    List<Export> list();

    /** The outcome of {@link #await}. */
    sealed interface Lookup {
        /** The export is there. */
        record Found(Export export) implements Lookup {
        }

        /** There is no such export (now), and {@code message} tells the client why. */
        record Refused(String message) implements Lookup {
        }
    }
}
