#!/usr/bin/env bash
# Builds the local base images the real tests use. No registry can be pulled from on these machines,
# so each image is a Debian root filesystem made with debootstrap from the Debian mirror apt already
# uses, then `docker import`ed:
#   local/r-plumber:bookworm  R + plumber (+ swagger for /__docs__/) + randomForest + MASS
#   local/nginx:bookworm      nginx-light + the stream module (the edge) + the Lua module (metrics) + curl (healthcheck)
#                             + lego, openssl, ca-certificates (ACME certificates renewed beside nginx)
#   local/registry:bookworm   Debian's docker-registry (distribution 2.8), for the swarm registry
#   local/swarm-node:bookworm a Docker engine (+ sshd) to run as one node of the tests' three-node swarm
#
# Idempotent: an image whose `org.plumberhub.recipe` label equals the current recipe key is kept.
# Root filesystems are cached as tarballs in ${PLUMBERHUB_CACHE:-$HOME/.cache/plumberhub}, keyed by
# suite + mirror + package list, so CI can keep that folder between runs.
#
# Usage: scripts/build-local-images.sh [IMAGE...]   (default: all four; needs root, docker, debootstrap)
set -euo pipefail

SUITE=bookworm
CACHE="${PLUMBERHUB_CACHE:-$HOME/.cache/plumberhub}"

die() { echo "build-local-images: $*" >&2; exit 1; }
log() { echo "build-local-images: $*" >&2; }

# image name -> debootstrap --include list (comma-separated, sorted: it is part of the cache key)
declare -A PACKAGES=(
    [local/r-plumber:bookworm]="fonts-dejavu-core,r-base-core,r-cran-mass,r-cran-plumber,r-cran-randomforest,r-cran-swagger"
    [local/nginx:bookworm]="ca-certificates,curl,lego,libnginx-mod-http-lua,libnginx-mod-stream,nginx-light,openssl"
    [local/registry:bookworm]="docker-registry"
    [local/swarm-node:bookworm]="ca-certificates,docker.io,iproute2,iptables,openssh-server,procps"
)
# image name -> `docker import --change` instructions, one per line
declare -A CHANGES=(
    [local/r-plumber:bookworm]=$'ENV LANG=C.UTF-8\nCMD ["R"]'
    [local/nginx:bookworm]=$'ENV LANG=C.UTF-8\nEXPOSE 80\nCMD ["nginx", "-g", "daemon off;"]'
    [local/registry:bookworm]=$'ENV LANG=C.UTF-8\nEXPOSE 5000\nCMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]'
    [local/swarm-node:bookworm]=$'ENV LANG=C.UTF-8\nCMD ["dockerd"]'
)
ALL_IMAGES=(local/r-plumber:bookworm local/nginx:bookworm local/registry:bookworm local/swarm-node:bookworm)

