/** The gateway config's check: everything that ends up in nginx.conf is checked, so no value can inject directives. */
import { MAX_PORT, show, validateInteger } from "../../config/checks";
import { MAX_READ_TIMEOUT_SECONDS, validateGatewayMetrics } from "../../config/gateway";
import { validateUserName } from "../../config/credentials";
import { MODEL_PLACEHOLDER, modelHost, SWARM_MODEL_HOST_TEMPLATE } from "../../config/routing";
import { hasModelNameShape, MAX_MODEL_NAME_LENGTH, MODEL_NAME_PATTERN, RESERVED_MODEL_NAMES } from "../../config/model";
import { GATEWAY_DEFAULTS, GatewayConfig, GatewayModel, GatewayPaths, GatewayRouting } from "./config";

// Unquoted nginx tokens: no whitespace, quotes, `;`, `{`, `}`, `$`, `#` or backslash.
const PATH = /^\/[A-Za-z0-9._\-/+@=,]*$/;
const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
const TEMPLATE = /^[A-Za-z0-9_.-]*\{model\}[A-Za-z0-9_.-]*$/;
const METHOD = /^[A-Z]+$/;
const SERVER_USER = /^[A-Za-z0-9_][A-Za-z0-9_.-]*( [A-Za-z0-9_][A-Za-z0-9_.-]*)?$/;

/** `validateInteger` for a setting that may be left out. */
function checkOptionalInteger(field: string, value: number | undefined, min: number, max: number): void {
    if (value !== undefined) validateInteger(value, field, min, max);
}

/** Throws unless `value` is an absolute path nginx takes unquoted (or is left out where it may be). */
export function checkPath(field: string, value: string | undefined, required: boolean): void {
    if (value === undefined && !required) return;
    if (typeof value !== "string" || !PATH.test(value) || value.split("/").includes("..")) {
        throw new Error(`\`${field}\` must be an absolute path of letters, digits and ._-/+@=, without \`..\`, got ${show(value)}`);
    }
}

/** `host:port` → whether it is a valid upstream address (DNS name, IPv4 or bracketed IPv6, port 1–65535). */
function isHostPort(value: string, portRequired: boolean): boolean {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(value);
    if (!match || (portRequired && match[2] === undefined)) return false;
    const port = match[2] === undefined ? 1 : Number(match[2]);
    return (HOST_NAME.test(match[1]) || IPV6.test(match[1])) && port >= 1 && port <= MAX_PORT;
}

