package org.diskhost.api;

/** Which medium error a backend reports; frontends map each to its own status (NVMe, SCSI sense). */
public enum MediumErrorDetails {
    APPLICATION_TAG_CHECK_FAILED,
    GUARD_CHECK_FAILED,
    REFERENCE_TAG_CHECK_FAILED,
    UNRECOVERED_READ_ERROR,
    WRITE_FAULT
}
