#!/usr/bin/env bash
# Obtains the pinned llama.cpp source into native/llama.cpp (git-ignored) and verifies it.
# Source order: an existing verified checkout; a git clone of the pinned upstream tag (when the
# network allows); the git bundle shipped in the npm package named in native/llama.cpp.pin.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest="$JLENS_ROOT/native/llama.cpp"
want_commit=$(pin commit); want_tree=$(pin tree); want_sha=$(pin bundle_sha256)
tag=$(pin release_tag); pkg=$(pin npm_package); repo=$(pin upstream_repo)

verify() {
  local tree
  tree=$(git -C "$1" rev-parse 'HEAD^{tree}' 2>/dev/null) || return 1
  [ "$tree" = "$want_tree" ] || { echo "jlens: $1 has tree $tree, want $want_tree" >&2; return 1; }
  [ -z "$(git -C "$1" status --porcelain --untracked-files=no)" ] || { echo "jlens: $1 has local changes" >&2; return 1; }
}

if [ -d "$dest/.git" ] && verify "$dest"; then echo "llama.cpp $want_commit already present"; exit 0; fi
rm -rf "$dest"

if [ "${JLENS_TRY_UPSTREAM:-0}" = 1 ] && timeout 60 git clone -q --depth 1 --branch "$tag" "https://github.com/$repo" "$dest" 2>/dev/null && verify "$dest"; then
  echo "llama.cpp $tag cloned from upstream"; exit 0
fi
rm -rf "$dest"

bundle_dir="$JLENS_CACHE/npm/${pkg//[@\/]/_}"
bundle="$bundle_dir/package/llama/gitRelease.bundle"
if [ ! -f "$bundle" ]; then
  command -v npm >/dev/null || die "npm is needed to obtain llama.cpp ($pkg); install Node.js/npm"
  mkdir -p "$bundle_dir"
  ( cd "$bundle_dir" && npm pack --silent "$pkg" >/dev/null && tar xzf ./*.tgz && rm -f ./*.tgz )
fi
got_sha=$(sha256sum "$bundle" | cut -d' ' -f1)
[ "$got_sha" = "$want_sha" ] || die "bundle $bundle has sha256 $got_sha, want $want_sha"
info_tag=$(sed -n 's/.*"tag": *"\([^"]*\)".*/\1/p' "$bundle_dir/package/llama/llama.cpp.info.json")
[ "$info_tag" = "$tag" ] || die "bundle is llama.cpp $info_tag, want $tag"
git clone -q "$bundle" "$dest" 2>/dev/null
git -C "$dest" -c advice.detachedHead=false checkout -q "$want_commit"
verify "$dest" || die "llama.cpp checkout in $dest failed verification"
echo "llama.cpp $tag ($want_commit) from $pkg"
