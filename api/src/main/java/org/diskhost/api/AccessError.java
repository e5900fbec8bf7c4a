package org.diskhost.api;

/** Why a request's guest memory could not be accessed. Carried by {@link DiskError.MemoryAccess}. */
public sealed interface AccessError {

    /** A human-readable description. */
    String message();

    /** The memory itself failed (for example, it is no longer alive). */
    record Memory(Throwable cause) implements AccessError {
        public String message() {
            return "guest memory error: " + cause;
        }
    }

    /** {@code length} bytes at guest-physical {@code offset} lie outside guest memory. */
    record OutOfRange(long offset, long length) implements AccessError {
        public String message() {
            return "guest memory range out of bounds: offset " + offset + ", length " + length;
        }
    }

    /** A write was attempted into buffers the device may only read. */
    record ReadOnly() implements AccessError {
        public String message() {
            return "write attempted to read-only memory";
        }
    }
}
