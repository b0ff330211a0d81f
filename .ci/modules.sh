#!/usr/bin/env bash
# modules.sh runs go vet and the race-enabled tests in each nested Go module:
# the directories given as arguments, or every directory below the root with
# a go.mod (the root module and proto/tools excepted). Run it from the
# repository root; it stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then
	dirs=("$@")
else
	mapfile -t dirs < <(find . -name go.mod -not -path ./go.mod -not -path './proto/tools/*' -exec dirname {} \; | sort)
fi
for d in "${dirs[@]}"; do
	echo "== $d"
	(cd "$d" && go vet ./... && go test -race ./...)
done
