#!/usr/bin/env bash
# One-shot GPU check for issue 20, for a machine with an NVIDIA GPU and no network: builds the CUDA libraries from the
# already-fetched llama.cpp source (native/llama.cpp), runs the GPU tests, the GPU benchmark and the diagnostics that
# separate the capture hypotheses (llama-bench pp512 with and without -ot CPU overrides of blocks 13..25, capture with
# ubatch 512 vs 3072, the graph's splits under GGML_SCHED_DEBUG, a capture-only slice vs the full model), and writes
# the GPU section of docs/benchmarks.md (scripts/bench.sh --gpu's section, then this script's diagnostics block).
# It also runs the SAE encode with compaction on the device (GpuCompactEncodeTest, and CompactReadbackBench: dense vs
# compact read-back, seconds and bytes per block) and adds that table to the diagnostics block.
# Every step runs under its own timeout; the timeouts add up to at most 565 s: 480 s (8 minutes, issue 20) for the
# build, tests, benchmark and diagnostics, 85 s for the two compaction steps (GpuCheckScriptTest checks both). A failed or timed-out
# step is reported and the steps that do not need its output still run; results are cached, so a rerun resumes.
# Usage: scripts/gpu-check.sh [--dry-run] [--only STEP[,STEP...]]
#   --dry-run  print every step with its timeout, check what can be checked without a GPU (source present and
#              verified, nvcc, cmake configure with -DGGML_CUDA=ON, how far a CUDA build gets) and exit 0
#   --only     run just these steps (their prerequisites are not checked), e.g. to rerun one that timed out
# Environment: JLENS_GPU_CHECK_DOC (the file given the diagnostics block, default docs/benchmarks.md),
#   JLENS_BENCH_DIR (default $JLENS_CACHE/bench, shared with scripts/bench.sh), JLENS_CUDA_ARCHS (default:
#   the GPU's compute capability from nvidia-smi; 90 in a dry run), JLENS_GPU_CHECK_BUILD_PROBE_S (dry run: seconds
#   the CUDA compile probe may take, default 120), JLENS_GPU_CHECK_PROBE=0 (dry run: list and check, but no cmake).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

dry=0; only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --only) [ $# -ge 2 ] || die "--only needs step names"; only=",$2,"; shift ;;
    *) die "unknown option $1 (use --dry-run, --only STEP[,STEP...])" ;;
  esac
  shift
done
BUDGET=565
B="${JLENS_BENCH_DIR:-$JLENS_CACHE/bench}"
R="$B/results-gpu-check"
native="$B/native-cuda"
full="$B/gemma2-2b-shape-q8_0.gguf"
slice="$B/gemma2-2b-shape-q8_0-through-12.gguf"
jar="$JLENS_ROOT/target/jlens-0.1.0-SNAPSHOT.jar"
if [ -z "${JLENS_CUDA_ARCHS:-}" ]; then
  cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
  JLENS_CUDA_ARCHS=${cc:-90}
fi
export JLENS_CUDA_ARCHS
T=$(nproc)
java_cmd="\"\$JAVA_HOME/bin/java\" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Djlens.native.dir=$native -Djlens.project.dir=$JLENS_ROOT -cp $jar:$JLENS_ROOT/target/lib/*:$JLENS_ROOT/target/test-classes"
bench="$java_cmd dev.jlens.bench.Bench"
cli="$java_cmd dev.jlens.cli.Main"
ot='blk\.(1[3-9]|2[0-5])\.=CPU'

