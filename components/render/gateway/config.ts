/**
 * The gateway (AHUB pattern): one nginx in front of every model. Pure: plain values in, the files of
 * the gateway out (`nginx.conf` and the landing page). Each target (AKS, swarm) chooses where the
 * files live by passing the paths; nothing here is a fixed location.
 *
 * This file: what the renderer takes (the gateway config) and its defaults.
 *
 * Works on stock nginx ≥ 1.22 with the standard http modules (map, proxy, auth_basic, rewrite, ssl)
 * plus `auth_request` (only for models with a user list); no njs, no third-party modules, except nginx's Lua module for
 * the optional metrics (`metrics.ts`).
 */
import { GATEWAY_SETTINGS_DEFAULTS, MIB } from "../../config/gateway";
import { LandingEndpoint } from "../landingPage";
import { StatusPageFiles } from "../statusPage";

/** Pinned public nginx image used when the caller gives none. */
export const DEFAULT_GATEWAY_IMAGE = "nginx:1.28.0-bookworm";

/** One model behind the gateway. */
export interface GatewayModel {
    /** Model name (strict model-name pattern): the public prefix `/{name}/`. */
    name: string;
    /**
     * `host:port` of the model's service, `static` routing only (required there, refused in `dns`
     * mode). IPv6 hosts in brackets: `[::1]:8000`.
     */
    upstream?: string;
    /** Port of the model's service, `dns` routing only (refused in `static` mode). Default `routing.port`. */
    port?: number;
    /** Gateway users allowed to call this model; others get 403. Default: every gateway user. */
    users?: string[];
    /** One paragraph shown on the landing page. Default none. */
    description?: string;
    /** Endpoints listed on the landing page. Default none. */
    endpoints?: LandingEndpoint[];
}

/**
 * How `/{model}/…` finds the model's service.
 * - `static`: one `upstream` block per model from `GatewayModel.upstream` (keep-alive pool only if
 *   `limits.upstreamKeepalive` asks for one).
 *   nginx resolves the hosts once at start and refuses to start if one does not resolve.
 * - `dns`: the host is `nameTemplate` with `{model}` replaced, resolved at request time through
 *   `resolver`; any name matching the model-name pattern (reserved names excepted) is routed, so a
 *   model deployed from another stack joins without a gateway change. A name that does not resolve
 *   answers 404 `unknown model`. Open-source nginx 1.22 keeps no keep-alive pool for such upstreams.
 *   The template must be a name only model services answer to (`config/routing.ts`: a network alias
 *   on swarm, a `model-` Service on Kubernetes); a bare `{model}` is refused, since any service on
 *   the network would be reachable by its name.
 */
export type GatewayRouting =
    | { mode: "static" }
    | {
          mode: "dns";
          /** DNS servers, `ip` or `ip:port` (IPv6 in brackets), e.g. `["127.0.0.11"]` on swarm, the cluster DNS on Kubernetes. */
          resolver: string[];
          /** Host name of a model's service with `{model}` (once) and at least one dot, e.g. `model-{model}.models.svc.cluster.local`. */
          nameTemplate: string;
          /** Port of the models not listed in `models` with a `port` of their own (those joining from other stacks). Default 8000. */
          port?: number;
          /** Seconds nginx caches an answer (overrides the record TTL). Default 10. */
          validSeconds?: number;
      };

/** The gateway's certificate and key, as files nginx reads at start. */
export interface GatewayTlsFiles {
    /** Absolute path of the PEM certificate chain (server certificate first), e.g. `/etc/plumberhub/tls.crt`. */
    certificatePath: string;
    /** Absolute path of the PEM private key, e.g. `/etc/plumberhub/tls.key`. */
    keyPath: string;
    /**
     * The certificate comes from an ACME server through the HTTP-01 challenge (`acmeRenewal.ts`): the HTTP port serves
     * `/.well-known/acme-challenge/` from `webroot` without auth, and `/healthz/certificate` serves `statusFile`.
     * Default none.
     */
    acme?: { webroot: string; statusFile: string };
}

/** Where things live. Absolute paths; the target mounts the files there. */
export interface GatewayPaths {
    /** htpasswd file of every gateway user (read by nginx workers per request), e.g. `/etc/plumberhub/htpasswd`. */
    htpasswd: string;
    /** Folder holding the landing page as `index.html`, e.g. `/usr/share/plumberhub`. */
    landingDir: string;
    /** nginx pid file. Default `/tmp/plumberhub-nginx.pid` (writable by a non-root master too). */
    pidFile?: string;
    /** Folder for nginx's temp files (request bodies, buffered responses). Default nginx's compiled-in paths. */
    tempDir?: string;
    /** Access log file (JSON lines). Default `/dev/stdout`. */
    accessLog?: string;
    /** Error log: a file or `stderr`. Default `stderr`. */
    errorLog?: string;
}

