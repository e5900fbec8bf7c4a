package org.diskhost.api.pr;

/** Which reservation types a disk supports, and whether it can persist reservations through power loss. */
public record ReservationCapabilities(
        boolean writeExclusive,
        boolean exclusiveAccess,
        boolean writeExclusiveRegistrantsOnly,
        boolean exclusiveAccessRegistrantsOnly,
        boolean writeExclusiveAllRegistrants,
        boolean exclusiveAccessAllRegistrants,
        boolean persistThroughPowerLoss) {

    /** Whether {@code type} is supported. */
    public boolean supports(ReservationType type) {
        return switch (type) {
            case WRITE_EXCLUSIVE -> writeExclusive;
            case EXCLUSIVE_ACCESS -> exclusiveAccess;
            case WRITE_EXCLUSIVE_REGISTRANTS_ONLY -> writeExclusiveRegistrantsOnly;
            case EXCLUSIVE_ACCESS_REGISTRANTS_ONLY -> exclusiveAccessRegistrantsOnly;
            case WRITE_EXCLUSIVE_ALL_REGISTRANTS -> writeExclusiveAllRegistrants;
            case EXCLUSIVE_ACCESS_ALL_REGISTRANTS -> exclusiveAccessAllRegistrants;
        };
    }
}
