package org.diskhost.format.vhd;

import java.io.IOException;

/** An image file's content breaks its format: the message names the file, the structure and what is wrong. */
public final class ImageFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ImageFormatException(String message) {
        super(message);
    }
}