/** Request limits and timeouts. */
export interface GatewayLimits {
    /** Largest request body, bytes; larger → 413. Default 10 MiB. */
    maxBodyBytes?: number;
    /** Seconds to open a connection to a model. Default 5. */
    connectTimeoutSeconds?: number;
    /** Seconds a model may take between two reads of its response (slow models need more). Default 120. */
    readTimeoutSeconds?: number;
    /** Seconds between two writes of the request to a model. Default 60. */
    sendTimeoutSeconds?: number;
    /**
     * Idle keep-alive connections kept per model and worker (static routing). Default 0: a new
     * connection per request, with `Connection: close`. plumber's server (httpuv) leaves Nagle on and
     * writes headers and body apart, so on a reused connection each response waits for the gateway's
     * delayed ACK, ~40 ms (one connection: 22 req/s reused vs 354 req/s fresh). Set it only for
     * models whose server sets TCP_NODELAY.
     */
    upstreamKeepalive?: number;
}

/** Everything the gateway renderer needs. */
export interface GatewayConfig {
    /** Models known to the stack: routed (static) and listed on the landing page. Names unique. */
    models: GatewayModel[];
    /** How `/{model}/` finds its service. */
    routing: GatewayRouting;
    /**
     * TLS files, or `"http-only"` for local use: then one plain-HTTP server does everything, without
     * HSTS, and basic-auth passwords cross the network in clear text.
     */
    tls: GatewayTlsFiles | "http-only";
    /** File locations. */
    paths: GatewayPaths;
    /** Limits and timeouts. Defaults as documented on each field. */
    limits?: GatewayLimits;
    /** Address to listen on, e.g. `127.0.0.1`. Default every IPv4 address. */
    listenAddress?: string;
    /** HTTPS port nginx listens on (the only port in http-only mode). Default 443 (8080 in http-only mode). */
    httpsPort?: number;
    /** HTTP port, answering 301 to HTTPS (and `/healthz`). Default 80. Unused in http-only mode. */
    httpPort?: number;
    /** HTTPS port clients see, for the HTTP→HTTPS redirect (differs behind a port mapping). Default `httpsPort`. */
    publicHttpsPort?: number;
    /** `user` directive for the workers when the master runs as root. Default none (nginx's `nobody`). */
    user?: string;
    /** Worker processes: a count or `auto` (one per core). Default `auto`. */
    workerProcesses?: number | "auto";
    /** Connections per worker. Default 1024. */
    workerConnections?: number;
    /** HSTS max-age, seconds. Default 31536000 (one year). */
    hstsMaxAgeSeconds?: number;
    /** Basic-auth realm, shown by browsers. Default `plumberhub`. */
    realm?: string;
    /** Landing page title. Default `plumberhub models`. */
    title?: string;
    /**
     * Connections arrive through an L4 edge that sends the PROXY protocol: every listener expects it, and the
     * client address nginx logs and forwards is the one the edge saw. Default false.
     */
    proxyProtocol?: boolean;
    /**
     * Port of an extra listener on 127.0.0.1 without the PROXY protocol, for a healthcheck inside the container:
     * the main server (TLS and auth as on the main port). Default none.
     */
    healthcheckPort?: number;
    /**
     * Per-model request metrics at `/metrics` (Prometheus text format, behind the basic auth), counted by nginx's Lua
     * module (`metrics.ts`): the image needs `libnginx-mod-http-lua` (Debian's module paths). Default false.
     */
    metrics?: boolean;
}

/**
 * The gateway's files, by file name. `nginx.conf` is a whole main config (`events` + `http`), not a
 * `conf.d` snippet: mount it over `/etc/nginx/nginx.conf` (or run `nginx -c <file>`). `index.html`
 * goes into `paths.landingDir`. The target also provides `paths.htpasswd` (readable by the worker
 * user, e.g. mode 0444) and, with TLS, the certificate and key files (read by the master at start).
 */
export interface GatewayFiles extends Partial<StatusPageFiles> {
    "nginx.conf": string;
    "index.html": string;
}

/** Defaults documented on the fields above. */
export const GATEWAY_DEFAULTS = Object.freeze({
    pidFile: "/tmp/plumberhub-nginx.pid",
    accessLog: "/dev/stdout",
    errorLog: "stderr",
    maxBodyBytes: GATEWAY_SETTINGS_DEFAULTS.maxBodyMiB * MIB,
    connectTimeoutSeconds: 5,
    readTimeoutSeconds: GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds,
    sendTimeoutSeconds: 60,
    upstreamKeepalive: 0,
    httpsPort: GATEWAY_SETTINGS_DEFAULTS.httpsPort,
    httpOnlyPort: 8080,
    httpPort: GATEWAY_SETTINGS_DEFAULTS.httpPort,
    workerConnections: 1024,
    hstsMaxAgeSeconds: 31536000,
    dnsValidSeconds: 10,
    realm: "plumberhub",
    title: GATEWAY_SETTINGS_DEFAULTS.title,
});
