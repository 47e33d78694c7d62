#!/usr/bin/env bash
# Sets up a fresh Debian bookworm machine for the whole test suite, then runs it:
# Debian packages of the real tools, a running Docker engine, npm dependencies, the local base images
# (no image can be pulled on these machines), a type-check, and `npm test` (unit + real tests).
# Safe to run again: every step skips what is already there. Needs root (apt, dockerd).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  ca-certificates curl jq openssl iptables iproute2
  docker.io debootstrap            # Docker engine; local base images built from Debian packages
  nginx-light apache2-utils        # gateway tests; htpasswd -v
  r-base-core r-cran-plumber r-cran-randomforest r-cran-mass  # example models run as host processes
  dnsmasq-base                     # dns routing mode tests
  wrk hyperfine                    # benchmarks
  chromium                         # landing page and Swagger UI in a real browser
  docker-registry                  # a real registry with TLS + htpasswd on loopback
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "==> starting dockerd"
  mkdir -p /var/log
  nohup dockerd >/var/log/plumberhub-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start; see /var/log/plumberhub-dockerd.log" >&2; tail -20 /var/log/plumberhub-dockerd.log >&2; exit 1; }
fi

echo "==> npm ci"
npm ci --no-audit --no-fund >/dev/null

echo "==> local base images"
bash scripts/build-local-images.sh

echo "==> type-check"
npx tsc --noEmit
npx tsc --noEmit -p examples/team-stack/tsconfig.check.json

echo "==> tests"
mkdir -p test-artifacts
npm test -- --json --outputFile=test-artifacts/jest-results.json "$@"
