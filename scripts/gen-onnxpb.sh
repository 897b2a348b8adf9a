#!/usr/bin/env bash
# gen-onnxpb.sh regenerates onnxpb/onnx.pb.go from the onnx.proto that Debian's
# libonnx-dev ships. The proto package is renamed to eganort.onnx so that the
# generated types register under a name of this project's own and the binary can
# link beside other Go packages that embed ONNX's schema.
#
# Needs: protoc (apt: protobuf-compiler), onnx.proto (apt: libonnx-dev) and
# protoc-gen-go (go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=${ONNX_PROTO:-/usr/include/onnx/onnx.proto}
if [ ! -f "$src" ]; then
	echo "gen-onnxpb: $src not found; install it with: apt-get install libonnx-dev" >&2
	exit 1
fi
command -v protoc >/dev/null || { echo "gen-onnxpb: protoc not found; apt-get install protobuf-compiler" >&2; exit 1; }
gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/protoc-gen-go" ]; then
	(cd "$root" && go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12)
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Rename the proto package and drop the lite-runtime option (protoc-gen-go
# ignores it, but it would change the descriptor's bytes for no reason).
sed -e 's/^package onnx;/package eganort.onnx;/' \
	-e '/^option optimize_for = LITE_RUNTIME;/d' \
	"$src" >"$tmp/onnx.proto"
PATH="$gobin:$PATH" protoc -I "$tmp" \
	--go_out="$tmp" --go_opt=paths=source_relative \
	--go_opt=Monnx.proto=github.com/egan-ort/egan-ort/onnxpb \
	"$tmp/onnx.proto"
cp "$tmp/onnx.pb.go" "$root/onnxpb/onnx.pb.go"
echo "gen-onnxpb: wrote onnxpb/onnx.pb.go from $src"
