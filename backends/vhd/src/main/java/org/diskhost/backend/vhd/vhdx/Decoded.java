package org.diskhost.backend.vhd.vhdx;

/**
 * A structure decoded from the file: its value, or the reason the bytes are not one. The callers decide: two header
 * or region table copies fall back on each other, a log entry that is not valid ends a sequence.
 *
 * @param <T> the structure
 */
sealed interface Decoded<T> {
    record Valid<T>(T value) implements Decoded<T> {
    }

    record Invalid<T>(String reason) implements Decoded<T> {
    }
}
