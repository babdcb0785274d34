#!/usr/bin/env bash
# Downloads the real Gemma 2 2B GGUF and the two Gemma Scope layer-12 residual SAEs (params.npz) into
# models/ (or $JLENS_MODELS_DIR), where models/registry.json and `jlens france --model ...` expect them.
# Every file comes from a pinned hub commit (<hub>/<repo>/resolve/<revision>/<file>, never a branch) and is
# checked against the sha256 recorded in models/registry.json before it is moved into place.
# Needs internet access to the model hub (not available on every machine) and python3 (to read the registry).
#
#   scripts/download-models.sh            # gemma-2-2b F16 GGUF + 16k + 262k SAEs (~10 GB)
#   scripts/download-models.sh --fast     # the Q8_0 GGUF instead of F16 (half the size; 8-bit activations, docs/quant-impact.md)
#   scripts/download-models.sh --no-262k  # skip the 4.8 GB 262k SAE
#   scripts/download-models.sh --pin      # first resolve what the registry does not pin yet: the current commit of
#                                         # each repository and the SHA-256 the hub publishes for each file, written
#                                         # into models/registry.json (review and commit that change), then download
#
# Environment: HF_TOKEN (Gemma's license must be accepted on the hub first), JLENS_MODELS_DIR,
# JLENS_HUB (base URL of the hub, default https://huggingface.co). Another GGUF of the BASE model (not the
# instruction-tuned one: Gemma Scope was trained on gemma-2-2b): JLENS_GGUF_REPO, JLENS_GGUF_FILE,
# JLENS_GGUF_REVISION (commit) and JLENS_GGUF_SHA256 (--pin prints the two for you to set).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

models="${JLENS_MODELS_DIR:-$JLENS_ROOT/models}"
registry="$JLENS_ROOT/models/registry.json"
[ -f "$models/registry.json" ] && registry="$models/registry.json"
hub="${JLENS_HUB:-https://huggingface.co}"
want_262k=1
pin=0
# F16 by default: quantised weights also quantise every matmul input (jlens quant-impact, docs/quant-impact.md)
gguf_model=gemma-2-2b-F16
for a in "$@"; do
  case "$a" in
    --no-262k) want_262k=0 ;;
    --fast) gguf_model=gemma-2-2b-Q8_0 ;;
    --pin) pin=1 ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) die "unknown option $a" ;;
  esac
done
command -v curl >/dev/null || die "curl is needed"
command -v python3 >/dev/null || die "python3 is needed to read $registry"

# reg <python expression over r (the registry) and a (the arguments)>: prints the value, empty for None
reg() {
  local expr=$1; shift
  python3 - "$registry" "$expr" "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
a = sys.argv[3:]
v = eval(sys.argv[2])
print("" if v is None else v)
PY
}

# reg_set <kind: releases|models> <name> <sae id or ""> <key> <value>: records a pinned value in the registry
reg_set() {
  python3 - "$registry" "$@" <<'PY'
import json, sys
path, kind, name, sae, key, value = sys.argv[1:7]
r = json.load(open(path))
node = r[kind][name]
if sae: node = node["saes"][sae]
node[key] = value
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(r, f, indent=2)
    f.write("\n")
import os; os.replace(tmp, path)
PY
}

auth=()
[ -n "${HF_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $HF_TOKEN")

