/**
 * The Docker Swarm plan: plain values in (validated models, image references, file contents), plain
 * service/config/secret/network descriptions out. Two consumers read the same plan, so they cannot drift:
 * - the Pulumi components in `components/swarm/` turn each part into `docker.*` resources;
 * - `renderSwarmStackFiles` writes it as a compose v3.8 stack file plus its config and secret files for
 *   `docker stack deploy`.
 * No Pulumi, no I/O.
 */
import * as crypto from "crypto";
import { stringify } from "yaml";
import { Model } from "../config/model";
import { validateInteger, validatePort } from "../config/checks";
import { GATEWAY_SETTINGS_DEFAULTS, MAX_GATEWAY_REPLICAS } from "../config/gateway";
import { EndpointMode, PublishMode, SWARM_DEFAULTS, validateLabels, validatePlacementConstraint, validateSwarmName, validateSwarmPublishing } from "../config/swarm";
import { GatewayConfig, renderGatewayFiles } from "./gateway";
import { healthcheckCommand, modelContainerEnv } from "./modelContainer";
import { MAX_REPLICAS, parseQuantity } from "../config/validateModel";


/** A file handed to services as a swarm config or secret. */
export interface SwarmFile {
    /** Key in the plan (and in the stack file's `configs:` / `secrets:`). */
    key: string;
    /** Swarm object name: `{prefix}-{key}-{12 hex of sha256(contents)}`. Configs and secrets are immutable, so a new content is a new object and rolls the services that mount it. */
    name: string;
    /** Path of the file in the exported folder, e.g. `configs/nginx.conf`. */
    fileName: string;
    contents: string;
}

/** A config or secret mounted into a service's containers. */
export interface SwarmFileMount {
    /** Key of the file in the plan. */
    source: string;
    /** Swarm object name of that file (content hash included). */
    name: string;
    /** Absolute path inside the container. */
    target: string;
    /** File mode, e.g. 0o444. */
    mode: number;
}

/** Update or rollback behaviour of a service. */
export interface SwarmUpdatePlan {
    parallelism: number;
    /** Go duration between batches, e.g. `0s`. */
    delay: string;
    /** `start-first` starts the new task before stopping the old one (no gap); `stop-first` frees the old task's host port first. */
    order: "start-first" | "stop-first";
    failureAction: "rollback" | "pause" | "continue";
    /** Go duration a new task is watched for failure after it starts. */
    monitor: string;
}

/** One swarm service, described once for both the Pulumi resource and the stack file. */
export interface SwarmServicePlan {
    /** Service name (the stack file's key; the Pulumi service's `name`). */
    name: string;
    image: string;
    replicas: number;
    env: Record<string, string>;
    /** Service labels (`deploy.labels`). */
    labels: Record<string, string>;
    /** Healthcheck; absent = the image's own HEALTHCHECK, if any. */
    healthcheck?: { test: string[]; interval: string; timeout: string; retries: number; startPeriod: string };
    /** CPU in nano-cores (1e9 = one core), memory in bytes. */
    resources?: {
        limits: { nanoCpus: number; memoryBytes: number };
        reservations: { nanoCpus: number; memoryBytes: number };
    };
    endpointMode: EndpointMode;
    ports: { target: number; published: number; mode: PublishMode }[];
    update: SwarmUpdatePlan;
    rollback: SwarmUpdatePlan;
    restart: { condition: "any" | "on-failure" | "none"; delay: string; maxAttempts: number; window: string };
    constraints: string[];
    /** DNS names this service answers to on the hub network, besides its own name. */
    aliases: string[];
    configs: SwarmFileMount[];
    secrets: SwarmFileMount[];
    /** Named volumes: `source` is the volume name. */
    volumes: { source: string; target: string }[];
    /** Go duration between the stop signal and SIGKILL. */
    stopGracePeriod: string;
    /** Signal that stops a task; default the image's STOPSIGNAL. */
    stopSignal?: string;
}

