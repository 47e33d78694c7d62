/**
 * The gateway (AHUB pattern): one nginx in front of every model. Pure: plain values in, the files of
 * the gateway out (`nginx.conf` and the landing page). Each target (AKS, swarm) chooses where the
 * files live by passing the paths; nothing here is a fixed location.
 *
 * Works on stock nginx ≥ 1.22 with the standard http modules (map, proxy, auth_basic, rewrite, ssl)
 * plus `auth_request` (only for models with a user list); no njs, no third-party modules.
 */
import { MAX_MODEL_NAME_LENGTH, MODEL_DEFAULTS, MODEL_NAME_PATTERN, RESERVED_MODEL_NAMES } from "../config/validateModel";
import { validateUserName } from "../config/credentials";
import { show } from "../config/checks";
import { GATEWAY_SETTINGS_DEFAULTS } from "../config/gateway";
import { LandingEndpoint, renderLandingPage } from "./landingPage";

/** One model behind the gateway. */
export interface GatewayModel {
    /** Model name (strict model-name pattern): the public prefix `/{name}/`. */
    name: string;
    /**
     * `host:port` of the model's service, `static` routing only (required there, refused in `dns`
     * mode). IPv6 hosts in brackets: `[::1]:8000`.
     */
    upstream?: string;
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
 *   Pick a template that only model services can match (e.g. `{model}.models.svc.cluster.local`,
 *   or a swarm network that holds only models), since any matching name is reachable.
 */
export type GatewayRouting =
    | { mode: "static" }
    | {
          mode: "dns";
          /** DNS servers, `ip` or `ip:port` (IPv6 in brackets), e.g. `["127.0.0.11"]` on swarm, the cluster DNS on Kubernetes. */
          resolver: string[];
          /** Host name of a model's service with `{model}` (once), e.g. `{model}.models.svc.cluster.local`. */
          nameTemplate: string;
          /** Port every model listens on. Default 8000. */
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
}

/**
 * The gateway's files, by file name. `nginx.conf` is a whole main config (`events` + `http`), not a
 * `conf.d` snippet: mount it over `/etc/nginx/nginx.conf` (or run `nginx -c <file>`). `index.html`
 * goes into `paths.landingDir`. The target also provides `paths.htpasswd` (readable by the worker
 * user, e.g. mode 0444) and, with TLS, the certificate and key files (read by the master at start).
 */
export interface GatewayFiles {
    "nginx.conf": string;
    "index.html": string;
}

/** Defaults documented on the fields above. */
export const GATEWAY_DEFAULTS = Object.freeze({
    pidFile: "/tmp/plumberhub-nginx.pid",
    accessLog: "/dev/stdout",
    errorLog: "stderr",
    maxBodyBytes: GATEWAY_SETTINGS_DEFAULTS.maxBodyMiB * 1024 * 1024,
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

// ---------------------------------------------------------------------------------------------
// Validation: everything that ends up in nginx.conf is checked, so no value can inject directives.

const MODEL_NAME = new RegExp(`^${MODEL_NAME_PATTERN}$`);
// Unquoted nginx tokens: no whitespace, quotes, `;`, `{`, `}`, `$`, `#` or backslash.
const PATH = /^\/[A-Za-z0-9._\-/+@=,]*$/;
const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
const TEMPLATE = /^[A-Za-z0-9_.-]*\{model\}[A-Za-z0-9_.-]*$/;
const METHOD = /^[A-Z]+$/;
const SERVER_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*( [A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;

function checkInteger(field: string, value: number | undefined, min: number, max: number): void {
    if (value !== undefined && !(Number.isInteger(value) && value >= min && value <= max)) {
        throw new Error(`\`${field}\` must be an integer from ${min} to ${max}, got ${show(value)}`);
    }
}

function checkPath(field: string, value: string | undefined, required: boolean): void {
    if (value === undefined && !required) return;
    if (typeof value !== "string" || !PATH.test(value) || value.split("/").includes("..")) {
        throw new Error(
            `\`${field}\` must be an absolute path of letters, digits and ._-/+@=, without \`..\`, got ${show(value)}`,
        );
    }
}

/** `host:port` → whether it is a valid upstream address (DNS name, IPv4 or bracketed IPv6, port 1–65535). */
function isHostPort(value: string, portRequired: boolean): boolean {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(value);
    if (!match || (portRequired && match[2] === undefined)) return false;
    const port = match[2] === undefined ? 1 : Number(match[2]);
    return (HOST_NAME.test(match[1]) || IPV6.test(match[1])) && port >= 1 && port <= 65535;
}

function checkModel(model: GatewayModel, at: string, mode: GatewayRouting["mode"]): void {
    const valid = `a model name (${MODEL_NAME_PATTERN}, at most ${MAX_MODEL_NAME_LENGTH} characters)`;
    if (typeof model.name !== "string" || !MODEL_NAME.test(model.name) || model.name.length > MAX_MODEL_NAME_LENGTH) {
        throw new Error(`\`${at}.name\` must be ${valid}, got ${show(model.name)}`);
    }
    if (RESERVED_MODEL_NAMES.includes(model.name)) {
        throw new Error(`\`${at}.name\` ${show(model.name)} is reserved (reserved: ${RESERVED_MODEL_NAMES.join(", ")})`);
    }
    if (mode === "static" && (typeof model.upstream !== "string" || !isHostPort(model.upstream, true))) {
        throw new Error(`\`${at}.upstream\` must be host:port (IPv6 in brackets) in static routing, got ${show(model.upstream)}`);
    }
    if (mode === "dns" && model.upstream !== undefined) {
        throw new Error(`\`${at}.upstream\` must be left out in dns routing (the host comes from \`routing.nameTemplate\`), got ${show(model.upstream)}`);
    }
    if (model.users !== undefined) {
        if (!Array.isArray(model.users) || model.users.length === 0) {
            throw new Error(`\`${at}.users\` must be a non-empty list of user names (leave it out to allow every user), got ${show(model.users)}`);
        }
        // The credentials rule also keeps names safe inside the quoted keys of nginx `map`s.
        model.users.forEach((user, j) => validateUserName(user, `${at}.users[${j}]`));
    }
    (model.endpoints ?? []).forEach((endpoint, j) => {
        if (typeof endpoint.method !== "string" || !METHOD.test(endpoint.method)) {
            throw new Error(`\`${at}.endpoints[${j}].method\` must be an upper-case HTTP method, got ${show(endpoint.method)}`);
        }
        if (typeof endpoint.path !== "string" || !endpoint.path.startsWith("/")) {
            throw new Error(`\`${at}.endpoints[${j}].path\` must start with /, got ${show(endpoint.path)}`);
        }
    });
}

function checkRouting(routing: GatewayRouting): void {
    if (routing?.mode === "static") return;
    if (routing?.mode !== "dns") {
        throw new Error(`\`routing.mode\` must be "static" or "dns", got ${show((routing as { mode?: unknown })?.mode)}`);
    }
    if (!Array.isArray(routing.resolver) || routing.resolver.length === 0) {
        throw new Error(`\`routing.resolver\` must be a non-empty list of ip or ip:port, got ${show(routing.resolver)}`);
    }
    routing.resolver.forEach((server, i) => {
        if (typeof server !== "string" || !isHostPort(server, false)) {
            throw new Error(`\`routing.resolver[${i}]\` must be ip or ip:port (IPv6 in brackets), got ${show(server)}`);
        }
    });
    const template = routing.nameTemplate;
    if (typeof template !== "string" || !TEMPLATE.test(template) || !HOST_NAME.test(template.replace("{model}", "m"))) {
        throw new Error(
            `\`routing.nameTemplate\` must be a host name containing {model} once (letters, digits, ._-), e.g. "{model}.models.svc.cluster.local", got ${show(template)}`,
        );
    }
    checkInteger("routing.port", routing.port, 1, 65535);
    checkInteger("routing.validSeconds", routing.validSeconds, 1, 86400);
}

/** Validates a {@link GatewayConfig}; throws an error naming the field, the bad value and what is valid. */
export function validateGatewayConfig(config: GatewayConfig): void {
    checkRouting(config.routing);
    if (!Array.isArray(config.models)) throw new Error(`\`models\` must be a list, got ${show(config.models)}`);
    const seen = new Set<string>();
    config.models.forEach((model, i) => {
        checkModel(model, `models[${i}]`, config.routing.mode);
        if (seen.has(model.name)) throw new Error(`\`models[${i}].name\` ${show(model.name)} is listed twice; names must be unique`);
        seen.add(model.name);
    });
    if (config.tls !== "http-only") {
        if (typeof config.tls !== "object" || config.tls === null) {
            throw new Error(`\`tls\` must be { certificatePath, keyPath } or "http-only", got ${show(config.tls)}`);
        }
        checkPath("tls.certificatePath", config.tls.certificatePath, true);
        checkPath("tls.keyPath", config.tls.keyPath, true);
    }
    const paths = config.paths ?? ({} as GatewayPaths);
    checkPath("paths.htpasswd", paths.htpasswd, true);
    checkPath("paths.landingDir", paths.landingDir, true);
    checkPath("paths.pidFile", paths.pidFile, false);
    checkPath("paths.tempDir", paths.tempDir, false);
    checkPath("paths.accessLog", paths.accessLog, false);
    if (paths.errorLog !== undefined && paths.errorLog !== "stderr") checkPath("paths.errorLog", paths.errorLog, false);
    const limits = config.limits ?? {};
    checkInteger("limits.maxBodyBytes", limits.maxBodyBytes, 0, 2 ** 40);
    checkInteger("limits.connectTimeoutSeconds", limits.connectTimeoutSeconds, 1, 75); // nginx caps connect at 75 s
    checkInteger("limits.readTimeoutSeconds", limits.readTimeoutSeconds, 1, 86400);
    checkInteger("limits.sendTimeoutSeconds", limits.sendTimeoutSeconds, 1, 86400);
    checkInteger("limits.upstreamKeepalive", limits.upstreamKeepalive, 0, 10000);
    checkInteger("httpsPort", config.httpsPort, 1, 65535);
    checkInteger("httpPort", config.httpPort, 1, 65535);
    checkInteger("publicHttpsPort", config.publicHttpsPort, 1, 65535);
    checkInteger("workerConnections", config.workerConnections, 16, 65535);
    checkInteger("hstsMaxAgeSeconds", config.hstsMaxAgeSeconds, 0, 2 ** 31);
    if (config.workerProcesses !== undefined && config.workerProcesses !== "auto") {
        checkInteger("workerProcesses", config.workerProcesses, 1, 1024);
    }
    if (config.tls !== "http-only" && (config.httpPort ?? GATEWAY_DEFAULTS.httpPort) === (config.httpsPort ?? GATEWAY_DEFAULTS.httpsPort)) {
        throw new Error(`\`httpPort\` and \`httpsPort\` must differ, both are ${config.httpsPort ?? GATEWAY_DEFAULTS.httpsPort}`);
    }
    if (config.listenAddress !== undefined && !isHostPort(config.listenAddress, false)) {
        throw new Error(`\`listenAddress\` must be an IP address or host name (IPv6 in brackets), got ${show(config.listenAddress)}`);
    }
    if (config.user !== undefined && !SERVER_USER.test(config.user)) {
        throw new Error(`\`user\` must be "user" or "user group", got ${show(config.user)}`);
    }
    if (config.realm !== undefined && !/^[A-Za-z0-9 ._-]{1,64}$/.test(config.realm)) {
        throw new Error(`\`realm\` must be 1–64 letters, digits, spaces or ._-, got ${show(config.realm)}`);
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** JSON bodies nginx itself answers with (errors never reach a model). */
const ERRORS: Record<number, string> = {
    400: "bad request",
    401: "authentication required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    408: "request timeout",
    413: "request body too large",
    414: "request URI too long",
    429: "too many requests",
    500: "internal error",
    502: "model unavailable",
    503: "model unavailable",
    504: "model timed out",
};

/** A JSON body as an nginx single-quoted string: `{"error":"…","status":N,"request_id":"…"}`. */
function jsonBody(status: number, error: string): string {
    return `'{"error":"${error}","status":${status},"request_id":"$plumberhub_request_id"}\\n'`;
}

/**
 * The raw path (before `?`) of a request the gateway refuses with 400 before any routing: encoded
 * `.`, `/`, `\` or `%` (double encoding), encoded control characters (CRLF injection), a raw
 * backslash, `//`, and `.`/`..` segments. nginx would otherwise decode and merge them into a
 * different path than the client sent; refusing them keeps routing a plain prefix match.
 */
const BAD_PATH = "~*^[^?]*(%(2e|2f|5c|25|[01][0-9a-f]|7f)|\\x5c|//|/\\.\\.?(/|\\?|$))"; // one regex: one match per request

/** Lines shared by every server's `add_header` set (a location with its own add_header drops the server's). */
function commonHeaders(tls: boolean, hstsMaxAge: number): string[] {
    return [
        `add_header X-Request-ID $plumberhub_request_id always;`,
        `add_header X-Content-Type-Options nosniff always;`,
        `add_header X-Frame-Options SAMEORIGIN always;`,
        `add_header Referrer-Policy same-origin always;`,
        ...(tls ? [`add_header Strict-Transport-Security "max-age=${hstsMaxAge}" always;`] : []),
    ];
}

const indent = (lines: string[], by = "    "): string[] => lines.map((line) => (line === "" ? "" : by + line));

/** `listen` argument: address and port. */
function listenOn(address: string | undefined, port: number): string {
    return address === undefined ? `${port}` : `${address}:${port}`;
}

/**
 * `location` blocks that turn nginx's own errors into JSON (`error_page CODE /_plumberhub_error/CODE`).
 * `=` takes the status from that location: dns mode turns a 502 for a name that does not resolve into 404.
 * URIs, not named locations: nginx cannot redirect a request whose request line it refused (400,
 * 414) to a named location.
 */
function errorLocations(mode: GatewayRouting["mode"]): string[] {
    const lines: string[] = [];
    for (const [code, message] of Object.entries(ERRORS)) {
        lines.push(`location = /_plumberhub_error/${code} {`, `    internal;`, `    auth_basic off;`);
        if (code === "502" && mode === "dns") {
            // No upstream address means the name did not resolve: no such model (dns routing).
            lines.push(`    if ($upstream_addr = "") { return 404 ${jsonBody(404, "unknown model")}; }`);
        }
        lines.push(`    return ${code} ${jsonBody(Number(code), code === "404" ? "unknown model or path" : message)};`, `}`);
    }
    return lines;
}

function proxyLocation(model: GatewayModel, config: GatewayConfig): string[] {
    const routing = config.routing;
    const lines = [`location ^~ /${model.name}/ {`, `    set $plumberhub_model ${model.name};`];
    if (model.users) lines.push(`    auth_request /_plumberhub_acl/${model.name};`);
    if (routing.mode === "static") {
        // A URI part in proxy_pass strips the prefix; nginx re-escapes the normalized path.
        lines.push(`    proxy_pass http://plumberhub_model_${model.name}/;`);
    } else {
        lines.push(...dnsProxy(routing, `/${model.name}`));
    }
    lines.push(`}`);
    return lines;
}

/** Prefix stripping + proxy_pass by name, resolved per request (a variable in proxy_pass forces it). */
function dnsProxy(routing: Extract<GatewayRouting, { mode: "dns" }>, prefix: string): string[] {
    const host = routing.nameTemplate.replace("{model}", "${plumberhub_model}");
    return [
        `    set $plumberhub_upstream_host "${host}";`,
        // rewrite…break + proxy_pass without URI: nginx sends the rewritten path, re-escaped.
        `    rewrite ^${prefix === "" ? "/[^/]+" : prefix}(/.*)$ $1 break;`,
        `    proxy_pass http://$plumberhub_upstream_host:${routing.port ?? MODEL_DEFAULTS.port};`,
    ];
}

function aclLocation(model: GatewayModel & { users: string[] }): string[] {
    return [
        `location = /_plumberhub_acl/${model.name} {`,
        `    internal;`,
        `    auth_basic off;`,
        `    if ($plumberhub_acl_${model.name.replace(/-/g, "_")} = 1) { return 204; }`,
        `    return 403;`,
        `}`,
    ];
}

function aclMap(model: GatewayModel & { users: string[] }): string[] {
    return [
        `map $remote_user $plumberhub_acl_${model.name.replace(/-/g, "_")} {`,
        `    default 0;`,
        // Regex keys: plain map keys match case-insensitively, and "ALICE" must not pass for "alice".
        ...model.users.map((user) => `    "~^${user.replace(/\./g, "\\.")}$" 1;`),
        `}`,
    ];
}

function httpBlock(config: GatewayConfig): string[] {
    const limits = { ...GATEWAY_DEFAULTS, ...config.limits };
    const paths = { ...GATEWAY_DEFAULTS, ...config.paths };
    const tls = config.tls !== "http-only";
    const mode = config.routing.mode;
    const upstreamPool = mode === "static" && limits.upstreamKeepalive > 0;
    const lines: string[] = [
        `server_tokens off;`,
        `default_type application/octet-stream;`,
        `types { text/html html; application/json json; }`,
        `sendfile on;`,
        `tcp_nodelay on;`,
        `keepalive_timeout 65s;`,
        `keepalive_requests 10000;`,
        // Relative Location headers: correct behind any port mapping or load balancer.
        `absolute_redirect off;`,
        `client_max_body_size ${limits.maxBodyBytes};`,
        // Scoring requests of a few hundred KiB stay in memory instead of a temp file per request.
        `client_body_buffer_size 256k;`,
        `log_not_found off;`,
        // Room for a 40-character model name in $plumberhub_acl_<name> and 64-character user names in maps.
        `variables_hash_bucket_size 128;`,
        `map_hash_bucket_size 128;`,
    ];
    if (paths.tempDir !== undefined) {
        for (const kind of ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]) lines.push(`${kind}_temp_path ${paths.tempDir}/${kind};`);
    }
    lines.push(
        ``,
        `# A client's X-Request-ID is kept when it is plain; otherwise nginx makes one.`,
        `map $http_x_request_id $plumberhub_request_id {`,
        `    default $request_id;`,
        `    "~^[A-Za-z0-9._:-]{1,128}$" $http_x_request_id;`,
        `}`,
        // Without a pool the model closes each connection itself, so its TIME_WAIT sockets pile up on
        // the model's side, not on the gateway's ephemeral ports.
        `map $http_upgrade $plumberhub_connection {`,
        `    default upgrade;`,
        `    "" ${upstreamPool ? '""' : "close"};`,
        `}`,
        `# The model a request is for: "" until a model's location sets it (map = defined, no log warning).`,
        `map $uri $plumberhub_model {`,
        `    default "";`,
        `}`,
        `map $request_uri $plumberhub_bad_path {`,
        `    default 0;`,
        `    "${BAD_PATH}" 1;`,
        `}`,
    );
    for (const model of config.models) if (model.users) lines.push(...aclMap(model as GatewayModel & { users: string[] }));
    lines.push(
        ``,
        `log_format plumberhub_json escape=json '{"time":"$time_iso8601","request_id":"$plumberhub_request_id",'`,
        `    '"remote_addr":"$remote_addr","user":"$remote_user","method":"$request_method","uri":"$request_uri",'`,
        `    '"status":$status,"bytes_sent":$body_bytes_sent,"request_time":$request_time,"model":"$plumberhub_model",'`,
        `    '"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status",'`,
        `    '"upstream_response_time":"$upstream_response_time","user_agent":"$http_user_agent"}';`,
        // Buffered: one write per 64 KiB or second instead of one per request.
        `access_log ${paths.accessLog} plumberhub_json buffer=64k flush=1s;`,
        ``,
        `proxy_http_version 1.1;`,
        `proxy_connect_timeout ${limits.connectTimeoutSeconds}s;`,
        `proxy_read_timeout ${limits.readTimeoutSeconds}s;`,
        `proxy_send_timeout ${limits.sendTimeoutSeconds}s;`,
        `proxy_set_header Host $host;`,
        `proxy_set_header X-Request-ID $plumberhub_request_id;`,
        `# The gateway's X-Request-ID is the one clients see, even if a model echoes its own.`,
        `proxy_hide_header X-Request-ID;`,
        `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`,
        `proxy_set_header X-Forwarded-Proto $scheme;`,
        `proxy_set_header X-Forwarded-Host $host;`,
        `proxy_set_header X-Forwarded-Port ${tls ? (config.publicHttpsPort ?? config.httpsPort ?? GATEWAY_DEFAULTS.httpsPort) : "$server_port"};`,
        `proxy_set_header X-Forwarded-Prefix /$plumberhub_model;`,
        `proxy_set_header X-Forwarded-User $remote_user;`,
        `# The gateway's credentials stay at the gateway.`,
        `proxy_set_header Authorization "";`,
        `# WebSocket upgrade passed through; otherwise ${upstreamPool ? "an empty Connection keeps the upstream keep-alive pool" : "Connection: close, one upstream connection per request"}.`,
        `proxy_set_header Upgrade $http_upgrade;`,
        `proxy_set_header Connection $plumberhub_connection;`,
    );
    if (mode === "static") {
        for (const model of config.models) {
            lines.push(
                ``,
                `upstream plumberhub_model_${model.name} {`,
                `    server ${model.upstream};`,
                ...(upstreamPool ? [`    keepalive ${limits.upstreamKeepalive};`, `    keepalive_timeout 60s;`] : []),
                `}`,
            );
        }
    } else {
        const routing = config.routing as Extract<GatewayRouting, { mode: "dns" }>;
        lines.push(``, `resolver ${routing.resolver.join(" ")} valid=${routing.validSeconds ?? GATEWAY_DEFAULTS.dnsValidSeconds}s ipv6=off;`, `resolver_timeout 5s;`);
    }
    const hsts = config.hstsMaxAgeSeconds ?? GATEWAY_DEFAULTS.hstsMaxAgeSeconds;
    const httpsPort = config.httpsPort ?? (tls ? GATEWAY_DEFAULTS.httpsPort : GATEWAY_DEFAULTS.httpOnlyPort);
    if (tls) {
        const publicPort = config.publicHttpsPort ?? httpsPort;
        lines.push(
            ``,
            `# HTTP: only /healthz (load-balancer probes) and a redirect to HTTPS.`,
            `server {`,
            `    listen ${listenOn(config.listenAddress, config.httpPort ?? GATEWAY_DEFAULTS.httpPort)};`,
            ...indent(commonHeaders(false, hsts)),
            `    default_type application/json;`,
            `    location = /healthz { return 200 '{"status":"ok"}\\n'; }`,
            `    location / { return 301 https://$host${publicPort === 443 ? "" : `:${publicPort}`}$request_uri; }`,
            `}`,
        );
    }
    lines.push(``, `server {`, ...indent(mainServer(config, tls, httpsPort, hsts)), `}`);
    return lines;
}

function mainServer(config: GatewayConfig, tls: boolean, port: number, hsts: number): string[] {
    const paths = config.paths;
    const mode = config.routing.mode;
    const lines: string[] = [];
    if (tls) {
        const files = config.tls as GatewayTlsFiles;
        lines.push(
            `listen ${listenOn(config.listenAddress, port)} ssl;`,
            `ssl_certificate ${files.certificatePath};`,
            `ssl_certificate_key ${files.keyPath};`,
            `ssl_protocols TLSv1.2 TLSv1.3;`,
            `ssl_prefer_server_ciphers off;`,
            `ssl_session_cache shared:plumberhub_tls:10m;`,
            `ssl_session_timeout 1d;`,
            `ssl_session_tickets off;`,
        );
    } else {
        lines.push(`# HTTP-ONLY MODE, for local use: no TLS, passwords cross the network in clear text.`, `listen ${listenOn(config.listenAddress, port)};`);
    }
    lines.push(
        ...commonHeaders(tls, hsts),
        `default_type application/json;`,
        `root ${paths.landingDir};`,
        `auth_basic "${config.realm ?? GATEWAY_DEFAULTS.realm}";`,
        `auth_basic_user_file ${paths.htpasswd};`,
        ...Object.keys(ERRORS).map((code) => `error_page ${code} = /_plumberhub_error/${code};`),
        `if ($plumberhub_bad_path) { return 400 ${jsonBody(400, "bad request path")}; }`,
        ``,
        `location = /healthz {`,
        `    auth_basic off;`,
        `    return 200 '{"status":"ok"}\\n';`,
        `}`,
        `# The landing page; a strict CSP since it has no script and no external resource.`,
        `location = / {`,
        `    charset utf-8;`,
        ...indent(commonHeaders(tls, hsts)),
        `    add_header Content-Security-Policy "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" always;`,
        `    try_files /index.html =404;`,
        `}`,
        `# Anything else is not a model: 404 after authentication (a "return" would run before it and`,
        `# tell anonymous clients which models exist).`,
        `location / {`,
        `    try_files /.plumberhub-no-such-file =404;`,
        `}`,
        `location @plumberhub_add_slash {`,
        `    return 301 $uri/$is_args$args;`,
        `}`,
    );
    for (const model of config.models) {
        lines.push(``, `location = /${model.name} {`, `    try_files /.plumberhub-no-such-file @plumberhub_add_slash;`, `}`, ...proxyLocation(model, config));
        if (model.users) lines.push(...aclLocation(model as GatewayModel & { users: string[] }));
    }
    if (mode === "dns") {
        const routing = config.routing as Extract<GatewayRouting, { mode: "dns" }>;
        // Any model name except reserved ones; the lookahead caps the length.
        const name =
            `(?!(?:${RESERVED_MODEL_NAMES.join("|")})(?:/|$))(?=[^/]{1,${MAX_MODEL_NAME_LENGTH}}(?:/|$))` +
            `(?<plumberhub_name>${MODEL_NAME_PATTERN})`;
        lines.push(
            ``,
            `# dns routing: models not listed above, by name.`,
            `location ~ "^/${name}$" {`,
            `    try_files /.plumberhub-no-such-file @plumberhub_add_slash;`,
            `}`,
            `location ~ "^/${name}/" {`,
            `    set $plumberhub_model $plumberhub_name;`,
            ...dnsProxy(routing, ""),
            `}`,
        );
    }
    lines.push(``, ...errorLocations(mode));
    return lines;
}

/** Renders `nginx.conf` (a whole main config: run it with `nginx -c`). Validates first. */
export function renderNginxConf(config: GatewayConfig): string {
    validateGatewayConfig(config);
    const paths = { ...GATEWAY_DEFAULTS, ...config.paths };
    const header = [
        `# Rendered by plumberhub (components/render/gateway.ts); re-render instead of editing.`,
        ...(config.tls === "http-only" ? [`# HTTP-ONLY MODE, for local use: no TLS, passwords cross the network in clear text.`] : []),
        ...(config.user !== undefined ? [`user ${config.user};`] : []),
        `worker_processes ${config.workerProcesses ?? "auto"};`,
        `pcre_jit on;`,
        `pid ${paths.pidFile};`,
        `error_log ${paths.errorLog} warn;`,
        ``,
        `events {`,
        `    worker_connections ${config.workerConnections ?? GATEWAY_DEFAULTS.workerConnections};`,
        `}`,
        ``,
        `http {`,
        ...indent(httpBlock(config)),
        `}`,
        ``,
    ];
    return header.join("\n");
}

/** Renders the gateway's files: `nginx.conf` and the landing page `index.html`. */
export function renderGatewayFiles(config: GatewayConfig): GatewayFiles {
    return {
        "nginx.conf": renderNginxConf(config),
        "index.html": renderLandingPage(
            config.models.map(({ name, description, endpoints }) => ({ name, description, endpoints })),
            config.title ?? GATEWAY_DEFAULTS.title,
        ),
    };
}