function checkModel(model: GatewayModel, at: string, mode: GatewayRouting["mode"]): void {
    const valid = `a model name (${MODEL_NAME_PATTERN}, at most ${MAX_MODEL_NAME_LENGTH} characters)`;
    if (!hasModelNameShape(model.name)) {
        throw new Error(`\`${at}.name\` must be ${valid}, got ${show(model.name)}`);
    }
    if (RESERVED_MODEL_NAMES.includes(model.name)) {
        throw new Error(`\`${at}.name\` ${show(model.name)} is reserved (reserved: ${RESERVED_MODEL_NAMES.join(", ")})`);
    }
    if (mode === "static" && (typeof model.upstream !== "string" || !isHostPort(model.upstream, true))) {
        throw new Error(`\`${at}.upstream\` must be host:port (IPv6 in brackets) in static routing, got ${show(model.upstream)}`);
    }
    if (mode === "static" && model.port !== undefined) {
        throw new Error(`\`${at}.port\` must be left out in static routing (the port is part of \`upstream\`), got ${show(model.port)}`);
    }
    if (model.port !== undefined) validateInteger(model.port, `${at}.port`, 1, MAX_PORT);
    if (mode === "dns" && model.upstream !== undefined) {
        throw new Error(
            `\`${at}.upstream\` must be left out in dns routing (the host comes from \`routing.nameTemplate\`), got ${show(model.upstream)}`,
        );
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
    // A dot outside {model}: the name is one only models have, never a bare service name anyone can take.
    if (
        typeof template !== "string" ||
        !TEMPLATE.test(template) ||
        !HOST_NAME.test(modelHost(template, "m")) ||
        !template.replace(MODEL_PLACEHOLDER, "").includes(".")
    ) {
        throw new Error(
            `\`routing.nameTemplate\` must be a host name of more than one label containing ${MODEL_PLACEHOLDER} once (letters, digits, ._-), ` +
                `e.g. "${SWARM_MODEL_HOST_TEMPLATE}" (a bare "${MODEL_PLACEHOLDER}" would route to any service on the network), got ${show(template)}`,
        );
    }
    checkOptionalInteger("routing.port", routing.port, 1, MAX_PORT);
    checkOptionalInteger("routing.validSeconds", routing.validSeconds, 1, 86400);
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
        if (config.tls.acme !== undefined) {
            checkPath("tls.acme.webroot", config.tls.acme.webroot, true);
            checkPath("tls.acme.statusFile", config.tls.acme.statusFile, true);
        }
    }
    const paths = config.paths ?? ({} as GatewayPaths);
    checkPath("paths.htpasswd", paths.htpasswd, true);
    checkPath("paths.landingDir", paths.landingDir, true);
    checkPath("paths.pidFile", paths.pidFile, false);
    checkPath("paths.tempDir", paths.tempDir, false);
    checkPath("paths.accessLog", paths.accessLog, false);
    if (paths.errorLog !== undefined && paths.errorLog !== "stderr") checkPath("paths.errorLog", paths.errorLog, false);
    const limits = config.limits ?? {};
    checkOptionalInteger("limits.maxBodyBytes", limits.maxBodyBytes, 0, 2 ** 40);
    checkOptionalInteger("limits.connectTimeoutSeconds", limits.connectTimeoutSeconds, 1, 75); // nginx caps connect at 75 s
    checkOptionalInteger("limits.readTimeoutSeconds", limits.readTimeoutSeconds, 1, MAX_READ_TIMEOUT_SECONDS);
    checkOptionalInteger("limits.sendTimeoutSeconds", limits.sendTimeoutSeconds, 1, 86400);
    checkOptionalInteger("limits.upstreamKeepalive", limits.upstreamKeepalive, 0, 10000);
    checkOptionalInteger("httpsPort", config.httpsPort, 1, MAX_PORT);
    checkOptionalInteger("httpPort", config.httpPort, 1, MAX_PORT);
    checkOptionalInteger("publicHttpsPort", config.publicHttpsPort, 1, MAX_PORT);
    checkOptionalInteger("workerConnections", config.workerConnections, 16, 65535);
    checkOptionalInteger("hstsMaxAgeSeconds", config.hstsMaxAgeSeconds, 0, 2 ** 31);
    if (config.workerProcesses !== undefined && config.workerProcesses !== "auto") {
        checkOptionalInteger("workerProcesses", config.workerProcesses, 1, 1024);
    }
    if (config.tls !== "http-only" && (config.httpPort ?? GATEWAY_DEFAULTS.httpPort) === (config.httpsPort ?? GATEWAY_DEFAULTS.httpsPort)) {
        throw new Error(`\`httpPort\` and \`httpsPort\` must differ, both are ${config.httpsPort ?? GATEWAY_DEFAULTS.httpsPort}`);
    }
    checkOptionalInteger("healthcheckPort", config.healthcheckPort, 1, MAX_PORT);
    const tlsPort = config.httpsPort ?? (config.tls === "http-only" ? GATEWAY_DEFAULTS.httpOnlyPort : GATEWAY_DEFAULTS.httpsPort);
    const taken = config.tls === "http-only" ? [tlsPort] : [tlsPort, config.httpPort ?? GATEWAY_DEFAULTS.httpPort];
    if (config.healthcheckPort !== undefined && taken.includes(config.healthcheckPort)) {
        throw new Error(`\`healthcheckPort\` must differ from the ports nginx serves on (${taken.join(", ")}), got ${config.healthcheckPort}`);
    }
    if (config.proxyProtocol !== undefined && typeof config.proxyProtocol !== "boolean") {
        throw new Error(`\`proxyProtocol\` must be true or false, got ${show(config.proxyProtocol)}`);
    }
    if (config.metrics !== undefined) validateGatewayMetrics(config.metrics);
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