/** Everything one `docker stack deploy` creates. */
export interface SwarmStackPlan {
    /** The attachable overlay network every service joins; models of other stacks join it by this name. */
    network: { name: string; external: boolean };
    services: SwarmServicePlan[];
    configs: SwarmFile[];
    secrets: SwarmFile[];
    /** Named volumes used by the services. */
    volumes: string[];
}

// ---------------------------------------------------------------------------------------------
// Validation of the swarm-specific options (the models themselves are checked by `validateModels`)

/** Options shared by every swarm service the plan describes. */
export interface SwarmServiceOptions {
    /** `vip` (default: one virtual IP, needs IPVS) or `dnsrr` (DNS round robin, works without IPVS). */
    endpointMode?: EndpointMode;
    /** Placement constraints such as `node.role == worker`. Default none. */
    constraints?: string[];
    /** Extra service labels. Default none. */
    labels?: Record<string, string>;
}

/** Options of a service that publishes ports (gateway, registry). */
export interface SwarmPublishedServiceOptions extends SwarmServiceOptions {
    /** `ingress` (default: routing mesh, every node) or `host` (only the task's node; needed with `dnsrr`). */
    publishMode?: PublishMode;
}

/** Checks the swarm options; throws naming the field in backticks, the bad value and what is valid. */
export function validateSwarmServiceOptions(options: SwarmPublishedServiceOptions, field = "args", publishes = false): void {
    validateSwarmPublishing(options, field, publishes);
    (options.constraints ?? []).forEach((constraint, i) => validatePlacementConstraint(constraint, `${field}.constraints[${i}]`));
    validateLabels(options.labels ?? {}, `${field}.labels`);
}


// ---------------------------------------------------------------------------------------------
// Files

/** Length of the content hash in config/secret names: 48 bits, names stay short and never collide by chance. */
const NAME_HASH_LENGTH = 12;

/** Docker refuses config and secret names longer than this. */
const MAX_FILE_NAME_LENGTH = 64;

/** `{prefix}-{key}-{hash}`: swarm configs/secrets are immutable, so the name carries the content. */
export function contentName(prefix: string, key: string, contents: string): string {
    const hash = crypto.createHash("sha256").update(contents).digest("hex").slice(0, NAME_HASH_LENGTH);
    const name = `${prefix}-${key.replace(/[^A-Za-z0-9_.-]/g, "-")}-${hash}`;
    if (name.length > MAX_FILE_NAME_LENGTH) {
        throw new Error(
            `\`prefix\` ${JSON.stringify(prefix)} is too long: the swarm object name \`${name}\` has ${name.length} characters, Docker allows ${MAX_FILE_NAME_LENGTH}`,
        );
    }
    return name;
}

function swarmFile(prefix: string, key: string, folder: "configs" | "secrets", contents: string): SwarmFile {
    return { key, name: contentName(prefix, key, contents), fileName: `${folder}/${key}`, contents };
}

function mount(file: SwarmFileRef, target: string, mode: number): SwarmFileMount {
    return { source: file.key, name: file.name, target, mode };
}

// ---------------------------------------------------------------------------------------------
// Services

/** Label every service of the hub carries: `model`, `gateway` or `registry`. */
export const ROLE_LABEL = "org.plumberhub.role";
/** Label with the model's name on model services. */
export const MODEL_LABEL = "org.plumberhub.model";

