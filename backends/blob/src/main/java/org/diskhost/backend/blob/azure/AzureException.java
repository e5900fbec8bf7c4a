package org.diskhost.backend.blob.azure;

import java.io.IOException;
import java.util.Optional;

/**
 * An Azure Blob REST call that the service refused or answered unexpectedly. The message names the disk, the
 * operation, the blob (its URL without a SAS token) and the status with Azure's error code; it never holds key
 * material or a SAS signature.
 */
public final class AzureException extends IOException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String errorCode;

    AzureException(String message, int status, String errorCode) {
        super(message);
        this.status = status;
        this.errorCode = errorCode;
    }

    /** The HTTP status, or 0 when the answer was malformed rather than refused. */
    public int status() {
        return status;
    }

    /** Azure's {@code x-ms-error-code}, such as {@code LeaseAlreadyPresent}, if the service sent one. */
    public Optional<String> errorCode() {
        return Optional.ofNullable(errorCode);
    }
}
