#!/usr/bin/env bash
# JMH benchmarks of the SAE kernels (Vector API vs scalar twin, f32/bf16): scripts/jmh.sh [JMH options]
# e.g. scripts/jmh.sh -f 1 -wi 2 -i 3 KernelBenchmarks.encodeTile   (results: target/jmh-result.json)
set -euo pipefail
. "$(dirname "$0")/lib.sh"
select_jdk
cd "$JLENS_ROOT"
build="${JLENS_JMH_BUILD:-$JLENS_ROOT/target/jmh-build}"
mvn -q -B -Pjmh -Djlens.build.dir="$build" -DskipTests test-compile dependency:build-classpath \
  -Dmdep.outputFile="$build/cp.txt" -Dmdep.includeScope=test >&2
exec "$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED \
  -cp "$build/test-classes:$build/classes:$(cat "$build/cp.txt")" org.openjdk.jmh.Main \
  -rf json -rff "$JLENS_ROOT/target/jmh-result.json" "$@"
