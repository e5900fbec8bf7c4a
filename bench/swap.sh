#!/usr/bin/env bash
# Hot swap under load: the pause each swap causes and the throughput dip around it.
#
#   bench/swap.sh [SWAPS] [CHAIN]      (defaults: 20 and "crypt delay layered file")
#
# Starts the real launcher (bin/diskhost) serving a crypt > delay > layered(RAM over file) disk over NBD, runs an
# unthrottled fio job on it (4 KiB random read/write, queue depth 16, one connection) and, while it runs, upgrades
# one bundle of the chain after the other by dropping its jar into the watched deploy/ directory (the path users
# take), SWAPS times. Reports, from the host's own measurement ("swap N paused it X ms" in its log), the median
# and maximum pause, and from fio's 100 ms IOPS log the throughput of the windows that contain a swap against the
# median window. Needs fio. Takes the build lock, so it never runs beside a Maven build.
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
swaps=${1:-20}
read -r -a chain <<< "${2:-crypt delay layered file}"
work=$(mktemp -d /tmp/diskhost-swap.XXXXXX)
pid=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
command -v fio >/dev/null || { echo "bench: fio is not installed" >&2; exit 1; }
exec 9>/tmp/diskhost-build.lock
flock 9

mkdir -p "$work/deploy"
truncate -s 1G "$work/base.img"
key=$(printf '0123456789abcdef%.0s' 1 2 3 4)$(printf 'fedcba9876543210%.0s' 1 2 3 4)
cat > "$work/diskhost.json" <<JSON
{
  "disks": { "swap": { "kind": "crypt", "key": "$key", "disk": { "kind": "delay", "disk": {
      "kind": "layered", "layers": [ { "kind": "ram" },
          { "kind": "disk", "disk": { "kind": "file", "path": "$work/base.img" } } ] } } } },
  "nbd": { "listen": "none", "unixSocket": "$work/nbd.sock" }
}
JSON
"$home/bin/diskhost" --no-shell --config "$work/diskhost.json" --data "$work" --deploy "$work/deploy" \
    > "$work/diskhost.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q "NBD server listening" "$work/diskhost.log" && break; sleep 0.2; done
grep -q "disk 'swap' is ready" "$work/diskhost.log" || sleep 2

# Long enough for every swap: the deploy directory is scanned once a second.
runtime=$(( swaps * 2 + 10 ))
date +%s%3N > "$work/fio-start"
fio --name=swap --ioengine=nbd --uri="nbd+unix:///swap?socket=$work/nbd.sock" --rw=randrw --bs=4k --iodepth=16 \
    --size="${FIO_SIZE:-256M}" --time_based --runtime="$runtime" --write_iops_log="$work/fio" --log_avg_msec=100 \
    --output-format=json --output="$work/fio.json" &
fio_pid=$!
sleep 5
bundles="$home/host/launcher/target/diskhost/bundle"
for i in $(seq 1 "$swaps"); do
  name=${chain[$(( (i - 1) % ${#chain[@]} ))]}
  before=$(grep -c "upgraded org.diskhost.backend.$name" "$work/diskhost.log" || true)
  cp "$bundles/diskhost-backend-$name.jar" "$work/deploy/$name.jar"
  touch "$work/deploy/$name.jar"
  for _ in $(seq 1 150); do
    [ "$(grep -c "upgraded org.diskhost.backend.$name" "$work/diskhost.log" || true)" -gt "$before" ] && break
    sleep 0.1
  done
  date +%s%3N >> "$work/swap-times"
done
wait "$fio_pid"

python3 - "$work" "$swaps" <<'PY'
import glob, json, re, statistics, sys
work, swaps = sys.argv[1], int(sys.argv[2])
pauses, by_bundle, bundle = [], {}, "?"
for line in open(f"{work}/diskhost.log"):
    m = re.search(r"(org\.diskhost\.backend\.\w+) \S+ was updated", line)
    if m:
        bundle = m.group(1)
    m = re.search(r"disk 'swap' is ready: .*; swap \d+ paused it ([0-9.]+) ms", line)
    if m:
        pauses.append(float(m.group(1)))
        by_bundle.setdefault(bundle, []).append(float(m.group(1)))
if len(pauses) < swaps:
    sys.exit(f"bench: only {len(pauses)} of {swaps} swaps were logged; see {work}/diskhost.log")
job = json.load(open(f"{work}/fio.json"))["jobs"][0]
errors = job["error"]
# fio's IOPS logs: time (ms since start), IOPS in that 100 ms window, direction; sum reads and writes per window.
windows = {}
for path in glob.glob(f"{work}/fio_iops*.log"):
    for line in open(path):
        t, iops, *_ = [x.strip() for x in line.split(",")]
        windows[int(t) // 100] = windows.get(int(t) // 100, 0) + int(iops)
series = [windows[k] for k in sorted(windows)]
median = statistics.median(series)
# The lowest window in the half second before each swap was seen complete: the dip that swap caused.
start = int(open(f"{work}/fio-start").read())
ends = [(int(t) - start) // 100 for t in open(f"{work}/swap-times")]
low = [min(windows.get(i, 0) for i in range(e - 5, e + 1)) for e in ends]
print(f"{swaps} swaps under fio 4k randrw qd16 over NBD (crypt > delay > layered(ram over file)), fio errors: {errors}\n")
print("| pause per swap | value |")
print("|---|---:|")
print(f"| median | {statistics.median(pauses):.1f} ms |")
print(f"| 90th percentile | {sorted(pauses)[int(len(pauses) * 0.9) - 1]:.1f} ms |")
print(f"| maximum | {max(pauses):.1f} ms |")
for b, p in sorted(by_bundle.items()):
    print(f"| median when updating {b.split('.')[-1]} | {statistics.median(p):.1f} ms |")
print(f"\nthroughput (fio, 100 ms windows): median window {median:.0f} IOPS; the lowest window around each swap "
      f"averages {statistics.mean(low):.0f} IOPS ({statistics.mean(low) / median:.0%} of the median), the lowest of "
      f"all {min(low):.0f} IOPS; whole run {job['read']['iops'] + job['write']['iops']:.0f} IOPS")
PY
