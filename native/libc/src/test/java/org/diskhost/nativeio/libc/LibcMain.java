package org.diskhost.nativeio.libc;

/** Prints what {@link Libc#unavailable()} says, for tests that ask in a JVM started with other options. */
public final class LibcMain {
    private LibcMain() {
    }

    public static void main(String[] args) {
        System.out.println(Libc.unavailable().orElse("available"));
    }
}
