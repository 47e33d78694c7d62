/**
 * The gateway settings a user chooses (ports, replicas, limits, title) and their defaults: one owner, read by the
 * stack config, the gateway renderer and both targets. Plain values, no Pulumi.
 */
import { show } from "./checks";

/** Defaults of the gateway settings. */
export const GATEWAY_SETTINGS_DEFAULTS = Object.freeze({
    /** Published HTTPS port. */
    httpsPort: 443,
    /** Published HTTP port, answering with a redirect to HTTPS. */
    httpPort: 80,
    /** nginx replicas: one on a swarm (host-mode ports allow one task per node), two on AKS (a PDB keeps one). */
    replicas: Object.freeze({ swarm: 1, aks: 2 }),
    /** Largest request body, MiB. */
    maxBodyMiB: 10,
    /** Seconds a model may take to answer. */
    readTimeoutSeconds: 120,
    /** Title of the landing page. */
    title: "plumberhub models",
    /** Per-model metrics at `/metrics`: off, as they need a gateway image with nginx's Lua module. */
    metrics: false,
});

/** Bytes in a MiB, the unit of `maxBodyMiB`. */
export const MIB = 1024 * 1024;

/** What follows the host in an https URL: nothing for HTTPS's own port 443, else `:port`. */
export function httpsPortSuffix(port: number): string {
    return port === 443 ? "" : `:${port}`;
}

/**
 * Longest read timeout, seconds: an hour. Also how long a stopping model waits for its requests and how long pods
 * may take to stop, so it bounds a roll too.
 */
export const MAX_READ_TIMEOUT_SECONDS = 3600;

/** Most gateway replicas. */
export const MAX_GATEWAY_REPLICAS = 20;
/** Longest landing page title, characters. */
export const MAX_GATEWAY_TITLE_LENGTH = 80;

/** Throws unless `metrics` is a switch of the per-model metrics (true or false). */
export function validateGatewayMetrics(metrics: unknown, field = "metrics"): asserts metrics is boolean {
    if (typeof metrics !== "boolean") throw new Error(`\`${field}\` must be true (per-model metrics at /metrics) or false, got ${show(metrics)}`);
}

/** Throws unless `title` is a landing page title: 1 to `MAX_GATEWAY_TITLE_LENGTH` characters. */
export function validateGatewayTitle(title: unknown, field = "title"): void {
    if (typeof title !== "string" || title.length === 0 || title.length > MAX_GATEWAY_TITLE_LENGTH) {
        throw new Error(`\`${field}\` must be a string of 1 to ${MAX_GATEWAY_TITLE_LENGTH} characters, got ${show(title)}`);
    }
}
