/**
 * Docker Swarm settings as a user writes them — the engine to talk to, names, placement, how services are reached —
 * with the one rule for each and the defaults. Plain checks, no Pulumi: the stack config, the swarm plan
 * (`render/swarm`) and the swarm components all call these.
 */
import { show } from "./checks";

/** How a service is reached inside the swarm: one virtual IP (IPVS) or DNS round robin over task IPs. */
export type EndpointMode = "vip" | "dnsrr";
export const ENDPOINT_MODES: readonly EndpointMode[] = ["vip", "dnsrr"];
/** How a port is published: the routing mesh on every node, or only on the node running the task. */
export type PublishMode = "ingress" | "host";
export const PUBLISH_MODES: readonly PublishMode[] = ["ingress", "host"];

/** Defaults of the swarm settings. */
export const SWARM_DEFAULTS: Readonly<{
    endpointMode: EndpointMode;
    publishMode: PublishMode;
    network: string;
    registryPort: number;
    registryHost: string;
    registryConstraints: readonly string[];
    gatewayConstraints: readonly string[];
    modelSpread: readonly string[];
}> = Object.freeze({
    /** One virtual IP per service (needs IPVS in the kernel; `dnsrr` where it is missing). */
    endpointMode: "vip",
    /** The routing mesh (needs IPVS; `host` where it is missing). */
    publishMode: "ingress",
    /** Overlay network of a hub's services, which other stacks' models join. */
    network: "plumberhub",
    /** Published port of the hub's own registry. */
    registryPort: 5000,
    /**
     * Address engines push to and pull from the hub's own registry at: loopback, which a single node reaches and
     * Docker trusts without a CA. With several nodes it must be an address of the registry's manager that every
     * node reaches (`plumberhub:registry.host`).
     */
    registryHost: "127.0.0.1",
    /** The registry keeps its images on a volume of one node: a manager, where the hub is deployed from. */
    registryConstraints: Object.freeze(["node.role == manager"]),
    /**
     * The gateway runs on managers: the nodes whose addresses users already know (DNS points there) and that stay
     * when workers come and go; without IPVS (no routing mesh) its host-mode ports are open only where it runs.
     */
    gatewayConstraints: Object.freeze(["node.role == manager"]),
    /** A model's replicas are spread evenly over the nodes (the placement preference `spread=node.id`), so one lost node takes only its share. */
    modelSpread: Object.freeze(["node.id"]),
});

/** Docker endpoints a swarm is managed through (what `DOCKER_HOST` takes). */
const DOCKER_HOST = /^(unix:\/\/\/\S+|npipe:\/\/\S+|ssh:\/\/([^@\s/]+@)?[^\s:/@]+(:\d{1,5})?|tcp:\/\/[^\s:/]+:\d{1,5})$/;
/** Docker object names (networks, services, volumes, configs, secrets): ≤ 63 characters. */
const SWARM_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;
/** Placement constraints: `attribute == value` or `attribute != value`. */
const CONSTRAINT = /^[A-Za-z0-9_.-]+\s*(==|!=)\s*\S+$/;
/** Docker label keys. */
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;

/** Throws unless `host` is a Docker endpoint: `unix:///path`, `npipe://…`, `ssh://[user@]host[:port]` or `tcp://host:port`. */
export function validateDockerHost(host: unknown, field = "host"): void {
    if (typeof host !== "string" || !DOCKER_HOST.test(host)) {
        throw new Error(
            `\`${field}\` must be unix:///path/to/docker.sock, npipe:////./pipe/name, ssh://[user@]host[:port] or tcp://host:port, got ${show(host)}`,
        );
    }
}

/** The host engines reach the hub's own registry at: `plumberhub:registry.host`, else `SWARM_DEFAULTS.registryHost`. */
export function swarmRegistryHost(registry: { host?: string }): string {
    return registry.host ?? SWARM_DEFAULTS.registryHost;
}

/** Whether `host` names a Docker engine on another machine (`ssh://`, `tcp://`), not this machine's socket or pipe. */
export function isRemoteDockerHost(host: string | undefined): boolean {
    return host !== undefined && (host.startsWith("ssh://") || host.startsWith("tcp://"));
}

