package org.diskhost.api.change;

/**
 * What {@link LiveChanges} needs of a runtime change: where it comes from and which configured disk it is for. A
 * record with components {@code source} and {@code diskName} implements it as it is.
 */
public interface DiskChange {
    /** Where the change comes from, usually its configuration's PID; one change per source. */
    String source();

    /** The configured disk (as in the host's disk configuration) whose live objects the change applies to. */
    String diskName();
}
