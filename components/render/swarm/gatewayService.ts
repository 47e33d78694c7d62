/** The nginx gateway on a swarm: its nginx.conf and landing page, its configs and secrets, and its service. */
import { validateInteger, validatePort } from "../../config/checks";
import { GATEWAY_SETTINGS_DEFAULTS, MAX_GATEWAY_REPLICAS } from "../../config/gateway";
import { SWARM_MODEL_HOST_TEMPLATE } from "../../config/routing";
import { SWARM_DEFAULTS, validateSwarmName } from "../../config/swarm";
import { DEFAULT_GATEWAY_IMAGE, GatewayConfig, gatewayReadyCommand, renderEdgeConf, renderGatewayFiles } from "../gateway";
import { mount, swarmFile } from "./files";
import { dockerDuration, ROLE_LABEL, SwarmFile, SwarmFileRef, SwarmServicePlan } from "./plan";
import { RESTART, SwarmPublishedServiceOptions, updateFor, validateSwarmServiceOptions } from "./serviceOptions";

/** Where the gateway's files land in the nginx container; the rendered nginx.conf refers to these paths. */
export const GATEWAY_PATHS = Object.freeze({
    nginxConf: "/etc/nginx/nginx.conf",
    tlsCertificate: "/run/secrets/tls.crt",
    tlsKey: "/run/secrets/tls.key",
    htpasswd: "/run/secrets/htpasswd",
    /** Folder for the static files (landing page …). */
    staticRoot: "/usr/share/nginx/html",
});

/**
 * Contents of the gateway's configs: nginx.conf, static files (landing page …) by file name in
 * `GATEWAY_PATHS.staticRoot`, and the edge's nginx.conf.
 */
export interface GatewayConfigContents {
    nginxConf: string;
    staticFiles: Record<string, string>;
    edgeConf: string;
}

/** Contents of the gateway's secrets. */
export interface GatewaySecretContents {
    /** PEM certificate chain of the gateway (`ServerCertificate.certChainPem`). */
    tlsCertificate: string;
    /** PEM private key of the gateway (`ServerCertificate.privateKeyPem`). */
    tlsKey: string;
    /** htpasswd lines of the gateway's users (`Credentials.htpasswd`). */
    htpasswd: string;
}

/** Docker's embedded DNS server, inside every container on a user-defined network. */
export const SWARM_DNS = "127.0.0.11";

/**
 * Ports inside the containers: the edge listens on `https` and `http` (published as `httpsPort` / `httpPort`) and
 * forwards to the same ports of a gateway task, which expects the PROXY protocol there; `healthcheck` is the
 * gateway's listener on 127.0.0.1 for its own healthcheck.
 */
export const SWARM_GATEWAY_CONTAINER_PORTS = Object.freeze({ https: 443, http: 80, healthcheck: 8443 });

/** The gateway tasks' name on the hub network, which the edge resolves (every task: the edge picks and retries). */
export const SWARM_GATEWAY_HOST = "gateway.plumberhub.internal";

/**
 * The gateway's healthcheck: TLS is served and auth is on (`/healthz` answers 200 over TLS, `/` answers 401
 * without credentials). A new task takes traffic from the edge only once healthy, so a roll never sends requests
 * to an nginx that is not ready. Durations as Docker reads them back (see `dockerDuration`).
 */
export const GATEWAY_HEALTHCHECK: NonNullable<SwarmServicePlan["healthcheck"]> = Object.freeze({
    test: ["CMD-SHELL", gatewayReadyCommand(SWARM_GATEWAY_CONTAINER_PORTS.healthcheck)],
    interval: "2s",
    timeout: "2s",
    retries: 3,
    startPeriod: "10s",
});

/**
 * Gateway settings on a swarm: the gateway renderer's config minus what the swarm target decides
 * (routing, file paths, listen ports).
 */
export type SwarmGatewaySettings = Omit<
    GatewayConfig,
    "routing" | "tls" | "paths" | "httpsPort" | "httpPort" | "publicHttpsPort" | "listenAddress"
> & {
    /**
     * Seconds nginx caches a model's DNS answer: new tasks get traffic and stopping ones lose it after at most
     * this. Default 1: swarm removes a stopping task from DNS 2 s before signalling it, so a longer cache
     * sends requests to tasks that are going away. Docker's DNS is local to the node, so lookups are cheap.
     */
    dnsValidSeconds?: number;
    /** Port of the models that join from other stacks (listed models are routed to their own `port`). Default 8000. */
    modelPort?: number;
};

/**
 * The gateway's nginx config on a swarm: `/{model}/` is proxied to the model's network alias
 * (`SWARM_MODEL_HOST_TEMPLATE`) resolved per request through Docker's DNS — never to a bare service name — so a model
 * from another stack that joins the network with its alias is routed with no gateway change;
 * certificate, key, htpasswd and landing page at `GATEWAY_PATHS`. `publicHttpsPort` is the published port
 * (for the HTTP→HTTPS redirect).
 */
