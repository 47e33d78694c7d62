/** nginx.conf of the gateway and the files beside it (the landing page), from a checked gateway config. */
import { httpsPortSuffix } from "../../config/gateway";
import { renderLandingPage } from "../landingPage";
import { MAX_MODEL_NAME_LENGTH, MODEL_NAME_PATTERN, RESERVED_MODEL_NAMES } from "../../config/model";
import { GATEWAY_DEFAULTS, GatewayConfig, GatewayFiles, GatewayModel, GatewayRouting, GatewayTlsFiles } from "./config";
import { renderStatusPage, STATUS_PAGE_CSP, STATUS_PAGE_PATHS } from "../statusPage";
import { metricsHttpLines, metricsLocations, metricsModuleLines, STATUS_JSON_PATH } from "./metrics";
import { aclLocation, aclMap, dnsProxy, proxyLocation } from "./modelLocation";
import { validateGatewayConfig } from "./validation";

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
export function jsonBody(status: number, error: string): string {
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

export const indent = (lines: string[], by = "    "): string[] => lines.map((line) => (line === "" ? "" : by + line));

/** `listen` arguments: address and port, and `proxy_protocol` behind an edge that sends it. */
function listenOn(config: GatewayConfig, port: number): string {
    const address = config.listenAddress === undefined ? `${port}` : `${config.listenAddress}:${port}`;
    return config.proxyProtocol ? `${address} proxy_protocol` : address;
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

function httpBlock(config: GatewayConfig): string[] {
    const limits = { ...GATEWAY_DEFAULTS, ...config.limits };
    const paths = { ...GATEWAY_DEFAULTS, ...config.paths };
    const tls = config.tls !== "http-only";
    const mode = config.routing.mode;
    const upstreamPool = mode === "static" && limits.upstreamKeepalive > 0;
    const lines: string[] = [
        `server_tokens off;`,
        `default_type application/octet-stream;`,
        `types { text/html html; application/json json; application/javascript js; text/css css; }`,
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
    if (config.healthcheckPort !== undefined) {
        lines.push(
            `# The container's own healthcheck (every few seconds) stays out of the access log.`,
            `map $server_port $plumberhub_logged {`,
            `    ${config.healthcheckPort} 0;`,
            `    default 1;`,
            `}`,
        );
    }
    if (config.proxyProtocol) {
        lines.push(
            ``,
            `# Behind the edge: the client address is the one in the PROXY protocol header (only a peer that sends one`,
            `# can talk to these listeners; the healthcheck listener has none and keeps its own address).`,
            `set_real_ip_from 0.0.0.0/0;`,
            `real_ip_header proxy_protocol;`,
        );
    }
    lines.push(
        ``,
        `log_format plumberhub_json escape=json '{"time":"$time_iso8601","request_id":"$plumberhub_request_id",'`,
        `    '"remote_addr":"$remote_addr","user":"$remote_user","method":"$request_method","uri":"$request_uri",'`,
        `    '"status":$status,"bytes_sent":$body_bytes_sent,"request_time":$request_time,"model":"$plumberhub_model",'`,
        `    '"upstream_addr":"$upstream_addr","upstream_status":"$upstream_status",'`,
        `    '"upstream_response_time":"$upstream_response_time","user_agent":"$http_user_agent"}';`,
        // Buffered: one write per 64 KiB or second instead of one per request.
        `access_log ${paths.accessLog} plumberhub_json buffer=64k flush=1s${config.healthcheckPort !== undefined ? " if=$plumberhub_logged" : ""};`,
        ...(config.metrics
            ? [
                  ``,
                  ...metricsHttpLines({
                      models: config.models.map((model) => model.name),
                      ...(tls ? { certificatePath: (config.tls as GatewayTlsFiles).certificatePath } : {}),
                  }),
              ]
            : []),
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
        const routing = config.routing;
        lines.push(
            ``,
            `resolver ${routing.resolver.join(" ")} valid=${routing.validSeconds ?? GATEWAY_DEFAULTS.dnsValidSeconds}s ipv6=off;`,
            `resolver_timeout 5s;`,
        );
    }
    const hsts = config.hstsMaxAgeSeconds ?? GATEWAY_DEFAULTS.hstsMaxAgeSeconds;
    const httpsPort = config.httpsPort ?? (tls ? GATEWAY_DEFAULTS.httpsPort : GATEWAY_DEFAULTS.httpOnlyPort);
    if (tls) {
        const publicPort = config.publicHttpsPort ?? httpsPort;
        lines.push(
            ``,
            `# HTTP: only /healthz (load-balancer probes) and a redirect to HTTPS.`,
            `server {`,
            `    listen ${listenOn(config, config.httpPort ?? GATEWAY_DEFAULTS.httpPort)};`,
            ...indent(commonHeaders(false, hsts)),
            `    default_type application/json;`,
            `    location = /healthz { return 200 '{"status":"ok"}\\n'; }`,
            ...acmeChallengeLocation(config.tls as GatewayTlsFiles),
            `    location / { return 301 https://$host${httpsPortSuffix(publicPort)}$request_uri; }`,
            `}`,
        );
    }
    lines.push(``, `server {`, ...indent(mainServer(config, tls, httpsPort, hsts)), `}`);
    return lines;
}

/** The ACME server reads the HTTP-01 token over plain HTTP, without credentials; nothing else is served there. */
function acmeChallengeLocation(files: GatewayTlsFiles): string[] {
    if (!files.acme) return [];
    return [
        `    location ^~ /.well-known/acme-challenge/ {`,
        `        root ${files.acme.webroot};`,
        `        default_type text/plain;`,
        `        try_files $uri =404;`,
        `    }`,
    ];
}

/** The renewed certificate's expiry (written by the renewal loop), for monitors: public, as the certificate is. */
function certificateStatusLocation(files: GatewayTlsFiles, hsts: number): string[] {
    if (!files.acme) return [];
    return [
        `location = /healthz/certificate {`,
        `    auth_basic off;`,
        ...indent(commonHeaders(true, hsts)),
        `    add_header Cache-Control "no-store" always;`,
        `    alias ${files.acme.statusFile};`,
        `}`,
    ];
}

/** The CSP of the landing page: no script and no external resource, its style inline. */
const LANDING_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** A file of the landing folder served at `path`, with the common headers, its CSP and any `extraHeaders`. */
function pageLocation(path: string, file: string, csp: string, tls: boolean, hsts: number, extraHeaders: string[] = []): string[] {
    return [
        `location = ${path} {`,
        `    charset utf-8;`,
        ...indent(commonHeaders(tls, hsts)),
        `    add_header Content-Security-Policy "${csp}" always;`,
        ...indent(extraHeaders),
        `    try_files /${file} =404;`,
        `}`,
    ];
}

/** The status page and its script and style (files in the landing folder), under a CSP that allows only them. */
function statusPageLocations(tls: boolean, hsts: number): string[] {
    const files: [string, string][] = [
        [STATUS_PAGE_PATHS.page, "status.html"],
        [STATUS_PAGE_PATHS.script, "status.js"],
        [STATUS_PAGE_PATHS.style, "status.css"],
    ];
    return files.flatMap(([path, file]) => pageLocation(path, file, STATUS_PAGE_CSP, tls, hsts, [`add_header Cache-Control "no-cache" always;`]));
}

function mainServer(config: GatewayConfig, tls: boolean, port: number, hsts: number): string[] {
    const paths = config.paths;
    const mode = config.routing.mode;
    const lines: string[] = [];
    if (tls) {
        const files = config.tls as GatewayTlsFiles;
        lines.push(
            `listen ${listenOn(config, port)} ssl;`,
            ...(config.healthcheckPort !== undefined ? [`listen 127.0.0.1:${config.healthcheckPort} ssl;`] : []),
            `ssl_certificate ${files.certificatePath};`,
            `ssl_certificate_key ${files.keyPath};`,
            `ssl_protocols TLSv1.2 TLSv1.3;`,
            `ssl_prefer_server_ciphers off;`,
            `ssl_session_cache shared:plumberhub_tls:10m;`,
            `ssl_session_timeout 1d;`,
            `ssl_session_tickets off;`,
        );
    } else {
        lines.push(
            `# HTTP-ONLY MODE, for local use: no TLS, passwords cross the network in clear text.`,
            `listen ${listenOn(config, port)};`,
            ...(config.healthcheckPort !== undefined ? [`listen 127.0.0.1:${config.healthcheckPort};`] : []),
        );
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
        ...(tls ? certificateStatusLocation(config.tls as GatewayTlsFiles, hsts) : []),
        ...(config.metrics ? [...metricsLocations(commonHeaders(tls, hsts)), ...statusPageLocations(tls, hsts)] : []),
        `# The landing page; a strict CSP since it has no script and no external resource.`,
        ...pageLocation("/", "index.html", LANDING_PAGE_CSP, tls, hsts),
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
        lines.push(
            ``,
            `location = /${model.name} {`,
            `    try_files /.plumberhub-no-such-file @plumberhub_add_slash;`,
            `}`,
            ...proxyLocation(model, config),
        );
        if (model.users) lines.push(...aclLocation(model as GatewayModel & { users: string[] }));
    }
    if (mode === "dns") {
        const routing = config.routing;
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

/**
 * A shell command that succeeds when the gateway on 127.0.0.1:`port` serves TLS and asks for credentials: `/healthz`
 * answers 200 over TLS and `/` answers 401 without credentials. The swarm healthcheck and the Kubernetes readiness
 * probe run it (curl, as the official nginx images and the local one have it).
 */
export function gatewayReadyCommand(port: number): string {
    const url = `https://127.0.0.1:${port}`;
    return `curl -fsk -o /dev/null ${url}/healthz && [ "$(curl -sk -o /dev/null -w '%{http_code}' ${url}/)" = 401 ]`;
}

/** Renders `nginx.conf` (a whole main config: run it with `nginx -c`). Validates first. */
export function renderNginxConf(config: GatewayConfig): string {
    validateGatewayConfig(config);
    const paths = { ...GATEWAY_DEFAULTS, ...config.paths };
    const header = [
        `# Rendered by plumberhub (components/render/gateway.ts); re-render instead of editing.`,
        ...(config.tls === "http-only" ? [`# HTTP-ONLY MODE, for local use: no TLS, passwords cross the network in clear text.`] : []),
        ...(config.metrics ? metricsModuleLines() : []),
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

/** Renders the gateway's files: `nginx.conf`, the landing page `index.html` and, with metrics, the status page's. */
export function renderGatewayFiles(config: GatewayConfig): GatewayFiles {
    const title = config.title ?? GATEWAY_DEFAULTS.title;
    return {
        "nginx.conf": renderNginxConf(config),
        "index.html": renderLandingPage(
            config.models.map(({ name, description, endpoints }) => ({ name, description, endpoints })),
            title,
            config.metrics ? STATUS_PAGE_PATHS.page : undefined,
        ),
        ...(config.metrics ? renderStatusPage(title, STATUS_JSON_PATH) : {}),
    };
}

/** The files of the landing folder (`paths.landingDir`): every rendered file but `nginx.conf`. */
export function landingFiles(files: GatewayFiles): Record<string, string> {
    return Object.fromEntries(Object.entries(files).filter(([name]) => name !== "nginx.conf"));
}
