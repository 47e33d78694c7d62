#!/usr/bin/env bash
# Gets the Pulumi engine this project's npm packages need and prints the folder to put first on PATH:
#   export PATH="$(bash scripts/get-engine.sh):$PATH"
#
# - A `pulumi` already on PATH whose version is at least @pulumi/pulumi's (package-lock.json) is used as it is:
#   nothing is built or installed and its folder is printed. The official CLI downloads provider plugins on demand.
#   PLUMBERHUB_BUILD_ENGINE=1 builds anyway.
# - Otherwise every binary is built with Go from the Go module proxy into a cache folder keyed by the versions,
#   the Go version and the sources in scripts/engine/ (${PLUMBERHUB_CACHE:-~/.cache/plumberhub}/engine/KEY; the
#   three most recently used builds are kept): the CLI (github.com/pulumi/pulumi/pkg/v3), a Node.js language host
#   (scripts/engine/pulumi/cmd/pulumi-language-nodejs) and the provider plugins of
#   scripts/engine/providers/mapping/providers.json (the upstream Terraform providers through
#   pulumi-terraform-bridge). A second run finds them and builds nothing. The provider plugins are then installed
#   into Pulumi's plugin cache (${PULUMI_HOME:-~/.pulumi}/plugins) at the versions the npm packages ask for, so the
#   engine finds them without downloading; a plugin of that version installed by anything else (the official one)
#   is left as it is.
#
# Why not `go install`: every one of these main packages comes from a module whose go.mod has `replace`
# directives, which `go install pkg@version` refuses; the wrapper modules in scripts/engine/ pin the versions
# (go.mod, go.sum) and build from there. Pulumi's own language host and provider modules are not served by the
# proxy these machines reach, hence the parts in scripts/engine/ (README "The Pulumi engine without downloads").
set -euo pipefail

ROOT="$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)"
ENGINE_SRC="$ROOT/scripts/engine"
CACHE="${PLUMBERHUB_CACHE:-$HOME/.cache/plumberhub}"

say() { echo "get-engine: $*" >&2; }
die() { echo "get-engine: $*" >&2; exit 1; }
elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

command -v node >/dev/null 2>&1 || die "node not found: install Node.js 22 or 24 LTS"

# --- versions: what the npm packages ask for -------------------------------------------------------------------
# name=version lines: `pulumi` is @pulumi/pulumi (the CLI to match), the others the providers of providers.json.
versions="$(node -e '
    const lock = require(process.argv[1]);
    const packages = { pulumi: "@pulumi/pulumi", ...require(process.argv[2]) };
    for (const [name, pkg] of Object.entries(packages)) {
        const entry = lock.packages["node_modules/" + pkg];
        if (!entry) { console.error(`${pkg} is not in package-lock.json`); process.exit(1); }
        console.log(`${name}=${entry.version}`);
    }' "$ROOT/package-lock.json" "$ENGINE_SRC/providers/mapping/providers.json")" ||
    die "cannot read the package versions from package-lock.json"
version_of() { printf '%s\n' "$versions" | sed -n "s/^$1=//p"; }
CLI_VERSION="$(version_of pulumi)"
mapfile -t PROVIDERS < <(printf '%s\n' "$versions" | sed -n 's/^\([a-z]*\)=.*/\1/p' | grep -vx pulumi)

# --- a CLI already on PATH ------------------------------------------------------------------------------------
version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
if [ -z "${PLUMBERHUB_BUILD_ENGINE:-}" ] && existing="$(command -v pulumi 2>/dev/null)" && [[ "$existing" != "$CACHE/engine/"* ]]; then
    existing_version="$(PULUMI_SKIP_UPDATE_CHECK=1 pulumi version 2>/dev/null | sed 's/^v//')" || existing_version=""
    if [ -n "$existing_version" ] && version_at_least "$existing_version" "$CLI_VERSION"; then
        say "using pulumi v$existing_version from PATH ($existing)"
        dirname "$existing"
        exit 0
    fi
    say "pulumi on PATH ($existing) is ${existing_version:+v$existing_version, }not at least @pulumi/pulumi $CLI_VERSION: building v$CLI_VERSION"
fi

# The wrapper module must build what package-lock.json asks for: a mismatch would test another engine.
pinned="$(sed -n 's#^\s*github.com/pulumi/pulumi/pkg/v3 v\([0-9.]*\)$#\1#p' "$ENGINE_SRC/pulumi/go.mod")"
[ "$pinned" = "$CLI_VERSION" ] ||
    die "package-lock.json has @pulumi/pulumi $CLI_VERSION but scripts/engine/pulumi/go.mod builds the CLI $pinned: run \`go get github.com/pulumi/pulumi/pkg/v3@v$CLI_VERSION github.com/pulumi/pulumi/sdk/v3@v$CLI_VERSION && go mod tidy\` in scripts/engine/pulumi"

# --- build ----------------------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 ||
    die "Go not found: it builds the Pulumi engine here (no Pulumi download site is reachable). Install Go ≥ 1.26, or install the Pulumi CLI ≥ $CLI_VERSION (https://www.pulumi.com/docs/iac/download-install/)"
