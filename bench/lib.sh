# Shared by the NBD bench scripts (sourced, not run): a work directory removed on exit with the servers started in
# it, waiting for a port, and one fio JSON result as a tab-separated row.

# bench_workdir PREFIX: sets $work (a new directory under /tmp) and $pids; kills the pids and removes it on exit.
bench_workdir() {
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# wait_port PORT: until something accepts on 127.0.0.1:PORT (at most 60 s).
wait_port() {
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  echo "bench: nothing listens on port $1" >&2
  return 1
}

# fio_row JSON SERVER JOB: "SERVER<TAB>JOB<TAB>IOPS<TAB>MiB/s" of the job's read side, or its write side if it wrote.
fio_row() {
  python3 - "$@" <<'PY'
import json, sys
job = json.load(open(sys.argv[1]))["jobs"][0]
side = job["read"] if job["read"]["io_bytes"] > 0 else job["write"]
print(f"{sys.argv[2]}\t{sys.argv[3]}\t{side['iops']:.0f}\t{side['bw_bytes'] / 1048576:.1f}")
PY
}
