#!/usr/bin/env bash
# Where the CPU goes for one fio job over NBD: diskhost's CPU time per thread (grouped by thread name) and nbdkit's
# total, each server alone on the same file after the same warm-up as bench/nbd-fio.sh.
#
#   bench/nbd-cpu.sh "FIO ARGS" [RUNTIME_SECONDS] [FILE_SIZE]     e.g. bench/nbd-cpu.sh "--rw=read --bs=1M --iodepth=8"
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
args=$1 runtime=${2:-8} size=${3:-256M}
source "$home/bench/lib.sh"
bench_workdir diskhost-cpu
fio --name=fill --filename="$work/bench.img" --size="$size" --rw=write --bs=1M --ioengine=psync --output=/dev/null
cat > "$work/diskhost.json" <<JSON
{ "disks": { "bench": { "kind": "file", "path": "$work/bench.img" } },
  "nbd": { "listen": "127.0.0.1:10823", "exports": ["bench"] } }
JSON
ticks() { sed 's/.*) //' "$1" | awk '{print $12 + $13}'; } # utime + stime of a /proc/.../stat
warm() { # uri
  fio --name=warmup --ioengine=nbd --uri="$1" --size="$size" --time_based --runtime=5 --rw=randrw --bs=4k \
      --iodepth=4 --output=/dev/null
}
job() { # uri
  # shellcheck disable=SC2086
  fio --name=job --ioengine=nbd --uri="$1" --size="$size" --time_based --runtime="$runtime" $args 2>&1 \
      | grep -E '(read|write): IOPS'
}
per_thread() { # pid: "name ticks" per thread name
  for t in /proc/"$1"/task/*; do
    echo "$(tr ' ' _ < "$t/comm" | sed 's/[-_]*[0-9]*$//') $(ticks "$t/stat")"
  done | awk '{a[$1] += $2} END {for (k in a) print k, a[k]}' | sort
}

"$home/bin/diskhost" --no-shell --config "$work/diskhost.json" --data "$work" > "$work/diskhost.log" 2>&1 &
dh=$!
pids+=("$dh")
wait_port 10823
hz=$(getconf CLK_TCK)
warm nbd://127.0.0.1:10823/bench
per_thread "$dh" > "$work/before"
total=$(ticks /proc/$dh/stat)
echo "diskhost: $(job nbd://127.0.0.1:10823/bench)"
per_thread "$dh" > "$work/after"
total=$(( $(ticks /proc/$dh/stat) - total ))
# The connection's threads (its reader and reply writer) end with it: their time is the total less the survivors'.
join "$work/before" "$work/after" | awk -v hz="$hz" -v total="$total" '
  $3 > $2 {printf "  %7.0f ms  %s\n", ($3 - $2) * 1000 / hz, $1; total -= $3 - $2}
  END {printf "  %7.0f ms  %s\n", total * 1000 / hz, "(the connection: reader and reply writer)"}' | sort -rn
echo "  $(( total * 1000 / hz )) ms  (all threads)"
kill "$dh"; wait "$dh" 2>/dev/null || true

nbdkit --foreground --port 10824 --ipaddr 127.0.0.1 file "$work/bench.img" &
nk=$!
pids+=("$nk")
wait_port 10824
warm nbd://127.0.0.1:10824/
before=$(ticks /proc/$nk/stat)
echo "nbdkit: $(job nbd://127.0.0.1:10824/)"
echo "  $(( ($(ticks /proc/$nk/stat) - before) * 1000 / hz )) ms  (all threads)"