/** Swarm rolls a model one task at a time, new task first; a task that fails its healthcheck within `monitor` rolls the service back. */
const MODEL_UPDATE: SwarmUpdatePlan = { parallelism: 1, delay: "0s", order: "start-first", failureAction: "rollback", monitor: "30s" };
const MODEL_ROLLBACK: SwarmUpdatePlan = { parallelism: 1, delay: "0s", order: "start-first", failureAction: "pause", monitor: "30s" };
const RESTART: SwarmServicePlan["restart"] = { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" };

/**
 * Healthcheck timings of model services: 5 s instead of the image's 30 s, so a rolling update's new task turns
 * healthy within seconds. Durations are written as Docker reads them back (`1m`, not `60s`; see `isDockerDuration`):
 * the Docker provider compares the text, so any other spelling is a diff on every preview.
 */
export const MODEL_HEALTHCHECK_TIMINGS = Object.freeze({ interval: "5s", timeout: "5s", retries: 3, startPeriod: "1m" });

/**
 * A whole number of seconds as the Docker provider reads a duration back from the engine: Go's format with the
 * zero units after the largest left out (`0s`, `45s`, `1m`, `1m30s`, `2h`, `1h0m5s`). Every duration in a service
 * plan must be written so, or `pulumi preview` shows a change that is not there.
 */
export function dockerDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`a duration must be a whole number of seconds ≥ 0, got ${seconds}`);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    const go = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
    return go.replace(/m0s$/, "m").replace(/h0m$/, "h");
}

/** Whether `text` is a duration spelled as `dockerDuration` spells it. */
export function isDockerDuration(text: string): boolean {
    const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (!parts || text === "") return false;
    const [h, m, s] = parts.slice(1).map((part) => Number(part ?? 0));
    return dockerDuration(h * 3600 + m * 60 + s) === text;
}

/**
 * The `GET /healthz` probe of images built from the rendered Dockerfile: the Dockerfile's own HEALTHCHECK
 * command (one definition, in the model container renderer) with faster timings. The docker provider requires a
 * command when a service sets healthcheck timings, so it is spelled out here.
 */
export function modelImageHealthcheck(port: number): NonNullable<SwarmServicePlan["healthcheck"]> {
    return { test: ["CMD", ...healthcheckCommand(port)], ...MODEL_HEALTHCHECK_TIMINGS };
}

/** NanoCPUs and bytes from the model's Kubernetes quantities. */
function modelResources(model: Model): NonNullable<SwarmServicePlan["resources"]> {
    const nano = (q: string) => Math.round(parseQuantity(q) * 1e9);
    const bytes = (q: string) => Math.round(parseQuantity(q));
    return {
        limits: { nanoCpus: nano(model.cpu.limit), memoryBytes: bytes(model.memory.limit) },
        reservations: { nanoCpus: nano(model.cpu.request), memoryBytes: bytes(model.memory.request) },
    };
}

export interface ModelServiceOptions extends SwarmServiceOptions {
    /** Image to run, ideally `registry/repo@sha256:…` (the `repoDigest` of `ModelImage`). */
    image: string;
    /** Replicas; default the model's `replicas`. */
    replicas?: number;
}

/**
 * The swarm service of one model. Its service name and network alias are the model's name: the gateway
 * routes `/{model}/…` to `{model}:{port}` through Docker's DNS, so a model from another stack that joins
 * the network is reachable without touching the gateway.
 */
export function planModelService(model: Model, options: ModelServiceOptions): SwarmServicePlan {
    validateSwarmServiceOptions(options, `models.${model.name}`);
    if (options.replicas !== undefined) validateInteger(options.replicas, `models.${model.name}.replicas`, 1, MAX_REPLICAS);
    return {
        name: model.name,
        image: options.image,
        replicas: options.replicas ?? model.replicas,
        env: modelContainerEnv(model),
        labels: { ...options.labels, [ROLE_LABEL]: "model", [MODEL_LABEL]: model.name },
        // Images plumberhub builds have the /healthz probe; a prebuilt `image` keeps its own healthcheck, if any.
        healthcheck: model.path !== undefined ? modelImageHealthcheck(model.port) : undefined,
        resources: modelResources(model),
        endpointMode: options.endpointMode ?? SWARM_DEFAULTS.endpointMode,
        ports: [],
        update: MODEL_UPDATE,
        rollback: MODEL_ROLLBACK,
        restart: RESTART,
        constraints: options.constraints ?? [],
        aliases: [model.name],
        configs: [],
        secrets: [],
        volumes: [],
        // Swarm takes a stopping task out of DNS 2 s before signalling it and the gateway caches DNS for 1 s,
        // so by the signal the task gets no new requests. SIGTERM, not SIGINT: R's interrupt aborts a request
        // in progress with httpuv's 500 "An exception occurred." (the gateway does not retry a 500).
        stopSignal: "SIGTERM",
        stopGracePeriod: "10s",
    };
}

