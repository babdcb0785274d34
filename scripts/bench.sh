#!/usr/bin/env bash
# Performance benchmarks: capture vs llama-bench, eval-callback overhead, SAE encode vs FMA peak, France
# experiment memory and wall time. Writes docs/benchmarks.md from the measurements of this run.
# Usage: scripts/bench.sh [--quick] [--gpu] [--atlas [--small]] [--fresh]
#   --quick  fewer runs, 16k SAE only, fewer prompts (under ~10 minutes on 2 cores)
#   --atlas  only the feature atlas (2B-shaped Q8_0 model, 16k SAE calibrated to it): statistics cost vs capture-only
#            (interleaved shard by shard), peak RSS at growing corpus sizes (JLENS_BENCH_ATLAS_TOKENS, default
#            "1024 4096 16384" on the 2B shape; JLENS_BENCH_ATLAS_TOY_TOKENS, default "10000 100000 1000000" on the planted
#            toy), Spark local[2] vs embedded (needs spark/ built by scripts/jlens-spark), accumulator memory of a 262k SAE,
#            --encoder auto vs a calibration; written as the atlas section of docs/benchmarks.md. Sizes:
#            JLENS_BENCH_ATLAS_AB_TOKENS (statistics cost, default 8192), JLENS_BENCH_ATLAS_SPARK_TOKENS (default 200000)
#   --small  with --atlas: small sizes for a loaded machine (statistics cost 1024 tokens, RSS at 1024 tokens of the
#            2B shape and 2000 and 10000 of the toy, Spark 3000 tokens); the variables above still override them
#   --gpu    on a machine with an NVIDIA GPU: builds llama.cpp with CUDA (JLENS_CUDA_ARCHS), measures capture with
#            blocks 0..12 offloaded vs llama-bench -ngl 99 (Q8_0 and Q4_0 2B-shaped models) and the ggml-gpu SAE
#            encode (16k and 262k, f32 and bf16), and writes them as the GPU section of docs/benchmarks.md
#   --fresh  forget cached results of this mode (generated model/SAE files are always reused)
# Environment: JLENS_BENCH_DIR (default $JLENS_CACHE/bench: generated inputs, results, bench native build),
#   JLENS_BENCH_THREADS (default nproc), JLENS_NATIVE_DIR (libllama to benchmark; default: the bench build).
# Resumable: each measurement is one JSON under results-<mode>/ and is skipped when present.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
select_jdk

mode=full; fresh=0; small=0
for a in "$@"; do
  case "$a" in
    --quick) mode=quick ;;
    --gpu) mode=gpu ;;
    --atlas) mode=atlas ;;
    --fresh) fresh=1 ;;
    --small) small=1 ;;
    *) die "unknown option $a (use --quick, --gpu, --atlas, --small, --fresh)" ;;
  esac
