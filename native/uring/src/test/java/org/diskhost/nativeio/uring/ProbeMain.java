package org.diskhost.nativeio.uring;

/** Prints what {@link Uring#probe()} says, for tests that probe in a JVM started with other options. */
public final class ProbeMain {
    private ProbeMain() {
    }

    public static void main(String[] args) {
        System.out.println(Uring.probe().describe());
    }
}
