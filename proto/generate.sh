#!/usr/bin/env bash
# Regenerates proto/firehosev1/firehose.pb.go from proto/firehose.proto.
#
#   proto/generate.sh           write the generated file
#   proto/generate.sh --check   regenerate into a temp dir and fail if the
#                               committed file differs (CI; also proto/check.sh)
#
# What it needs and does:
#   - protoc: taken from PATH; if missing, installed from Debian
#     (apt-get install protobuf-compiler, as root or through sudo).
#   - protoc-gen-go: built from proto/tools, a module of its own that pins
#     google.golang.org/protobuf to the version the root module uses.
#   - No gRPC plugin: protoc-gen-go-grpc would derive method paths from our
#     protobuf package; the wire's paths are named in firehosev1/wire.go.
#   - The file is registered as "firehosego/cisco/v1/firehose.proto" (a
#     virtual path mapped onto proto/) so it cannot clash with another
#     package's "firehose.proto" in the global registry.
#   - The "protoc vX" line of the generated header is removed, so the output
#     does not depend on which protoc build ran.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mode=write
case "${1:-}" in
"") ;;
--check) mode=check ;;
*)
	echo "usage: $0 [--check]" >&2
	exit 2
	;;
esac

target="$here/firehosev1/firehose.pb.go"
virtual="firehosego/cisco/v1"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ensure_protoc() {
	command -v protoc >/dev/null 2>&1 && return
	echo "generate.sh: protoc not found; installing protobuf-compiler from Debian" >&2
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo="sudo"
		else
			echo "generate.sh: protoc is missing and this user cannot install it; install protobuf-compiler (apt) or put protoc on PATH" >&2
			exit 1
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	if ! $sudo apt-get install -y -qq protobuf-compiler >/dev/null 2>&1; then
		$sudo apt-get update -qq
		$sudo apt-get install -y -qq protobuf-compiler >/dev/null
	fi
	command -v protoc >/dev/null 2>&1 || {
		echo "generate.sh: protoc still not found after installing protobuf-compiler" >&2
		exit 1
	}
}

ensure_protoc

# Build the pinned protoc-gen-go (the Go build cache makes reruns fast).
(cd "$here/tools" && GOWORK=off GOFLAGS=-mod=readonly go build -o "$work/bin/protoc-gen-go" google.golang.org/protobuf/cmd/protoc-gen-go)

mkdir -p "$work/out"
protoc \
	--plugin=protoc-gen-go="$work/bin/protoc-gen-go" \
	--proto_path="$virtual=$here" \
	--go_out="$work/out" \
	--go_opt=paths=source_relative \
	"$virtual/firehose.proto"

generated="$work/out/$virtual/firehose.pb.go"
# Drop the protoc version line ("// 	protoc        v3.21.12").
sed -i -E '/^\/\/[[:space:]]+protoc[[:space:]]+/d' "$generated"

if [ "$mode" = check ]; then
	if [ ! -f "$target" ]; then
		echo "proto check FAILED: $target is missing; run proto/generate.sh" >&2
		exit 1
	fi
	if ! diff -u --label proto/firehosev1/firehose.pb.go --label regenerated "$target" "$generated" >"$work/diff"; then
		echo "proto check FAILED: proto/firehosev1/firehose.pb.go is not what proto/firehose.proto generates." >&2
		echo "Run proto/generate.sh and commit the result. Difference (committed -> regenerated):" >&2
		head -n 80 "$work/diff" >&2
		exit 1
	fi
	echo "proto check OK: proto/firehosev1/firehose.pb.go is up to date"
	exit 0
fi

mkdir -p "$(dirname "$target")"
cp "$generated" "$target"
echo "wrote proto/firehosev1/firehose.pb.go"
