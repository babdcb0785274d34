#!/usr/bin/env bash
# The test command: builds the pinned llama.cpp libraries (cached), then runs every test
# (unit + integration against the real native build) with Maven.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
select_jdk
command -v mvn >/dev/null || die "Maven (mvn) is needed"
"$JLENS_ROOT/scripts/build-native.sh" >&2
"$JLENS_ROOT/scripts/build-other-ggml.sh" >&2   # the second ggml of the coexistence test
"$JLENS_ROOT/scripts/fetch-web-deps.sh" >&2
cd "$JLENS_ROOT"
exec mvn -B -ntp verify "$@"
