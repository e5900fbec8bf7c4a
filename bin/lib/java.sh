# Finding JDK 25 without JAVA_HOME, for the scripts that run Java (bin/diskhost, bench/*.sh). Source it.

# The Java major version of a java binary, or 0.
java_major() {
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -1
}

# JDK 25 or newer, found without JAVA_HOME: JAVA_HOME if it is new enough, then the JDKs under /usr/lib/jvm,
# then java on the PATH.
find_java() {
  local candidate
  for candidate in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} $(ls -d /usr/lib/jvm/*/bin/java 2>/dev/null | sort -rV) \
      "$(command -v java 2>/dev/null || true)"; do
    if [ -x "$candidate" ] && [ "$(java_major "$candidate")" -ge 25 ] 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
