#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine for the whole test suite, then runs it:
# Debian packages of the real tools, a running Docker engine, npm dependencies, the local base images
# (no image can be pulled on these machines), the Pulumi engine (built with Go from the Go module proxy the first
# time, scripts/get-engine.sh), a type-check, `npm test` (unit, real and engine tests), and the unit tests once more
# on Node 24.
# Safe to run again: every step skips what is already there. Needs root (apt, dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  ca-certificates curl jq openssl iptables iproute2
  docker.io debootstrap            # Docker engine; local base images built from Debian packages
  nginx-light libnginx-mod-stream libnginx-mod-http-lua apache2-utils  # gateway and edge tests (metrics: Lua); htpasswd -v
  r-base-core r-cran-plumber r-cran-randomforest r-cran-mass  # example models run as host processes
  dnsmasq-base                     # dns routing mode tests
  wrk hyperfine                    # benchmarks
  chromium                         # landing page and Swagger UI in a real browser
  docker-registry                  # a real registry with TLS + htpasswd on loopback
  pebble                           # Let's Encrypt's test ACME server (and its DNS server) for the gateway's renewal
  openssh-client                   # ssh:// Docker hosts (the three-node swarm's manager)
  prometheus                       # a real Prometheus scraping the gateway's /metrics; promtool lints the format
)

echo "==> Debian packages and the Docker engine"
bash scripts/debian-packages.sh --start-docker "${APT_PACKAGES[@]}"

echo "==> npm ci"
npm ci --no-audit --no-fund >/dev/null

echo "==> local base images"
bash scripts/build-local-images.sh

echo "==> Pulumi engine"
# Its own step so a failed build stops here, with the module, version and go error named (never a skipped test).
bash scripts/get-engine.sh >/dev/null

echo "==> Pod Security checker"
# The Kubernetes admission library as a command (scripts/tools/podsecurity), for the AKS objects' tests.
bash scripts/get-podsecurity.sh >/dev/null

echo "==> type-check"
npx tsc --noEmit
npx tsc --noEmit -p examples/team-stack/tsconfig.check.json

echo "==> lint and format"
npm run -s lint
npm run -s format:check

echo "==> tests"
mkdir -p test-artifacts
npm test -- --json --outputFile=test-artifacts/jest-results.json "$@"

# Users run the current LTS; the machine's Node may be older. The unit tests once more on it (Node from the npm
# registry, cached; real and engine tests do not depend on the Node version beyond what the unit tests cover).
echo "==> unit tests on Node 24"
node24="$(bash scripts/get-node.sh 24)"
PATH="$(dirname "$node24"):$PATH" node node_modules/jest/bin/jest.js --selectProjects unit --json --outputFile=test-artifacts/jest-results-node24.json
