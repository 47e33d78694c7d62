#!/usr/bin/env bash
# Installs the Debian packages named as arguments that are missing, and starts the Docker engine (dockerd in the
# background, log in /var/log/plumberhub-dockerd.log) when it does not answer — what a fresh Debian machine needs
# before the dev stack or the tests. For root on a Debian-like system with apt-get; anywhere else it says what to do.
# Used by scripts/test.sh (every tool the tests use) and scripts/up-dev.sh (docker.io, debootstrap).
#
# Usage: scripts/debian-packages.sh [--start-docker] PACKAGE...
set -euo pipefail

say() { echo "debian-packages: $*" >&2; }
die() { echo "debian-packages: $*" >&2; exit 1; }

start_docker=0
if [ "${1:-}" = --start-docker ]; then start_docker=1; shift; fi

missing=()
for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 ||
        die "missing Debian packages ${missing[*]}: install them (sudo apt-get install ${missing[*]}), then run this again"
    say "apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$start_docker" = 1 ] && ! docker info >/dev/null 2>&1; then
    [ -z "${DOCKER_HOST:-}" ] || die "the Docker engine at DOCKER_HOST=$DOCKER_HOST does not answer: start that engine (this script only starts the local one)"
    [ "$(id -u)" = 0 ] || die "the Docker engine does not answer and only root can start it here: start it (sudo systemctl start docker)"
    if [ -d /run/systemd/system ]; then
        say "starting the Docker engine (systemctl start docker)"
        systemctl start docker || die "systemctl start docker failed: see \`journalctl -u docker\`"
    else
        # No init system to run it (containers, CI machines): in the background, with a log.
        say "starting dockerd (log: /var/log/plumberhub-dockerd.log)"
        mkdir -p /var/log
        nohup dockerd >/var/log/plumberhub-dockerd.log 2>&1 &
    fi
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || { tail -20 /var/log/plumberhub-dockerd.log >&2 2>/dev/null || true; die "the Docker engine did not start: see the log lines above"; }
fi
