package org.diskhost.backend.layered;

/**
 * Why a stack of layers cannot be a layered disk: the reference's checks, in the order they are made. Layers are
 * numbered from the top, 0 first.
 */
sealed interface LayeredError {

    String message();

    /** The stack has no layers. */
    record NoLayers() implements LayeredError {
        public String message() {
            return "a layered disk needs at least one layer";
        }
    }

    /** Layer {@code layer} could not be attached over the layer below it. */
    record AttachFailed(int layer, Throwable cause) implements LayeredError {
        public String message() {
            return "layer " + layer + " cannot be attached: " + cause.getMessage();
        }
    }

    /** Layer {@code layer} is asked to be a read cache but has no no-overwrite write. */
    record ReadCacheNotSupported(int layer, String layerType) implements LayeredError {
        public String message() {
            return "a " + layerType + " layer cannot be a read cache (it has no no-overwrite write)";
        }
    }

    /** Layer {@code layer}'s sector size is not a power of two. */
    record InvalidSectorSize(int layer, int sectorSize) implements LayeredError {
        public String message() {
            return "layer " + layer + " has an invalid sector size " + Integer.toUnsignedString(sectorSize);
        }
    }

    /** Layer {@code layer}'s sector size differs from the bottom layer's. */
    record MismatchedSectorSize(int layer, int expected, int found) implements LayeredError {
        public String message() {
            return "its sector size is " + found + " bytes, but the bottom layer's is " + expected;
        }
    }

    /** Layer {@code layer} is in the write path of a writable disk but logically read-only. */
    record ReadOnly(int layer) implements LayeredError {
        public String message() {
            return "the layer is read-only, but writes reach it on a writable disk (make the disk read-only, or the "
                    + "layer above it not write-through)";
        }
    }

    /**
     * Layer {@code layer} is write-through where that cannot work: below a layer that is not, or at the bottom (there
     * is nothing to write through to).
     */
    record UselessWriteThrough(int layer, boolean bottom) implements LayeredError {
        public String message() {
            return bottom ? "the bottom layer cannot be write-through: there is nothing below it"
                    : "a write-through layer must not follow a layer that is not write-through (writes never reach it)";
        }
    }
}