# name | timeout s | needs (step that must have passed, or -) | command
STEPS=(
  "gpu|10|-|nvidia-smi -L && nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv,noheader"
  "source|10|-|cd $JLENS_ROOT && git -C native/llama.cpp rev-parse 'HEAD^{tree}' | grep -qx \$(sed -n 's/^tree=//p' native/llama.cpp.pin) && echo 'llama.cpp source verified'"
  "build-cuda|150|source|JLENS_NATIVE_OUT=$native $JLENS_ROOT/scripts/build-native.sh --cuda --bench-tools"
  "jar|40|-|cd $JLENS_ROOT && { [ -f $jar ] && [ -f target/test-classes/dev/jlens/bench/Bench.class ] && [ -f target/test-classes/dev/jlens/sae/CompactReadbackBench.class ] && [ -z \"\$(find src/main src/bench bindings pom.xml -newer $jar -type f -print -quit)\" ] || mvn -q -o -B -DskipTests package; }"
  "models|40|jar|{ [ -f $full ] || $cli toy-model --kind gemma2-2b-shape --type q8_0 --out $full; } && { [ -f $slice ] || $cli slice --model $full --through-layer 12 --out $slice; } && ls -l $full $slice"
  "gpu-tests|40|build-cuda|cd $JLENS_ROOT && mvn -q -o -B -Djlens.native.dir=$native -Djlens.build.dir=$B/gpu-check-build -Dtest='GpuCaptureTest,LensApiTest' -Dsurefire.failIfNoSpecifiedTests=false test"
  "llama-bench-ngl99|20|models|LD_LIBRARY_PATH=$native $native/llama-bench -m $full -p 512 -n 0 -ngl 99 -r 3 -o json > $R/llama-bench-ngl99.json"
  "llama-bench-ot-cpu|25|models|LD_LIBRARY_PATH=$native $native/llama-bench -m $full -p 512 -n 0 -ngl 99 -ot '$ot' -r 3 -o json > $R/llama-bench-ot-cpu.json"
  "capture-ub512|15|models|$bench capture model=$full prompts=256 gpu=true ubatch=512 threads=$T runs=3 label=capture-ub512 out=$R/capture-ub512.json"
  "capture-ub3072|15|models|$bench capture model=$full prompts=256 gpu=true ubatch=3072 threads=$T runs=3 label=capture-ub3072 out=$R/capture-ub3072.json"
  "sched-debug|15|models|printf '%s\\n' handlers=java.util.logging.ConsoleHandler java.util.logging.ConsoleHandler.level=ALL dev.jlens.llama.native.level=ALL > $R/jul-all.properties && GGML_SCHED_DEBUG=2 ${bench/-Djlens.native.dir/-Djava.util.logging.config.file=$R/jul-all.properties -Djlens.native.dir} capture model=$full prompts=8 gpu=true threads=$T runs=1 label=sched-debug out=$R/sched-debug.json > $R/sched-debug.log 2>&1; grep -o 'SPLIT #[0-9]*: [A-Za-z0-9_]*' $R/sched-debug.log | sort -u | grep ."
  "capture-slice|15|models|$bench capture model=$slice prompts=256 gpu=true ubatch=512 threads=$T runs=3 label=capture-slice out=$R/capture-slice.json"
  "bench-gpu|75|build-cuda|JLENS_NATIVE_DIR=$native $JLENS_ROOT/scripts/bench.sh --gpu"
  "compact-tests|50|build-cuda|cd $JLENS_ROOT && mvn -q -o -B -Djlens.native.dir=$native -Djlens.build.dir=$B/gpu-check-build -Djlens.test.sae262k=$B/layer_12/width_262k-bf16 -Dtest='GpuCompactEncodeTest' -Dsurefire.failIfNoSpecifiedTests=false test"
  "compact-bench|35|build-cuda|n=0; for st in 262k-bf16:2048 16k-f32/params.npz:4096; do s=\${st%:*}; [ -e $B/layer_12/width_\$s ] || { echo \"no SAE $B/layer_12/width_\$s (bench-gpu writes it)\"; continue; }; $java_cmd dev.jlens.sae.CompactReadbackBench sae=$B/layer_12/width_\$s tokens=\${st##*:} device=GPU threads=$T runs=3 out=$R/compact-bench-\${s%%/*}.json && n=\$((n + 1)); done; [ \$n -gt 0 ]"
  "report|10|-|write_diagnostics"
)

