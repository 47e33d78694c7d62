/**
 * The edge in front of the gateway: nginx's stream module (L4, TCP), holding the published ports with a config that
 * never changes with models, users or certificates. It forwards each connection to one of the gateway's tasks,
 * resolved per connection, tries the next task when a connect fails, and sends the PROXY protocol so the gateway
 * still logs the client's address. TLS stays end to end: the edge never sees plaintext. Pure: plain values in,
 * nginx.conf out.
 */
import { isDnsName, isIPv4, MAX_PORT, show, validateInteger, validatePort } from "../../config/checks";
import { checkPath } from "./validation";

/** The stream module as Debian's `libnginx-mod-stream` and the official nginx images install it. */
export const STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so";

/** Everything the edge renderer needs. */
export interface EdgeConfig {
    /** Ports the edge listens on, each forwarded to `target` on a gateway task. */
    ports: { listen: number; target: number }[];
    /** Host name of the gateway's tasks, resolved per connection, e.g. `gateway.plumberhub.internal`. */
    gatewayHost: string;
    /** DNS servers, `ip` or `ip:port`, e.g. `["127.0.0.11"]` on swarm. */
    resolver: string[];
    /** Seconds a DNS answer is cached: a stopping gateway task leaves DNS before it stops. Default 1. */
    validSeconds?: number;
    /** Seconds to connect to a gateway task before trying the next one. Default 1. */
    connectTimeoutSeconds?: number;
    /** Address to listen on, e.g. `127.0.0.1`. Default every IPv4 address. */
    listenAddress?: string;
    /** nginx pid file. Default `/tmp/plumberhub-edge.pid`. */
    pidFile?: string;
}

/** Defaults documented on `EdgeConfig`. */
export const EDGE_DEFAULTS = Object.freeze({ validSeconds: 1, connectTimeoutSeconds: 1, pidFile: "/tmp/plumberhub-edge.pid" });

/** A resolver address: IPv4, optionally with a port. */
function isResolver(server: unknown): boolean {
    if (typeof server !== "string") return false;
    const [host, port, ...rest] = server.split(":");
    return rest.length === 0 && isIPv4(host) && (port === undefined || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= MAX_PORT));
}

/** Checks an `EdgeConfig`; throws naming the field, the bad value and what is valid. */
export function validateEdgeConfig(config: EdgeConfig): void {
    if (!Array.isArray(config.ports) || config.ports.length === 0) throw new Error(`\`ports\` must be a non-empty list, got ${show(config.ports)}`);
    config.ports.forEach((port, i) => {
        validatePort(port.listen, `ports[${i}].listen`);
        validatePort(port.target, `ports[${i}].target`);
    });
    const listens = config.ports.map((port) => port.listen);
    const repeated = listens.find((port, i) => listens.indexOf(port) !== i);
    if (repeated !== undefined) throw new Error(`\`ports\` listens on ${repeated} twice; each listen port once`);
    if (!isDnsName(config.gatewayHost)) throw new Error(`\`gatewayHost\` must be a DNS name, got ${show(config.gatewayHost)}`);
    if (!Array.isArray(config.resolver) || config.resolver.length === 0 || !config.resolver.every(isResolver)) {
        throw new Error(`\`resolver\` must be a non-empty list of IPv4 addresses (ip or ip:port), got ${show(config.resolver)}`);
    }
    if (config.validSeconds !== undefined) validateInteger(config.validSeconds, "validSeconds", 1, 3600);
    if (config.connectTimeoutSeconds !== undefined) validateInteger(config.connectTimeoutSeconds, "connectTimeoutSeconds", 1, 60);
    if (config.listenAddress !== undefined && !isIPv4(config.listenAddress)) {
        throw new Error(`\`listenAddress\` must be an IPv4 address, got ${show(config.listenAddress)}`);
    }
    checkPath("pidFile", config.pidFile, false);
}

/** The edge's whole nginx.conf (run it with `nginx -c`). Validates first. */
export function renderEdgeConf(config: EdgeConfig): string {
    validateEdgeConfig(config);
    const servers = config.ports.flatMap(({ listen, target }) => [
        ``,
        `    server {`,
        `        listen ${config.listenAddress === undefined ? listen : `${config.listenAddress}:${listen}`};`,
        `        proxy_pass $plumberhub_gateway:${target};`,
        `        proxy_protocol on;`,
        `        proxy_connect_timeout ${config.connectTimeoutSeconds ?? EDGE_DEFAULTS.connectTimeoutSeconds}s;`,
        // A task that refuses (stopping) or does not answer: the next address of the same answer, within 10 s.
        `        proxy_next_upstream on;`,
        `        proxy_next_upstream_timeout 10s;`,
        `    }`,
    ]);
    return [
        `# Rendered by plumberhub (components/render/gateway/edgeConf.ts); re-render instead of editing.`,
        `load_module ${STREAM_MODULE};`,
        // One worker: forwarding bytes is cheap, and on small nodes every core the edge leaves is the models'.
        `worker_processes 1;`,
        `pid ${config.pidFile ?? EDGE_DEFAULTS.pidFile};`,
        `error_log stderr warn;`,
        ``,
        `events {`,
        `    worker_connections 4096;`,
        `}`,
        ``,
        `stream {`,
        `    resolver ${config.resolver.join(" ")} valid=${config.validSeconds ?? EDGE_DEFAULTS.validSeconds}s ipv6=off;`,
        `    resolver_timeout 2s;`,
        `    # A variable in proxy_pass makes nginx resolve the name per connection (all of the gateway's tasks).`,
        `    map $server_port $plumberhub_gateway {`,
        `        default ${config.gatewayHost};`,
        `    }`,
        ...servers,
        `}`,
        ``,
    ].join("\n");
}