# The mirror of the `bookworm` suite in apt's own sources (deb822 *.sources first, then sources.list).
debian_mirror() {
    local file uri
    for file in /etc/apt/sources.list.d/*.sources; do
        [ -r "$file" ] || continue
        uri=$(awk -v suite="$SUITE" '
            BEGIN { RS = ""; FS = "\n" }
            {
                types = ""; uris = ""; suites = ""; enabled = "yes"
                for (i = 1; i <= NF; i++) {
                    line = $i
                    if (line ~ /^[ \t]*#/) continue
                    if (line ~ /^Types:/)   types   = substr(line, 7)
                    if (line ~ /^URIs:/)    uris    = substr(line, 6)
                    if (line ~ /^Suites:/)  suites  = substr(line, 8)
                    if (line ~ /^Enabled:/) enabled = substr(line, 9)
                }
                if (enabled ~ /no/) next
                if ((" " types " ") !~ /[ \t]deb[ \t]/) next
                if ((" " suites " ") !~ ("[ \t]" suite "[ \t]")) next
                n = split(uris, u, /[ \t]+/)
                for (k = 1; k <= n; k++) if (u[k] != "") { print u[k]; exit }
            }' "$file")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$file" ] || continue
        uri=$(awk -v suite="$SUITE" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; exit }
            }' "$file")
        if [ -n "$uri" ]; then echo "$uri"; return; fi
    done
    die "no 'deb' source for suite '$SUITE' in /etc/apt/sources.list.d/*.sources or sources.list"
}

# The keyring apt trusts for that mirror (Signed-By), if any; else debootstrap's default.
debian_keyring() {
    local k=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$k" ] && echo "$k"
}

build_image() {
    local image=$1 packages=${PACKAGES[$1]} changes=${CHANGES[$1]}
    local mirror key recipe tarball rootfs
    mirror=$(debian_mirror)
    # The rootfs tarball is keyed by what debootstrap gets; the image also by the import changes.
    key=$(printf '%s\n' "$SUITE" "$mirror" "minbase" "$packages" | sha256sum | cut -c1-16)
    recipe=$(printf '%s\n' "$key" "$changes" | sha256sum | cut -c1-16)
    if [ "$(docker image inspect --format '{{ index .Config.Labels "org.plumberhub.recipe" }}' "$image" 2>/dev/null)" = "$recipe" ]; then
        log "$image is up to date (recipe $recipe), skipped"
        return
    fi
    tarball="$CACHE/rootfs-${image//[\/:]/_}-$key.tar.gz"
    if [ ! -s "$tarball" ]; then
        log "debootstrap $SUITE from $mirror with: $packages"
        rootfs=$(mktemp -d "$CACHE/rootfs.XXXXXX")
        local keyring; keyring=$(debian_keyring || true)
        # shellcheck disable=SC2086
        if ! debootstrap --variant=minbase --include="$packages" ${keyring:+--keyring="$keyring"} \
                "$SUITE" "$rootfs" "$mirror" >"$rootfs.log" 2>&1; then
            tail -n 40 "$rootfs.log" >&2
            rm -rf "$rootfs"
            die "debootstrap failed for $image (log above, full log $rootfs.log)"
        fi
        # Slimmer image: downloaded .debs, apt lists, docs and man pages are not needed at run time.
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
               "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
        tar --numeric-owner -C "$rootfs" -czf "$tarball.tmp" .
        mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs" "$rootfs.log"
        # Older tarballs of the same image are stale recipes now.
        find "$CACHE" -maxdepth 1 -name "rootfs-${image//[\/:]/_}-*.tar.gz" ! -name "$(basename "$tarball")" -delete
    else
        log "using cached rootfs $tarball"
    fi
    # docker 20.10 import accepts CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR.
    local args=(--change "LABEL org.plumberhub.recipe=$recipe")
    local line
    while IFS= read -r line; do [ -n "$line" ] && args+=(--change "$line"); done <<<"$changes"
    docker import "${args[@]}" "$tarball" "$image" >/dev/null || die "docker import of $tarball as $image failed"
    log "built $image (recipe $recipe, rootfs $key)"
}

main() {
    [ "$(id -u)" = 0 ] || die "must run as root (debootstrap)"
    command -v docker >/dev/null || die "docker CLI not found (apt-get install docker.io)"
    command -v debootstrap >/dev/null || die "debootstrap not found (apt-get install debootstrap)"
    docker info >/dev/null 2>&1 || die "docker daemon not reachable (start dockerd)"
    mkdir -p "$CACHE"
    local images=("$@")
    [ ${#images[@]} -gt 0 ] || images=("${ALL_IMAGES[@]}")
    local image
    for image in "${images[@]}"; do [ -n "${PACKAGES[$image]:-}" ] || die "unknown image '$image' (known: ${ALL_IMAGES[*]})"; done
    # One builder at a time: other helpers / CI steps may call this script concurrently.
    exec 9>"$CACHE/.lock"
    flock 9
    for image in "${images[@]}"; do build_image "$image"; done
}

main "$@"