total=0
names=","
for s in "${STEPS[@]}"; do IFS='|' read -r n t _ _ <<<"$s"; total=$((total + t)); names="$names$n,"; done
for n in ${only//,/ }; do [[ "$names" == *",$n,"* ]] || die "--only: unknown step '$n' (steps: ${names:1:-1})"; done
[ "$total" -le "$BUDGET" ] || die "the step timeouts add up to $total s, over the $BUDGET s budget"

# Replaces (or appends after the GPU section) the block between the gpu-check markers in docs/benchmarks.md.
write_diagnostics() {
  local doc="${JLENS_GPU_CHECK_DOC:-$JLENS_ROOT/docs/benchmarks.md}" tmp num
  num() { local v; v=$(sed -n "s/.*\"$2\" *: *\([0-9.eE+-]*\).*/\1/p" "$1" 2>/dev/null | head -1); echo "${v:-n/a (step did not finish)}"; }
  tmp=$(mktemp)
  {
    echo "<!-- gpu-check:begin (scripts/gpu-check.sh) -->"
    echo "### Diagnostics (scripts/gpu-check.sh, $(date -u '+%Y-%m-%d %H:%M UTC'))"
    echo
    echo "- GPU: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1); CUDA architectures $JLENS_CUDA_ARCHS"
    echo "- model: 2B-shaped Q8_0 toy; slice through layer 12 (blocks 0..13): $(stat -c %s "$slice" 2>/dev/null) of $(stat -c %s "$full" 2>/dev/null) bytes"
    echo
    echo "| diagnostic | tokens/s |"
    echo "|---|---|"
    echo "| llama-bench pp512 -ngl 99 | $(num "$R/llama-bench-ngl99.json" avg_ts) |"
    echo "| llama-bench pp512 -ngl 99 -ot '${ot//|/\\|}' (blocks 13..25 in CPU memory) | $(num "$R/llama-bench-ot-cpu.json" avg_ts) |"
    echo "| capture layer 12, full model, ubatch 512 | $(num "$R/capture-ub512.json" tokens_per_s) |"
    echo "| capture layer 12, full model, ubatch 3072 | $(num "$R/capture-ub3072.json" tokens_per_s) |"
    echo "| capture layer 12, slice through 12, ubatch 512 | $(num "$R/capture-slice.json" tokens_per_s) |"
    echo
    echo "SAE encode on the GPU, dense read-back (the [tokens x d_sae] block copied back and scanned in Java) vs compaction on the device"
    echo "(counts and (feature, value) pairs; scripts/gpu-check.sh compact-bench, N(0, 1) tokens, median of 3):"
    echo
    echo "| SAE | tokens | mean L0 | dense block | dense s | dense GFLOP/s | dense bytes/block | compact block | compact s | compact GFLOP/s | compact bytes/block |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for s in 262k-bf16 16k-f32; do
      f="$R/compact-bench-$s.json"
      echo "| $s | $(num "$f" tokens) | $(num "$f" mean_l0) | $(num "$f" dense_block) | $(num "$f" dense_seconds) | $(num "$f" dense_gflops) | $(num "$f" dense_bytes_per_block) | $(num "$f" compact_block) | $(num "$f" compact_seconds) | $(num "$f" compact_gflops) | $(num "$f" compact_bytes_per_block) |"
    done
    echo
    splits=$(grep -o 'SPLIT #[0-9]*: [A-Za-z0-9_]*' "$R/sched-debug.log" 2>/dev/null | sort -u)
    echo "Graph splits of a layer-12 capture under GGML_SCHED_DEBUG=2 (ggml's DEBUG log, routed through java.util.logging at ALL):" \
      "$( [ -n "$splits" ] && echo "$(grep -c . <<<"$splits") per graph ($(sed 's/^SPLIT //' <<<"$splits" | tr '\n' ' ' | sed 's/ $//'))" || echo n/a)."
    echo "Steps: $(cat "$R/steps.txt" 2>/dev/null | tr '\n' ';' )"
    echo "<!-- gpu-check:end -->"
  } >"$tmp.block"
  if grep -q '<!-- gpu-check:begin' "$doc"; then
    awk -v f="$tmp.block" '/<!-- gpu-check:begin/{while((getline l < f)>0) print l; skip=1; next} /<!-- gpu-check:end/{skip=0; next} !skip' "$doc" >"$tmp"
  elif grep -q '<!-- gpu-bench:end' "$doc"; then
    awk -v f="$tmp.block" '{print} /<!-- gpu-bench:end/{print ""; while((getline l < f)>0) print l}' "$doc" >"$tmp"
  else
    { cat "$doc"; echo; cat "$tmp.block"; } >"$tmp"
  fi
  mv "$tmp" "$doc" && rm -f "$tmp.block"
  echo "wrote the diagnostics block of $doc"
}

if [ "$dry" = 1 ]; then
  echo "gpu-check: dry run: ${#STEPS[@]} steps, timeouts add up to $total s of the $BUDGET s budget"
  for s in "${STEPS[@]}"; do
    IFS='|' read -r name t needs cmd <<<"$s"
    printf 'step %-20s timeout %4ss  needs %-11s %s\n' "$name" "$t" "$needs" "$cmd"
  done
  echo "gpu-check: checks possible without a GPU:"
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then echo "  gpu: $(nvidia-smi -L | head -1)"; else echo "  gpu: none (nvidia-smi -L fails or is missing): the GPU steps cannot run here"; fi
  want_tree=$(pin tree)
  have_tree=$(git -C "$JLENS_ROOT/native/llama.cpp" rev-parse 'HEAD^{tree}' 2>/dev/null || true)
  if [ -n "$have_tree" ] && [ "$have_tree" = "$want_tree" ]; then echo "  source: native/llama.cpp present, tree $have_tree as pinned"
  else echo "  source: native/llama.cpp missing or not the pinned tree (have '${have_tree:-none}', want $want_tree): run scripts/fetch-llama.sh while online"; fi
  nvcc_bin=${CUDACXX:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
  if [ -x "$nvcc_bin" ]; then echo "  nvcc: $nvcc_bin, $("$nvcc_bin" --version | sed -n 's/.*release \([0-9.]*\).*/release \1/p')"; else echo "  nvcc: not found"; fi
  cublas=$(ls /usr/local/cuda*/lib64/libcublas.so* /usr/lib/x86_64-linux-gnu/libcublas.so* 2>/dev/null | head -1)
  echo "  cuBLAS: ${cublas:-not found (ggml-cuda links CUDA::cublas: the CUDA build cannot link here)}"
  probe="$B/gpu-check-configure-probe"
  if [ "${JLENS_GPU_CHECK_PROBE:-1}" = 0 ]; then
    echo "  configure: skipped (JLENS_GPU_CHECK_PROBE=0)"
  elif [ -n "$have_tree" ] && command -v cmake >/dev/null; then
    rm -rf "$probe"; mkdir -p "$probe"
    if timeout 120 cmake -S "$JLENS_ROOT" -B "$probe" -DJLENS_LLAMA_DIR="$JLENS_ROOT/native/llama.cpp" -DJLENS_CUDA=ON -DJLENS_PORTABLE=OFF \
        -DCMAKE_CUDA_ARCHITECTURES="$JLENS_CUDA_ARCHS" ${nvcc_bin:+-DCMAKE_CUDA_COMPILER="$nvcc_bin"} >"$probe.configure.log" 2>&1; then
      echo "  configure: cmake with -DJLENS_CUDA=ON (GGML_CUDA=ON) configures: $(grep -i 'GGML_CUDA\|CUDA Toolkit\|CUDAToolkit' "$probe/CMakeCache.txt" | grep -i 'GGML_CUDA:\|CUDAToolkit_VERSION:' | tr '\n' ' ')"
      # how far a build gets: one CUDA object, then the ggml-cuda library (which needs cuBLAS to link)
      tgt=$(cmake --build "$probe" --target help 2>/dev/null | sed -n 's/^\.\.\. \(ggml-cuda\)$/\1/p' | head -1)
      if [ -n "$tgt" ]; then
        if timeout "${JLENS_GPU_CHECK_BUILD_PROBE_S:-120}" cmake --build "$probe" --target "$tgt" -j "$(nproc)" >"$probe.build.log" 2>&1; then
          echo "  build: target $tgt builds"
        else
          rc=$?
          done_cu=$(grep -c '\.cu\.o$\|Building CUDA object' "$probe.build.log" || true)
          if [ "$rc" = 124 ]; then echo "  build: target $tgt still compiling after ${JLENS_GPU_CHECK_BUILD_PROBE_S:-120} s ($done_cu CUDA objects started; nvcc works)"
          else echo "  build: target $tgt stops ($done_cu CUDA objects started): $(grep -m1 -i 'error' "$probe.build.log" | cut -c1-200)"; fi
        fi
      else
        echo "  build: no ggml-cuda target in the configured tree"
      fi
    else
      passed=$(grep -E 'CUDA Toolkit found|CUDA compiler identification|Including CUDA backend|Configuring done' "$probe.configure.log" | sed 's/^-- //' | tr '\n' ';')
      err=$(grep -A3 'CMake Error' "$probe.configure.log" | grep -v '^ *$' | head -4 | sed 's/^ *//' | tr '\n' ' ' | cut -c1-240)
      echo "  configure: cmake with -DJLENS_CUDA=ON (GGML_CUDA=ON) gets through: ${passed:-nothing}"
      echo "  configure: then fails: ${err:-$(tail -3 "$probe.configure.log" | tr '\n' ' ')} (log: $probe.configure.log)"
    fi
    # one ggml-cuda source through nvcc for the chosen architecture: shows whether the toolkit can compile ggml-cuda
    cu="$JLENS_ROOT/native/llama.cpp/ggml/src/ggml-cuda/arange.cu"
    if [ -x "$nvcc_bin" ] && [ -f "$cu" ]; then
      g="$JLENS_ROOT/native/llama.cpp/ggml"
      if timeout 120 "$nvcc_bin" -arch="sm_${JLENS_CUDA_ARCHS%%;*}" -std=c++17 -I"$g/include" -I"$g/src" -I"$g/src/ggml-cuda" -DGGML_USE_CUDA \
          -c "$cu" -o "$probe.arange.o" >"$probe.nvcc.log" 2>&1; then
        echo "  nvcc: compiles ggml-cuda/arange.cu for sm_${JLENS_CUDA_ARCHS%%;*}"
      else
        echo "  nvcc: ggml-cuda/arange.cu does not compile: $(grep -m1 -i 'error' "$probe.nvcc.log" | sed "s|$g/||g" | cut -c1-200)"
      fi
    fi
  else
    echo "  configure: skipped (no source or no cmake)"
  fi
  exit 0
fi

select_jdk
export JLENS_ROOT JLENS_CUDA_ARCHS R full slice ot JLENS_GPU_CHECK_DOC
export -f write_diagnostics
mkdir -p "$R"
: >"$R/steps.txt"
declare -A ok
failed=0
start=$SECONDS
for s in "${STEPS[@]}"; do
  IFS='|' read -r name t needs cmd <<<"$s"
  if [ -n "$only" ]; then [[ "$only" == *",$name,"* ]] || continue; needs=-; fi
  if [ "$needs" != - ] && [ "${ok[$needs]:-0}" != 1 ]; then
    echo "gpu-check: $name skipped ($needs did not pass)" | tee -a "$R/steps.txt" >&2; failed=1; continue
  fi
  echo "gpu-check: $name (timeout ${t}s)..." >&2
  t0=$SECONDS
  timeout -k 5 "$t" bash -c "$cmd" >"$R/$name.log" 2>&1; rc=$?
  if [ "$rc" = 0 ]; then ok[$name]=1; status=ok
  elif [ "$rc" = 124 ]; then status="timed out after ${t}s"; failed=1
  else status="failed (exit $rc)"; failed=1; fi
  echo "$name: $status in $((SECONDS - t0)) s" | tee -a "$R/steps.txt" >&2
  [ "$rc" = 0 ] || tail -5 "$R/$name.log" | sed 's/^/    /' >&2
done
echo "gpu-check: done in $((SECONDS - start)) s; logs and results in $R" >&2
exit "$failed"
