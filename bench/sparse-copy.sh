#!/usr/bin/env bash
# How fast a copying client gets a sparse disk out of diskhost, next to nbdkit and qemu-nbd serving the same file in
# the same run: nbdcopy (which asks for block status and skips holes) copies the export into a sparse file, RUNS times
# per server, the servers taking turns (diskhost, nbdkit, qemu-nbd, diskhost, ...). Prints a Markdown table with each
# server's median and fastest copy and the ratio of medians to nbdkit's.
#
#   bench/sparse-copy.sh [RUNS] [SIZE_GIB] [DATA_MIB]      (defaults: 9 runs, a 2 GiB file holding 10 MiB of data)
#
# Needs nbdcopy (libnbd-bin), nbdkit and qemu-nbd (qemu-utils). diskhost runs through bin/diskhost, as users run it,
# and serves the file as a host disk (kind file), so block status goes through the host's own disk wrapper.
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-9}
size_gib=${2:-2}
data_mib=${3:-10}
work=$(mktemp -d /tmp/diskhost-sparse.XXXXXX)
image="$work/sparse.img"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for tool in nbdcopy nbdkit qemu-nbd; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

# The data: DATA_MIB extents of 1 MiB of random bytes, spread evenly over the file; the rest is holes.
truncate -s "${size_gib}G" "$image"
stride=$(( size_gib * 1024 / data_mib ))
for i in $(seq 0 $(( data_mib - 1 ))); do
  dd if=/dev/urandom of="$image" bs=1M count=1 seek=$(( i * stride )) conv=notrunc status=none
done
sync

cat > "$work/diskhost.json" <<JSON
{
  "disks": { "sparse": { "kind": "file", "path": "$image", "readOnly": true } },
  "nbd": { "listen": "none", "unixSocket": "$work/diskhost.sock" }
}
JSON
DISKHOST_BUILD=${DISKHOST_BUILD:-} "$home/bin/diskhost" --config "$work/diskhost.json" --data "$work/var" \
    --deploy "$work/deploy" --no-shell > "$work/diskhost.log" 2>&1 &
pids+=($!)
nbdkit --exit-with-parent -f -r -U "$work/nbdkit.sock" file "$image" &
pids+=($!)
qemu-nbd -r -f raw -k "$work/qemu.sock" -x sparse --persistent "$image" &
pids+=($!)

declare -A uri=(
  [diskhost]="nbd+unix:///sparse?socket=$work/diskhost.sock"
  [nbdkit]="nbd+unix:///?socket=$work/nbdkit.sock"
  [qemu-nbd]="nbd+unix:///sparse?socket=$work/qemu.sock"
)
servers=(diskhost nbdkit qemu-nbd)
for server in "${servers[@]}"; do
  for _ in $(seq 1 300); do
    nbdcopy "${uri[$server]}" null: 2>/dev/null && break
    sleep 0.2
  done
done

copy_seconds() { # server: one copy into a fresh sparse file, timed in seconds
  rm -f "$work/copy.img"
  local start end
  start=$(date +%s.%N)
  nbdcopy "${uri[$1]}" "$work/copy.img"
  end=$(date +%s.%N)
  cmp -s "$image" "$work/copy.img" || { echo "bench: $1's copy differs from the file" >&2; exit 1; }
  echo "$end - $start" | bc -l
}

declare -A times
for _ in $(seq 1 "$runs"); do
  for server in "${servers[@]}"; do
    times[$server]+="$(copy_seconds "$server") "
  done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
fastest() { tr ' ' '\n' | grep . | sort -g | head -1; }

nbdkit_median=$(echo "${times[nbdkit]}" | median)
echo "nbdcopy of a ${size_gib} GiB file holding ${data_mib} MiB of data into a sparse file, $runs copies per server:"
echo
echo "| server | median s | fastest s | median / nbdkit's |"
echo "|---|---:|---:|---:|"
for server in "${servers[@]}"; do
  m=$(echo "${times[$server]}" | median)
  f=$(echo "${times[$server]}" | fastest)
  printf '| %s | %.3f | %.3f | %.2f |\n' "$server" "$m" "$f" "$(echo "$m / $nbdkit_median" | bc -l)"
done