/** Pinned public images used when the caller gives none. */
export const DEFAULT_GATEWAY_IMAGE = "nginx:1.28.0-bookworm";
export const DEFAULT_REGISTRY_IMAGE = "registry:2.8.3";

/** Where the gateway's files land in the nginx container; the rendered nginx.conf refers to these paths. */
export const GATEWAY_PATHS = Object.freeze({
    nginxConf: "/etc/nginx/nginx.conf",
    tlsCertificate: "/run/secrets/tls.crt",
    tlsKey: "/run/secrets/tls.key",
    htpasswd: "/run/secrets/htpasswd",
    /** Folder for the static files (landing page …). */
    staticRoot: "/usr/share/nginx/html",
});

/** Contents of the gateway's configs: nginx.conf and static files (landing page …) by file name in `GATEWAY_PATHS.staticRoot`. */
export interface GatewayConfigContents {
    nginxConf: string;
    staticFiles: Record<string, string>;
}

/** Contents of the gateway's secrets. */
export interface GatewaySecretContents {
    /** PEM certificate chain of the gateway (`GatewayTls.certChainPem`). */
    tlsCertificate: string;
    /** PEM private key of the gateway (`GatewayTls.privateKeyPem`). */
    tlsKey: string;
    /** htpasswd lines of the gateway's users (`Credentials.htpasswd`). */
    htpasswd: string;
}

/** Docker's embedded DNS server, inside every container on a user-defined network. */
export const SWARM_DNS = "127.0.0.11";

/**
 * Gateway settings on a swarm: the gateway renderer's config minus what the swarm target decides
 * (routing, file paths, listen ports).
 */
export type SwarmGatewaySettings = Omit<GatewayConfig, "routing" | "tls" | "paths" | "httpsPort" | "httpPort" | "publicHttpsPort" | "listenAddress"> & {
    /**
     * Seconds nginx caches a model's DNS answer: new tasks get traffic and stopping ones lose it after at most
     * this. Default 1: swarm removes a stopping task from DNS 2 s before signalling it, so a longer cache
     * sends requests to tasks that are going away. Docker's DNS is local to the node, so lookups are cheap.
     */
    dnsValidSeconds?: number;
    /** Port every model listens on. Default 8000. */
    modelPort?: number;
};

/**
 * The gateway's nginx config on a swarm: `/{model}/` is proxied to the service `{model}` resolved per request
 * through Docker's DNS, so a model from another stack that joins the network is routed with no gateway change;
 * certificate, key, htpasswd and landing page at `GATEWAY_PATHS`. `publicHttpsPort` is the published port
 * (for the HTTP→HTTPS redirect).
 */
export function swarmGatewayConfig(settings: SwarmGatewaySettings, publicHttpsPort = 443): GatewayConfig {
    const { dnsValidSeconds, modelPort, ...rest } = settings;
    return {
        ...rest,
        routing: { mode: "dns", resolver: [SWARM_DNS], nameTemplate: "{model}", port: modelPort, validSeconds: dnsValidSeconds ?? 1 },
        tls: { certificatePath: GATEWAY_PATHS.tlsCertificate, keyPath: GATEWAY_PATHS.tlsKey },
        paths: { htpasswd: GATEWAY_PATHS.htpasswd, landingDir: GATEWAY_PATHS.staticRoot },
        httpsPort: 443,
        httpPort: 80,
        publicHttpsPort,
    };
}

/** nginx.conf and the landing page of the swarm gateway, from the gateway renderer. */
export function renderSwarmGatewayConfigs(settings: SwarmGatewaySettings, publicHttpsPort = 443): GatewayConfigContents {
    const files = renderGatewayFiles(swarmGatewayConfig(settings, publicHttpsPort));
    return { nginxConf: files["nginx.conf"], staticFiles: { "index.html": files["index.html"] } };
}

