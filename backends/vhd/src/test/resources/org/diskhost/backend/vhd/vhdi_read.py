# Reads a VHD chain with libvhdi (pyvhdi), an independent reader, for LibvhdiInteropTest.
# Usage: vhdi_read.py OUT TOP [PARENT [GRANDPARENT ...]]
# Writes the top image's whole content, as libvhdi reads it through the chain, to OUT, then prints one line per
# image: media size, identifier, parent identifier (or -), parent file name (or -).
import sys

import pyvhdi

out, paths = sys.argv[1], sys.argv[2:]
files = []
for path in paths:
    f = pyvhdi.file()
    f.open(path)
    files.append(f)
for child, parent in zip(files, files[1:]):
    child.set_parent(parent)
top = files[0]
size = top.get_media_size()
with open(out, "wb") as o:
    offset = 0
    while offset < size:
        n = min(1 << 20, size - offset)
        o.write(top.read_buffer_at_offset(n, offset))
        offset += n
for f in files:
    parent_id = f.get_parent_identifier() if f.get_disk_type() == pyvhdi.disk_types.DIFFERENTIAL else None
    print(f.get_media_size(), f.get_identifier(), parent_id or "-", f.get_parent_filename() or "-")
