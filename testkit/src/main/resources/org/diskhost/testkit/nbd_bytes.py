# Byte-granular NBD checks, run inside nbdsh (see Nbdsh.java): `h` is connected to a writable export of at least
# 1 MiB with base:allocation selected, `uri` names that export, `expect_minimum` is the minimum block size the
# server must advertise (None: not checked). Everything is read back and compared with an expected copy; a failed
# check raises AssertionError, which makes nbdsh exit non-zero. The last line printed counts the checks.
import random

checks = 0


def check(condition, message):
    global checks
    assert condition, message
    checks += 1


size = h.get_size()
check(size >= 1 << 20, "export of %d bytes is too small" % size)
if expect_minimum is not None:
    check(h.get_block_size(nbd.SIZE_MINIMUM) == expect_minimum,
          "minimum block size %d" % h.get_block_size(nbd.SIZE_MINIMUM))
rng = random.Random(20261203)
window = 1 << 20  # the bytes tracked in `expected`
expected = bytearray(rng.randbytes(window))
h.pwrite(bytes(expected), 0)
check(h.pread(window, 0) == expected, "aligned write and read back")

# The read that used to fail: everything but the first byte, and the last byte alone.
check(h.pread(window - 1, 1) == expected[1:], "pread(size - 1, 1)")
h.pwrite(b"\x5a", size - 1)
check(h.pread(1, size - 1) == b"\x5a", "pread(1, size - 1)")

# One byte at odd offsets, read back one by one and at once.
for offset in (1, 3, 511, 513, 4095, 4097, 12345, 65537, window - 1):
    value = bytes([rng.randrange(256)])
    h.pwrite(value, offset)
    expected[offset:offset + 1] = value
    check(h.pread(1, offset) == value, "one byte at %d" % offset)

# Unaligned writes crossing sector boundaries, with and without FUA.
for offset, length, flags in ((500, 1000, 0), (4095, 2, nbd.CMD_FLAG_FUA), (8191, 8194, nbd.CMD_FLAG_FUA),
                              (30001, 7, 0)):
    data = rng.randbytes(length)
    h.pwrite(data, offset, flags)
    expected[offset:offset + length] = data
    check(h.pread(length + 2, offset - 1) == expected[offset - 1:offset + length + 1], "write %d+%d" % (offset, length))

# Write-zeroes zeroes exactly the bytes asked: inside a sector, across one boundary, partial + whole + partial.
for offset, length, flags in ((1001, 3, 0), (1530, 20, nbd.CMD_FLAG_NO_HOLE), (40000, 9001, 0),
                              (50001, 4095, nbd.CMD_FLAG_FUA)):
    h.zero(length, offset, flags)
    expected[offset:offset + length] = bytes(length)
    check(h.pread(length + 2, offset - 1) == expected[offset - 1:offset + length + 1], "zero %d+%d" % (offset, length))

# A trim may drop what it covers (and may ignore partial sectors), never a byte outside it; then it is rewritten.
if h.can_trim():
    h.trim(3000, 70001)
    check(h.pread(2, 69999) == expected[69999:70001], "bytes before the trim")
    check(h.pread(2, 73001) == expected[73001:73003], "bytes after the trim")
    h.pwrite(bytes(expected[70001:73001]), 70001)

# Cache and block status at odd offsets.
if h.can_cache():
    h.cache(3, 101)
extents = []


def extent(context, offset, entries, error):
    extents.extend(entries)
    return 0


if h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION):
    h.block_status(9, 5, extent)
    check(len(extents) >= 2 and extents[0] > 0, "block status at offset 5: %r" % extents)

# Two connections at once: each writes every other byte of the same sectors, one byte a request, all in flight
# together; then aligned writes of whole sectors race one-byte writes into them. Every byte must land.
h2 = nbd.NBD()
h2.connect_uri(uri)
base = 200000
span = 4 * 4096
for i in range(0, span, 2):
    h.aio_pwrite(bytes([i % 251]), base + i)
    h2.aio_pwrite(bytes([(i + 1) % 251]), base + i + 1)
for handle in (h, h2):
    while handle.aio_in_flight() > 0:
        handle.poll(-1)
for i in range(span):
    expected[base + i] = i % 251
check(h.pread(span, base) == expected[base:base + span], "two connections, interleaved bytes")
check(h2.pread(span, base) == expected[base:base + span], "the second connection sees them too")

race = 300000
sectors = 64
for s in range(sectors):
    whole = bytes([s + 1]) * 512
    if s % 2:
        h2.aio_pwrite(whole, race + s * 512)
        h.aio_pwrite(b"\xee", race + s * 512 + 7)
    else:
        h.aio_pwrite(b"\xee", race + s * 512 + 7)
        h2.aio_pwrite(whole, race + s * 512)
for handle in (h, h2):
    while handle.aio_in_flight() > 0:
        handle.poll(-1)
got = h.pread(sectors * 512, race)
for s in range(sectors):
    sector = bytearray([s + 1]) * 512
    if got[s * 512 + 7] == 0xee:
        sector[7] = 0xee  # the one-byte write came last; either order is fine, a mix is not
    check(got[s * 512:(s + 1) * 512] == sector, "sector %d of the race: %r" % (s, got[s * 512:s * 512 + 16]))
    expected[race + s * 512:race + (s + 1) * 512] = sector
h2.shutdown()

h.flush()
check(h.pread(window, 0) == expected, "the whole window")
print("nbd_bytes: %d checks passed" % checks)