/** What a service needs to know of a file: its key and content-hashed name (never the contents). */
export type SwarmFileRef = Pick<SwarmFile, "key" | "name">;

/** The gateway's swarm configs (public) and secrets, named by content hash. */
export interface SwarmGatewayFiles<F extends SwarmFileRef = SwarmFile> {
    configs: F[];
    secrets: F[];
}

/** Key of the config that holds static file `fileName` (`index.html` → `static-index.html`). */
export function staticFileKey(fileName: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(fileName)) {
        throw new Error(`\`staticFiles\` keys must be plain file names (letters, digits, "_", ".", "-"; no folders), got ${JSON.stringify(fileName)}`);
    }
    return `static-${fileName}`;
}

/** The gateway's configs: nginx.conf and the static files. */
export function planGatewayConfigs(prefix: string, contents: GatewayConfigContents): SwarmFile[] {
    return [
        swarmFile(prefix, "nginx.conf", "configs", contents.nginxConf),
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
    /** Service name. Default `gateway`. */
    name?: string;
    /** nginx image. Default `DEFAULT_GATEWAY_IMAGE`. */
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
    if (options.httpsPort !== undefined && options.httpsPort === (options.httpPort ?? 80)) {
        throw new Error(`\`${field}.httpsPort\` and \`${field}.httpPort\` must differ, both are ${options.httpsPort}`);
    }
}

/**
 * Host-published ports can be bound by one task per node only, so a new gateway task cannot start before
 * the old one stops: `stop-first` there, `start-first` with the routing mesh.
 */
function updateFor(publishMode: PublishMode, failureAction: SwarmUpdatePlan["failureAction"]): SwarmUpdatePlan {
    return { parallelism: 1, delay: "0s", order: publishMode === "host" ? "stop-first" : "start-first", failureAction, monitor: "10s" };
}

/** The nginx gateway service: configs and secrets mounted where `GATEWAY_PATHS` says, HTTPS and HTTP published. */
export function planGatewayService(files: SwarmGatewayFiles<SwarmFileRef>, options: GatewayServiceOptions = {}): SwarmServicePlan {
    validateGatewayServiceOptions(options);
    const publishMode = options.publishMode ?? SWARM_DEFAULTS.publishMode;
    const byKey = (list: SwarmFileRef[], key: string) => list.find((file) => file.key === key)!;
    const statics = files.configs.filter((file) => file.key.startsWith("static-"));
    return {
        name: options.name ?? "gateway",
        image: options.image ?? DEFAULT_GATEWAY_IMAGE,
        replicas: options.replicas ?? GATEWAY_SETTINGS_DEFAULTS.replicas.swarm,
        env: {},
        labels: { ...options.labels, [ROLE_LABEL]: "gateway" },
        endpointMode: options.endpointMode ?? SWARM_DEFAULTS.endpointMode,
        ports: [
            { target: 443, published: options.httpsPort ?? 443, mode: publishMode },
            { target: 80, published: options.httpPort ?? 80, mode: publishMode },
        ],
        update: updateFor(publishMode, "rollback"),
        rollback: updateFor(publishMode, "pause"),
        restart: RESTART,
        constraints: options.constraints ?? [],
        aliases: [],
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
        stopGracePeriod: "10s",
    };
}

/** Contents of the registry's secrets. */
export interface RegistryFileContents {
    tlsCertificate: string;
    tlsKey: string;
    /** htpasswd lines with bcrypt hashes (`$2y$`): the registry accepts nothing else. */
    htpasswd: string;
}

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
            REGISTRY_HTTP_ADDR: "0.0.0.0:5000",
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
        ports: [{ target: 5000, published: options.port ?? SWARM_DEFAULTS.registryPort, mode: publishMode }],
        // one replica on one volume: never two registries writing at once
        update: { ...updateFor(publishMode, "rollback"), order: "stop-first" },
        rollback: { ...updateFor(publishMode, "pause"), order: "stop-first" },
        restart: RESTART,
        constraints: options.constraints ?? [...SWARM_DEFAULTS.registryConstraints],
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

// ---------------------------------------------------------------------------------------------
// The whole stack

export interface SwarmStackInput {
    /** Prefix of config and secret names, e.g. the stack name. Default `plumberhub`. */
    prefix?: string;
    /** Name of the attachable overlay network. Default `plumberhub`. */
    networkName?: string;
    /** Use an existing network of that name instead of creating it with the stack. Default false. */
    externalNetwork?: boolean;
    /** Models (validated) with the image each runs. */
    models: { model: Model; image: string; replicas?: number }[];
    /** Options for every model service. */
    modelOptions?: SwarmServiceOptions;
    /** The gateway; omit for a stack of models that joins another stack's network. */
    gateway?: { settings: SwarmGatewaySettings; secrets: GatewaySecretContents; options?: GatewayServiceOptions };
    /**
     * A registry service. Images must be pushed before models can start, so deploy it as a stack of its own
     * first (`models: []`, no gateway).
     */
    registry?: { secrets: RegistryFileContents; options: RegistryServiceOptions };
}

/** The plan of one `docker stack deploy`: network, model services and (optionally) the gateway and a registry. */
export function planSwarmStack(input: SwarmStackInput): SwarmStackPlan {
    const prefix = input.prefix ?? "plumberhub";
    validateSwarmName(prefix, "prefix");
    const networkName = input.networkName ?? SWARM_DEFAULTS.network;
    validateSwarmName(networkName, "networkName");
    const services = input.models.map(({ model, image, replicas }) =>
        planModelService(model, { ...input.modelOptions, image, replicas }),
    );
    const gateway = input.gateway;
    const files = gateway
        ? planGatewayFiles(prefix, renderSwarmGatewayConfigs(gateway.settings, gateway.options?.httpsPort), gateway.secrets)
        : { configs: [], secrets: [] };
    if (gateway) services.push(planGatewayService(files, gateway.options));
    const registrySecrets = input.registry ? planRegistryFiles(prefix, input.registry.secrets) : [];
    if (input.registry) services.push(planRegistryService(registrySecrets, input.registry.options));
    const names = services.map((service) => service.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) throw new Error(`\`models\` has two services named \`${duplicate}\`; service names must be unique in a stack`);
    return {
        network: { name: networkName, external: input.externalNetwork ?? false },
        services,
        configs: files.configs,
        secrets: [...files.secrets, ...registrySecrets],
        volumes: input.registry ? [input.registry.options.volume] : [],
    };
}

// ---------------------------------------------------------------------------------------------
// Compose v3.8 export

/** Key of the hub network inside the stack file. */
const NETWORK_KEY = "hub";

function composeUpdate(update: SwarmUpdatePlan): Record<string, unknown> {
    return {
        parallelism: update.parallelism,
        delay: update.delay,
        order: update.order,
        failure_action: update.failureAction,
        monitor: update.monitor,
    };
}

function composeService(service: SwarmServicePlan): Record<string, unknown> {
    const cpus = (nano: number) => String(nano / 1e9);
    const out: Record<string, unknown> = { image: service.image };
    if (Object.keys(service.env).length > 0) out.environment = service.env;
    if (service.healthcheck) {
        const h = service.healthcheck;
        out.healthcheck = { test: h.test, interval: h.interval, timeout: h.timeout, retries: h.retries, start_period: h.startPeriod };
    }
    out.networks = { [NETWORK_KEY]: service.aliases.length > 0 ? { aliases: service.aliases } : {} };
    if (service.ports.length > 0) {
        out.ports = service.ports.map((p) => ({ target: p.target, published: p.published, protocol: "tcp", mode: p.mode }));
    }
    const files = (mounts: SwarmFileMount[]) =>
        mounts.map((m) => ({ source: m.source, target: m.target, mode: m.mode }));
    if (service.configs.length > 0) out.configs = files(service.configs);
    if (service.secrets.length > 0) out.secrets = files(service.secrets);
    if (service.volumes.length > 0) {
        out.volumes = service.volumes.map((v) => ({ type: "volume", source: v.source, target: v.target }));
    }
    out.stop_grace_period = service.stopGracePeriod;
    if (service.stopSignal) out.stop_signal = service.stopSignal;
    const deploy: Record<string, unknown> = {
        mode: "replicated",
        replicas: service.replicas,
        endpoint_mode: service.endpointMode,
        labels: service.labels,
    };
    if (service.resources) {
        const r = service.resources;
        deploy.resources = {
            limits: { cpus: cpus(r.limits.nanoCpus), memory: String(r.limits.memoryBytes) },
            reservations: { cpus: cpus(r.reservations.nanoCpus), memory: String(r.reservations.memoryBytes) },
        };
    }
    deploy.restart_policy = {
        condition: service.restart.condition,
        delay: service.restart.delay,
        max_attempts: service.restart.maxAttempts,
        window: service.restart.window,
    };
    deploy.update_config = composeUpdate(service.update);
    deploy.rollback_config = composeUpdate(service.rollback);
    if (service.constraints.length > 0) deploy.placement = { constraints: service.constraints };
    out.deploy = deploy;
    return out;
}

/**
 * `docker stack deploy` substitutes `$VAR` / `${VAR}` in every string of a stack file from the deploying
 * shell; `$$` is a literal `$`. The plan's strings are literal (e.g. `$status` in the healthcheck's shell),
 * so every `$` is doubled.
 */
function escapeInterpolation<T>(value: T): T {
    if (typeof value === "string") return value.replace(/\$/g, "$$$$") as T;
    if (Array.isArray(value)) return value.map(escapeInterpolation) as T;
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeInterpolation(v)])) as T;
    }
    return value;
}

