#!/usr/bin/env bash
# install-node-ort.sh installs onnxruntime-node for Node.js into
# third_party/node/ (git-ignored), for scripts/node/run-model.js and the
# cross-runtime tests in interop/.
#
# The versions are pinned by scripts/node/package-lock.json, whose integrity
# hashes `npm ci` checks. The package's install script is not run: it
# downloads from hosts this project does not rely on, and the CPU binaries
# for Linux, macOS and Windows are in the package already. A second run finds
# the same lock file installed and does nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/scripts/node
dest=${NODE_ORT_DIR:-$root/third_party/node}
stamp=$dest/INSTALLED
want=$(sha256sum "$src/package-lock.json" | cut -d' ' -f1)
pkg=$dest/node_modules/onnxruntime-node

for tool in node npm; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "install-node-ort: $tool not found; install Node.js and npm (apt-get install nodejs npm) and run again" >&2
		exit 1
	fi
done

# check loads the package the way run-model.js does and prints its version.
check() {
	(cd "$dest" && node -e '
		const ort = require("onnxruntime-node");
		process.stdout.write(ort.env.versions.node);
	')
}

if [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && version=$(check 2>/dev/null); then
	echo "install-node-ort: onnxruntime-node $version already in $dest"
	exit 0
fi

mkdir -p "$dest"
rm -f "$stamp"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
echo "install-node-ort: npm ci --ignore-scripts in $dest (onnxruntime-node, about 110 MB)"
if ! (cd "$dest" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
	echo "install-node-ort: npm ci failed in $dest" >&2
	exit 1
fi

# The CPU binding and its library must have come with the package.
case "$(uname -s)/$(uname -m)" in
Linux/x86_64) bin=$pkg/bin/napi-v6/linux/x64 ;;
Linux/aarch64) bin=$pkg/bin/napi-v6/linux/arm64 ;;
*) bin= ;;
esac
if [ -n "$bin" ]; then
	for f in onnxruntime_binding.node libonnxruntime.so.1; do
		if [ ! -f "$bin/$f" ]; then
			echo "install-node-ort: $bin/$f missing from the package" >&2
			exit 1
		fi
	done
fi
if ! version=$(check); then
	echo "install-node-ort: node cannot require onnxruntime-node from $dest" >&2
	exit 1
fi
echo "$want" >"$stamp"
echo "install-node-ort: installed onnxruntime-node $version in $dest"