export function swarmGatewayConfig(settings: SwarmGatewaySettings, publicHttpsPort: number = GATEWAY_SETTINGS_DEFAULTS.httpsPort): GatewayConfig {
    const { dnsValidSeconds, modelPort, ...rest } = settings;
    return {
        ...rest,
        routing: { mode: "dns", resolver: [SWARM_DNS], nameTemplate: SWARM_MODEL_HOST_TEMPLATE, port: modelPort, validSeconds: dnsValidSeconds ?? 1 },
        tls: { certificatePath: GATEWAY_PATHS.tlsCertificate, keyPath: GATEWAY_PATHS.tlsKey },
        paths: { htpasswd: GATEWAY_PATHS.htpasswd, landingDir: GATEWAY_PATHS.staticRoot },
        httpsPort: SWARM_GATEWAY_CONTAINER_PORTS.https,
        httpPort: SWARM_GATEWAY_CONTAINER_PORTS.http,
        publicHttpsPort,
        proxyProtocol: true,
        healthcheckPort: SWARM_GATEWAY_CONTAINER_PORTS.healthcheck,
    };
}

/** The edge's nginx.conf on a swarm: both published ports to the gateway's tasks, through Docker's DNS. */
export function renderSwarmEdgeConf(): string {
    return renderEdgeConf({
        ports: [SWARM_GATEWAY_CONTAINER_PORTS.https, SWARM_GATEWAY_CONTAINER_PORTS.http].map((port) => ({ listen: port, target: port })),
        gatewayHost: SWARM_GATEWAY_HOST,
        resolver: [SWARM_DNS],
    });
}

/** nginx.conf and the landing page of the swarm gateway, from the gateway renderer. */
export function renderSwarmGatewayConfigs(
    settings: SwarmGatewaySettings,
    publicHttpsPort: number = GATEWAY_SETTINGS_DEFAULTS.httpsPort,
): GatewayConfigContents {
    const files = renderGatewayFiles(swarmGatewayConfig(settings, publicHttpsPort));
    return { nginxConf: files["nginx.conf"], staticFiles: { "index.html": files["index.html"] }, edgeConf: renderSwarmEdgeConf() };
}

/** The gateway's swarm configs (public) and secrets, named by content hash. */
export interface SwarmGatewayFiles<F extends SwarmFileRef = SwarmFile> {
    configs: F[];
    secrets: F[];
}

/** Key of the config that holds static file `fileName` (`index.html` → `static-index.html`). */
export function staticFileKey(fileName: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(fileName)) {
        throw new Error(
            `\`staticFiles\` keys must be plain file names (letters, digits, "_", ".", "-"; no folders), got ${JSON.stringify(fileName)}`,
        );
    }
    return `static-${fileName}`;
}

/** The gateway's configs: nginx.conf, the static files and the edge's nginx.conf. */
export function planGatewayConfigs(prefix: string, contents: GatewayConfigContents): SwarmFile[] {
    return [
        swarmFile(prefix, "nginx.conf", "configs", contents.nginxConf),
        swarmFile(prefix, "edge.conf", "configs", contents.edgeConf),
        ...Object.entries(contents.staticFiles ?? {})
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([path, text]) => swarmFile(prefix, staticFileKey(path), "configs", text)),
    ];
}

/** The gateway's secrets: certificate, key, htpasswd. */
export function planGatewaySecrets(prefix: string, contents: GatewaySecretContents): SwarmFile[] {
    return [
        swarmFile(prefix, "tls.crt", "secrets", contents.tlsCertificate),
        swarmFile(prefix, "tls.key", "secrets", contents.tlsKey),
        swarmFile(prefix, "htpasswd", "secrets", contents.htpasswd),
    ];
}

/**
 * The gateway's configs and secrets. The service plan takes only their names (`SwarmFileRef`), so secret
 * contents never flow into the service's description.
 */
export function planGatewayFiles(prefix: string, configs: GatewayConfigContents, secrets: GatewaySecretContents): SwarmGatewayFiles {
    return { configs: planGatewayConfigs(prefix, configs), secrets: planGatewaySecrets(prefix, secrets) };
}

export interface GatewayServiceOptions extends SwarmPublishedServiceOptions {
    /** Service name of the gateway; the edge's is `{name}-edge`. Default `gateway`. */
    name?: string;
    /** nginx image of the gateway and the edge (with the stream module and curl, as the official images). Default `DEFAULT_GATEWAY_IMAGE`. */
    image?: string;
    /** Replicas. Default 1. */
    replicas?: number;
    /** Published HTTPS port. Default 443. */
    httpsPort?: number;
    /** Published HTTP port (redirects to HTTPS). Default 80. */
    httpPort?: number;
}

