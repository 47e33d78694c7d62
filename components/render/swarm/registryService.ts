/** A private registry (distribution 2.x) as a swarm service: TLS and htpasswd from secrets, data on a volume. */
import { validatePort } from "../../config/checks";
import { SWARM_DEFAULTS, validateSwarmName } from "../../config/swarm";
import { mount, swarmFile } from "./files";
import { ROLE_LABEL, SwarmFile, SwarmFileRef, SwarmServicePlan } from "./plan";
import { RESTART, SwarmPublishedServiceOptions, updateFor, validateSwarmServiceOptions } from "./serviceOptions";

/** Pinned public registry (distribution 2.x) image used when the caller gives none. */
export const DEFAULT_REGISTRY_IMAGE = "registry:2.8.3";

/** Contents of the registry's secrets. */
export interface RegistryFileContents {
    tlsCertificate: string;
    tlsKey: string;
    /** htpasswd lines with bcrypt hashes (`$2y$`): the registry accepts nothing else. */
    htpasswd: string;
}

/** Port the registry listens on inside its container (published as `port`). */
const REGISTRY_CONTAINER_PORT = 5000;

const REGISTRY_PATHS = Object.freeze({
    tlsCertificate: "/run/secrets/registry.crt",
    tlsKey: "/run/secrets/registry.key",
    htpasswd: "/run/secrets/registry.htpasswd",
    data: "/var/lib/registry",
});

/** The registry's secrets, named by content hash. */
export function planRegistryFiles(prefix: string, contents: RegistryFileContents): SwarmFile[] {
    return [
        swarmFile(prefix, "registry.crt", "secrets", contents.tlsCertificate),
        swarmFile(prefix, "registry.key", "secrets", contents.tlsKey),
        swarmFile(prefix, "registry.htpasswd", "secrets", contents.htpasswd),
    ];
}

export interface RegistryServiceOptions extends SwarmPublishedServiceOptions {
    /** Service name. Default `registry`. */
    name?: string;
    /** Registry (distribution 2.x) image. Default `DEFAULT_REGISTRY_IMAGE`. */
    image?: string;
    /** Published port. Default `SWARM_DEFAULTS.registryPort` (5000). */
    port?: number;
    /** Named volume for the image data. */
    volume: string;
}

/** Checks the registry's options. */
export function validateRegistryServiceOptions(options: Omit<RegistryServiceOptions, "volume"> & { volume?: string }, field = "args"): void {
    validateSwarmServiceOptions(options, field, true);
    if (options.name !== undefined) validateSwarmName(options.name, `${field}.name`);
    if (options.volume !== undefined) validateSwarmName(options.volume, `${field}.volume`);
    if (options.port !== undefined) validatePort(options.port, `${field}.port`);
}

/**
 * A registry (distribution 2.x) as a swarm service: TLS + htpasswd auth from secrets, data on a named
 * volume. One replica pinned to a manager by default: filesystem storage is local to one node.
 */
export function planRegistryService(secrets: SwarmFileRef[], options: RegistryServiceOptions): SwarmServicePlan {
    validateRegistryServiceOptions(options);
    const publishMode = options.publishMode ?? SWARM_DEFAULTS.publishMode;
    const [certificate, key, htpasswd] = secrets;
    return {
        name: options.name ?? "registry",
        image: options.image ?? DEFAULT_REGISTRY_IMAGE,
        replicas: 1,
        env: {
            REGISTRY_HTTP_ADDR: `0.0.0.0:${REGISTRY_CONTAINER_PORT}`,
            REGISTRY_HTTP_TLS_CERTIFICATE: REGISTRY_PATHS.tlsCertificate,
            REGISTRY_HTTP_TLS_KEY: REGISTRY_PATHS.tlsKey,
            REGISTRY_AUTH: "htpasswd",
            REGISTRY_AUTH_HTPASSWD_REALM: "plumberhub",
            REGISTRY_AUTH_HTPASSWD_PATH: REGISTRY_PATHS.htpasswd,
            REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: REGISTRY_PATHS.data,
            REGISTRY_STORAGE_DELETE_ENABLED: "true",
        },
        labels: { ...options.labels, [ROLE_LABEL]: "registry" },
        endpointMode: options.endpointMode ?? SWARM_DEFAULTS.endpointMode,
        ports: [{ target: REGISTRY_CONTAINER_PORT, published: options.port ?? SWARM_DEFAULTS.registryPort, mode: publishMode }],
        // one replica on one volume: never two registries writing at once
        update: { ...updateFor(publishMode, "rollback"), order: "stop-first" },
        rollback: { ...updateFor(publishMode, "pause"), order: "stop-first" },
        restart: RESTART,
        // Always on a manager (its data volume is local to one node, and the hub is deployed from a manager), plus the user's.
        constraints: [...new Set([...SWARM_DEFAULTS.registryConstraints, ...(options.constraints ?? [])])],
        aliases: [],
        configs: [],
        secrets: [
            mount(certificate, REGISTRY_PATHS.tlsCertificate, 0o444),
            mount(key, REGISTRY_PATHS.tlsKey, 0o400),
            mount(htpasswd, REGISTRY_PATHS.htpasswd, 0o444),
        ],
        volumes: [{ source: options.volume, target: REGISTRY_PATHS.data }],
        stopGracePeriod: "30s",
    };
}