/** The compose v3.8 document (as an object) that `docker stack deploy -c` reads; `$` escaped as `$$`. */
export function renderComposeStack(plan: SwarmStackPlan): Record<string, unknown> {
    const fileEntries = (files: SwarmFile[]) =>
        Object.fromEntries(files.map((f) => [f.key, { name: f.name, file: `./${f.fileName}` }]));
    const doc: Record<string, unknown> = {
        version: "3.8",
        services: Object.fromEntries(plan.services.map((s) => [s.name, composeService(s)])),
        networks: {
            [NETWORK_KEY]: plan.network.external
                ? { name: plan.network.name, external: true }
                : { name: plan.network.name, driver: "overlay", attachable: true },
        },
    };
    if (plan.configs.length > 0) doc.configs = fileEntries(plan.configs);
    if (plan.secrets.length > 0) doc.secrets = fileEntries(plan.secrets);
    if (plan.volumes.length > 0) doc.volumes = Object.fromEntries(plan.volumes.map((v) => [v, { name: v }]));
    return escapeInterpolation(doc);
}

/** Name of the stack file in the exported folder. */
export const STACK_FILE_NAME = "docker-stack.yml";

/**
 * Every file of the export, by path relative to the output folder: `docker-stack.yml` and the files its
 * `configs:`/`secrets:` point to (`configs/…`, `secrets/…`). Deploy with
 * `docker stack deploy -c DIR/docker-stack.yml STACK` from any folder (paths are relative to the stack file).
 * The `secrets/` files hold private keys and password hashes: write them with mode 0600 and never commit them.
 */
export function renderSwarmStackFiles(plan: SwarmStackPlan): Record<string, string> {
    const header = "# Generated by plumberhub from the same plan as the Pulumi resources. Do not edit.\n";
    const files: Record<string, string> = {
        [STACK_FILE_NAME]: header + stringify(renderComposeStack(plan), { lineWidth: 0 }),
    };
    for (const file of [...plan.configs, ...plan.secrets]) files[file.fileName] = file.contents;
    return files;
}
