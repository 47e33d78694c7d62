/**
 * The model spec: what a data scientist writes to put one plumber API online.
 * Plain data, no Pulumi: the same spec feeds the Pulumi components and the exported files.
 */
import { parseQuantity } from "./quantities";
import type { HubTarget } from "./target";

/** A Kubernetes-style resource range, e.g. `{ request: "250m", limit: "500m" }`. */
export interface ResourceRange {
    /**
     * Guaranteed amount (Kubernetes quantity, e.g. `250m` cpu or `512Mi` memory). When only `limit`
     * is given, the default request is used unless it exceeds the limit; then it equals the limit.
     */
    request?: string;
    /**
     * Hard cap (Kubernetes quantity); must not be below `request`. When only `request` is given,
     * the default limit is used unless it is below the request; then it equals the request.
     */
    limit?: string;
}

/** Horizontal autoscaling on CPU (Kubernetes HPA, autoscaling/v2). */
export interface AutoscalingSpec {
    /** Fewest replicas. Default: the model's `replicas`. */
    minReplicas?: number;
    /** Most replicas; must be ≥ `minReplicas`. */
    maxReplicas: number;
    /** Target average CPU utilisation, percent of the cpu request (1–100). Default 70. */
    targetCpuUtilization?: number;
}

/** One model as the user writes it. Exactly one of `path` and `image` is given. */
export interface ModelSpec {
    /**
     * DNS-1123 label (lower-case letters, digits, `-`; starts with a letter), unique in the hub.
     * It is the URL prefix (`/{name}/…`), the service name the gateway routes to, and the image name.
     */
    name: string;
    /** Folder with the model's R code; must contain `plumber.R`. Relative to the stack's folder. */
    path?: string;
    /** A prebuilt image (`registry/repo:tag` or `…@sha256:…`) instead of building from `path`. */
    image?: string;
    /**
     * Extra CRAN packages the model needs. Default none. plumber is always installed: listing it is
     * harmless (it is dropped). Only with `path` (a prebuilt `image` brings its own packages).
     */
    packages?: string[];
    /** Number of containers (R is single-threaded: replicas are the way to scale). Default 1. */
    replicas?: number;
    /**
     * CPU per replica, in cores (whole millicores, ≥ `1m`). Default limit `500m`; default request `250m` on AKS and
     * none on swarm (`MODEL_REQUEST_DEFAULTS`). On swarm the request is the service's reservation.
     */
    cpu?: ResourceRange;
    /**
     * Memory per replica, in bytes (≥ `6Mi`, Docker's minimum). Default limit `1Gi`; default request: the limit itself on
     * AKS (why: `MODEL_REQUEST_DEFAULTS`) and none on swarm. On swarm the request is the service's
     * reservation.
     */
    memory?: ResourceRange;
    /** Port plumber listens on inside the container, 1024–65535 (the model runs as non-root). Default 8000. */
    port?: number;
    /** Extra environment variables for the model's process. Default none. */
    env?: Record<string, string>;
    /**
     * Users allowed to call this model through the gateway (1–64 of `[A-Za-z0-9._@-]`, starting with
     * a letter or digit; non-empty list). Default: every gateway user.
     */
    users?: string[];
    /** Optional CPU autoscaling (AKS only). Default off. */
    autoscaling?: AutoscalingSpec;
    /**
     * Where the model's pods may connect to (AKS only: Kubernetes NetworkPolicy; refused on swarm, which cannot
     * enforce it). Default `"none"`: the cluster DNS only. `"internet"`: also public addresses, any port — never
     * other pods or private ranges (10/8, 172.16/12, 192.168/16), the instance metadata (169.254/16) or Azure's
     * wireserver (168.63.129.16).
     */
    egress?: ModelEgress;
    /**
     * Most replicas of this model on one swarm node (swarm only: Docker's `max_replicas_per_node`; AKS already spreads
     * a model's pods over nodes). Replicas that would exceed it stay pending until nodes are added, so with N nodes it
     * caps the model at N × this. Default none: replicas are only spread evenly over the nodes.
     */
    maxReplicasPerNode?: number;
}

