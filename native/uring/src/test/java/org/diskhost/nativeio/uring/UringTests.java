package org.diskhost.nativeio.uring;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/** What the tests share: io_uring as the probe finds it. */
final class UringTests {
    private UringTests() {
    }

    /**
     * The probe's {@link UringSupport.Available}. Where io_uring is unavailable the calling test is skipped, except
     * under {@code CI=true}, whose machines offer io_uring: there it fails.
     */
    static UringSupport.Available available() {
        return switch (Uring.probe()) {
            case UringSupport.Available a -> a;
            case UringSupport.Unavailable u -> {
                if ("true".equals(System.getenv("CI"))) {
                    fail(u.describe());
                }
                Assumptions.abort(u.describe());
                throw new AssertionError("unreachable");
            }
        };
    }
}
