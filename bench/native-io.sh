#!/usr/bin/env bash
# Native I/O in the JVM against fio, with O_DIRECT, on the same file and in the same run: DiskLoad (bench/jmh, the
# Disk API with N requests in flight) on a file disk with the uring engine, a file disk with the threads engine and a
# block disk on a loop device over the same file, beside fio's io_uring and psync engines on the file. Prints a
# Markdown table: IOPS or MiB/s, mean and p99 latency, and each column's ratios to fio io_uring.
#
#   bench/native-io.sh [RUNTIME_SECONDS] [FILE_SIZE]      (defaults: 15 and 1G)
#
# Environment:
#   BENCH_DIR  where the file goes (default bench/target/native-io): a real disk file system, as O_DIRECT on tmpfs
#              would measure memory copies (the script refuses tmpfs and checks that O_DIRECT works)
#   RAMP       unmeasured seconds before each run (default 2)
#   JOBS       a regular expression picking rows ("4k randread qd1", "4k randread qd32", "1M read qd8", "1M write qd8")
#   COLUMNS    the columns to run (default "fio-uring fio-psync file-uring file-threads fio-loop block"; fio-loop is
#              fio io_uring on the loop device, the reference of the block column)
#   JFR        a directory: each DiskLoad run records a Java Flight Recording there (profile settings)
#   SKIP_BUILD set to 1 to use bench/jmh as already built (default: build it with -am, so the jars are this tree's)
#
# psync has one request in flight per job, so its queue depth N is N jobs (numjobs=N, iodepth=1, group_reporting);
# for the sequential rows each job streams through its own 1/N of the file. The threads engine gets max(8, N) I/O
# threads (its default is 8), so that it can keep N requests in flight too. The block column prints "n/a" while no
# resolver of kind "block" is on DiskLoad's class path, or when no loop device can be set up.
#
# The whole run holds the build lock ($DISKHOST_BUILD_LOCK, default /tmp/diskhost-build.lock; set it empty to skip),
# so no build on a shared machine competes with the measurement. Needs fio, losetup (as root) and JDK 25.
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../bin/lib/java.sh
source "$home/bin/lib/java.sh"
runtime=${1:-15}
size=${2:-1G}
ramp=${RAMP:-2}
job_filter=${JOBS:-.}
columns=${COLUMNS:-fio-uring fio-psync file-uring file-threads fio-loop block}
dir=${BENCH_DIR:-$home/bench/target/native-io}

lock=${DISKHOST_BUILD_LOCK-/tmp/diskhost-build.lock}
if [ -n "$lock" ]; then
  exec 9>>"$lock"
  echo "bench: waiting for the build lock $lock..." >&2
  flock 9
fi

for tool in fio losetup python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
java=$(find_java) || { echo "bench: needs JDK 25 or newer" >&2; exit 1; }

mkdir -p "$dir"
fs=$(stat -f -c %T "$dir")
if [ "$fs" = tmpfs ]; then
  echo "bench: $dir is on tmpfs, where O_DIRECT reads memory; set BENCH_DIR to a directory on a disk" >&2
  exit 1
fi
if ! dd if=/dev/zero of="$dir/probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
  echo "bench: O_DIRECT does not work in $dir ($fs); set BENCH_DIR to another directory" >&2
  exit 1
fi
rm -f "$dir/probe"
image="$dir/bench.img"
work=$(mktemp -d "$dir/run.XXXXXX")
loop=
cleanup() {
  if [ -n "$loop" ]; then losetup -d "$loop" || echo "bench: could not detach $loop" >&2; fi
  rm -rf "$work" "$image"
}
trap cleanup EXIT

if [ "${SKIP_BUILD:-}" != 1 ]; then
  echo "bench: building bench/jmh..." >&2
  (cd "$home" && ./mvnw -q -B -pl bench/jmh -am package -DskipTests)
fi
classpath="$home/bench/jmh/target/classes:$(cat "$home/bench/jmh/target/classpath.txt")"

