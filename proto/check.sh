#!/usr/bin/env bash
# CI entry point: fails if proto/firehosev1/firehose.pb.go is not exactly what
# proto/generate.sh produces from proto/firehose.proto.
set -euo pipefail
exec "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/generate.sh" --check
