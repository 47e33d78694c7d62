/**
 * The model spec: what a data scientist writes to put one plumber API online.
 * Plain data, no Pulumi: the same spec feeds the Pulumi components and the exported files.
 */

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
    /** CPU per replica, in cores (whole millicores, ≥ `1m`). Default `{ request: "250m", limit: "500m" }`. */
    cpu?: ResourceRange;
    /** Memory per replica, in bytes (≥ `6Mi`, Docker's minimum). Default `{ request: "512Mi", limit: "1Gi" }`. */
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
}

/** A validated model with every default filled in. */
export interface Model {
    name: string;
    /** Absolute folder with `plumber.R`, or undefined when `image` is given. */
    path?: string;
    image?: string;
    packages: string[];
    replicas: number;
    cpu: Required<ResourceRange>;
    memory: Required<ResourceRange>;
    port: number;
    env: Record<string, string>;
    /** Allowed users; undefined means every gateway user. */
    users?: string[];
    autoscaling?: Required<AutoscalingSpec>;
}