/** Checks the gateway's options (sync, before any resource exists). */
export function validateGatewayServiceOptions(options: GatewayServiceOptions, field = "args"): void {
    validateSwarmServiceOptions(options, field, true);
    if (options.name !== undefined) validateSwarmName(options.name, `${field}.name`);
    if (options.replicas !== undefined) validateInteger(options.replicas, `${field}.replicas`, 1, MAX_GATEWAY_REPLICAS);
    if (options.httpsPort !== undefined) validatePort(options.httpsPort, `${field}.httpsPort`);
    if (options.httpPort !== undefined) validatePort(options.httpPort, `${field}.httpPort`);
    if (options.httpsPort !== undefined && options.httpsPort === (options.httpPort ?? GATEWAY_SETTINGS_DEFAULTS.httpPort)) {
        throw new Error(`\`${field}.httpsPort\` and \`${field}.httpPort\` must differ, both are ${options.httpsPort}`);
    }
}

const byKey = (list: SwarmFileRef[], key: string) => list.find((file) => file.key === key)!;

/** A gateway roll starts the new task first: it publishes no port (the edge does), so two tasks can run at once. */
const GATEWAY_UPDATE: SwarmServicePlan["update"] = { parallelism: 1, delay: "0s", order: "start-first", failureAction: "rollback", monitor: "10s" };

/**
 * The nginx gateway service: configs and secrets mounted where `GATEWAY_PATHS` says, no published port (the edge
 * in front holds them), rolled `start-first` behind a TLS-and-auth healthcheck. A stopping task leaves DNS, gets
 * SIGQUIT (nginx's graceful stop: requests in progress finish) and up to the read timeout to finish them.
 */
export function planGatewayService(files: SwarmGatewayFiles<SwarmFileRef>, options: GatewayServiceOptions = {}): SwarmServicePlan {
    validateGatewayServiceOptions(options);
    const statics = files.configs.filter((file) => file.key.startsWith("static-"));
    return {
        name: options.name ?? "gateway",
        image: options.image ?? DEFAULT_GATEWAY_IMAGE,
        replicas: options.replicas ?? GATEWAY_SETTINGS_DEFAULTS.replicas.swarm,
        env: {},
        labels: { ...options.labels, [ROLE_LABEL]: "gateway" },
        healthcheck: GATEWAY_HEALTHCHECK,
        endpointMode: options.endpointMode ?? SWARM_DEFAULTS.endpointMode,
        ports: [],
        update: GATEWAY_UPDATE,
        rollback: { ...GATEWAY_UPDATE, failureAction: "pause" },
        restart: RESTART,
        constraints: options.constraints ?? [],
        aliases: [SWARM_GATEWAY_HOST],
        configs: [
            mount(byKey(files.configs, "nginx.conf"), GATEWAY_PATHS.nginxConf, 0o444),
            ...statics.map((file) => mount(file, `${GATEWAY_PATHS.staticRoot}/${file.key.slice("static-".length)}`, 0o444)),
        ],
        secrets: [
            mount(byKey(files.secrets, "tls.crt"), GATEWAY_PATHS.tlsCertificate, 0o444),
            // nginx's master (root) reads the key; workers (unprivileged) read htpasswd on each request
            mount(byKey(files.secrets, "tls.key"), GATEWAY_PATHS.tlsKey, 0o400),
            mount(byKey(files.secrets, "htpasswd"), GATEWAY_PATHS.htpasswd, 0o444),
        ],
        volumes: [],
        stopSignal: "SIGQUIT",
        stopGracePeriod: dockerDuration(GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds + 5),
    };
}

/**
 * The edge service (`{gateway}-edge`): holds the published HTTPS and HTTP ports and forwards TCP to the gateway's
 * tasks. Its nginx.conf changes only with the ports, so changes of models, users or certificates never roll it.
 */
export function planEdgeService(files: SwarmGatewayFiles<SwarmFileRef>, options: GatewayServiceOptions = {}): SwarmServicePlan {
    validateGatewayServiceOptions(options);
    const publishMode = options.publishMode ?? SWARM_DEFAULTS.publishMode;
    return {
        name: `${options.name ?? "gateway"}-edge`,
        image: options.image ?? DEFAULT_GATEWAY_IMAGE,
        replicas: 1,
        env: {},
        labels: { ...options.labels, [ROLE_LABEL]: "edge" },
        endpointMode: options.endpointMode ?? SWARM_DEFAULTS.endpointMode,
        ports: [
            { target: SWARM_GATEWAY_CONTAINER_PORTS.https, published: options.httpsPort ?? GATEWAY_SETTINGS_DEFAULTS.httpsPort, mode: publishMode },
            { target: SWARM_GATEWAY_CONTAINER_PORTS.http, published: options.httpPort ?? GATEWAY_SETTINGS_DEFAULTS.httpPort, mode: publishMode },
        ],
        update: updateFor(publishMode, "rollback"),
        rollback: updateFor(publishMode, "pause"),
        restart: RESTART,
        constraints: options.constraints ?? [],
        aliases: [],
        configs: [mount(byKey(files.configs, "edge.conf"), GATEWAY_PATHS.nginxConf, 0o444)],
        secrets: [],
        volumes: [],
        stopGracePeriod: "10s",
    };
}