go_version="$(go env GOVERSION)"
export GOMODCACHE="${GOMODCACHE:-$CACHE/go/mod}" GOCACHE="${GOCACHE:-$CACHE/go/build}"
export GOFLAGS="-mod=readonly -trimpath" CGO_ENABLED=0
# go.sum pins every module; the checksum database is not asked (it may not answer from here).
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi/*,github.com/kreuzwerker/*,github.com/hashicorp/*,github.com/terraform-providers/*"

# Builds one target; on failure shows go's last lines naming the module and version that failed.
go_build() { # label log dir args...
    local label=$1 log=$2 dir=$3 started
    shift 3
    started=$(date +%s)
    say "$label: building…"
    if ! (cd "$dir" && go build "$@") >"$log" 2>&1; then
        tail -n 30 "$log" >&2
        die "$label: go build failed (full log $log); the lines above name the module and version"
    fi
    say "$label: built in $(elapsed "$started")"
}

build_engine() {
    local work="$OUT.work"
    rm -rf "$work" "$BIN" "$PLUGINS"
    mkdir -p "$work" "$BIN"
    cp -r "$ENGINE_SRC/pulumi" "$ENGINE_SRC/providers" "$work/"

    local version_flag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$CLI_VERSION"
    go_build "pulumi v$CLI_VERSION (CLI, github.com/pulumi/pulumi/pkg/v3)" "$work/cli.log" "$work/pulumi" \
        -ldflags "-s -w $version_flag" -o "$BIN/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    go_build "pulumi-language-nodejs v$CLI_VERSION (scripts/engine/pulumi)" "$work/language.log" "$work/pulumi" \
        -ldflags "-s -w $version_flag" -o "$BIN/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs

    # Provider schemas are generated from the bridged upstream providers, then embedded in the plugin binary.
    go_build "tfgen (schemas of the bridged providers)" "$work/tfgen.log" "$work/providers" -o "$work/tfgen" ./cmd/tfgen
    local name plugin_versions=() schemas="$work/providers/cmd/provider/schemas"
    mkdir -p "$schemas"
    for name in "${PROVIDERS[@]}"; do
        plugin_versions+=("$name=$(version_of "$name")")
        mkdir -p "$work/schema-$name"
        (cd "$work/schema-$name" && "$work/tfgen" "$name" "$(version_of "$name")" schema --out .) >"$work/schema-$name.log" 2>&1 ||
            { tail -n 20 "$work/schema-$name.log" >&2; die "generating the $name schema failed (log $work/schema-$name.log)"; }
        cp "$work/schema-$name/schema.json" "$schemas/$name.json"
        cp "$work/schema-$name/bridge-metadata.json" "$schemas/$name-metadata.json"
    done
    local joined
    joined="$(IFS=,; echo "${plugin_versions[*]}")"
    # Not in BIN: plugins on PATH would be taken before the installed ones, with a warning on every run.
    mkdir -p "$PLUGINS"
    go_build "pulumi-resource-{${joined//=/ }} (scripts/engine/providers)" "$work/providers.log" "$work/providers" \
        -ldflags "-s -w -X main.versions=$joined" -o "$PLUGINS/plumberhub-providers" ./cmd/provider
    for name in "${PROVIDERS[@]}"; do ln -s plumberhub-providers "$PLUGINS/pulumi-resource-$name"; done
    rm -rf "$work"
    touch "$OUT/complete"
}

# The key covers what the binaries are made from: the versions, Go, the build steps above and the Go sources,
# module files and provider list in scripts/engine (not comments elsewhere in this script, nor stray files).
key="$( (printf '%s\n' "$versions" "$go_version"; declare -f go_build build_engine
         cd "$ENGINE_SRC" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum -o -name '*.json' \) | LC_ALL=C sort | xargs sha256sum
       ) | sha256sum | cut -c1-12)"
OUT="$CACHE/engine/pulumi-v$CLI_VERSION-$key"
BIN="$OUT/bin"
PLUGINS="$OUT/plugins"

mkdir -p "$CACHE/engine"
# One builder at a time (CI steps and helpers may call this concurrently).
exec 9>"$CACHE/engine/.lock"
flock 9
if [ -f "$OUT/complete" ]; then
    say "pulumi v$CLI_VERSION and the provider plugins are built ($OUT): nothing to do"
else
    started=$(date +%s)
    say "building the Pulumi engine v$CLI_VERSION with $go_version into $OUT (first time: several minutes)"
    build_engine
    say "engine built in $(elapsed "$started")"
fi
touch "$OUT/complete" # last used: the three most recently used builds stay (other checkouts, branches), older ones go
find "$CACHE/engine" -mindepth 2 -maxdepth 2 -name complete -printf '%T@ %h\n' | sort -rn | tail -n +4 | cut -d' ' -f2- |
    while IFS= read -r stale; do rm -rf "$stale"; done

# --- provider plugins into Pulumi's plugin cache ----------------------------------------------------------------
plugins="${PULUMI_HOME:-$HOME/.pulumi}/plugins"
PROVIDERS_MODULE="$(sed -n 's/^module //p' "$ROOT/scripts/engine/providers/go.mod")"
for name in "${PROVIDERS[@]}"; do
    version="$(version_of "$name")"
    dir="$plugins/resource-$name-v$version"
    # A plugin not built from scripts/engine/providers (the official one, downloaded by a Pulumi CLI) is better: keep
    # it. Ours carry that module's path in their Go build info, so an older build of ours is replaced, whoever put it there.
    if [ -f "$dir/pulumi-resource-$name" ] && ! grep -qaF "$PROVIDERS_MODULE" "$dir/pulumi-resource-$name"; then
        say "keeping the provider plugin $name $version already in $plugins"
        continue
    fi
    cmp -s "$dir/pulumi-resource-$name" "$PLUGINS/plumberhub-providers" && continue
    if ! output="$(PULUMI_SKIP_UPDATE_CHECK=1 "$BIN/pulumi" plugin install resource "$name" "$version" --reinstall \
            --file "$PLUGINS/pulumi-resource-$name" 2>&1)"; then
        printf '%s\n' "$output" | tail -n 10 >&2
        die "installing the $name $version plugin into $plugins failed (pulumi's output above)"
    fi
    say "installed provider plugin $name $version into $plugins"
done
echo "$BIN"
