#!/usr/bin/env bash
# Downloads a real corpus for `jlens atlas`: NeelNanda/pile-10k (10,000 Pile documents in one Parquet file, the
# sample the TransformerLens and SAELens tutorials use) into models/corpora/ (or $JLENS_MODELS_DIR/corpora/).
# Like scripts/download-models.sh, the file comes from a pinned hub commit (<hub>/datasets/<repo>/resolve/<commit>/<file>,
# never a branch) and is checked against the SHA-256 recorded in models/corpora.json before it is moved into place.
#
#   scripts/download-corpus.sh          # download and verify (needs the pins in models/corpora.json)
#   scripts/download-corpus.sh --pin    # first record what is not pinned yet: the dataset's current commit, its Parquet
#                                       # file, and the SHA-256 the hub publishes for that file (X-Linked-ETag of the
#                                       # git-LFS object), written into models/corpora.json; review and commit it
#
# The repository ships no hash for this file: it was written on a machine without hub access, so the SHA-256 is
# recorded by --pin from what the hub publishes, and every later download is verified against that record.
# Then: scripts/jlens-spark atlas --spark local[2] --corpus models/corpora/pile-10k/pile-10k.parquet --text-field text ...
# (the embedded engine reads text and JSONL; Parquet is read by the Spark job, docs/atlas.md).
# Environment: JLENS_MODELS_DIR, JLENS_HUB (base URL of the hub, as in scripts/download-models.sh), HF_TOKEN (optional).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

models="${JLENS_MODELS_DIR:-$JLENS_ROOT/models}"
pins="$JLENS_ROOT/models/corpora.json"
hub="${JLENS_HUB:-https://huggingface.co}"
name=pile-10k
pin=0
for a in "$@"; do
  case "$a" in
    --pin) pin=1 ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) die "unknown option $a (use --pin)" ;;
  esac
done
command -v curl >/dev/null || die "curl is needed"
command -v python3 >/dev/null || die "python3 is needed to read $pins"

get() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]].get(sys.argv[3]); print("" if v is None else v)' "$pins" "$name" "$1"; }
set_pin() {
  python3 - "$pins" "$name" "$1" "$2" <<'PY'
import json, os, sys
path, name, key, value = sys.argv[1:5]
r = json.load(open(path))
r[name][key] = value
with open(path + ".tmp", "w") as f:
    json.dump(r, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
PY
}
auth=()
[ -n "${HF_TOKEN:-}" ] && auth=(-H "Authorization: Bearer $HF_TOKEN")

repo=$(get repo_id); rev=$(get revision); rpath=$(get repo_path); sha=$(get sha256); dest="$models/$(get path)"
if [ -z "$rev" ] || [ -z "$rpath" ] || [ -z "$sha" ]; then
  [ "$pin" = 1 ] || die "$name: $pins does not pin revision, file and sha256 of $repo yet; files are only downloaded from a pinned commit and checked against a recorded SHA-256. On a machine with hub access run: scripts/download-corpus.sh --pin (it records them in $pins; review and commit the change)"
  if [ -z "$rev" ] || [ -z "$rpath" ]; then
    info=$(curl -fsSL "${auth[@]}" "$hub/api/datasets/$repo/revision/${rev:-main}") || die "$repo: cannot read $hub/api/datasets/$repo/revision/${rev:-main}"
    [ -n "$rev" ] || rev=$(printf '%s' "$info" | python3 -c 'import json,sys; print(json.load(sys.stdin)["sha"])')
    [[ "$rev" =~ ^[0-9a-f]{40}$ ]] || die "$repo: the hub answered '$rev', not a 40-hex-digit commit"
    if [ -z "$rpath" ]; then
      files=$(printf '%s' "$info" | python3 -c 'import json,sys; print("\n".join(s["rfilename"] for s in json.load(sys.stdin).get("siblings", []) if s["rfilename"].endswith(".parquet")))')
      [ "$(printf '%s\n' "$files" | grep -c .)" = 1 ] || die "$repo@$rev: expected one .parquet file, found: ${files:-none}"
      rpath=$files
    fi
    set_pin revision "$rev"; set_pin repo_path "$rpath"
  fi
  if [ -z "$sha" ]; then
    sha=$(curl -fsIL "${auth[@]}" "$hub/datasets/$repo/resolve/$rev/$rpath" | tr -d '\r' \
      | sed -n 's/^[Xx]-[Ll]inked-[Ee][Tt]ag: *"\{0,1\}\([0-9a-f]\{64\}\)"\{0,1\}$/\1/p' | tail -n 1)
    [ -n "$sha" ] || die "$hub/datasets/$repo/resolve/$rev/$rpath: the hub did not publish a SHA-256 (X-Linked-ETag) for it"
    set_pin sha256 "$sha"
  fi
  echo "$name: pinned $repo@$rev $rpath, sha256 $sha ($pins)"
fi
[[ "$rev" =~ ^[0-9a-f]{40}$ ]] || die "$name: revision '$rev' is not a 40-hex-digit commit (a branch name would move)"
[[ "$sha" =~ ^[0-9a-f]{64}$ ]] || die "$name: sha256 '$sha' is not 64 hex digits"
mkdir -p "$(dirname "$dest")"
if [ -f "$dest" ] && [ "$(sha256sum "$dest" | cut -d' ' -f1)" = "$sha" ]; then
  echo "$name: $dest already present and verified"
else
  url="$hub/datasets/$repo/resolve/$rev/$rpath"
  echo "$name: downloading $url (expecting sha256 $sha)"
  curl -fL --retry 3 -C - "${auth[@]}" -o "$dest.part" "$url" || die "$name: download failed"
  got=$(sha256sum "$dest.part" | cut -d' ' -f1)
  [ "$got" = "$sha" ] || { rm -f "$dest.part"; die "$name: sha256 $got does not match the recorded $sha"; }
  mv "$dest.part" "$dest"
  echo "$name: $dest sha256 $got (verified)"
fi
echo
echo "Build a feature atlas over it (Parquet is read by the Spark job):"
echo "  scripts/jlens-spark atlas --spark local[2] --model M.gguf --sae ID --corpus $dest --text-field $(get text_field) --out runs/atlas-pile"
