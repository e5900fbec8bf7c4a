package org.example.diskhost.faults;

import java.util.Locale;

/** The requests a fault can fail, by the names the {@code ops} setting uses. */
enum Operation {
    READ, WRITE, FLUSH, UNMAP;

    /** The name in settings: {@code read}, {@code write}, {@code flush}, {@code unmap}. */
    String settingName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
