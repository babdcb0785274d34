#!/usr/bin/env bash
# Downloads the real Gemma 2 2B GGUF and the two Gemma Scope layer-12 residual SAEs (params.npz) into
# models/ (or $JLENS_MODELS_DIR), where models/registry.json and `jlens france --model ...` expect them,
# and checks each file's sha256. Needs internet access to the model hub (not available on every machine).
#
#   scripts/download-models.sh            # base gemma-2-2b Q8_0 GGUF + 16k + 262k SAEs (~8 GB)
#   scripts/download-models.sh --no-262k  # skip the 4.8 GB 262k SAE
#
# Environment: HF_TOKEN (Gemma's license must be accepted on the hub first), JLENS_MODELS_DIR,
# JLENS_HUB (base URL of the hub, default https://huggingface.co), JLENS_GGUF_REPO / JLENS_GGUF_FILE to choose
# another GGUF of the BASE model (not the instruction-tuned one: Gemma Scope was trained on gemma-2-2b).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

models="${JLENS_MODELS_DIR:-$JLENS_ROOT/models}"
hub="${JLENS_HUB:-https://huggingface.co}"
gguf_repo="${JLENS_GGUF_REPO:-bartowski/gemma-2-2b-GGUF}"
gguf_file="${JLENS_GGUF_FILE:-gemma-2-2b-Q8_0.gguf}"
want_262k=1
for a in "$@"; do
  case "$a" in
    --no-262k) want_262k=0 ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) die "unknown option $a" ;;
  esac
done
command -v curl >/dev/null || die "curl is needed"

# name|url|destination|sha256. With no pinned sha256, the hub's published one is used: large files are
# stored with git LFS and the hub sends their SHA-256 as the X-Linked-ETag header of a HEAD request.
files=(
  "gguf|$hub/$gguf_repo/resolve/main/$gguf_file|$models/gemma-2-2b/$gguf_file|${JLENS_GGUF_SHA256:-}"
  "sae-16k|$hub/google/gemma-scope-2b-pt-res/resolve/main/layer_12/width_16k/average_l0_82/params.npz|$models/gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82/params.npz|${JLENS_SAE16K_SHA256:-}"
)
[ "$want_262k" = 1 ] && files+=("sae-262k|$hub/google/gemma-scope-2b-pt-res/resolve/main/layer_12/width_262k/average_l0_121/params.npz|$models/gemma-scope-2b-pt-res/layer_12/width_262k/average_l0_121/params.npz|${JLENS_SAE262K_SHA256:-}")

auth=()
[ -n "${HF_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $HF_TOKEN")

for entry in "${files[@]}"; do
  IFS='|' read -r name url dest sha <<<"$entry"
  mkdir -p "$(dirname "$dest")"
  if [ -f "$dest" ] && [ -n "$sha" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sha" ]; then
    echo "$name: $dest already present and verified"; continue
  fi
  if [ -z "$sha" ]; then
    sha=$(curl -fsIL "${auth[@]}" "$url" | tr -d '\r' | sed -n 's/^[Xx]-[Ll]inked-[Ee][Tt]ag: *"\{0,1\}\([0-9a-f]\{64\}\)"\{0,1\}$/\1/p' | tail -n 1)
    [ -n "$sha" ] || die "$name: the hub did not publish a SHA-256 for $url; pin one with the JLENS_*_SHA256 variables"
  fi
  echo "$name: downloading $url (expecting sha256 $sha)"
  curl -fL --retry 3 -C - "${auth[@]}" -o "$dest.part" "$url" || die "$name: download failed (for Gemma, accept the license on the hub and set HF_TOKEN)"
  got=$(sha256sum "$dest.part" | cut -d' ' -f1)
  if [ "$got" != "$sha" ]; then
    rm -f "$dest.part"; die "$name: sha256 $got does not match the expected $sha"
  fi
  mv "$dest.part" "$dest"
  echo "$name: $dest sha256 $got (verified)"
done
echo
echo "Run the experiment on the real model:"
echo "  scripts/jlens france --model $models/gemma-2-2b/$gguf_file \\"
echo "      --coarse-sae gemma-scope-2b-pt-res/layer_12/width_16k/average_l0_82 \\"
echo "      --fine-sae gemma-scope-2b-pt-res/layer_12/width_262k/average_l0_121"
