/**
 * The model container: Dockerfile, `entrypoint.R` and the package installer of a model's build
 * context. Pure: plain values in, file contents out. The user's model folder is staged next to these
 * files as `model/`.
 *
 * `entrypoint.R` is a template literal here, not an asset file read at load: the package build is
 * plain `tsc`, which does not copy non-TS files into `bin/`, and the entrypoint's defaults (port,
 * model folder) are rendered into it anyway.
 */
import { MAX_PORT, validatePort } from "../config/checks";
import { GATEWAY_SETTINGS_DEFAULTS } from "../config/gateway";
import { validateImageReference } from "../config/image";
import { Model, MODEL_IDLE_WAIT_ENV } from "../config/model";
import { validateRPackageList, validateRPackageName } from "../config/validateModel";

/** Pinned public base image used when the spec names none (R 4.4.2 on Ubuntu, PPM binary packages). */
export const DEFAULT_BASE_IMAGE = "rocker/r-ver:4.4.2";
/** Where the model folder lives inside the image (the default `MODEL_DIR`). */
export const MODEL_DIR_IN_IMAGE = "/app/model";
/** Where the entrypoint lives inside the image. */
export const ENTRYPOINT_IN_IMAGE = "/opt/plumberhub/entrypoint.R";
/** Numeric uid/gid the model runs as: numeric so Kubernetes `runAsNonRoot` can verify it. */
export const MODEL_UID = 10001;

/** What the model container renderer needs. */
export interface ModelContainerSpec {
    /** Extra CRAN packages (plumber is always added). Order and duplicates do not matter. */
    packages: string[];
    /** Port plumber listens on inside the container (1–65535). */
    port: number;
    /** Base image with R (Debian/Ubuntu family: `useradd` and `bash` are used). Default {@link DEFAULT_BASE_IMAGE}. */
    baseImage?: string;
}

/** Validates a {@link ModelContainerSpec}; throws an error naming the field, the value and what is valid. */
export function validateModelContainerSpec(spec: ModelContainerSpec): void {
    validateRPackageList(spec.packages, "packages");
    spec.packages.forEach((pkg, i) => validateRPackageName(pkg, `packages[${i}]`));
    validatePort(spec.port, "port");
    // Written into the Dockerfile's ARG line: the reference grammar has no space or quote.
    if (spec.baseImage !== undefined) validateImageReference(spec.baseImage, "baseImage", DEFAULT_BASE_IMAGE);
}

/** plumber first, then the model's packages sorted and deduplicated (spec order must not bust the cache). */
export function modelPackages(packages: string[]): string[] {
    const extra = [...new Set(packages)].filter((p) => p !== "plumber").sort();
    return ["plumber", ...extra];
}

/** The path of the model's health endpoint, which the entrypoint adds to every plumber API. */
export const MODEL_HEALTH_PATH = "/healthz";

/**
 * The environment the platform sets in a model's container on every target: the port plumber listens on, the
 * public prefix the gateway serves the model under (for the OpenAPI `servers`) and how long a stopping container
 * waits for R's requests (`idleWaitSeconds`, the gateway's read timeout), beside the model's own `env`.
 * Sorted by name, so the rendered objects do not change with the spec's order.
 */
export function modelContainerEnv(
    model: Pick<Model, "name" | "port" | "env">,
    idleWaitSeconds: number = MODEL_IDLE_WAIT_SECONDS,
): Record<string, string> {
    const env: Record<string, string> = {
        ...model.env,
        PORT: String(model.port),
        PUBLIC_PATH_PREFIX: `/${model.name}`,
        [MODEL_IDLE_WAIT_ENV]: String(idleWaitSeconds),
    };
    return Object.fromEntries(
        Object.keys(env)
            .sort()
            .map((name) => [name, env[name]]),
    );
}

/**
 * The files at the root of a model's build context: `Dockerfile`, `entrypoint.R` and
 * `install-packages.R`. The caller stages the model folder beside them as `model/`.
 */
export function renderModelContainerFiles(spec: ModelContainerSpec): Record<string, string> {
    validateModelContainerSpec(spec);
    return {
        Dockerfile: renderDockerfile(spec),
        "entrypoint.R": renderEntrypoint(spec.port),
        "install-packages.R": INSTALL_PACKAGES_R,
    };
}

/**
 * The HEALTHCHECK command as an argv (the Dockerfile's exec form; the swarm target reuses it for its faster probe
 * timings): bash's /dev/tcp, no curl (R base images have none). About 2 ms of CPU per probe, against about 250 ms
 * and 60 MB for an `Rscript -e` probe. Healthy = `GET /healthz` says 200.
 */
