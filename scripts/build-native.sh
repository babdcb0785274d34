#!/usr/bin/env bash
# Builds the pinned llama.cpp shared libraries with the top-level CMakeLists.txt, caches the build
# outside the clone (keyed by llama.cpp commit + flags), and installs the libraries into native/lib.
# Portable by default (what the jar carries): no -march=native, ggml's CPU backend as one module per x86
# feature level (libggml-cpu-<variant>.so), the best one for the running CPU loaded at run time.
# --native builds one linked CPU backend for this machine only (-march=native) instead; so does --cuda.
# Usage: scripts/build-native.sh [--cuda] [--native] [--bench-tools]
# Environment: JLENS_NATIVE_OUT (install folder, default native/lib), JLENS_CUDA_ARCHS (with --cuda),
# CUDACXX (nvcc to use; /usr/local/cuda/bin/nvcc is tried when nvcc is not on PATH).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flags=(-DJLENS_PORTABLE=ON); key=cpu
if [ -z "${CUDACXX:-}" ] && ! command -v nvcc >/dev/null && [ -x /usr/local/cuda/bin/nvcc ]; then export CUDACXX=/usr/local/cuda/bin/nvcc; fi
for a in "$@"; do
  case "$a" in
    --cuda) flags+=(-DJLENS_CUDA=ON); key="$key-cuda"
            # JLENS_CUDA_ARCHS overrides the default 86;89;90 (e.g. one arch for a quicker compile check)
            if [ -n "${JLENS_CUDA_ARCHS:-}" ]; then flags+=(-DCMAKE_CUDA_ARCHITECTURES="$JLENS_CUDA_ARCHS"); key="$key-${JLENS_CUDA_ARCHS//;/_}"; fi ;;
    --native) flags=("${flags[@]/-DJLENS_PORTABLE=ON/-DJLENS_PORTABLE=OFF}"); key="$key-native" ;;
    --bench-tools) flags+=(-DJLENS_BENCH_TOOLS=ON); key="$key-bench" ;;
    *) die "unknown option $a" ;;
  esac
done
# A CUDA build is made on and for its GPU machine: the linked layout (one CPU backend for that machine, linked
# in, + libjlens-ggml-cuda), the configuration the GPU tests pass with on an H200. The portable layout with
# ggml's libggml-cuda.so module crashed there loading a CPU model once the CUDA module was loaded (README,
# "Building with CUDA"), so it is not what --cuda builds.
if [[ " ${flags[*]} " == *JLENS_CUDA=ON* ]]; then flags=("${flags[@]/-DJLENS_PORTABLE=ON/-DJLENS_PORTABLE=OFF}"); fi
commit=$(pin commit)
# keyed by our CMakeLists.txt too: a change there (e.g. library names) must not reuse an old build
cmk=$(sha256sum "$JLENS_ROOT/CMakeLists.txt" | cut -c1-8)
build="$JLENS_CACHE/build/llama-${commit:0:12}-$cmk-$key"
out="${JLENS_NATIVE_OUT:-$(native_lib_dir)}"
stamp="$build/.jlens-built"
mkdir -p "$JLENS_CACHE/build" "$(dirname "$out")"
# Concurrent runs (parallel launches of scripts/jlens, a test run beside them) are serialised: one lock per build
# folder around fetching and compiling, one per install folder around installing. Each step re-checks after
# taking its lock, so whoever waited finds the work done.
exec 8>"$build.lock"
flock 8
"$JLENS_ROOT/scripts/fetch-llama.sh" >&2
# a build folder configured from another checkout cannot be reused by CMake: start it afresh
if [ -f "$build/CMakeCache.txt" ] && ! grep -qx "CMAKE_HOME_DIRECTORY:INTERNAL=$JLENS_ROOT" "$build/CMakeCache.txt"; then
  if [ -f "$stamp" ] && [ -d "$build/bin" ]; then
    : # finished build: its libraries do not depend on where the sources were
  else
    rm -rf "$build"
  fi
fi
if [ ! -f "$stamp" ]; then
  mkdir -p "$build"
  command -v cmake >/dev/null || die "cmake is needed (apt-get install cmake)"
  cmake -S "$JLENS_ROOT" -B "$build" -DJLENS_LLAMA_DIR="$JLENS_ROOT/native/llama.cpp" "${flags[@]}" >"$build.configure.log" 2>&1 \
    || { tail -30 "$build.configure.log" >&2; die "cmake configure failed (log: $build.configure.log)"; }
  # every target: the libraries, the backend modules (portable mode: nothing links them, so they are not
  # dependencies of libllama) and llama-bench with --bench-tools
  echo "build-native: building llama.cpp ${commit:0:12} (${flags[*]}) in $build" >&2
  cmake --build "$build" -j "$(nproc)" >"$build.build.log" 2>&1 \
    || { tail -30 "$build.build.log" >&2; die "native build failed (log: $build.build.log)"; }
  printf '%s\n' "$commit ${flags[*]}" > "$stamp"
fi
exec 8>&-

# Install. The folder names its build in .jlens-build; an install of the same build is left alone (it used to be
# deleted and re-copied on every call, and a JVM starting meanwhile found it half empty or loaded a half-written
# library). A new install is assembled in a temporary folder beside the target and renamed into place: a missing
# target appears complete at once; an existing one (another build) gets each file by rename(2), the libraries
# first and natives.list (what readers check) last, then loses the files the new build does not have.
id="$(basename "$build") $(cat "$stamp")"
mkdir -p "$JLENS_CACHE/locks"
exec 9>"$JLENS_CACHE/locks/install-$(printf '%s' "$(cd "$(dirname "$out")" && pwd)/$(basename "$out")" | sha256sum | cut -c1-16).lock"
flock 9
# a temporary folder left by an install that was killed (only the lock holder makes them, so any left is stale)
rm -rf "$(dirname "$out")/.$(basename "$out").new."*
if natives_installed "$out" && [ "$(cat "$out/.jlens-build" 2>/dev/null)" = "$id" ]; then
  echo "$out"
  exit 0
fi
tmp=$(mktemp -d "$(dirname "$out")/.$(basename "$out").new.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp -P "$build"/bin/lib*.so* "$tmp"/
[ -d "$build/bin" ] && [ -x "$build/bin/llama-bench" ] && cp "$build/bin/llama-bench" "$tmp/" || true
# the files the jar carries and NativeLibrary extracts and checks (a jar folder cannot be listed):
# "sha256  name" for the libraries under their SONAMEs and the backend modules
( cd "$tmp" && ls libjlens-*.so.0 libggml-*.so 2>/dev/null | LC_ALL=C sort | xargs sha256sum ) > "$tmp/natives.list"
printf '%s\n' "$id" > "$tmp/.jlens-build"
chmod 755 "$tmp"
if [ ! -e "$out" ]; then
  mv -T "$tmp" "$out"
else
  for f in "$tmp"/*; do
    n=$(basename "$f")
    [ "$n" = natives.list ] || mv -f "$f" "$out/$n"
  done
  mv -f "$tmp/.jlens-build" "$out/.jlens-build"
  mv -f "$tmp/natives.list" "$out/natives.list"
  for f in "$out"/lib*.so* "$out/llama-bench"; do
    [ -e "$f" ] || [ -L "$f" ] || continue
    n=$(basename "$f")
    grep -q "  $n\$" "$out/natives.list" || [ -e "$build/bin/$n" ] || rm -f "$f"
  done
fi
echo "$out"
