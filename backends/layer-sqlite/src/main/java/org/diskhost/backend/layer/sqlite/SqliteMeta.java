package org.diskhost.backend.layer.sqlite;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metadata row of a layer file: one JSON object, as the reference writes it.
 *
 * @param logicallyReadOnly the layer refuses writes and unmaps (a read cache is filled with no-overwrite writes only)
 * @param sectorCount the layer's size in sectors
 * @param sectorSize the sector size in bytes
 */
record SqliteMeta(boolean logicallyReadOnly, long sectorCount, int sectorSize) {
    private static final Pattern FIELD = Pattern.compile("\"(\\w+)\"\\s*:\\s*(true|false|\\d+)");

    String toJson() {
        return "{\"logically_read_only\":" + logicallyReadOnly + ",\"sector_count\":" + sectorCount
                + ",\"sector_size\":" + sectorSize + "}";
    }

    /**
     * Reads the JSON of the metadata row.
     *
     * @throws IllegalArgumentException when a field is missing or out of range
     */
    static SqliteMeta parse(String json) {
        Boolean readOnly = null;
        Long count = null;
        Long size = null;
        Matcher m = FIELD.matcher(json);
        while (m.find()) {
            switch (m.group(1)) {
                case "logically_read_only" -> readOnly = Boolean.parseBoolean(m.group(2));
                case "sector_count" -> count = Long.parseLong(m.group(2));
                case "sector_size" -> size = Long.parseLong(m.group(2));
                default -> { } // a later version's field
            }
        }
        if (readOnly == null || count == null || size == null) {
            throw new IllegalArgumentException("metadata lacks logically_read_only, sector_count or sector_size: "
                    + json);
        }
        if (size < 512 || size > 1 << 30 || Long.bitCount(size) != 1 || count <= 0 || count > Long.MAX_VALUE / size) {
            throw new IllegalArgumentException("metadata out of range: " + json);
        }
        return new SqliteMeta(readOnly, count, (int) (long) size);
    }
}
