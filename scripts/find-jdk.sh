#!/usr/bin/env bash
# Sourced by ./jmd, scripts/test and .ci/run: sets JAVA_HOME to a JDK 25 or newer.
# Order: $JAVA_HOME if it is 25+, then the usual JVM folders, newest first.
# Prints a clear message and returns 1 when no JDK 25+ exists.

jmd_java_major() { # $1 = a JDK home; prints its feature version, or nothing
  local rel="$1/release" v
  [ -x "$1/bin/java" ] || return 0
  if [ -f "$rel" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$rel")
  else
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n 1)
  fi
  echo "$v"
}

jmd_find_jdk() {
  local want=25 cand major
  if [ -n "${JAVA_HOME:-}" ]; then
    major=$(jmd_java_major "$JAVA_HOME")
    if [ -n "$major" ] && [ "$major" -ge "$want" ]; then return 0; fi
  fi
  for cand in $(ls -d /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
                  "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home 2>/dev/null | sort -rV); do
    major=$(jmd_java_major "$cand")
    if [ -n "$major" ] && [ "$major" -ge "$want" ]; then
      export JAVA_HOME="$cand"
      return 0
    fi
  done
  echo "jmd: no JDK $want or newer found." >&2
  echo "     Looked at \$JAVA_HOME (${JAVA_HOME:-unset}) and /usr/lib/jvm, /usr/java, /opt/java, ~/.sdkman, ~/.jdks." >&2
  echo "     Install one (e.g. Temurin 25) and/or set JAVA_HOME to it." >&2
  return 1
}
