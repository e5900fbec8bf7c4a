package org.diskhost.nativeio.ioctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import org.diskhost.nativeio.libc.ErrnoException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.function.Executable;

/** What the tests share. */
final class IoctlTests {
    private IoctlTests() {
    }

    /** Skips the calling test where native calls cannot be made, except under {@code CI=true}: there it fails. */
    static void requireNative() {
        Ioctl.unavailable().ifPresent(why -> {
            if (System.getenv("CI") != null) {
                fail(why);
            }
            Assumptions.abort(why);
        });
    }

    /** Asserts that {@code call} fails with {@code errno}; returns the exception. */
    static ErrnoException assertErrno(int errno, Executable call) {
        ErrnoException e = assertThrows(ErrnoException.class, call);
        assertEquals(errno, e.errno(), e::getMessage);
        return e;
    }
}