done
B="${JLENS_BENCH_DIR:-$JLENS_CACHE/bench}"
R="$B/results-$mode"
T="${JLENS_BENCH_THREADS:-$(nproc)}"
[ "$fresh" = 1 ] && rm -rf "$R"
mkdir -p "$R" "$B/layer_12"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# llama-bench and the libraries from one build of the pinned source (kept out of native/lib, which tests use)
native="${JLENS_NATIVE_DIR:-$B/native}"; build_flags=(--bench-tools)
if [ "$mode" = gpu ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1 || die "--gpu needs an NVIDIA GPU and its driver (nvidia-smi -L failed)"
  native="${JLENS_NATIVE_DIR:-$B/native-cuda}"; build_flags=(--cuda --bench-tools)
fi
if [ -z "${JLENS_NATIVE_DIR:-}" ]; then
  # cached per commit, flags and CMakeLists.txt: quick when nothing changed, and never a stale copy
  echo "bench: llama.cpp ${build_flags[*]} into $native (built on first use)..." >&2
  JLENS_NATIVE_OUT="$native" "$JLENS_ROOT/scripts/build-native.sh" "${build_flags[@]}" >"$B/build-native.log" 2>&1 \
    || die "llama.cpp bench build failed (log: $B/build-native.log)"
fi
[ -f "$native/libjlens-llama.so.0" ] || die "no libjlens-llama.so.0 in $native"

jar="$JLENS_ROOT/target/jlens-0.1.0-SNAPSHOT.jar"
# the driver (dev.jlens.bench, src/bench/java) is not in the product jar: `package` compiles it with the tests
# (-DskipTests skips running them, not compiling them) into target/test-classes
classes="$JLENS_ROOT/target/test-classes"
if [ ! -f "$jar" ] || [ ! -f "$classes/dev/jlens/bench/Bench.class" ] \
    || [ -n "$(find "$JLENS_ROOT/src/main" "$JLENS_ROOT/src/bench" "$JLENS_ROOT/bindings" "$JLENS_ROOT/pom.xml" -newer "$jar" -type f -print -quit)" ]; then
  (cd "$JLENS_ROOT" && mvn -q -B -DskipTests package >&2) || die "build failed"
fi
# the same JVM flags as scripts/jlens
java=("$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector ${JLENS_JAVA_OPTS:-}
      -Djlens.native.dir="$native" -Djlens.project.dir="$JLENS_ROOT" -cp "$jar:$JLENS_ROOT/target/lib/*:$classes")
cli() { "${java[@]}" dev.jlens.cli.Main "$@"; }

# inputs, generated once and reused (a Q8_0 2B-shaped model is ~2.8 GB, a 262k f32 SAE ~4.8 GB)
model="$B/gemma2-2b-shape-q8_0.gguf"
[ -f "$model" ] || cli toy-model --kind gemma2-2b-shape --type q8_0 --out "$model" >&2
sae() { # width dsae -> Gemma Scope f32 npz and SAELens bf16 dir under layer_12 (the hook layer is read from there)
  local d="$B/layer_12/width_$1"
  [ -f "$d-f32/params.npz" ] || { mkdir -p "$d-f32"; cli toy-sae --d-sae "$2" --npz "$d-f32/params.npz" >&2; }
  [ -f "$d-bf16/cfg.json" ] || cli toy-sae --d-sae "$2" --bf16 --saelens "$d-bf16" >&2
}
[ "$mode" != atlas ] && sae 16k 16384
[ "$mode" != quick ] && [ "$mode" != atlas ] && sae 262k 262144

step() { # name args... : one driver run, skipped when its result exists
  local name=$1; shift
  [ -f "$R/$name.json" ] && { echo "bench: $name (cached)" >&2; return 0; }
  echo "bench: $name..." >&2
  "${java[@]}" dev.jlens.bench.Bench "$@" label="$name" out="$R/$name.json"
}

env_common() {
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
  echo "nproc=$(nproc)"
  echo "jdk=$("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | tr -d '"')"
  echo "llama_commit=$(pin commit)"
  echo "threads=$T"
}

if [ "$mode" = gpu ]; then
  for t in q8_0 q4_0; do
    m="$B/gemma2-2b-shape-$t.gguf"
    [ -f "$m" ] || cli toy-model --kind gemma2-2b-shape --type "$t" --out "$m" >&2
    if [ ! -f "$R/llama-bench-$t.json" ]; then
      echo "bench: llama-bench pp512 -ngl 99 ($t)..." >&2
      LD_LIBRARY_PATH="$native" "$native/llama-bench" -m "$m" -p 512 -n 0 -ngl 99 -r 5 -o json >"$R/llama-bench-$t.json.tmp" \
        && mv "$R/llama-bench-$t.json.tmp" "$R/llama-bench-$t.json"
    fi
    step "capture-gpu-$t-256" capture model="$m" prompts=256 gpu=true threads="$T" runs=5
  done
  for w in 16k 262k; do
    tok=4096; [ "$w" = 262k ] && tok=1024
    for fmt in f32 bf16; do
      s="$B/layer_12/width_$w-$fmt"; [ "$fmt" = f32 ] && s="$s/params.npz"
      step "encode-$w-$fmt-ggml-gpu" encode sae="$s" kind=ggml-gpu tokens="$tok" threads="$T" runs=5
    done
  done
  { env_common
    echo "gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1)"
    echo "cuda_archs=${JLENS_CUDA_ARCHS:-86;89;90}"
  } >"$R/env.properties"
  "${java[@]}" dev.jlens.bench.Bench report-gpu results="$R" out="$JLENS_ROOT/docs/benchmarks.md"
  echo "bench: wrote the GPU section of $JLENS_ROOT/docs/benchmarks.md" >&2
  exit 0