/** What a model's pods may connect to (`ModelSpec.egress`). */
export type ModelEgress = "none" | "internet";

/** What each `ModelEgress` lets a model's pods reach, as messages describe it. */
export const MODEL_EGRESS_MEANINGS: Readonly<Record<ModelEgress, string>> = Object.freeze({
    none: "the cluster DNS only, the default",
    internet: "also public addresses; never other pods, private ranges or the instance metadata",
});

/** Every `ModelEgress`, in the order messages list them. */
export const MODEL_EGRESS_MODES: readonly ModelEgress[] = Object.freeze(["none", "internet"]);

/** A validated model with every default filled in. */
export interface Model {
    name: string;
    /** Absolute folder with `plumber.R`, or undefined when `image` is given. */
    path?: string;
    image?: string;
    packages: string[];
    replicas: number;
    /** The request only when the spec gives one: each target has its own default (`modelRequest`). */
    cpu: ResourceRange & { limit: string };
    memory: ResourceRange & { limit: string };
    port: number;
    env: Record<string, string>;
    /** Allowed users; undefined means every gateway user. */
    users?: string[];
    autoscaling?: Required<AutoscalingSpec>;
    /** Only when the spec gives it (a swarm target refuses it then): `modelEgress` applies the default. */
    egress?: ModelEgress;
    /** Only when the spec gives it (an AKS target refuses it then). */
    maxReplicasPerNode?: number;
}

// ---------------------------------------------------------------------------------------------
// Limits and defaults of a model, the one home of each (`validateModel` applies them)

/**
 * Model-name pattern as a regex source without anchors or flags: valid in JavaScript and in nginx
 * PCRE, so the gateway builds its `location ~ ^/(NAME)/` from this one definition.
 * It is a DNS-1035 label (a DNS-1123 label that starts with a letter), which a Kubernetes Service
 * name must be; the length limit is checked separately (`MAX_MODEL_NAME_LENGTH`).
 */
export const MODEL_NAME_PATTERN = "[a-z]([-a-z0-9]*[a-z0-9])?";

/**
 * Longest model name. Why 40:
 * - Kubernetes: the Deployment is named after the model and its pods are named
 *   `{deployment}-{10-char template hash}-{5-char suffix}`, i.e. 17 more characters; the pod's
 *   hostname must stay a DNS label (≤ 63), so the Deployment name is ≤ 46.
 * - Swarm: a stack's services are `{stack}_{name}` and a service name is ≤ 63, so 40 leaves 22
 *   characters for the stack name and `_`.
 * - 6 characters stay spare below the Deployment's 46; names made from a model's name, such as its
 *   `{model}-public` LoadBalancer Service (a DNS label, ≤ 63), stay within their limits.
 */
export const MAX_MODEL_NAME_LENGTH = 40;

/** `MODEL_NAME_PATTERN` as a whole string. */
export const MODEL_NAME = new RegExp(`^${MODEL_NAME_PATTERN}$`);

/** Whether `name` has a model name's shape: `MODEL_NAME_PATTERN`, at most `MAX_MODEL_NAME_LENGTH` characters (reserved names aside). */
export function hasModelNameShape(name: unknown): name is string {
    return typeof name === "string" && MODEL_NAME.test(name) && name.length <= MAX_MODEL_NAME_LENGTH;
}

/**
 * Names a model cannot take because the gateway or the platform owns them: `/healthz` and the probe
 * paths are gateway routes; `gateway` and `registry` are the platform's own service names (routing
 * goes by DNS, `{model}` → service `{model}`); `kubernetes` is the API server's Service in every
 * namespace and `localhost` resolves to the gateway itself, so routing to them would open a proxy.
 */
export const RESERVED_MODEL_NAMES: readonly string[] = Object.freeze([
    "healthz",
    "livez",
    "readyz",
    "metrics",
    "status",
    "static",
    "gateway",
    "registry",
    "kubernetes",
    "localhost",
]);

