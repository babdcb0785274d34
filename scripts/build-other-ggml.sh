#!/usr/bin/env bash
# Builds a second, differently configured ggml from the pinned source, with upstream library names
# (libggml-base.so.0, libggml.so.0; no OpenMP) and, like a llama.cpp release, its CPU backend as loadable
# modules (libggml-cpu-x64.so, libggml-cpu-haswell.so: two of the variants, the file names jlens' portable
# build uses too), into native/other-ggml.
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
  cmake -S "$JLENS_ROOT/native/llama.cpp" -B "$build" -G "Unix Makefiles" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON \
    -DGGML_NATIVE=OFF -DGGML_OPENMP=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON -DLLAMA_BUILD_COMMON=OFF -DLLAMA_BUILD_TOOLS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
    -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH='$ORIGIN' >"$build.configure.log" 2>&1 \
    || { tail -30 "$build.configure.log" >&2; die "cmake configure of the second ggml failed (log: $build.configure.log)"; }
  # libggml depends on every CPU variant in this configuration; build two of them, then libggml alone
  # (the Makefile generator's <target>/fast skips the dependencies) instead of all 14 (~8 minutes on 2 cores)
  { cmake --build "$build" --target ggml-base ggml-cpu-x64 ggml-cpu-haswell -j "$(nproc)" \
      && cmake --build "$build" --target ggml/fast -j "$(nproc)"; } >"$build.build.log" 2>&1 \
    || { tail -30 "$build.build.log" >&2; die "second ggml build failed (log: $build.build.log)"; }
  touch "$build/.jlens-built"
fi
mkdir -p "$out"
rm -f "$out"/lib*.so*
find "$build" -maxdepth 2 -name 'libggml*.so*' -exec cp -P {} "$out"/ \;
[ -f "$out/libggml-base.so.0" ] && [ -f "$out/libggml-cpu-x64.so" ] || die "no libggml-base.so.0 / libggml-cpu-x64.so in $build"
echo "$out"
