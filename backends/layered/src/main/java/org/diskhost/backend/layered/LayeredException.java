package org.diskhost.backend.layered;

/** A stack refused by {@link LayeredDisk#create}; carries the {@link LayeredError}. */
final class LayeredException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient LayeredError error;

    LayeredException(LayeredError error) {
        super(error.message(), error instanceof LayeredError.AttachFailed a ? a.cause() : null);
        this.error = error;
    }

    LayeredError error() {
        return error;
    }
}