/** Most replicas (and autoscaling `maxReplicas`) a model may ask for. */
export const MAX_REPLICAS = 100;

/**
 * Environment variable with the seconds a stopping model container waits for R to answer the requests it has: the
 * platform sets it to its gateway's read timeout, so one image serves hubs with any timeout (`runEntrypointScript`).
 */
export const MODEL_IDLE_WAIT_ENV = "PLUMBERHUB_IDLE_WAIT_SECONDS";

/** Environment variables the platform sets in every model container; users may not set them. */
export const RESERVED_ENV_NAMES: readonly string[] = Object.freeze(["PORT", "PUBLIC_PATH_PREFIX", "MODEL_DIR", MODEL_IDLE_WAIT_ENV]);

/** Lowest port a model may listen on: it runs as non-root, below 1024 needs privileges. */
export const MIN_MODEL_PORT = 1024;

/**
 * Defaults of the model spec (documented on `ModelSpec`). `validateModel` fills them in, except `egress`, which a
 * swarm must see unset (`modelEgress` applies it); the requests depend on the target (below).
 */
export const MODEL_DEFAULTS = Object.freeze({
    replicas: 1,
    cpu: Object.freeze({ limit: "500m" }),
    memory: Object.freeze({ limit: "1Gi" }),
    port: 8000,
    targetCpuUtilization: 70,
    egress: "none",
});

/** Where a model's pods may connect to: its `egress`, else `MODEL_DEFAULTS.egress` (the cluster DNS only). */
export function modelEgress(model: Pick<Model, "egress">): ModelEgress {
    return model.egress ?? MODEL_DEFAULTS.egress;
}

/** A default request that is the model's own limit (`MODEL_REQUEST_DEFAULTS`). */
export const REQUEST_AT_LIMIT = "limit";

/**
 * What a replica asks the scheduler for when its model names no request, by target: a quantity (capped at the
 * model's limit) or `REQUEST_AT_LIMIT`.
 * - Swarm: nothing. A swarm reservation is capacity held whether the replica works or idles, and a plumber replica
 *   idles at ≈0 CPU and ≈100 MiB: with 250m/512Mi reserved, a 2-core node placed 8 replicas and left the rest
 *   `Pending: insufficient resources`. Limits still cap each replica (measured figures in README, "Sizing").
 * - AKS: Kubernetes needs requests — the scheduler places pods by them, the cluster autoscaler adds nodes when
 *   they do not fit, the HPA's target is a percentage of the CPU request. Memory asks for the whole limit: R is
 *   memory-hungry and seldom hands memory back, and memory cannot be throttled like CPU. With a lower request the
 *   scheduler overcommits nodes, and under memory pressure the pods above their request are the first the kubelet
 *   evicts and the kernel OOM-kills. CPU stays burstable (a busy node only throttles it).
 */
export const MODEL_REQUEST_DEFAULTS: Readonly<Record<HubTarget, Readonly<{ cpu: string; memory: string }>>> = Object.freeze({
    swarm: Object.freeze({ cpu: "0", memory: "0" }),
    aks: Object.freeze({ cpu: "250m", memory: REQUEST_AT_LIMIT }),
});

/**
 * The cpu or memory a replica of `model` asks for on `target` (a Kubernetes quantity): the spec's request, else the
 * target's default (`MODEL_REQUEST_DEFAULTS`): the model's limit for `REQUEST_AT_LIMIT`, otherwise capped at it.
 */
export function modelRequest(model: Pick<Model, "cpu" | "memory">, kind: "cpu" | "memory", target: HubTarget): string {
    const { request, limit } = model[kind];
    if (request !== undefined) return request;
    const fallback = MODEL_REQUEST_DEFAULTS[target][kind];
    if (fallback === REQUEST_AT_LIMIT) return limit;
    return parseQuantity(fallback) > parseQuantity(limit) ? limit : fallback;
}

/** R package names ("Writing R Extensions" 1.1.1): letters, digits, `.`; starts with a letter; ≥ 2 chars; no trailing `.`. */
export const R_PACKAGE_NAME = /^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$/;
