#!/usr/bin/env bash
# One command from a fresh clone to the `dev` stack (a swarm on the local Docker engine): `npm run up:dev`.
# Extra arguments go to `pulumi up` (e.g. `npm run up:dev -- --diff`).
#
#  1. Checks that npm and Docker exist and that the Docker engine answers; says exactly what to install or do when
#     not (as root on Debian it installs and starts the Docker engine itself, as scripts/test.sh does). Without a Pulumi CLI on PATH it gets the engine with scripts/get-engine.sh (built with Go from the Go
#     module proxy into a cache, once), so machines that cannot download Pulumi still deploy.
#  2. `npm ci` when node_modules is missing or older than package-lock.json.
#  3. Images: when the default images (model base, nginx, registry) are neither present nor pullable, builds them
#     from Debian packages (scripts/build-local-images.sh) and uses them through PLUMBERHUB_LOCAL_IMAGES=1, an
#     environment switch of the stack program: Pulumi.dev.yaml stays as it is for everyone. Set
#     PLUMBERHUB_LOCAL_IMAGES=1 or 0 yourself to decide.
#  4. Pulumi backend: kept when one is set (PULUMI_BACKEND_URL, or `pulumi whoami` succeeds). Otherwise
#     `pulumi login --local`, i.e. the file backend in ~/.pulumi. Why there and not in the clone: the dev stack's
#     resources live on this machine's Docker engine under fixed names (one service per model), so its state
#     belongs to the machine too; a second clone then sees the same stack instead of fighting over the same
#     service names, and deleting a clone does not orphan the running services.
#  5. Secrets passphrase (file backends encrypt secrets with it): PULUMI_CONFIG_PASSPHRASE or
#     PULUMI_CONFIG_PASSPHRASE_FILE when you set one; otherwise a random passphrase in a file outside the repo,
#     ${XDG_CONFIG_HOME:-~/.config}/plumberhub/dev-passphrase (mode 600), created once and passed to Pulumi as
#     PULUMI_CONFIG_PASSPHRASE_FILE: nothing secret in the repo, in the process list or in a prompt, and like the
#     state it survives re-clones.
#  6. Selects the `dev` stack, creating it when it does not exist.
#  7. `docker swarm init --advertise-addr 127.0.0.1` when the engine is not in a swarm.
#  8. `pulumi up --yes --stack dev "$@"`; its exit status is this script's. Then prints the URL and how to call it.
set -euo pipefail

ROOT="$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)"
STACK=dev
cd "$ROOT"

say() { echo "up-dev: $*" >&2; }
die() { echo "up-dev: $*" >&2; exit 1; }

# --- 1. tools -------------------------------------------------------------------------------------
command -v npm >/dev/null 2>&1 ||
    die "npm not found: install Node.js 22 or 24 LTS with npm (https://nodejs.org/en/download), then run this again"
need_engine=0
if ! command -v pulumi >/dev/null 2>&1; then
    command -v go >/dev/null 2>&1 ||
        die "the Pulumi CLI (pulumi) is not installed: install it with \`curl -fsSL https://get.pulumi.com | sh\` (or see https://www.pulumi.com/docs/iac/download-install/), open a new shell, then run this again; or install Go ≥ 1.26 and run this again to build it here"
    need_engine=1
