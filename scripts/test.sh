#!/usr/bin/env bash
# The test command: builds the pinned llama.cpp libraries (cached), then runs every test
# (unit + integration against the real native build) with Maven, the root project and then the Spark module.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
select_jdk
command -v mvn >/dev/null || die "Maven (mvn) is needed"
"$JLENS_ROOT/scripts/build-native.sh" >&2
"$JLENS_ROOT/scripts/build-other-ggml.sh" >&2   # the second ggml of the coexistence test
"$JLENS_ROOT/scripts/fetch-web-deps.sh" >&2
cd "$JLENS_ROOT"
# the root project is verified and installed into the local Maven repository, where the Spark module (spark/, a
# separate Maven project so the core never depends on Spark) finds it; then the Spark module's tests run on an
# embedded local[2] master. Either failing fails the script.
mvn -B -ntp install "$@"
exec mvn -B -ntp -f spark/pom.xml verify "$@"
