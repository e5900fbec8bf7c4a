#!/usr/bin/env bash
# Interleaved A/B runs of file-disk variants against fio io_uring: 4 KiB random reads, O_DIRECT, one 1 GiB file.
#
#   bench/native-io-ab.sh ROUNDS RUNTIME_SECONDS QD VARIANT_JAR...
#
# Each VARIANT_JAR is a backends/file jar (copy backends/file/target/*.jar aside after building each variant); DiskLoad
# runs with it in place of this tree's. Every round holds the build lock once and runs fio io_uring and each variant,
# the order rotated from round to round (the device drifts within minutes). Appends one line per run to
# bench/target/native-io/ab.tsv: qd, round, column, IOPS, mean µs, p99 µs. Needs bench/jmh built (bench/native-io.sh
# or ./mvnw -pl bench/jmh -am package -DskipTests).
set -euo pipefail
home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../bin/lib/java.sh
source "$home/bin/lib/java.sh"
rounds=$1 runtime=$2 qd=$3
shift 3
java=$(find_java)
dir=$home/bench/target/native-io
img=$dir/ab.img
out=$dir/ab.tsv
lock=${DISKHOST_BUILD_LOCK-/tmp/diskhost-build.lock}
mkdir -p "$dir"
if [ ! -f "$img" ]; then
  fio --name=fill --filename="$img" --size=1G --rw=write --bs=1M --ioengine=psync --direct=1 --refill_buffers \
      --output=/dev/null
fi
bytes=$(stat -c %s "$img")
others=$(tr ':' '\n' < "$home/bench/jmh/target/classpath.txt" | grep -v /backends/file/ | paste -sd:)
for r in $(seq 1 "$rounds"); do
  cols=(fio "$@")
  k=$(( (r - 1) % ${#cols[@]} ))
  cols=("${cols[@]:k}" "${cols[@]:0:k}")
  exec 9>>"${lock:-/dev/null}"
  [ -z "$lock" ] || flock 9
  for c in "${cols[@]}"; do
    if [ "$c" = fio ]; then
      fio --name=bench --filename="$img" --ioengine=io_uring --direct=1 --rw=randread --bs=4k --iodepth="$qd" \
          --size="$bytes" --norandommap --randrepeat=0 --time_based --runtime="$runtime" --ramp_time=2 \
          --lat_percentiles=1 --output-format=json --output="$dir/ab-fio.json"
      line=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))["jobs"][0]["read"]
print("%.0f\t%.1f\t%.1f" % (j["iops"], j["lat_ns"]["mean"] / 1000, j["lat_ns"]["percentile"]["99.000000"] / 1000))' \
          "$dir/ab-fio.json")
    else
      "$java" --enable-native-access=ALL-UNNAMED -cp "$home/bench/jmh/target/classes:$c:$others" \
          org.diskhost.bench.DiskLoad --disk "{\"kind\":\"file\",\"path\":\"$img\",\"engine\":\"uring\",\"direct\":true}" \
          --rw randread --bs 4k --qd "$qd" --runtime "$runtime" --ramp 2 > "$dir/ab-load.json"
      line=$(python3 -c 'import json, sys
r = json.loads([l for l in open(sys.argv[1]) if l.startswith("{")][-1])
print("%.0f\t%.1f\t%.1f" % (r["iops"], r["mean_us"], r["p99_us"]) if r["errors"] == 0 else "errors")' \
          "$dir/ab-load.json")
    fi
    printf 'qd%s\t%s\t%s\t%s\n' "$qd" "$r" "$(basename "$c")" "$line" | tee -a "$out"
  done
  [ -z "$lock" ] || flock -u 9
done
