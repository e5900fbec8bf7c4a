package org.diskhost.frontend.nbd;

import java.util.List;
import java.util.Optional;

/** The exports a server offers at this moment; they change as disks and configuration come and go. */
interface Exports {

    /** The export called {@code name}; the empty name means the default export, if there is one. */
    Optional<Export> find(String name);

    /** Every export that can be used now, in a stable order. */
    List<Export> list();
}