# The commit main points to now (the hub's model API); used only by --pin.
resolve_revision() {
  local repo=$1 rev
  rev=$(curl -fsSL "${auth[@]}" "$hub/api/models/$repo/revision/main" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha"])') \
    || die "$repo: cannot resolve the current commit from $hub/api/models/$repo/revision/main"
  [[ "$rev" =~ ^[0-9a-f]{40}$ ]] || die "$repo: the hub answered '$rev', not a 40-hex-digit commit"
  echo "$rev"
}

# The SHA-256 the hub publishes for a git-LFS file at a commit (X-Linked-ETag of a HEAD request); used only by --pin.
resolve_sha256() {
  local url=$1 sha
  sha=$(curl -fsIL "${auth[@]}" "$url" | tr -d '\r' | sed -n 's/^[Xx]-[Ll]inked-[Ee][Tt]ag: *"\{0,1\}\([0-9a-f]\{64\}\)"\{0,1\}$/\1/p' | tail -n 1)
  [ -n "$sha" ] || die "$url: the hub did not publish a SHA-256 (X-Linked-ETag) for it"
  echo "$sha"
}

# name|kind|registry name|sae id|repo|revision|repo path|destination|sha256
items=()
add_release_sae() {
  local release=$1 sae=$2 name=$3
  items+=("$name|releases|$release|$sae|$(reg 'r["releases"][a[0]]["repo_id"]' "$release")|$(reg 'r["releases"][a[0]].get("revision")' "$release")|$(reg 'r["releases"][a[0]]["saes"][a[1]]["repo_path"]' "$release" "$sae")|$models/$(reg 'r["releases"][a[0]]["saes"][a[1]]["path"]' "$release" "$sae")|$(reg 'r["releases"][a[0]]["saes"][a[1]].get("sha256")' "$release" "$sae")")
}
if [ -n "${JLENS_GGUF_REPO:-}${JLENS_GGUF_FILE:-}" ]; then
  repo="${JLENS_GGUF_REPO:-bartowski/gemma-2-2b-GGUF}"; file="${JLENS_GGUF_FILE:-gemma-2-2b-Q8_0.gguf}"
  items+=("gguf|env||$repo|$repo|${JLENS_GGUF_REVISION:-}|$file|$models/gemma-2-2b/$file|${JLENS_GGUF_SHA256:-}")
else
  m=$gguf_model
  items+=("gguf|models|$m||$(reg 'r["models"][a[0]]["repo_id"]' $m)|$(reg 'r["models"][a[0]].get("revision")' $m)|$(reg 'r["models"][a[0]]["repo_path"]' $m)|$models/$(reg 'r["models"][a[0]]["path"]' $m)|$(reg 'r["models"][a[0]].get("sha256")' $m)")
fi
add_release_sae gemma-scope-2b-pt-res layer_12/width_16k/average_l0_82 sae-16k
[ "$want_262k" = 1 ] && add_release_sae gemma-scope-2b-pt-res layer_12/width_262k/average_l0_121 sae-262k

for entry in "${items[@]}"; do
  IFS='|' read -r name kind regname sae repo rev rpath dest sha <<<"$entry"
  if [ -z "$rev" ] || [ -z "$sha" ]; then
    if [ "$pin" != 1 ]; then
      die "$name: $registry pins no $([ -z "$rev" ] && echo revision)$([ -z "$rev" ] && [ -z "$sha" ] && echo ' and no ')$([ -z "$sha" ] && echo sha256) for $repo/$rpath; files are only downloaded from a pinned commit and checked against a recorded SHA-256. On a machine with hub access run: scripts/download-models.sh --pin (it records both in $registry; review and commit the change)"
    fi
    if [ -z "$rev" ]; then
      rev=$(resolve_revision "$repo")
      case "$kind" in
        releases|models) reg_set "$kind" "$regname" "" revision "$rev" ;;
        env) echo "$name: export JLENS_GGUF_REVISION=$rev" ;;
      esac
    fi
    if [ -z "$sha" ]; then
      sha=$(resolve_sha256 "$hub/$repo/resolve/$rev/$rpath")
      case "$kind" in
        releases) reg_set releases "$regname" "$sae" sha256 "$sha" ;;
        models) reg_set models "$regname" "" sha256 "$sha" ;;
        env) echo "$name: export JLENS_GGUF_SHA256=$sha" ;;
      esac
    fi
    echo "$name: pinned $repo@$rev, sha256 $sha ($registry)"
  fi
  [[ "$rev" =~ ^[0-9a-f]{40}$ ]] || die "$name: revision '$rev' of $repo is not a 40-hex-digit commit (a branch name would move)"
  [[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "$name: sha256 '$sha' is not 64 hex digits"
  url="$hub/$repo/resolve/$rev/$rpath"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sha" ]; then
    echo "$name: $dest already present and verified"; continue
  fi
  echo "$name: downloading $url (expecting sha256 $sha)"
  curl -fL --retry 3 -C - "${auth[@]}" -o "$dest.part" "$url" || die "$name: download failed (for Gemma, accept the license on the hub and set HF_TOKEN)"
  got=$(sha256sum "$dest.part" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    rm -f "$dest.part"; die "$name: sha256 $got does not match the recorded $sha"
  fi
  mv "$dest.part" "$dest"
  echo "$name: $dest sha256 $got (verified)"
done
echo
echo "Run the experiment on the real model:"
echo "  scripts/jlens france --model $models/gemma-2-2b/$(basename "$(echo "${items[0]}" | cut -d'|' -f7)") \\"
echo "      --coarse-sae gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82 \\"
echo "      --fine-sae gemma-scope-2b-pt-res/layer_12/width_262k/average_l0_121"
