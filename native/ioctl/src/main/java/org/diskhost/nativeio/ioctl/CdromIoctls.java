package org.diskhost.nativeio.ioctl;

import org.diskhost.nativeio.libc.Errno;
import org.diskhost.nativeio.libc.ErrnoException;

/** The CD-ROM ioctls of {@code linux/cdrom.h} a backend needs to eject a medium (plain numbers, not {@code _IOC}). */
public final class CdromIoctls {
    /** Locks (1) or unlocks (0) the drive's door; an integer argument. */
    public static final long CDROM_LOCKDOOR = 0x5329;
    /** Ejects the medium; no argument. */
    public static final long CDROMEJECT = 0x5309;

    private CdromIoctls() {
    }

    /**
     * Unlocks the door (CDROM_LOCKDOOR 0) and ejects the medium (CDROMEJECT): the unlock first, since a drive whose
     * door a previous user locked refuses to eject.
     *
     * @throws ErrnoException from the step that failed, named in the message: {@link Errno#ENOTTY} or
     *                        {@link Errno#EINVAL} for a device that is not a CD-ROM (a loop device answers EINVAL to
     *                        the unlock), {@link Errno#EBUSY} when another opener keeps the door locked
     */
    public static void eject(int fd) throws ErrnoException {
        Ioctl.call(fd, CDROM_LOCKDOOR, 0L, "CDROM_LOCKDOOR 0 (unlock) fd " + fd);
        Ioctl.call(fd, CDROMEJECT, 0L, "CDROMEJECT fd " + fd);
    }
}
