#!/usr/bin/env bash
# Builds the distribution archive (called by Maven in host/launcher's package phase):
#   distribution.sh TARGET VERSION ROOT MODULES
# TARGET is host/launcher/target (with diskhost/bundle, diskhost/lib and the launcher jar), ROOT the source root
# (for conf/ and bin/lib/java.sh), MODULES the JDK modules of the runtime, comma-separated. Leaves
# TARGET/diskhost-VERSION-linux-x86_64.tar.gz, holding diskhost-VERSION/.
set -euo pipefail
target=$1 version=$2 root=$3 modules=$4
name=diskhost-$version
dist=$target/dist/$name

# shellcheck source=../../../../bin/lib/java.sh
source "$root/bin/lib/java.sh"
java=$(find_java) || { echo "distribution: needs JDK 25 or newer for jlink" >&2; exit 1; }
jlink=$(dirname "$java")/jlink

rm -rf "$target/dist"
mkdir -p "$dist/lib" "$dist/conf"
# A runtime of only the modules diskhost needs (what jdeps finds in the bundles and the launcher), without debug
# information, header files and man pages. Its classes are left uncompressed (--compress): gzip then packs them
# better (the archive's runtime: 22 MB instead of 27 MB), and they load without inflating.
"$jlink" --add-modules "$modules" --output "$dist/runtime" --strip-debug --no-header-files --no-man-pages
cp -r "$target/diskhost/bundle" "$dist/bundle"
cp "$target/diskhost/lib/"*.jar "$dist/lib/"
cp "$(ls "$target"/diskhost-host-launcher-*.jar | grep -v -- '-sources' | head -1)" "$dist/lib/diskhost-launcher.jar"
cp "$root/conf/diskhost.json" "$dist/conf/"
cp "$root/README.md" "$dist/"
cp -r "$target/../src/dist/bin" "$target/../src/dist/systemd" "$dist/"
chmod 0755 "$dist/bin/diskhost"
tar -C "$target/dist" --owner=0 --group=0 --sort=name -I 'gzip -9' -cf "$target/$name-linux-x86_64.tar.gz" "$name"
echo "distribution: $target/$name-linux-x86_64.tar.gz ($(du -k "$target/$name-linux-x86_64.tar.gz" | cut -f1) KiB)"
