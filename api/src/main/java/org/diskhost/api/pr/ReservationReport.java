package org.diskhost.api.pr;

import java.util.List;
import java.util.Optional;

/**
 * The reservation state of a disk.
 *
 * @param generation a 32-bit counter, incremented (wrapping) on registration changes
 * @param reservationType the type of the held reservation, if any
 * @param persistThroughPowerLoss whether the state survives power loss
 * @param controllers the registrants
 */
public record ReservationReport(
        int generation,
        Optional<ReservationType> reservationType,
        boolean persistThroughPowerLoss,
        List<RegisteredController> controllers) {

    public ReservationReport {
        controllers = List.copyOf(controllers);
    }
}
