#!/usr/bin/env bash
# install-ort.sh puts ONNX Runtime's CPU C library into third_party/ort/ (git-ignored).
#
# The library comes from the npm package onnxruntime-node, fetched with
# `npm pack` so that none of the package's install scripts run (they download
# from hosts this project does not rely on). The tarball is checked against a
# pinned sha256 before anything is extracted. A second run finds the library
# in place and does nothing.
set -euo pipefail

version=1.30.0
sha256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
member=package/bin/napi-v6/linux/x64/libonnxruntime.so.1

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${ORT_DIR:-$root/third_party/ort}
lib=$dest/libonnxruntime.so.1
stamp=$dest/VERSION

if [ -f "$lib" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version $sha256" ]; then
	echo "install-ort: ONNX Runtime $version already in $dest"
	exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
	echo "install-ort: npm not found; install Node.js and npm (apt-get install npm) and run again" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "install-ort: fetching onnxruntime-node@$version with npm pack (about 110 MB)"
if ! (cd "$tmp" && npm pack --silent --ignore-scripts "onnxruntime-node@$version" >npm.out 2>npm.err); then
	echo "install-ort: npm pack onnxruntime-node@$version failed:" >&2
	sed 's/^/  /' "$tmp/npm.err" >&2
	exit 1
fi
tgz=$tmp/onnxruntime-node-$version.tgz
got=$(sha256sum "$tgz" | cut -d' ' -f1)
if [ "$got" != "$sha256" ]; then
	echo "install-ort: sha256 mismatch for onnxruntime-node-$version.tgz: got $got, want $sha256" >&2
	exit 1
fi
tar -xzf "$tgz" -C "$tmp" "$member"

# Install under a temporary name and rename, so an interrupted run never
# leaves a truncated library where the loader would find it.
mkdir -p "$dest"
cp "$tmp/$member" "$dest/.libonnxruntime.so.1.tmp"
mv -f "$dest/.libonnxruntime.so.1.tmp" "$lib"
echo "$version $sha256" >"$stamp"
echo "install-ort: installed ONNX Runtime $version in $dest"
