package org.diskhost.nativeio.ioctl;

/**
 * The {@code _IOC} encoding of ioctl request numbers of {@code asm-generic/ioctl.h}, which x86_64 and aarch64 use:
 * bits 0-7 the number, 8-15 the type ("magic"), 16-29 the argument's size in bytes, 30-31 the direction (1 the
 * caller writes, 2 the caller reads, as seen from user space). Request numbers are returned as non-negative longs
 * (the C type is {@code unsigned long}).
 */
public final class IoctlRequest {
    private static final int NRBITS = 8;
    private static final int TYPEBITS = 8;
    private static final int SIZEBITS = 14;
    private static final int NRSHIFT = 0;
    private static final int TYPESHIFT = NRSHIFT + NRBITS;
    private static final int SIZESHIFT = TYPESHIFT + TYPEBITS;
    private static final int DIRSHIFT = SIZESHIFT + SIZEBITS;
    private static final long NONE = 0;
    private static final long WRITE = 1;
    private static final long READ = 2;

    private IoctlRequest() {
    }

    /** {@code _IO(type, nr)}: no argument struct (or an integer argument). */
    public static long io(int type, int nr) {
        return ioc(NONE, type, nr, 0);
    }

    /** {@code _IOR(type, nr, size)}: the kernel fills {@code size} bytes the caller points to. */
    public static long ior(int type, int nr, long size) {
        return ioc(READ, type, nr, size);
    }

    /** {@code _IOW(type, nr, size)}: the kernel reads {@code size} bytes the caller points to. */
    public static long iow(int type, int nr, long size) {
        return ioc(WRITE, type, nr, size);
    }

    /** {@code _IOWR(type, nr, size)}: both. */
    public static long iowr(int type, int nr, long size) {
        return ioc(READ | WRITE, type, nr, size);
    }

    private static long ioc(long dir, int type, int nr, long size) {
        if (type < 0 || type >= 1 << TYPEBITS || nr < 0 || nr >= 1 << NRBITS || size < 0 || size >= 1 << SIZEBITS) {
            throw new IllegalArgumentException("ioctl type " + type + ", nr " + nr + ", size " + size
                    + " do not fit _IOC's 8, 8 and 14 bits");
        }
        return dir << DIRSHIFT | size << SIZESHIFT | (long) type << TYPESHIFT | (long) nr << NRSHIFT;
    }
}