/** Whether `host` (a name or address, no port) is this machine's loopback: `localhost`, 127.0.0.0/8 or `::1`. */
export function isLoopbackHost(host: string): boolean {
    const bare = host.replace(/^\[(.*)\]$/, "$1");
    return bare === "localhost" || bare === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/** Whether `host` is a plain `tcp://` Docker endpoint (TLS or not is said elsewhere). */
export function isTcpDockerHost(host: string | undefined): boolean {
    return host !== undefined && host.startsWith("tcp://");
}

/** Throws when client TLS is given for a host that is not `tcp://`; `fields` name the settings as the user wrote them. */
export function validateTlsOnTcpHost(host: string | undefined, tls: boolean, fields: { host: string; tls: string }): void {
    if (tls && !isTcpDockerHost(host)) {
        throw new Error(
            `\`${fields.tls}\` only applies to a tcp:// host (ssh:// and unix:// bring their own security), got \`${fields.host}\` ${show(host)}`,
        );
    }
}

/**
 * Throws unless a Docker endpoint, its client TLS and the opt-out go together: TLS only on a `tcp://` host, and a
 * `tcp://` host only with TLS (the Docker API is root on every node of the swarm: whoever reaches a plain port owns
 * them all) unless `allowInsecureTcp` says the network is trusted. `fields` name the settings as the user wrote them.
 */
export function validateDockerTransport(
    settings: { host: string | undefined; tls: boolean; allowInsecureTcp: unknown },
    fields: { host: string; tls: string; allowInsecureTcp: string },
): void {
    const { host, tls, allowInsecureTcp } = settings;
    if (allowInsecureTcp !== undefined && typeof allowInsecureTcp !== "boolean") {
        throw new Error(`\`${fields.allowInsecureTcp}\` must be true or false, got ${show(allowInsecureTcp)}`);
    }
    validateTlsOnTcpHost(host, tls, fields);
    const tcp = isTcpDockerHost(host);
    if (allowInsecureTcp === true && (!tcp || tls)) {
        throw new Error(
            `\`${fields.allowInsecureTcp}\` only applies to a tcp:// host without \`${fields.tls}\`, got \`${fields.host}\` ${show(host)}${tls ? " with TLS" : ""}`,
        );
    }
    if (tcp && !tls && allowInsecureTcp !== true) {
        throw new Error(
            `\`${fields.host}\` ${show(host)} has no TLS: anyone who reaches that port controls every node of the swarm (the Docker API is root). ` +
                `Give the manager's CA and a client certificate and key (\`${fields.tls}\`), use ssh://user@host, or set \`${fields.allowInsecureTcp}: true\` on a network you trust`,
        );
    }
}

/** Throws unless `sshOpts` is a list of `ssh` arguments for an `ssh://` host; `fields` name the settings as the user wrote them. */
export function validateSshOpts(host: string | undefined, sshOpts: unknown, fields: { host: string; sshOpts: string }): void {
    if (sshOpts === undefined) return;
    if (!Array.isArray(sshOpts) || sshOpts.some((option) => typeof option !== "string" || option === "")) {
        throw new Error(`\`${fields.sshOpts}\` must be a list of ssh arguments such as ["-o", "StrictHostKeyChecking=yes"], got ${show(sshOpts)}`);
    }
    if (typeof host !== "string" || !host.startsWith("ssh://")) {
        throw new Error(`\`${fields.sshOpts}\` only applies to an ssh:// host, got \`${fields.host}\` ${show(host)}`);
    }
}

/** Throws unless `name` is a Docker object name (network, service, volume, config prefix), naming `field`. */
export function validateSwarmName(name: unknown, field: string): void {
    if (typeof name !== "string" || !SWARM_NAME.test(name)) {
        throw new Error(`\`${field}\` must be 1–63 letters, digits, "_", "." or "-" starting with a letter or digit, got ${show(name)}`);
    }
}

/** Throws unless `constraint` is a placement constraint such as `node.role == manager`. */
export function validatePlacementConstraint(constraint: unknown, field: string): void {
    if (typeof constraint !== "string" || !CONSTRAINT.test(constraint)) {
        throw new Error(`\`${field}\` must look like "node.role == manager" (attribute, == or !=, value), got ${show(constraint)}`);
    }
}

/** Throws unless every key of `labels` is a Docker label key and every value a string. */
export function validateLabels(labels: Record<string, unknown>, field: string): void {
    for (const [key, value] of Object.entries(labels)) {
        if (!LABEL_KEY.test(key) || typeof value !== "string") {
            throw new Error(`\`${field}\` keys must be letters, digits, ".", "_", "/", "-" and values strings, got ${show(key)}: ${show(value)}`);
        }
    }
}

/**
 * Throws unless the endpoint and publish modes are known and go together: Docker refuses ingress-published ports
 * on a `dnsrr` service, so a service that publishes ports with `dnsrr` must publish them in `host` mode.
 * `field` is the object holding both settings.
 */
export function validateSwarmPublishing(settings: { endpointMode?: unknown; publishMode?: unknown }, field: string, publishes: boolean): void {
    const { endpointMode, publishMode } = settings;
    if (endpointMode !== undefined && !(ENDPOINT_MODES as readonly unknown[]).includes(endpointMode)) {
        throw new Error(`\`${field}.endpointMode\` must be "vip" or "dnsrr", got ${show(endpointMode)}`);
    }
    if (publishMode !== undefined && !(PUBLISH_MODES as readonly unknown[]).includes(publishMode)) {
        throw new Error(`\`${field}.publishMode\` must be "ingress" or "host", got ${show(publishMode)}`);
    }
    if (publishes && endpointMode === "dnsrr" && (publishMode ?? SWARM_DEFAULTS.publishMode) === "ingress") {
        throw new Error(
            `\`${field}.publishMode\` must be "host" when \`${field}.endpointMode\` is "dnsrr": Docker refuses ingress-published ports on a dnsrr service`,
        );
    }
}