export function healthcheckCommand(port: number): string[] {
    const probe =
        `exec 3<>/dev/tcp/127.0.0.1/\${PORT:-${port}} ` +
        `&& printf 'GET ${MODEL_HEALTH_PATH} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 ` +
        `&& IFS= read -r status <&3 ` +
        `&& case "$status" in *" 200 "*) exit 0;; *) exit 1;; esac`;
    return ["bash", "-c", probe];
}

/**
 * Longest a stopping model container waits, in seconds, for R to finish the requests it has (the gateway's default
 * read timeout: the longest request the gateway waits for) before it stops R anyway.
 */
export const MODEL_IDLE_WAIT_SECONDS = GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds;

/** `text` as one POSIX shell word (single quotes; each `'` inside spelled `'\''`). */
function shellWord(text: string): string {
    return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * Shell run as PID 1: starts R; on TERM/INT waits until R is idle, then stops it and exits 0; else exits with R's
 * status. Idle = R answers the health probe: R is single-threaded and answers `GET /healthz` only between requests,
 * and a stopping container gets no new requests (it has left the Service or DNS), so the answer comes after every
 * earlier request has. `timeout` (coreutils) bounds the wait by `MODEL_IDLE_WAIT_ENV` (else `MODEL_IDLE_WAIT_SECONDS`); the probe is
 * `healthcheckCommand`, run by bash (it needs /dev/tcp), the rest is POSIX sh.
 */
export function runEntrypointScript(port: number): string {
    const [shell, flag, probe] = healthcheckCommand(port);
    return (
        `probe=${shellWord(probe)}; Rscript ${ENTRYPOINT_IN_IMAGE} & child=$!; ` +
        `trap 'timeout "\${${MODEL_IDLE_WAIT_ENV}:-${MODEL_IDLE_WAIT_SECONDS}}" ${shell} ${flag} "$probe"; kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT; ` +
        `wait $child; exit $?`
    );
}

function renderDockerfile(spec: ModelContainerSpec): string {
    const uid = MODEL_UID;
    return `# Rendered by plumberhub from the model spec: edit the spec, not this file.
ARG BASE_IMAGE=${spec.baseImage ?? DEFAULT_BASE_IMAGE}
FROM \${BASE_IMAGE}

# Optional CRAN mirror; empty = the base image's repos option (rocker: binary packages), else cloud.r-project.org.
ARG CRAN_REPO=""
ENV LANG=C.UTF-8 MODEL_DIR=${MODEL_DIR_IN_IMAGE} PORT=${spec.port}

# --no-log-init: a high uid would otherwise make a huge sparse /var/log/lastlog.
RUN groupadd --gid ${uid} plumber \\
 && useradd --no-log-init --uid ${uid} --gid ${uid} --create-home --home-dir /home/plumber --shell /usr/sbin/nologin plumber

# R packages before the model code: this layer is rebuilt only when the package list changes.
# Packages the base image already has are skipped, so a base image that has them all needs no network.
# R runs without --vanilla: the base image's Rprofile.site/Renviron.site must apply (rocker sets its
# binary-package repos and site-library path there).
COPY install-packages.R /opt/plumberhub/install-packages.R
RUN Rscript /opt/plumberhub/install-packages.R ${modelPackages(spec.packages).join(" ")}

COPY entrypoint.R ${ENTRYPOINT_IN_IMAGE}
COPY model/ ${MODEL_DIR_IN_IMAGE}/
WORKDIR ${MODEL_DIR_IN_IMAGE}
# build.R (optional) bakes artefacts such as a trained model.rds into the image, so start-up is fast.
# It runs as root, and the folder is then left read-only to the model user: the running API cannot
# change its own code or model.
RUN if [ -f build.R ]; then Rscript build.R; fi \\
 && chmod -R a+rX,go-w ${MODEL_DIR_IN_IMAGE}

USER ${uid}:${uid}
EXPOSE ${spec.port}
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ${JSON.stringify(healthcheckCommand(spec.port))}
# R installs no SIGTERM handler, so as PID 1 it would ignore the stop signal of docker and Kubernetes
# and be killed only after the grace period: a tiny shell is PID 1, waits on TERM/INT until R has
# answered the requests it has (up to $${MODEL_IDLE_WAIT_ENV} s, the platform's read timeout), then passes the signal on to R.
CMD ${JSON.stringify(["/bin/sh", "-c", runEntrypointScript(spec.port)])}
`;
}

/** Installs the R packages named on its command line that are not installed yet. */
const INSTALL_PACKAGES_R = `# Rendered by plumberhub. Usage: Rscript install-packages.R PKG...
# Installs the packages that are missing; the ones the base image already has are skipped, so a base
# image with all of them installs nothing and needs no network.
pkgs <- commandArgs(trailingOnly = TRUE)
installed <- function(p) nzchar(system.file(package = p))
missing <- pkgs[!vapply(pkgs, installed, logical(1))]
# One write per line, flushed: the build log interleaves stdout with the installers' stderr.
say <- function(...) { writeLines(paste(c(...), collapse = " ")); flush(stdout()) }
say("plumberhub: R packages already installed:", setdiff(pkgs, missing), "")
if (length(missing) > 0) {
  say("plumberhub: installing R packages:", missing, "")
  # plumber needs libsodium (R package sodium); R base images such as rocker/r-ver lack it.
  if ("plumber" %in% missing && nzchar(Sys.which("apt-get"))) {
    status <- system("apt-get update -qq && apt-get install -y --no-install-recommends libsodium-dev && rm -rf /var/lib/apt/lists/*")
    if (status != 0) stop("apt-get install libsodium-dev failed with status ", status)
  }
  repos <- Sys.getenv("CRAN_REPO")
  if (!nzchar(repos)) {
    repos <- getOption("repos")
    if (is.null(repos) || any(repos == "@CRAN@")) repos <- "https://cloud.r-project.org"
  }
  install.packages(missing, repos = repos, Ncpus = max(1L, parallel::detectCores()))
  # install.packages only warns on failure: check, so a broken install fails the image build.
  failed <- missing[!vapply(missing, installed, logical(1))]
  if (length(failed) > 0) stop("could not install R packages: ", paste(failed, collapse = ", "))
}
`;

/**
 * The entrypoint: plumbs \`$MODEL_DIR/plumber.R\` unchanged, adds \`GET /healthz\`, serves on
 * \`$HOST:$PORT\` (default 0.0.0.0 and the rendered port) and points the OpenAPI \`servers\` at
 * \`$PUBLIC_PATH_PREFIX\`. Also runs on a host: \`MODEL_DIR=examples/models/hello PORT=8123 Rscript entrypoint.R\`.
 */
function renderEntrypoint(port: number): string {
    return `# Rendered by plumberhub: serves a model's plumber.R, unchanged, plus GET /healthz.
# Environment (an empty value means the default):
#   MODEL_DIR           folder with plumber.R (default ${MODEL_DIR_IN_IMAGE}); also the working directory
#   PORT                TCP port to listen on (default ${port})
#   HOST                address to bind (default 0.0.0.0, every interface)
#   PUBLIC_PATH_PREFIX  path the gateway serves this model under, e.g. /bos-rf (default "": none). It
#                       becomes the OpenAPI servers URL, so /bos-rf/__docs__/ "Try it out" calls
#                       /bos-rf/... (the gateway strips the prefix before proxying here).
fail <- function(...) {
  message("plumberhub entrypoint: ", ...)
  quit(save = "no", status = 2)
}
env <- function(name, default) {
  value <- Sys.getenv(name, "")
  if (nzchar(value)) value else default
}

model_dir <- env("MODEL_DIR", "${MODEL_DIR_IN_IMAGE}")
port_text <- env("PORT", "${port}")
host <- env("HOST", "0.0.0.0")
prefix <- sub("/+$", "", Sys.getenv("PUBLIC_PATH_PREFIX", ""))

if (!grepl("^[0-9]{1,5}$", port_text) || as.integer(port_text) < 1L || as.integer(port_text) > ${MAX_PORT}L) {
  fail("PORT must be an integer from 1 to ${MAX_PORT}, got '", port_text, "'")
}
if (nzchar(prefix) && !grepl("^(/[A-Za-z0-9._~-]+)+$", prefix)) {
  fail("PUBLIC_PATH_PREFIX must be empty or a path such as /my-model, got '", prefix, "'")
}
plumber_file <- file.path(normalizePath(model_dir, mustWork = FALSE), "plumber.R")
if (!file.exists(plumber_file)) {
  fail("MODEL_DIR must be a folder with plumber.R; ", plumber_file, " does not exist")
}

suppressPackageStartupMessages(library(plumber))
# The model reads its files (e.g. readRDS("model.rds")) relative to its own folder.
setwd(dirname(plumber_file))
pr <- plumb(plumber_file)

is_get_healthz <- function(ep) identical(ep$path, "/healthz") && "GET" %in% ep$verbs
if (any(vapply(unlist(pr$endpoints, recursive = FALSE), is_get_healthz, logical(1)))) {
  message("plumberhub entrypoint: plumber.R defines GET /healthz itself; keeping it")
} else {
  pr <- pr_get(pr, "/healthz", function() list(status = "ok"), serializer = serializer_unboxed_json())
}

# plumber's documented option for the OpenAPI servers URL; without it plumber guesses from the
# Referer header. The model's own api spec, if it sets servers, still wins.
if (nzchar(prefix)) options(plumber.apiURL = prefix)

pr_run(pr, host = host, port = as.integer(port_text))
`;
}