fi
# As root on Debian (a fresh server or CI machine) a missing or stopped Docker engine is installed and started, as
# scripts/test.sh does; anywhere else this says what to do.
can_apt() { [ "$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
if can_apt && [ -z "${DOCKER_HOST:-}" ] && ! { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }; then
    missing_engine=()
    command -v dockerd >/dev/null 2>&1 || missing_engine+=(docker.io)
    say "no Docker engine answers: ${missing_engine:+installing and }starting it (scripts/debian-packages.sh)"
    bash "$ROOT/scripts/debian-packages.sh" --start-docker "${missing_engine[@]}" || die "installing or starting the Docker engine failed: see the lines above"
fi
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

# The engine: the CLI on PATH, or one built here from the Go module proxy (no download site needed); built after
# the cheap checks above, so a stopped Docker engine is reported before minutes of building.
engine_bin=""
if [ "$need_engine" = 1 ]; then
    say "no Pulumi CLI on PATH: getting the engine with scripts/get-engine.sh (built with Go the first time, then cached)"
    engine_bin="$(bash "$ROOT/scripts/get-engine.sh")" || die "getting the Pulumi engine failed: see the lines above"
    [ -z "$engine_bin" ] || export PATH="$engine_bin:$PATH"
fi

# --- 2. dependencies ------------------------------------------------------------------------------
# npm writes node_modules/.package-lock.json on every install: older than package-lock.json means stale.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "installing dependencies (npm ci)"
    npm ci
fi

# --- 3. images ------------------------------------------------------------------------------------
# The switch and the default images, read from the code that owns them (components/config, components/render).
images="$(node -r "$ROOT/scripts/register-ts.js" -e '
    const { LOCAL_IMAGES_ENV, localImagesRequested } = require("./components/config/stackConfig");
    const { DEFAULT_BASE_IMAGE, DEFAULT_GATEWAY_IMAGE, DEFAULT_REGISTRY_IMAGE } = require("./components/render");
    try {
        console.log(process.env[LOCAL_IMAGES_ENV] === undefined ? "auto" : localImagesRequested(process.env) ? "on" : "off");
    } catch (error) {
        console.error(error.message);
        process.exit(2);
    }
    console.log([DEFAULT_BASE_IMAGE, DEFAULT_GATEWAY_IMAGE, DEFAULT_REGISTRY_IMAGE].join(" "));')" ||
    die "cannot decide which images to use: see the line above (is \`npm ci\` done?)"
local_images="${images%%$'\n'*}"
if [ "$local_images" = auto ]; then
    for image in ${images#*$'\n'}; do
        docker image inspect "$image" >/dev/null 2>&1 && continue
        say "pulling $image"
        pull_error="$(docker pull -q "$image" 2>&1 >/dev/null)" && continue
        # Only where the local images can be built (root with apt: debootstrap) is that the way out; elsewhere the
        # reason (network, rate limit, login) is the user's to fix.
        can_apt || die "cannot pull $image: ${pull_error:-docker pull failed}. Fix that, or build the images from Debian packages (as root: scripts/build-local-images.sh) and run this again with PLUMBERHUB_LOCAL_IMAGES=1"
        say "cannot pull $image (${pull_error:-docker pull failed}): using images built from Debian packages instead (PLUMBERHUB_LOCAL_IMAGES=1)"
        local_images=on
        break
    done
fi
if [ "$local_images" = on ]; then
    export PLUMBERHUB_LOCAL_IMAGES=1
    if can_apt && ! command -v debootstrap >/dev/null 2>&1; then
        bash "$ROOT/scripts/debian-packages.sh" debootstrap || die "installing debootstrap failed: see the lines above"
    fi
    say "building the local images where missing (scripts/build-local-images.sh: debootstrap, needs root, cached)"
    bash "$ROOT/scripts/build-local-images.sh" || die "building the local images failed: see the lines above"
fi

# --- 4. backend -----------------------------------------------------------------------------------
if [ -n "${PULUMI_BACKEND_URL:-}" ]; then
    backend="$PULUMI_BACKEND_URL"
elif whoami="$(pulumi whoami --verbose 2>/dev/null)"; then
    backend="$(printf '%s\n' "$whoami" | while IFS= read -r line; do case "$line" in "Backend URL: "*) echo "${line#Backend URL: }" ;; esac; done)"
else
    say "no Pulumi backend is set: logging in to the local file backend in ~/.pulumi (pulumi login --local)"
    pulumi login --local
    backend="file://~"
fi

# --- 5. passphrase --------------------------------------------------------------------------------
if [[ "$backend" == file://* ]] && [ -z "${PULUMI_CONFIG_PASSPHRASE+set}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
    passphrase_file="${XDG_CONFIG_HOME:-$HOME/.config}/plumberhub/dev-passphrase"
    if [ ! -s "$passphrase_file" ]; then
        say "creating a random secrets passphrase in $passphrase_file (keep it: it decrypts the dev stack's secrets)"
        mkdir -p "${passphrase_file%/*}"
        (umask 077 && head -c 32 /dev/urandom | base64 >"$passphrase_file")
    fi
    export PULUMI_CONFIG_PASSPHRASE_FILE="$passphrase_file"
fi

# --- 6. stack -------------------------------------------------------------------------------------
if ! pulumi stack select "$STACK" >/dev/null 2>&1; then
    say "creating the $STACK stack"
    pulumi stack init "$STACK"
fi

# --- 7. swarm -------------------------------------------------------------------------------------
if [ "$swarm_state" = inactive ]; then
    say "the Docker engine is not in a swarm: initialising a single-node swarm (docker swarm init --advertise-addr 127.0.0.1)"
    docker swarm init --advertise-addr 127.0.0.1
fi

# --- 8. up ----------------------------------------------------------------------------------------
say "pulumi up --yes --stack $STACK $*"
status=0
pulumi up --yes --stack "$STACK" "$@" || status=$?
if [ "$status" -ne 0 ]; then
    say "pulumi up failed (exit $status): see the errors above; fix them and run \`npm run up:dev\` again"
    exit "$status"
fi
url="$(pulumi stack output url --stack "$STACK")" || die "the stack is up, but reading its \`url\` output failed: see the line above"
# Top-level keys of the `models` output (pulumi prints JSON two spaces deep).
models="$(pulumi stack output models --json --stack "$STACK")" || die "the stack is up, but reading its \`models\` output failed: see the line above"
models="$(printf '%s\n' "$models" | sed -n 's/^  "\([^"]*\)": {$/\1/p')"
first_model="${models%%$'\n'*}"
say "the $STACK stack is up: $url (models: ${models//$'\n'/, }; each at ${url}MODEL/, its API docs at ${url}MODEL/__docs__/)"
[ -z "$engine_bin" ] || say "the Pulumi CLI it used is not on your PATH: export PATH=\"\$(bash scripts/get-engine.sh):\$PATH\""
[ "$local_images" != on ] || say "it runs the local images: other pulumi commands on it need export PLUMBERHUB_LOCAL_IMAGES=1 too"
[ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ] || say "its secrets passphrase: export PULUMI_CONFIG_PASSPHRASE_FILE=$PULUMI_CONFIG_PASSPHRASE_FILE"
say "call it:"
say "  pulumi stack output caCertPem --stack $STACK > ca.pem"
say "  pulumi stack output passwords --show-secrets --stack $STACK    # {\"USER\": \"PASSWORD\"}"
say "  curl --cacert ca.pem -u USER:PASSWORD ${url}${first_model:-MODEL}/__docs__/"
