#!/usr/bin/env bash
# One command from a fresh clone to the `dev` stack (a swarm on the local Docker engine): `npm run up:dev`.
# Extra arguments go to `pulumi up` (e.g. `npm run up:dev -- --diff`).
#
#  1. Checks that npm, the Pulumi CLI and Docker exist and that the Docker engine answers; says exactly what to
#     install or do when not.
#  2. `npm ci` when node_modules is missing or older than package-lock.json.
#  3. Pulumi backend: kept when one is set (PULUMI_BACKEND_URL, or `pulumi whoami` succeeds). Otherwise
#     `pulumi login --local`, i.e. the file backend in ~/.pulumi. Why there and not in the clone: the dev stack's
#     resources live on this machine's Docker engine under fixed names (one service per model), so its state
#     belongs to the machine too; a second clone then sees the same stack instead of fighting over the same
#     service names, and deleting a clone does not orphan the running services.
#  4. Secrets passphrase (file backends encrypt secrets with it): PULUMI_CONFIG_PASSPHRASE or
#     PULUMI_CONFIG_PASSPHRASE_FILE when you set one; otherwise a random passphrase in a file outside the repo,
#     ${XDG_CONFIG_HOME:-~/.config}/plumberhub/dev-passphrase (mode 600), created once and passed to Pulumi as
#     PULUMI_CONFIG_PASSPHRASE_FILE: nothing secret in the repo, in the process list or in a prompt, and like the
#     state it survives re-clones.
#  5. Selects the `dev` stack, creating it when it does not exist.
#  6. `docker swarm init --advertise-addr 127.0.0.1` when the engine is not in a swarm.
#  7. `pulumi up --yes --stack dev "$@"`; its exit status is this script's.
set -euo pipefail

ROOT="$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)"
STACK=dev
cd "$ROOT"

say() { echo "up-dev: $*" >&2; }
die() { echo "up-dev: $*" >&2; exit 1; }

# --- 1. tools -------------------------------------------------------------------------------------
command -v npm >/dev/null 2>&1 ||
    die "npm not found: install Node.js 22 or 24 LTS with npm (https://nodejs.org/en/download), then run this again"
command -v pulumi >/dev/null 2>&1 ||
    die "the Pulumi CLI (pulumi) is not installed: install it with \`curl -fsSL https://get.pulumi.com | sh\` (or see https://www.pulumi.com/docs/iac/download-install/), open a new shell, then run this again"
command -v docker >/dev/null 2>&1 ||
    die "Docker (docker) is not installed: install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, start it, then run this again"
# One call answers both questions: is the engine up, and is it in a swarm (and may it manage one)?
if ! swarm="$(docker info --format '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}' 2>/dev/null)"; then
    die "the Docker engine does not answer (\`docker info\` failed): start it (\`sudo systemctl start docker\`, or open Docker Desktop) and make sure your user may use it (\`sudo usermod -aG docker \$USER\`, then log in again)"
fi
swarm_state="${swarm%% *}"
swarm_manager="${swarm##* }"
# Swarm states this script cannot fix are reported before anything is installed or changed.
case "$swarm_state" in
    inactive) ;;
    active)
        [ "$swarm_manager" = true ] ||
            die "this Docker engine is a swarm worker: deploy from a manager node (\`docker node ls\` works there), e.g. DOCKER_HOST=ssh://user@manager npm run up:dev"
        ;;
    locked) die "the swarm is locked: unlock it with \`docker swarm unlock\`, then run this again" ;;
    *) die "the swarm is in state \"$swarm_state\": check \`docker info\`; \`docker swarm leave --force\` resets a broken single-node swarm" ;;
esac

# --- 2. dependencies ------------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: older than package-lock.json means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing dependencies (npm ci)"
    npm ci
fi

# --- 3. backend -----------------------------------------------------------------------------------
if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    backend="$PULUMI_BACKEND_URL"
elif whoami="$(pulumi whoami --verbose 2>/dev/null)"; then
    backend="$(printf '%s\n' "$whoami" | while IFS= read -r line; do case "$line" in "Backend URL: "*) echo "${line#Backend URL: }" ;; esac; done)"
else
    say "no Pulumi backend is set: logging in to the local file backend in ~/.pulumi (pulumi login --local)"
    pulumi login --local
    backend="file://~"
fi

# --- 4. passphrase --------------------------------------------------------------------------------
if [[ "$backend" == file://* ]] && [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    passphrase_file="${XDG_CONFIG_HOME:-$HOME/.config}/plumberhub/dev-passphrase"
    if [ ! -s "$passphrase_file" ]; then
        say "creating a random secrets passphrase in $passphrase_file (keep it: it decrypts the dev stack's secrets)"
        mkdir -p "${passphrase_file%/*}"
        (umask 077 && head -c 32 /dev/urandom | base64 >"$passphrase_file")
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
fi

# --- 5. stack -------------------------------------------------------------------------------------
if ! pulumi stack select "$STACK" >/dev/null 2>&1; then
    say "creating the $STACK stack"
    pulumi stack init "$STACK"
fi

# --- 6. swarm -------------------------------------------------------------------------------------
if [ "$swarm_state" = inactive ]; then
    say "the Docker engine is not in a swarm: initialising a single-node swarm (docker swarm init --advertise-addr 127.0.0.1)"
    docker swarm init --advertise-addr 127.0.0.1
fi

# --- 7. up ----------------------------------------------------------------------------------------
say "pulumi up --yes --stack $STACK $*"
status=0
pulumi up --yes --stack "$STACK" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    say "pulumi up failed (exit $status): see the errors above; fix them and run \`npm run up:dev\` again"
    exit "$status"
fi
