/** The nginx gateway on a swarm: its nginx.conf and landing page, its configs and secrets, and its service. */
import { validateInteger, validatePort } from "../../config/checks";
import { GATEWAY_SETTINGS_DEFAULTS, MAX_GATEWAY_REPLICAS } from "../../config/gateway";
import { SWARM_MODEL_HOST_TEMPLATE } from "../../config/routing";
import { SWARM_DEFAULTS, validateSwarmName } from "../../config/swarm";
import {
    ACME_FILE_NAMES,
    ACME_PATHS,
    ACME_TLS_FILES,
    GatewayAcme,
    DEFAULT_GATEWAY_IMAGE,
    GatewayConfig,
    gatewayReadyCommand,
    landingFiles,
    renderGatewayAcmeScript,
    renderEdgeConf,
    renderGatewayFiles,
} from "../gateway";
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
 * `GATEWAY_PATHS.staticRoot`, the edge's nginx.conf, and with ACME the renewal script and the ACME server's CA.
 */
export interface GatewayConfigContents {
    nginxConf: string;
    staticFiles: Record<string, string>;
    edgeConf: string;
    /** `plumberhub-acme` (`renderAcmeRenewalScript`), ACME mode only. */
    acmeScript?: string;
    /** PEM bundle the renewal trusts for a private ACME server. Default none (system roots). */
    acmeCaBundle?: string;
}