echo "bench: preparing a $size file of random data in $dir ($fs)" >&2
fio --name=fill --filename="$image" --size="$size" --rw=write --bs=1M --ioengine=psync --direct=1 --refill_buffers \
    --output=/dev/null
sync
bytes=$(stat -c %s "$image")

loop_note=
if [[ " $columns " == *" block "* ]]; then
  if loop=$(losetup --find --show --direct-io=on "$image" 2>"$work/losetup.err"); then
    echo "bench: loop device $loop (direct I/O: $(cat "/sys/block/${loop#/dev/}/loop/dio"))" >&2
  else
    loop=
    loop_note="no loop device: $(cat "$work/losetup.err")"
    echo "bench: $loop_note" >&2
  fi
fi

# row name | fio rw | block size | queue depth
jobs=(
  "4k randread qd1|randread|4k|1"
  "4k randread qd32|randread|4k|32"
  "1M read qd8|read|1M|8"
  "1M write qd8|write|1M|8"
)

results="$work/results.tsv"
: > "$results"

record() { # row, column, then "iops mib mean_us p99_us" or a word for a cell that has no numbers
  printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$results"
}

run_fio() { # row, column, rw, bs, qd, engine[, device or file: the bench file by default]
  local row=$1 column=$2 rw=$3 bs=$4 qd=$5 engine=$6 target=${7:-$image}
  local shape=(--iodepth="$qd" --size="$bytes")
  if [ "$engine" = psync ]; then
    shape=(--iodepth=1 --numjobs="$qd" --group_reporting)
    if [[ $rw != rand* ]]; then
      shape+=(--size=$((bytes / qd / 1048576 * 1048576)) --offset_increment=$((bytes / qd / 1048576 * 1048576)))
    else
      shape+=(--size="$bytes")
    fi
  fi
  fio --name=bench --filename="$target" --ioengine="$engine" --direct=1 --rw="$rw" --bs="$bs" "${shape[@]}" \
      --norandommap --randrepeat=0 --time_based --runtime="$runtime" --ramp_time="$ramp" --lat_percentiles=1 \
      --output-format=json --output="$work/fio.json"
  record "$row" "$column" "$(python3 - "$work/fio.json" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
side = job["read"] if job["read"]["io_bytes"] > 0 else job["write"]
lat = side["lat_ns"]
errors = job.get("error", 0)
print(f"{side['iops']:.1f} {side['bw_bytes'] / 1048576:.1f} {lat['mean'] / 1000:.1f} "
      f"{lat['percentile']['99.000000'] / 1000:.1f}" if not errors else "failed")
PY
)"
}

run_load() { # row, column, rw, bs, qd, disk spec
  local row=$1 column=$2 rw=$3 bs=$4 qd=$5 spec=$6 status=0
  local flags=(--enable-native-access=ALL-UNNAMED)
  if [ -n "${JFR:-}" ]; then
    mkdir -p "$JFR"
    flags+=("-XX:StartFlightRecording=settings=profile,filename=$JFR/${column}-${row// /-}.jfr")
  fi
  "$java" "${flags[@]}" -cp "$classpath" org.diskhost.bench.DiskLoad --disk "$spec" --rw "$rw" --bs "$bs" \
      --qd "$qd" --runtime "$runtime" --ramp "$ramp" > "$work/load.json" 2> "$work/load.err" || status=$?
  if [ "$status" = 3 ]; then
    record "$row" "$column" "n/a"
    echo "bench: $column: $(cat "$work/load.err")" >&2
    return
  elif [ "$status" != 0 ]; then
    record "$row" "$column" "failed"
    echo "bench: $column $row failed:" >&2
    cat "$work/load.err" >&2
    return
  fi
  grep -v '^\[' "$work/load.err" >&2 || true # failed requests are reported there
  record "$row" "$column" "$(python3 - "$work/load.json" <<'PY'
import json, sys
# The last JSON line: with JFR the JVM logs its recording on standard output too.
r = json.loads([line for line in open(sys.argv[1]) if line.startswith("{")][-1])
print(f"{r['iops']:.1f} {r['mib_s']:.1f} {r['mean_us']:.1f} {r['p99_us']:.1f}" if r["errors"] == 0
      else f"errors:{r['errors']}")
PY
)"
}