/** The node folder Docker reads registry CAs from (`certs.d/{host:port}/ca.crt`); Docker's packages create it. */
const NODE_DOCKER_CONFIG = "/etc/docker";
/** Where the trust service sees that folder and its CA file. */
const TRUST_PATHS = Object.freeze({ nodeDockerConfig: "/host-etc-docker", caCertificate: "/run/registry-ca.crt" });

/** The CA every node trusts the registry by, as a swarm config (public, not a secret). */
export function planRegistryCaFile(prefix: string, caCertificatePem: string): SwarmFile {
    return swarmFile(prefix, "registry-ca.crt", "configs", caCertificatePem);
}

export interface RegistryTrustServiceOptions {
    /** Service name. Default `registry-trust`. */
    name?: string;
    /** Image with `sh`, `mkdir`, `cp` and `sleep`: the registry's own image, which every node can pull before it trusts the registry. Default `DEFAULT_REGISTRY_IMAGE`. */
    image?: string;
    /** The registry as engines name it, `host:port`: the folder under `certs.d`. */
    server: string;
    /** Extra service labels. Default none. */
    labels?: Record<string, string>;
}

/**
 * A global service that makes every node's engine trust the registry: one task per node (also on nodes that join
 * later) writes the CA to `/etc/docker/certs.d/{server}/ca.crt` (by rename, never half-written), which the engine
 * reads at each pull and push, then idles; a new CA rolls it. Nobody has to copy the CA onto each node by hand.
 */
export function planRegistryTrustService(caFile: SwarmFileRef, options: RegistryTrustServiceOptions): SwarmServicePlan {
    if (!/^[A-Za-z0-9.-]+:\d{1,5}$/.test(options.server)) {
        throw new Error(`\`server\` must be the registry's host:port, got ${JSON.stringify(options.server)}`);
    }
    const folder = `${TRUST_PATHS.nodeDockerConfig}/certs.d/${options.server}`;
    const script = [
        "set -eu",
        `mkdir -p '${folder}'`,
        `cp ${TRUST_PATHS.caCertificate} '${folder}/ca.crt.new'`,
        `mv '${folder}/ca.crt.new' '${folder}/ca.crt'`,
        `echo "this node trusts the registry ${options.server}"`,
        // Idle until stopped; `wait` lets the trap run at once.
        "trap 'exit 0' TERM INT",
        "while :; do sleep 3600 & wait $!; done",
    ].join("\n");
    return {
        name: options.name ?? "registry-trust",
        image: options.image ?? DEFAULT_REGISTRY_IMAGE,
        replicas: 1,
        global: true,
        env: {},
        labels: { ...options.labels, [ROLE_LABEL]: "registry-trust" },
        endpointMode: "dnsrr",
        ports: [],
        update: { ...updateFor("host", "pause"), order: "stop-first" },
        rollback: { ...updateFor("host", "pause"), order: "stop-first" },
        restart: RESTART,
        constraints: [],
        aliases: [],
        configs: [mount(caFile, TRUST_PATHS.caCertificate, 0o444)],
        secrets: [],
        volumes: [],
        binds: [{ source: NODE_DOCKER_CONFIG, target: TRUST_PATHS.nodeDockerConfig }],
        command: ["sh", "-c", script],
        stopSignal: "SIGTERM",
        stopGracePeriod: "10s",
    };
}
