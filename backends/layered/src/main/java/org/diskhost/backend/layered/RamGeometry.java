package org.diskhost.backend.layered;

import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

import org.diskhost.api.layer.LowerLayer;

/**
 * The sector size and count of a RAM layer, from what was configured and, for what was not, from the layer below
 * (reference: the lazy RAM layer). The sector size defaults to the lower layer's, else 512; the size to the lower
 * layer's, with no default.
 */
record RamGeometry(int sectorSize, long sectorCount) {

    /** Why a RAM layer's geometry is invalid; the reference's errors. */
    sealed interface Problem {
        String message();

        /** The sector size is not a power of two of at least 512. */
        record InvalidSectorSize(int sectorSize) implements Problem {
            public String message() {
                return "must be a power of two of at least 512, got " + Integer.toUnsignedString(sectorSize);
            }
        }

        /** No size: none configured and no layer below to take it from; or a size of 0. */
        record EmptyDisk(boolean configured) implements Problem {
            public String message() {
                return configured ? "must not be 0" : "missing: a RAM layer with no layer below needs a size";
            }
        }

        /** The size in bytes is not a whole number of sectors. */
        record NotSectorMultiple(long byteSize, int sectorSize) implements Problem {
            public String message() {
                return "must be a multiple of the sector size " + sectorSize + ", got " + byteSize;
            }
        }
    }

    /** A refused geometry. */
    static final class InvalidException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        private final transient Problem problem;

        InvalidException(Problem problem) {
            super(problem.message());
            this.problem = problem;
        }

        Problem problem() {
            return problem;
        }
    }

    /**
     * The geometry of a RAM layer of {@code byteSize} bytes of {@code sectorSize}-byte sectors, each taken from
     * {@code below} when absent.
     *
     * @throws InvalidException naming the problem
     */
    static RamGeometry of(OptionalLong byteSize, OptionalInt sectorSize, Optional<LowerLayer> below) {
        int ss = sectorSize.orElse(below.map(LowerLayer::sectorSize).orElse(512));
        if (ss < 512 || Integer.bitCount(ss) != 1) {
            throw new InvalidException(new Problem.InvalidSectorSize(ss));
        }
        if (byteSize.isEmpty() && below.isEmpty()) {
            throw new InvalidException(new Problem.EmptyDisk(false));
        }
        long bytes = byteSize.isPresent() ? byteSize.getAsLong() : below.orElseThrow().byteSize();
        if (bytes == 0) {
            throw new InvalidException(new Problem.EmptyDisk(true));
        }
        if (bytes % ss != 0) {
            throw new InvalidException(new Problem.NotSectorMultiple(bytes, ss));
        }
        return new RamGeometry(ss, bytes / ss);
    }

    /** A fixed geometry: {@code byteSize} bytes of {@code sectorSize}-byte sectors. */
    static RamGeometry of(long byteSize, int sectorSize) {
        return of(OptionalLong.of(byteSize), OptionalInt.of(sectorSize), Optional.empty());
    }
}
