package org.diskhost.nativeio.libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * Binds the libc functions of one class, in its static initializer, and remembers why it could not: where
 * {@link Libc#unavailable()} says native calls cannot be made, or a function is missing from this C library, every
 * later handle is null and {@link #failure()} says why. A class therefore binds its handles straight into its
 * {@code static final} fields and reads {@link #failure()} after the last of them; its callers ask that first.
 *
 * <pre>{@code
 * private static final Downcalls DOWNCALLS = new Downcalls();
 * private static final MethodHandle FSYNC = DOWNCALLS.capturingErrno("fsync", FunctionDescriptor.of(I32, I32));
 * static final Optional<String> UNBOUND = DOWNCALLS.failure(); // after the handles
 * }</pre>
 *
 * Not thread-safe: one class initializer uses it.
 */
public final class Downcalls {
    private String failure = Libc.unavailable().orElse(null);

    /**
     * Binds {@code name} with its errno captured: the handle takes the call-state segment ({@link Libc#callState})
     * before the function's own arguments. Null once anything has failed.
     *
     * @param options further linker options, for example {@code Linker.Option.firstVariadicArg(n)}
     */
    public MethodHandle capturingErrno(String name, FunctionDescriptor function, Linker.Option... options) {
        return bind(name, function, true, options);
    }

    /** Binds {@code name} without errno (for calls that cannot fail or whose caller checks otherwise). */
    public MethodHandle plain(String name, FunctionDescriptor function, Linker.Option... options) {
        return bind(name, function, false, options);
    }

    /** Why the functions could not all be bound (the first reason); empty when every one is. */
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
    }

    private MethodHandle bind(String name, FunctionDescriptor function, boolean captureErrno,
            Linker.Option... options) {
        if (failure != null) {
            return null;
        }
        try {
            return Libc.downcall(name, function, captureErrno, options);
        } catch (RuntimeException | LinkageError e) {
            failure = Libc.bindFailure(name, e);
            return null;
        }
    }
}
