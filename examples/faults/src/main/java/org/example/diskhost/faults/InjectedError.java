package org.example.diskhost.faults;

import java.io.IOException;

import org.diskhost.api.AccessError;
import org.diskhost.api.DiskError;
import org.diskhost.api.MediumErrorDetails;

/** The {@link DiskError} variants a fault can fail a request with, by the names the {@code error} setting uses. */
enum InjectedError {
    IO("io"),
    MEDIUM("medium"),
    READ_ONLY("readOnly"),
    RESERVATION_CONFLICT("reservationConflict"),
    INVALID_INPUT("invalidInput"),
    ILLEGAL_BLOCK("illegalBlock"),
    ABORTED("aborted"),
    MEMORY_ACCESS("memoryAccess");

    private final String settingName;

    InjectedError(String settingName) {
        this.settingName = settingName;
    }

    String settingName() {
        return settingName;
    }

    /**
     * The error for one failed request; {@code medium} is the detail of {@link #MEDIUM}. The causes of {@code io},
     * {@code medium} and {@code memoryAccess} say that the fault was injected, so a log shows it is not real.
     */
    DiskError create(Operation op, MediumErrorDetails medium) {
        return switch (this) {
            case IO -> new DiskError.Io(injected(op));
            case MEDIUM -> new DiskError.MediumError(injected(op), medium);
            case READ_ONLY -> new DiskError.ReadOnly();
            case RESERVATION_CONFLICT -> new DiskError.ReservationConflict();
            case INVALID_INPUT -> new DiskError.InvalidInput();
            case ILLEGAL_BLOCK -> new DiskError.IllegalBlock();
            case ABORTED -> new DiskError.AbortDueToPreemptAndAbort();
            case MEMORY_ACCESS -> new DiskError.MemoryAccess(new AccessError.Memory(injected(op)));
        };
    }

    private static IOException injected(Operation op) {
        return new IOException("injected " + op.settingName() + " fault");
    }
}
