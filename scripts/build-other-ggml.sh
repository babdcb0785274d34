#!/usr/bin/env bash
# Builds a second, differently configured ggml from the pinned source, with upstream library names
# (libggml-base.so.0, libggml-cpu.so.0, libggml.so.0; no -march=native, no OpenMP), into native/other-ggml.
# It stands in for "another wrapper's libggml" in the coexistence test (NativeCoexistenceTest): both builds
# are loaded into one JVM and used. Cached outside the clone like scripts/build-native.sh.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$JLENS_ROOT/scripts/fetch-llama.sh" >&2
commit=$(pin commit)
me=$(sha256sum "$0" | cut -c1-8)
build="$JLENS_CACHE/build/ggml-other-${commit:0:12}-$me"
out="$JLENS_ROOT/native/other-ggml"
if [ ! -f "$build/.jlens-built" ]; then
  rm -rf "$build"; mkdir -p "$build"
  command -v cmake >/dev/null || die "cmake is needed (apt-get install cmake)"
  cmake -S "$JLENS_ROOT/native/llama.cpp" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DGGML_BACKEND_DL=OFF -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TOOLS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH='$ORIGIN' >"$build.configure.log" 2>&1 \
    || { tail -30 "$build.configure.log" >&2; die "cmake configure of the second ggml failed (log: $build.configure.log)"; }
  cmake --build "$build" --target ggml -j "$(nproc)" >"$build.build.log" 2>&1 \
    || { tail -30 "$build.build.log" >&2; die "second ggml build failed (log: $build.build.log)"; }
  touch "$build/.jlens-built"
fi
mkdir -p "$out"
rm -f "$out"/lib*.so*
find "$build" -maxdepth 2 -name 'libggml*.so*' -exec cp -P {} "$out"/ \;
[ -f "$out/libggml-base.so.0" ] || die "no libggml-base.so.0 in $build"
echo "$out"
