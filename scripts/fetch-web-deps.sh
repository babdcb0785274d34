#!/usr/bin/env bash
# Obtains the pinned plotly.js (npm) into native/web/ (git-ignored), from where Maven copies it onto
# the classpath as dev/jlens/report/vendor/plotly.min.js for the self-contained HTML report.
# The tarball is fetched once into $JLENS_CACHE and its sha512 is checked against native/web-deps.pin
# every run, so a tampered cache or registry answer is refused.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

pinfile="$JLENS_ROOT/native/web-deps.pin"
webpin() { sed -n "s/^$1=//p" "$pinfile"; }
pkg=$(webpin npm_package); want=$(webpin integrity)
[ -n "$pkg" ] && [ -n "$want" ] || die "$pinfile must name npm_package and integrity"
case "$want" in sha512-*) ;; *) die "$pinfile: integrity must be a sha512- SRI string, got $want" ;; esac
command -v openssl >/dev/null || die "openssl is needed to verify $pkg"

cache_dir="$JLENS_CACHE/npm/${pkg//[@\/]/_}"
tarball=$(ls "$cache_dir"/*.tgz 2>/dev/null | head -n 1 || true)
if [ -z "$tarball" ]; then
  command -v npm >/dev/null || die "npm is needed to obtain $pkg; install Node.js/npm"
  # pack into a scratch folder and move the finished tarball in, so an interrupted download never
  # leaves a partial tarball in the cache
  mkdir -p "$cache_dir"
  scratch=$(mktemp -d "$cache_dir/.pack.XXXXXX")
  name=$( cd "$scratch" && npm pack --silent "$pkg" ) || { rm -rf "$scratch"; die "npm pack $pkg failed"; }
  name=$(echo "$name" | tail -n 1)
  [ -f "$scratch/$name" ] || { rm -rf "$scratch"; die "npm pack $pkg did not produce $name"; }
  mv "$scratch/$name" "$cache_dir/$name" && rm -rf "$scratch"
  tarball="$cache_dir/$name"
fi

got="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$got" != "$want" ]; then
  die "$tarball has integrity $got, want $want (delete $cache_dir to fetch again)"
fi

dest="$JLENS_ROOT/native/web"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar xzf "$tarball" -C "$tmp" package/plotly.min.js package/LICENSE
mkdir -p "$dest"
# copy then rename so a half-written plotly.min.js never lands on the classpath
cp "$tmp/package/plotly.min.js" "$dest/.plotly.min.js.tmp" && mv -f "$dest/.plotly.min.js.tmp" "$dest/plotly.min.js"
cp "$tmp/package/LICENSE" "$dest/.LICENSE.tmp" && mv -f "$dest/.LICENSE.tmp" "$dest/plotly.LICENSE"
echo "$pkg ($want) in $dest"