for job in "${jobs[@]}"; do
  IFS='|' read -r row rw bs qd <<< "$job"
  [[ $row =~ $job_filter ]] || continue
  threads=$(( qd > 8 ? qd : 8 ))
  for column in $columns; do
    case $column in
      fio-uring) run_fio "$row" "$column" "$rw" "$bs" "$qd" io_uring ;;
      fio-psync) run_fio "$row" "$column" "$rw" "$bs" "$qd" psync ;;
      file-uring) run_load "$row" "$column" "$rw" "$bs" "$qd" \
          "{\"kind\":\"file\",\"path\":\"$image\",\"engine\":\"uring\",\"direct\":true}" ;;
      file-threads) run_load "$row" "$column" "$rw" "$bs" "$qd" \
          "{\"kind\":\"file\",\"path\":\"$image\",\"engine\":\"threads\",\"direct\":true,\"ioThreads\":$threads}" ;;
      fio-loop)
        if [ -z "$loop" ]; then
          record "$row" "$column" "n/a"
        else
          run_fio "$row" "$column" "$rw" "$bs" "$qd" io_uring "$loop"
        fi ;;
      block)
        if [ -z "$loop" ]; then
          record "$row" "$column" "n/a"
        else
          run_load "$row" "$column" "$rw" "$bs" "$qd" "{\"kind\":\"block\",\"path\":\"$loop\",\"direct\":true}"
        fi ;;
      *) echo "bench: unknown column $column" >&2; exit 1 ;;
    esac
    echo "bench: $row, $column: $(awk -F'\t' 'END { print $3 }' "$results")" >&2
  done
done

machine="$(nproc) CPUs: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1); Linux $(uname -r);
$("$java" -version 2>&1 | head -1); $(fio --version)"
python3 - "$results" "$runtime" "$ramp" "$size" "$dir ($fs)" "$machine" "$loop_note" <<'PY'
import sys
results, runtime, ramp, size, where, machine, loop_note = sys.argv[1:]
rows = {}
for line in open(results):
    row, column, cell = line.rstrip("\n").split("\t")
    rows.setdefault(row, {})[column] = [float(v) for v in cell.split()] if cell[0].isdigit() else cell
names = {"fio-uring": "fio io_uring", "fio-psync": "fio psync", "file-uring": "file (uring)",
         "file-threads": "file (threads)", "fio-loop": "fio io_uring (loop)", "block": "block (loop)"}
# The loop device is compared with fio on the same loop device: the loop driver's own cost is on both sides.
reference = {"fio-loop": "fio-loop", "block": "fio-loop"}
print(f"O_DIRECT, {runtime} s per run after {ramp} s of ramp, a {size} file in {where}; {machine}\n")
print("| job | engine | IOPS | MiB/s | mean µs | p99 µs | IOPS / fio io_uring | mean / fio io_uring |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for row, cells in rows.items():
    for column, cell in cells.items():
        ref = cells.get(reference.get(column, "fio-uring"))
        if isinstance(cell, str):
            print(f"| {row} | {names[column]} | {cell} | | | | | |")
            continue
        iops, mib, mean, p99 = cell
        ratios = (f"{iops / ref[0]:.2f}", f"{mean / ref[2]:.2f}") if isinstance(ref, list) else ("-", "-")
        print(f"| {row} | {names[column]} | {iops:.0f} | {mib:.1f} | {mean:.1f} | {p99:.1f} | {ratios[0]} | {ratios[1]} |")
print("\nRatios of block (loop) are to fio io_uring on the same loop device; all others to fio io_uring on the file.")
if loop_note:
    print(f"\nblock (loop): {loop_note}")
PY