fi

if [ "$mode" = quick ]; then runs=3; pp=256; lbreps=2; ovt=32; enc16=256; caps=(64); e2e=(10:1 10:4); fine=16k
else runs=5; pp=512; lbreps=5; ovt=512; enc16=1024; caps=(64 256); e2e=(200:1 200:4); fine=262k; fi

if [ "$mode" != atlas ]; then
step peak peak threads="$T" runs="$runs"
if [ -x "$native/llama-bench" ] && [ ! -f "$R/llama-bench.json" ]; then
  echo "bench: llama-bench pp$pp..." >&2
  LD_LIBRARY_PATH="$native" "$native/llama-bench" -m "$model" -p "$pp" -n 0 -t "$T" -r "$lbreps" -o json >"$R/llama-bench.json.tmp" \
    && mv "$R/llama-bench.json.tmp" "$R/llama-bench.json"
elif [ ! -x "$native/llama-bench" ]; then
  echo "bench: no llama-bench in $native: the report uses the tap=false decode of the overhead run as the pp baseline" >&2
fi
for n in "${caps[@]}"; do step "capture-$n" capture model="$model" prompts="$n" threads="$T" runs="$runs"; done
step overhead overhead model="$model" tokens="$ovt" threads="$T" runs="$runs"
for w in 16k $([ "$mode" = full ] && echo 262k); do
  tok=$enc16; [ "$w" = 262k ] && tok=$((enc16 / 8))
  for fmt in f32 bf16; do
    s="$B/layer_12/width_$w-$fmt"; [ "$fmt" = f32 ] && s="$s/params.npz"
    for k in vector ggml; do step "encode-$w-$fmt-$k" encode sae="$s" kind="$k" tokens="$tok" threads="$T" runs="$runs"; done
  done
done
# the vector/ggml ratio from alternating runs in one JVM (the separate runs above drift apart on a shared machine)
for w in 16k $([ "$mode" = full ] && echo 262k); do
  tok=$enc16; [ "$w" = 262k ] && tok=$((enc16 / 8))
  for fmt in f32 bf16; do
    s="$B/layer_12/width_$w-$fmt"; [ "$fmt" = f32 ] && s="$s/params.npz"
    step "encode-ab-$w-$fmt" encode-ab sae="$s" tokens="$tok" threads="$T" runs=$((runs + 2))
  done
