#!/usr/bin/env bash
# Builds scripts/tools/podsecurity (the Kubernetes project's Pod Security admission library as a command, for the
# tests of the AKS objects) with Go from the Go module proxy, once per source and Go version, into
# ${PLUMBERHUB_CACHE:-~/.cache/plumberhub}/tools/podsecurity-KEY/, and prints the binary's path.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="$ROOT/scripts/tools/podsecurity"
CACHE="${PLUMBERHUB_CACHE:-$HOME/.cache/plumberhub}"
command -v go >/dev/null 2>&1 || { echo "get-podsecurity: Go is needed to build the Pod Security checker (apt-get install golang-go, or Go ≥ 1.26 from go.dev)" >&2; exit 1; }
key="$( (go env GOVERSION; cd "$SRC" && cat go.mod go.sum main.go) | sha256sum | cut -c1-16)"
OUT="$CACHE/tools/podsecurity-$key"
if [ ! -x "$OUT/podsecurity" ]; then
    export GOMODCACHE="${GOMODCACHE:-$CACHE/go/mod}" GOCACHE="${GOCACHE:-$CACHE/go/build}"
    export GOFLAGS="-mod=readonly -trimpath" CGO_ENABLED=0
    mkdir -p "$OUT"
    tmp="$(mktemp "$OUT/.podsecurity.XXXXXX")"
    if ! (cd "$SRC" && go build -o "$tmp" .) >&2; then
        rm -f "$tmp"
        echo "get-podsecurity: go build failed in $SRC (the lines above name the module and version)" >&2
        exit 1
    fi
    mv -f "$tmp" "$OUT/podsecurity" # atomic: a concurrent build finds a whole binary or none
fi
echo "$OUT/podsecurity"
