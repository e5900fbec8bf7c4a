#!/usr/bin/env bash
# The crypt backend's XTS-AES-256 beside OpenSSL's on this machine, in one run, one thread each: builds the
# benchmarks, runs JMH (XtsBenchmark: the cipher; CryptDiskBenchmark: the whole crypt disk over an in-memory disk)
# and `openssl speed -evp aes-256-xts` (encrypt and decrypt) at 4 KiB and 64 KiB, and prints one table.
#
#   bench/crypt.sh                                  # the short run recorded in bench/README.md
#   JMH_ARGS="-wi 5 -i 10 -f 1 -w 2s -r 2s" bench/crypt.sh   # longer JMH runs (replaces the default options)
#   BENCHMARKS=XtsBenchmark bench/crypt.sh          # the cipher only
#   OPENSSL_SECONDS=5 bench/crypt.sh                # longer OpenSSL runs (default 3 s per size and direction)
#
# The whole run holds the build lock ($DISKHOST_BUILD_LOCK, default /tmp/diskhost-build.lock; set it empty to
# skip), so no build on a shared machine competes with the measurement. Raw results stay in bench/target/crypt/.
set -euo pipefail

home=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../bin/lib/java.sh
source "$home/bin/lib/java.sh"

lock=${DISKHOST_BUILD_LOCK-/tmp/diskhost-build.lock}
if [ -n "$lock" ]; then
  exec 9>>"$lock"
  echo "crypt bench: waiting for the build lock $lock..." >&2
  flock 9
fi

java=$(find_java) || { echo "crypt bench: needs JDK 25 or newer" >&2; exit 1; }
openssl=$(command -v openssl) || { echo "crypt bench: needs openssl" >&2; exit 1; }
out="$home/bench/target/crypt"
mkdir -p "$out"

echo "crypt bench: building the benchmarks..." >&2
(cd "$home" && ./mvnw -q -B -pl bench/jmh -am package -DskipTests)
classpath="$home/bench/jmh/target/classes:$(cat "$home/bench/jmh/target/classpath.txt")"

echo "crypt bench: JMH..." >&2
# shellcheck disable=SC2086 # JMH_ARGS is a list of options
"$java" --sun-misc-unsafe-memory-access=allow -cp "$classpath" org.openjdk.jmh.Main "org.diskhost.bench.crypt.(${BENCHMARKS:-XtsBenchmark|CryptDiskBenchmark})" \
  ${JMH_ARGS:--wi 3 -i 5 -f 1 -w 1s -r 1s} -rf csv -rff "$out/jmh.csv" > "$out/jmh.log"

# OpenSSL's single-thread XTS-AES-256 in bytes per second: each -bytes block is one data unit.
openssl_speed() { # bytes, then "" or -decrypt
  "$openssl" speed -seconds "${OPENSSL_SECONDS:-3}" -bytes "$1" $2 -evp aes-256-xts 2>/dev/null \
    | awk '/^AES-256-XTS/ { v = $2; sub(/k$/, "", v); printf "%.0f\n", v * 1000 }'
}
echo "crypt bench: openssl speed..." >&2
: > "$out/openssl.txt"
for bytes in 4096 65536; do
  for direction in encrypt decrypt; do
    flag=; [ "$direction" = decrypt ] && flag=-decrypt
    echo "$bytes $direction $(openssl_speed "$bytes" "$flag")" >> "$out/openssl.txt"
  done
done

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo
echo "crypt (XTS-AES-256), one thread; MB/s = 10^6 bytes/s; $(nproc) CPUs: $cpu"
echo "$("$java" -version 2>&1 | head -1); $("$openssl" version)"
echo
awk -F, -v openssl="$out/openssl.txt" '
  BEGIN {
    while ((getline line < openssl) > 0) { split(line, f, " "); ossl[f[1] " " f[2]] = f[3] }
  }
  { sub(/\r$/, "") } # JMH writes CRLF line ends
  NR == 1 { next }
  {
    for (i = 1; i <= NF; i++) gsub(/"/, "", $i)
    n = split($1, name, "."); bench = name[n - 1] "." name[n]
    bytes = $8; sector = $9
    mbs[bench " " bytes " " sector] = $5 * bytes / 1e6
    err[bench " " bytes " " sector] = $6 * bytes / 1e6
  }
  function cell(key) { return (key in mbs) ? sprintf("%6.0f +-%4.0f", mbs[key], err[key]) : sprintf("%13s", "-") }
  function ratio(key, ref) { return (key in mbs && ref > 0) ? sprintf("%5.0f%%", 100 * mbs[key] / ref) : "     -" }
  END {
    printf "%-8s %-7s | %13s %8s %6s | %13s %8s %6s | %13s %13s\n", "request", "sector", \
      "XTS encrypt", "OpenSSL", "ratio", "XTS decrypt", "OpenSSL", "ratio", "disk write", "disk read"
    for (bytes = 4096; bytes <= 65536; bytes *= 16) {
      for (sector = 512; sector <= 4096; sector *= 8) {
        k = bytes " " sector
        e = ossl[bytes " encrypt"] / 1e6; d = ossl[bytes " decrypt"] / 1e6
        printf "%-8s %-7s | %s %8.0f %s | %s %8.0f %s | %s %s\n", bytes / 1024 " KiB", sector " B", \
          cell("XtsBenchmark.encrypt " k), e, ratio("XtsBenchmark.encrypt " k, e), \
          cell("XtsBenchmark.decrypt " k), d, ratio("XtsBenchmark.decrypt " k, d), \
          cell("CryptDiskBenchmark.write " k), cell("CryptDiskBenchmark.read " k)
      }
    }
    plain = ""
    for (bytes = 4096; bytes <= 65536; bytes *= 16) for (sector = 512; sector <= 4096; sector *= 8) {
      k = bytes " " sector
      if (("CryptDiskBenchmark.plainWrite " k) in mbs)
        plain = plain sprintf(" %s/%s write %.0f read %.0f;", bytes / 1024 " KiB", sector " B", \
          mbs["CryptDiskBenchmark.plainWrite " k], mbs["CryptDiskBenchmark.plainRead " k])
    }
    if (plain != "") printf "\nthe in-memory disk alone (no crypt), MB/s:%s\n", plain
  }' "$out/jmh.csv"
echo
echo "OpenSSL: openssl speed -seconds ${OPENSSL_SECONDS:-3} -bytes N [-decrypt] -evp aes-256-xts (N = request size," \
  "one data unit per request). Raw: $out/"