/** Contents of the gateway's secrets; certificate and key are absent when the gateway gets them from ACME. */
export interface GatewaySecretContents {
    /** PEM certificate chain of the gateway (`ServerCertificate.certChainPem`). Not with ACME. */
    tlsCertificate?: string;
    /** PEM private key of the gateway (`ServerCertificate.privateKeyPem`). Not with ACME. */
    tlsKey?: string;
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
export function swarmGatewayConfig(
    settings: SwarmGatewaySettings,
    publicHttpsPort: number = GATEWAY_SETTINGS_DEFAULTS.httpsPort,
    acme = false,
): GatewayConfig {
    const { dnsValidSeconds, modelPort, ...rest } = settings;
    return {
        ...rest,
        routing: { mode: "dns", resolver: [SWARM_DNS], nameTemplate: SWARM_MODEL_HOST_TEMPLATE, port: modelPort, validSeconds: dnsValidSeconds ?? 1 },
        tls: acme ? ACME_TLS_FILES : { certificatePath: GATEWAY_PATHS.tlsCertificate, keyPath: GATEWAY_PATHS.tlsKey },
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

/** nginx.conf and the landing page of the swarm gateway, from the gateway renderer; with ACME the renewal's files. */
export function renderSwarmGatewayConfigs(
    settings: SwarmGatewaySettings,
    publicHttpsPort: number = GATEWAY_SETTINGS_DEFAULTS.httpsPort,
    acme?: GatewayAcme,
): GatewayConfigContents {
    const files = renderGatewayFiles(swarmGatewayConfig(settings, publicHttpsPort, acme !== undefined));
    return {
        nginxConf: files["nginx.conf"],
        staticFiles: landingFiles(files),
        edgeConf: renderSwarmEdgeConf(),
        ...(acme
            ? {
                  acmeScript: renderGatewayAcmeScript(acme),
                  ...(acme.caBundlePem !== undefined ? { acmeCaBundle: acme.caBundlePem } : {}),
              }
            : {}),
    };
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

/** The gateway's configs: nginx.conf, the static files, the edge's nginx.conf and the ACME renewal's files. */
export function planGatewayConfigs(prefix: string, contents: GatewayConfigContents): SwarmFile[] {
    return [
        swarmFile(prefix, "nginx.conf", "configs", contents.nginxConf),
        swarmFile(prefix, "edge.conf", "configs", contents.edgeConf),
        ...(contents.acmeScript !== undefined ? [swarmFile(prefix, ACME_FILE_NAMES.script, "configs", contents.acmeScript)] : []),
        ...(contents.acmeCaBundle !== undefined ? [swarmFile(prefix, ACME_FILE_NAMES.caBundle, "configs", contents.acmeCaBundle)] : []),
        ...Object.entries(contents.staticFiles ?? {})
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
            .map(([path, text]) => swarmFile(prefix, staticFileKey(path), "configs", text)),
    ];
}

/** The gateway's secrets: certificate and key (unless ACME provides them), htpasswd. */
export function planGatewaySecrets(prefix: string, contents: GatewaySecretContents): SwarmFile[] {
    return [
        ...(contents.tlsCertificate !== undefined ? [swarmFile(prefix, "tls.crt", "secrets", contents.tlsCertificate)] : []),
        ...(contents.tlsKey !== undefined ? [swarmFile(prefix, "tls.key", "secrets", contents.tlsKey)] : []),
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
    /**
     * Named volume of the ACME renewal's state (account, certificates, challenge webroot), shared by the gateway's
     * tasks on a node. Required with ACME, refused without it.
     */
    acmeVolume?: string;
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
    if (options.acmeVolume !== undefined) validateSwarmName(options.acmeVolume, `${field}.acmeVolume`);
    if (options.replicas !== undefined) validateInteger(options.replicas, `${field}.replicas`, 1, MAX_GATEWAY_REPLICAS);
    if (options.httpsPort !== undefined) validatePort(options.httpsPort, `${field}.httpsPort`);
    if (options.httpPort !== undefined) validatePort(options.httpPort, `${field}.httpPort`);
    if (options.httpsPort !== undefined && options.httpsPort === (options.httpPort ?? GATEWAY_SETTINGS_DEFAULTS.httpPort)) {
        throw new Error(`\`${field}.httpsPort\` and \`${field}.httpPort\` must differ, both are ${options.httpsPort}`);
    }
}

const byKey = (list: SwarmFileRef[], key: string) => list.find((file) => file.key === key)!;

/** Name of the volume that keeps the gateway's ACME account and certificates: `{prefix}-acme` (prefix of its files). */
export function swarmGatewayAcmeVolume(filePrefix: string): string {
    return `${filePrefix}-acme`;
}

/**
 * Where the gateway's certificate comes from: the certificate and key secrets, or (with ACME) the renewal script as
 * the command, its CA bundle, and the state volume. Refuses a plan whose files and options disagree.
 */
function gatewayTlsMounts(
    files: SwarmGatewayFiles<SwarmFileRef>,
    options: GatewayServiceOptions,
): Pick<SwarmServicePlan, "configs" | "secrets" | "volumes" | "command"> {
    const script = files.configs.find((file) => file.key === ACME_FILE_NAMES.script);
    if (script === undefined) {
        if (options.acmeVolume !== undefined) throw new Error("`acmeVolume` is set but the gateway has no ACME renewal; remove it or configure ACME");
        return {
            configs: [],
            secrets: [
                mount(byKey(files.secrets, "tls.crt"), GATEWAY_PATHS.tlsCertificate, 0o444),
                // nginx's master (root) reads the key
                mount(byKey(files.secrets, "tls.key"), GATEWAY_PATHS.tlsKey, 0o400),
            ],
            volumes: [],
        };
    }
    if (options.acmeVolume === undefined) throw new Error("`acmeVolume` is required with ACME: the renewal keeps its account and certificates there");
    const caBundle = files.configs.find((file) => file.key === ACME_FILE_NAMES.caBundle);
    return {
        configs: [mount(script, ACME_PATHS.script, 0o555), ...(caBundle ? [mount(caBundle, ACME_PATHS.caBundle, 0o444)] : [])],
        secrets: [],
        volumes: [{ source: options.acmeVolume, target: ACME_PATHS.stateDir }],
        command: [ACME_PATHS.script, "serve"],
    };
}

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
    const tls = gatewayTlsMounts(files, options);
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
        constraints: options.constraints ?? [...SWARM_DEFAULTS.gatewayConstraints],
        aliases: [SWARM_GATEWAY_HOST],
        configs: [
            mount(byKey(files.configs, "nginx.conf"), GATEWAY_PATHS.nginxConf, 0o444),
            ...statics.map((file) => mount(file, `${GATEWAY_PATHS.staticRoot}/${file.key.slice("static-".length)}`, 0o444)),
            ...tls.configs,
        ],
        secrets: [
            ...tls.secrets,
            // workers (unprivileged) read htpasswd on each request
            mount(byKey(files.secrets, "htpasswd"), GATEWAY_PATHS.htpasswd, 0o444),
        ],
        volumes: tls.volumes,
        ...(tls.command ? { command: tls.command } : {}),
        // The renewal script passes SIGQUIT on to nginx.
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
        constraints: options.constraints ?? [...SWARM_DEFAULTS.gatewayConstraints],
        aliases: [],
        configs: [mount(byKey(files.configs, "edge.conf"), GATEWAY_PATHS.nginxConf, 0o444)],
        secrets: [],
        volumes: [],
        stopGracePeriod: "10s",
    };
}
