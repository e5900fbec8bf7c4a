package org.diskhost.nativeio.netlink;

/** Prints what {@link UeventListener#unavailable()} says, for tests that ask in a JVM started with other options. */
public final class UeventsMain {
    private UeventsMain() {
    }

    public static void main(String[] args) {
        System.out.println(UeventListener.unavailable().orElse("available"));
    }
}