done
fi
# the experiment runs on SAEs calibrated to this model's layer-12 residual (like trained SAEs; the encode
# benchmarks above use toys calibrated to N(0, 1) tokens, which fire on most features of real activations)
model_sae() { # width dsae -> layer_12/width_<w>-model/params.npz, with its calibration record in results
  local d="$B/layer_12/width_$1-model"
  [ -f "$d/params.npz" ] && [ -f "$R/model-sae-$1.json" ] && return 0
  echo "bench: SAE $1 calibrated to the model's layer-12 activations..." >&2
  "${java[@]}" dev.jlens.bench.Bench model-sae model="$model" d_sae="$2" threads="$T" npz="$d/params.npz" \
    label="model-sae-$1" out="$R/model-sae-$1.json" || die "model-calibrated SAE failed"
}
model_sae 16k 16384
[ "$fine" = 262k ] && [ "$mode" != atlas ] && model_sae 262k 262144
if [ "$mode" = atlas ]; then
  model_sae 16k 16384
  sae16="$B/layer_12/width_16k-model/params.npz"
  corpus="$B/atlas-corpus.txt"
  [ -f "$corpus" ] || "${java[@]}" dev.jlens.bench.Bench atlas-corpus corpus="$corpus" words=1500000 out="$R/atlas-corpus.json"
  if [ "$small" = 1 ]; then ab_tokens=1024; rss_tokens="1024"; toy_tokens="2000 10000"; spark_tokens=3000
  else ab_tokens=8192; rss_tokens="1024 4096 16384"; toy_tokens="10000 100000 1000000"; spark_tokens=200000; fi
  step atlas-ab atlas model="$model" sae="$sae16" corpus="$corpus" tokens="${JLENS_BENCH_ATLAS_AB_TOKENS:-$ab_tokens}" threads="$T" shard=8 \
    lens=32 work="$B/work-atlas-ab"
  rss() { # name model sae tokens
    [ -f "$R/$1.json" ] && { echo "bench: $1 (cached)" >&2; return 0; }
    echo "bench: $1 (peak RSS, $4 tokens)..." >&2
    rm -rf "$B/work-$1" "$R/$1.disk"
    # the work folder's peak size (checkpoints and spilled codes), sampled every 5 s
    ( peak=0; while sleep 5; do s=$(du -sb "$B/work-$1" 2>/dev/null | cut -f1) || continue
        [ -n "$s" ] && [ "$s" -gt "$peak" ] && { peak=$s; echo "$peak" >"$R/$1.disk"; }; done ) &
    local mon=$!
    # a fixed heap, so the JVM's lazy heap growth does not read as memory that grows with the corpus
    /usr/bin/time -f '%M' -o "$R/$1.time" "${java[@]}" -Xmx512m dev.jlens.bench.Bench atlas model="$2" sae="$3" corpus="$corpus" tokens="$4" \
      threads="$T" shard=32 baseline=false lens=0 work="$B/work-$1" label="$1" out="$R/$1.json"
    kill "$mon" 2>/dev/null || true
    rm -rf "$B/work-$1"
  }
  for n in ${JLENS_BENCH_ATLAS_TOKENS:-$rss_tokens}; do rss "atlas-rss-$n" "$model" "$sae16" "$n"; done
  toy="$JLENS_ROOT/models/generated/planted-france"
  [ -f "$toy/model.gguf" ] || cli atlas --max-tokens 1 --out "$B/work-toy-init" >/dev/null 2>&1 || true
  for n in ${JLENS_BENCH_ATLAS_TOY_TOKENS:-$toy_tokens}; do rss "atlas-toy-rss-$n" "$toy/model.gguf" "$toy/coarse/params.npz" "$n"; done
  [ -f "$R/atlas-memory-262k.json" ] || "${java[@]}" -Xmx4g dev.jlens.bench.Bench atlas-memory d_sae=262144 out="$R/atlas-memory-262k.json"
  s32="$B/layer_12/width_16k-f32/params.npz"; s16="$B/layer_12/width_16k-bf16"
  [ -f "$s32" ] || cli toy-sae --d-sae 16384 --npz "$s32" >&2
  [ -f "$s16/cfg.json" ] || cli toy-sae --d-sae 16384 --bf16 --saelens "$s16" >&2
  step encoder-calibrate-16k-f32 encoder-calibrate sae="$s32" tokens=256 threads="$T" pairs=5
  step encoder-calibrate-16k-bf16 encoder-calibrate sae="$s16" tokens=256 threads="$T" pairs=5
  # Spark local[2] vs embedded: the same CLI and class path (spark/ built by scripts/jlens-spark), whole runs, alternating
  sjar="$JLENS_ROOT/spark/target/jlens-spark-0.1.0-SNAPSHOT.jar"
  if [ ! -f "$R/spark-vs-embedded.json" ] && [ -f "$sjar" ] && [ -f "$JLENS_ROOT/spark/target/classpath.txt" ]; then
    sflags="$(sed -n 's:.*<spark.jvm.flags>\(.*\)</spark.jvm.flags>.*:\1:p' "$JLENS_ROOT/spark/pom.xml")"
    stok=${JLENS_BENCH_ATLAS_SPARK_TOKENS:-$spark_tokens}
    runs_json=""
    for i in 1 2; do
      for how in embedded spark; do
        rm -rf "$B/work-spark-$how"
        extra=(); [ "$how" = spark ] && extra=(--spark 'local[2]')
        t0=$(date +%s.%N)
        # shellcheck disable=SC2086
        SPARK_LOCAL_IP=127.0.0.1 "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector $sflags \
          -Djlens.native.dir="$native" -Djlens.project.dir="$JLENS_ROOT" -cp "$sjar:$(cat "$JLENS_ROOT/spark/target/classpath.txt")" dev.jlens.cli.Main \
          atlas --model "$toy/model.gguf" --sae "$toy/coarse/params.npz" \
          --corpus "$corpus" --max-tokens "$stok" --out "$B/work-spark-$how" "${extra[@]}" >"$B/spark-$how.log" 2>&1 \
          || die "atlas $how failed (log: $B/spark-$how.log)"
        eval "${how}_s=$(echo "$(date +%s.%N) - $t0" | bc)"
      done
      runs_json="$runs_json${runs_json:+,}{\"run\": $i, \"tokens\": $stok, \"embedded_s\": $embedded_s, \"spark_s\": $spark_s, \"load\": \"$(cut -d' ' -f1-3 /proc/loadavg)\"}"
    done
    cmp -s "$B/work-spark-embedded/features.jsonl" "$B/work-spark-spark/features.jsonl" || die "Spark and embedded features.jsonl differ"
    printf '{"note": "%s", "runs": [%s]}\n' "Planted toy model and its coarse SAE, $stok tokens of the generated corpus, whole runs of the same CLI on one class path (JVM start, model and SAE hashing, Spark session start, both passes, logit lens, writing), alternating embedded and Spark; embedded uses $T model threads, Spark local[2] two tasks of spark.task.cpus=1 thread. features.jsonl byte-identical." "$runs_json" >"$R/spark-vs-embedded.json"
  elif [ ! -f "$sjar" ]; then
    echo "bench: no $sjar: build it with scripts/jlens-spark (or mvn -f spark/pom.xml package) for the Spark comparison" >&2
  fi
  { env_common; echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"; } >"$R/env.properties"
  "${java[@]}" dev.jlens.bench.Bench report-atlas results="$R" out="$JLENS_ROOT/docs/benchmarks.md"
  echo "bench: wrote the atlas section of $JLENS_ROOT/docs/benchmarks.md" >&2
  exit 0
fi
for spec in "${e2e[@]}"; do
  limit=${spec%%:*}; rep=${spec##*:}; name="e2e-$((2 * limit * rep))"
  [ -f "$R/$name.json" ] && { echo "bench: $name (cached)" >&2; continue; }
  echo "bench: $name (France experiment, $((2 * limit * rep)) prompts)..." >&2
  /usr/bin/time -f '%M' -o "$R/$name.time" "${java[@]}" dev.jlens.bench.Bench e2e model="$model" \
    coarse="$B/layer_12/width_16k-model/params.npz" fine="$B/layer_12/width_$fine-model/params.npz" limit="$limit" repeat="$rep" \
    threads="$T" work="$B/work-$name" label="$name" out="$R/$name.json"
done

{
  echo "mode=$mode"
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cpu=$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)"
  echo "simd=$(grep -o -w -E 'avx2|fma|avx512f|avx512bw|avx512_bf16|avx_vnni' /proc/cpuinfo | sort -u | tr '\n' ' ')"
  echo "nproc=$(nproc)"
  echo "memory=$(free -g | awk '/^Mem:/ {print $2 " GiB total, " $7 " GiB available"}')"
  echo "jdk=$("$JAVA_HOME/bin/java" -version 2>&1 | head -1 | tr -d '"')"
  echo "llama_commit=$(pin commit)"
  echo "cpu_backend=$(cli natives 2>/dev/null | sed -n 's/^cpu backend *//p')"
  echo "threads=$T"
  echo "load_start=$load_start"
  echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$R/env.properties"
"${java[@]}" dev.jlens.bench.Bench report results="$R" out="$JLENS_ROOT/docs/benchmarks.md"
echo "bench: wrote $JLENS_ROOT/docs/benchmarks.md ($mode mode)" >&2
