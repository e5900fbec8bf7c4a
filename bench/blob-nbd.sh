#!/usr/bin/env bash
# Compares a diskhost blob disk (kind "blob") served over NBD with nbdkit's curl plugin, both reading the same file
# from the same nginx, with fio's nbd engine in the same run. Prints a Markdown table (IOPS, MiB/s, ratio).
#
#   bench/blob-nbd.sh [RUNTIME_SECONDS] [FILE_SIZE]      (defaults: 15 and 1G)
#
# Environment: SERVERS (default "diskhost nbdkit-curl") picks the servers, JOBS (a regular expression) the jobs,
# BLOB_SETTINGS (JSON members added to the blob disk, e.g. '"connections": 16, "chunkSize": "256 KiB"').
# Needs fio, nbdkit (with its curl plugin) and nginx (apt-get install fio nbdkit nginx-light). Each server runs alone
# during its jobs. qemu's own curl driver (qemu-block-extra) is compared too when `qemu-img --help` lists it.
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runtime=${1:-15}
size=${2:-1G}
source "$home/bench/lib.sh"
bench_workdir diskhost-bench-blob
mkdir -p "$work/www" "$work/nginx/logs"
image="$work/www/bench.img"

nginx=$(command -v nginx || echo /usr/sbin/nginx)
for tool in fio nbdkit nbdinfo python3 "$nginx"; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

echo "bench: preparing a $size file of random data in $work" >&2
fio --name=fill --filename="$image" --size="$size" --rw=write --bs=1M --ioengine=psync --refill_buffers \
    --output=/dev/null
sync

# nginx: one server for all clients, as a blob store would be; page-cached file, sendfile.
user=""; [ "$(id -u)" = 0 ] && user="user root;"
cat > "$work/nginx/nginx.conf" <<CONF
$user
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy; fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:10830; root $work/www; }
}
CONF
"$nginx" -p "$work/nginx/" -c "$work/nginx/nginx.conf" &
pids+=($!)
wait_port 10830
url="http://127.0.0.1:10830/bench.img"

cat > "$work/diskhost.json" <<JSON
{
  "disks": { "bench": { "kind": "blob", "url": "$url"${BLOB_SETTINGS:+, $BLOB_SETTINGS} } },
  "nbd": { "listen": "127.0.0.1:10820", "exports": ["bench"] }
}
JSON

# job name, fio arguments
jobs=(
  "1M read qd1|--rw=read --bs=1M --iodepth=1"
  "1M read qd8|--rw=read --bs=1M --iodepth=8"
  "4k randread qd1|--rw=randread --bs=4k --iodepth=1"
  "4k randread qd32|--rw=randread --bs=4k --iodepth=32"
)

servers=${SERVERS:-diskhost nbdkit-curl}
if qemu-img --help 2>/dev/null | grep -qw curl; then servers="$servers qemu-curl"; fi
job_filter=${JOBS:-.}
results="$work/results.tsv"
: > "$results"

run_jobs() { # server name, fio target arguments
  local server=$1; shift
  for job in "${jobs[@]}"; do
    local name=${job%%|*} args=${job#*|}
    [[ $name =~ $job_filter ]] || continue
    # shellcheck disable=SC2086
    fio --name=bench "$@" --size="$size" --time_based --runtime="$runtime" \
        --ramp_time=2 $args --output-format=json --output="$work/out.json"
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
  # The blob disk opens asynchronously (a HEAD to nginx): the export exists once it is ready.
  for _ in $(seq 1 100); do nbdinfo --size "nbd://127.0.0.1:10820/bench" >/dev/null 2>&1 && break; sleep 0.2; done
  run_jobs diskhost --ioengine=nbd --uri="nbd://127.0.0.1:10820/bench"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ " $servers " == *" nbdkit-curl "* ]]; then
  echo "bench: nbdkit curl" >&2
  nbdkit --foreground --readonly --port 10821 --ipaddr 127.0.0.1 --exit-with-parent curl "$url" &
  pids+=($!)
  wait_port 10821
  run_jobs nbdkit-curl --ioengine=nbd --uri="nbd://127.0.0.1:10821/"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

if [[ " $servers " == *" qemu-curl "* ]]; then
  echo "bench: qemu-nbd with qemu's curl driver" >&2
  qemu-nbd --read-only --port=10822 --bind=127.0.0.1 --export-name=bench --persistent --shared=8 \
      "json:{\"file.driver\": \"http\", \"file.url\": \"$url\"}" &
  pids+=($!)
  wait_port 10822
  run_jobs qemu-curl --ioengine=nbd --uri="nbd://127.0.0.1:10822/bench"
  kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
fi

python3 - "$results" "$runtime" "$size" <<'PY'
import sys, collections
rows = collections.OrderedDict()
servers = []
for line in open(sys.argv[1]):
    server, job, iops, mib = line.rstrip("\n").split("\t")
    rows.setdefault(job, {})[server] = (float(iops), float(mib))
    if server not in servers:
        servers.append(server)
others = [s for s in servers if s != "diskhost"]
print(f"fio nbd engine, {sys.argv[2]} s per job, {sys.argv[3]} file served by nginx on loopback, one NBD connection\n")
head = "| job | " + " | ".join(f"{s} IOPS | {s} MiB/s" for s in servers) + " | " \
       + " | ".join(f"diskhost / {s}" for s in others) + " |"
print(head)
print("|---|" + "---:|" * (2 * len(servers) + len(others)))
for job, r in rows.items():
    cells = []
    for s in servers:
        v = r.get(s, (0, 0))
        cells += [f"{v[0]:.0f}", f"{v[1]:.1f}"]
    d = r.get("diskhost", (0, 0))
    ratios = [f"{d[1] / r[s][1]:.2f}" if r.get(s, (0, 0))[1] else "-" for s in others]
    print("| " + job + " | " + " | ".join(cells + ratios) + " |")
PY
