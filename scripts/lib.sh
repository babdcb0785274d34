# Shared helpers for jlens scripts. Source it; do not run it.
# shellcheck shell=bash

JLENS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JLENS_CACHE="${JLENS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jlens}"

die() { echo "jlens: $*" >&2; exit 2; }

# Reads one key of native/llama.cpp.pin.
pin() { sed -n "s/^$1=//p" "$JLENS_ROOT/native/llama.cpp.pin"; }

# Selects a JDK >= 22 (FFM is final there) and exports JAVA_HOME and PATH.
select_jdk() {
  local cand v
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] && [ -x "$cand/bin/javac" ] || continue
    v=$("$cand/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    v=${v%%.*}
    if [ -n "$v" ] && [ "$v" -ge 22 ] 2>/dev/null; then
      export JAVA_HOME="$cand" PATH="$cand/bin:$PATH"
      return 0
    fi
  done
  die "no JDK >= 22 found (looked at \$JAVA_HOME and /usr/lib/jvm/*). Install JDK 25 (e.g. Temurin) and set JAVA_HOME."
}

# Folder holding the built shared libraries that Java loads ($JLENS_NATIVE_OUT, else native/lib).
native_lib_dir() { echo "${JLENS_NATIVE_OUT:-$JLENS_ROOT/native/lib}"; }

# Whether folder $1 holds a complete install of build-native.sh: natives.list is written last, after every
# library it lists (libjlens-*.so.0, the libggml-*.so backend modules) is in place.
natives_installed() {
  [ -f "$1/natives.list" ] && [ -f "$1/libjlens-llama.so.0" ] || return 1
  local name
  while read -r _ name; do [ -f "$1/$name" ] || return 1; done < "$1/natives.list"
}
