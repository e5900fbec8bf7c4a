#!/usr/bin/env bash
# Compares the diskhost NBD server with nbdkit (file plugin) and qemu-nbd, all serving the same file, with fio's
# nbd engine in the same run. Prints a Markdown table (IOPS, MiB/s, ratios) and diskhost's resident memory.
#
#   bench/nbd-fio.sh [RUNTIME_SECONDS] [FILE_SIZE]      (defaults: 15 and 1G)
#
# Environment: SERVERS (default "diskhost nbdkit qemu-nbd") picks the servers, JOBS (a regular expression) the jobs,
# WARMUP (default 5) the seconds of unmeasured 4 KiB I/O each server gets first.
# Needs fio, nbdkit and qemu-utils (apt-get install fio nbdkit qemu-utils). Each server runs alone during its jobs.
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runtime=${1:-15}
size=${2:-1G}
warmup=${WARMUP:-5} # seconds of mixed 4 KiB I/O against each server before its jobs
source "$home/bench/lib.sh"
bench_workdir diskhost-bench
image="$work/bench.img"

for tool in fio nbdkit qemu-nbd python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

echo "bench: preparing a $size file of random data in $work" >&2
fio --name=fill --filename="$image" --size="$size" --rw=write --bs=1M --ioengine=psync --refill_buffers \
    --output=/dev/null
sync

# diskhost: the same launcher users run, with a configuration serving the bench file on port 10820.
cat > "$work/diskhost.json" <<JSON
{
  "disks": { "bench": { "kind": "file", "path": "$image" } },
  "nbd": { "listen": "127.0.0.1:10820", "exports": ["bench"] }
}
JSON

# job name, fio arguments
jobs=(
  "4k randread qd1|--rw=randread --bs=4k --iodepth=1"
  "4k randread qd32|--rw=randread --bs=4k --iodepth=32"
  "4k randwrite qd1|--rw=randwrite --bs=4k --iodepth=1"
  "4k randwrite qd32|--rw=randwrite --bs=4k --iodepth=32"
  "1M read qd1|--rw=read --bs=1M --iodepth=1"
  "1M read qd8|--rw=read --bs=1M --iodepth=8"
  "1M write qd1|--rw=write --bs=1M --iodepth=1"
  "1M write qd8|--rw=write --bs=1M --iodepth=8"
)

servers=${SERVERS:-diskhost nbdkit qemu-nbd}
job_filter=${JOBS:-.}
results="$work/results.tsv"
: > "$results"
rss_max=0

run_jobs() { # server name, uri, pid to sample memory of (or empty)
  local server=$1 uri=$2 pid=${3:-}
  # The same unmeasured warm-up for every server: the JVM's JIT compiles the request path in its first seconds, which
  # would otherwise fall on the first job alone.
  fio --name=warmup --ioengine=nbd --uri="$uri" --size="$size" --time_based --runtime="$warmup" --rw=randrw \
      --bs=4k --iodepth=4 --output=/dev/null
  for job in "${jobs[@]}"; do
    local name=${job%%|*} args=${job#*|}
    [[ $name =~ $job_filter ]] || continue
    # shellcheck disable=SC2086
    fio --name=bench --ioengine=nbd --uri="$uri" --size="$size" --time_based --runtime="$runtime" \
        --ramp_time=2 $args --output-format=json --output="$work/out.json" &
    local fio_pid=$!
    if [ -n "$pid" ]; then
      while kill -0 "$fio_pid" 2>/dev/null; do
        local rss
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${rss:-0}" -gt "$rss_max" ] && rss_max=$rss
        sleep 1
      done
    fi
    wait "$fio_pid"
    fio_row "$work/out.json" "$server" "$name" >> "$results"
    echo "bench: $server $name done" >&2
  done
}

if [[ " $servers " == *" diskhost "* ]]; then
echo "bench: diskhost" >&2
"$home/bin/diskhost" --no-shell --config "$work/diskhost.json" --data "$work" --deploy "$work/deploy" \
    > "$work/diskhost.log" 2>&1 &
pids+=($!)
wait_port 10820
run_jobs diskhost "nbd://127.0.0.1:10820/bench" "${pids[-1]}" # bin/diskhost execs java: same pid
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ " $servers " == *" nbdkit "* ]]; then
echo "bench: nbdkit" >&2
nbdkit --foreground --port 10821 --ipaddr 127.0.0.1 --exit-with-parent file "$image" &
pids+=($!)
wait_port 10821
run_jobs nbdkit "nbd://127.0.0.1:10821/" ""
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ " $servers " == *" qemu-nbd "* ]]; then
echo "bench: qemu-nbd" >&2
qemu-nbd --format=raw --port=10822 --bind=127.0.0.1 --export-name=bench --persistent --shared=8 "$image" &
pids+=($!)
wait_port 10822
run_jobs qemu-nbd "nbd://127.0.0.1:10822/bench" ""
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

python3 - "$results" "$rss_max" "$runtime" "$size" <<'PY'
import sys, collections
rows = collections.OrderedDict()
for line in open(sys.argv[1]):
    server, job, iops, mib = line.rstrip("\n").split("\t")
    rows.setdefault(job, {})[server] = (float(iops), float(mib))
print(f"fio nbd engine, {sys.argv[3]} s per job, {sys.argv[4]} file, one connection per job\n")
print("| job | diskhost IOPS | diskhost MiB/s | nbdkit IOPS | nbdkit MiB/s | qemu-nbd IOPS | qemu-nbd MiB/s "
      "| diskhost / nbdkit | diskhost / qemu-nbd |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for job, r in rows.items():
    d, k, q = r.get("diskhost", (0, 0)), r.get("nbdkit", (0, 0)), r.get("qemu-nbd", (0, 0))
    ratio = lambda a, b: f"{a / b:.2f}" if b else "-"
    print(f"| {job} | {d[0]:.0f} | {d[1]:.1f} | {k[0]:.0f} | {k[1]:.1f} | {q[0]:.0f} | {q[1]:.1f} "
          f"| {ratio(d[1], k[1])} | {ratio(d[1], q[1])} |")
print(f"\ndiskhost resident memory (VmRSS, maximum sampled under load): {int(sys.argv[2]) / 1024:.0f} MiB")
PY
