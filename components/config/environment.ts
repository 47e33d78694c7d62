/**
 * The stack config of one environment (`plumberhub:*` keys in `Pulumi.<stack>.yaml`): plain values in,
 * a validated `HubConfig` with every default filled in out. Pure and synchronous (the model folders are
 * checked on disk). Every problem names the config key path in backticks, the bad value and what is
 * valid; all problems are reported together so nothing is created until the whole config is right.
 */
import { ACR_SKUS, AcrSku, DEFAULT_ACR_SKU, DEFAULT_NAMESPACE, NodePool, NodePoolSettings, SYSTEM_POOL_DEFAULTS, validateAcrSettings, USER_POOL_DEFAULTS, validateKubernetesVersion, validateNamespace, validateNodePool } from "./aks";
import { checkInteger, checkKeys, closest, isObject, show } from "./checks";
import { validateUserName } from "./credentials";
import { GATEWAY_SETTINGS_DEFAULTS, MAX_GATEWAY_REPLICAS, validateGatewayTitle } from "./gateway";
import { isImageReference, isPinnedByDigest } from "./image";
import { ENDPOINT_MODES, EndpointMode, PUBLISH_MODES, PublishMode, SWARM_DEFAULTS, validateDockerHost, validatePlacementConstraint, validateSwarmName, validateSwarmPublishing } from "./swarm";
import { Model } from "./model";
import { TLS_MODES, TlsMode } from "./tls";
import { ModelSpecError, validateModels } from "./validateModel";

export type HubTarget = "swarm" | "aks";
export const HUB_TARGETS: readonly HubTarget[] = ["swarm", "aks"];
/** The gateway's certificate sources (the TLS layer's modes). */
export type HubTlsMode = TlsMode;
export const HUB_TLS_MODES = TLS_MODES;
export type HubRegistryKind = "swarm" | "acr" | "external";
export const HUB_REGISTRY_KINDS: readonly HubRegistryKind[] = ["swarm", "acr", "external"];

/** Plain (non-secret) config keys, without the `plumberhub:` namespace. */
export const HUB_CONFIG_KEYS = ["target", "models", "gateway", "registry", "swarm", "aks", "baseImage"] as const;
/** Secret config keys (`pulumi config set --secret plumberhub:KEY`). */
export const HUB_SECRET_KEYS = ["userPasswords", "registryPassword", "tlsCertificate", "tlsKey", "kubeconfig"] as const;
export type HubSecretKey = (typeof HUB_SECRET_KEYS)[number];

/** `plumberhub:gateway` — the one HTTPS entry point in front of every model. */
export interface HubGatewaySpec {
    /** Host name clients use: in the certificate and in every URL. Default `localhost`. */
    host?: string;
    /** Extra IP addresses for the self-signed certificate. Default `["127.0.0.1"]` on swarm, none on AKS. */
    ipAddresses?: string[];
    /** Gateway users (basic auth). Passwords generated unless given in the `plumberhub:userPasswords` secret. Default `["admin"]`. */
    users?: string[];
    /** Certificate source: `selfSigned` (default), `provided` (secrets `plumberhub:tlsCertificate` / `tlsKey`) or `acme`. */
    tls?: HubTlsMode;
    /** Let's Encrypt with an Azure DNS challenge; required when `tls` is `acme`. */
    acme?: { email: string; zoneName: string; subscriptionId: string; resourceGroup: string; staging?: boolean };
    /** nginx replicas. Default 1 on swarm, 2 on AKS. */
    replicas?: number;
    /** Published HTTPS port (swarm). Default 443. */
    httpsPort?: number;
    /** Published HTTP port, redirecting to HTTPS (swarm). Default 80. */
    httpPort?: number;
    /** Azure DNS label of the gateway's public IP (AKS): `{label}.{region}.cloudapp.azure.com`. Default none. */
    dnsLabel?: string;
    /** Largest request body, MiB. Default 10. */
    maxBodyMiB?: number;
    /** Seconds a model may take to answer. Default 120. */
    readTimeoutSeconds?: number;
    /** Landing page title. Default `plumberhub models`. */
    title?: string;
}

/** `plumberhub:registry` — where model images are pushed. */
export interface HubRegistrySpec {
    /** `swarm` (a registry service on the swarm; default there), `acr` (default on AKS) or `external`. */
    kind?: HubRegistryKind;
    /** external: registry host[:port]; its password is the `plumberhub:registryPassword` secret. */
    server?: string;
    /** external: the user that pushes. */
    username?: string;
    /** swarm: published port on the manager. Default 5000. */
    port?: number;
    /** acr: SKU. Default `Basic`. */
    sku?: AcrSku;
    /** acr: name prefix; a random suffix makes the globally unique name. Default `plumberhub`. */
    namePrefix?: string;
}

/** `plumberhub:swarm` — the Docker Swarm target. */
export interface HubSwarmSpec {
    /** Docker endpoint of a swarm manager (`unix://`, `npipe://`, `ssh://[user@]host[:port]`, `tcp://host:port`). Default `DOCKER_HOST`, else the local engine. */
    host?: string;
    /** Overlay network models and gateway share; other stacks' models join it by this name. Default `plumberhub`. */
    network?: string;
    /** `vip` (default) or `dnsrr` (hosts without IPVS; then `publishMode` must be `host`). */
    endpointMode?: EndpointMode;
    /** Gateway/registry ports: `ingress` (default, routing mesh) or `host`. */
    publishMode?: PublishMode;
    /** Placement constraints of the models and the gateway, e.g. `node.role == worker` (the registry stays on a manager, with its volume). Default none. */
    constraints?: string[];
    /** Gateway image. Default the pinned nginx. */
    gatewayImage?: string;
    /** Registry image. Default the pinned registry:2. */
    registryImage?: string;
}

/** `plumberhub:aks` — the AKS target. */
export interface HubAksSpec {
    /** Existing resource group to use; default a new one. */
    resourceGroupName?: string;
    /** Azure region. Default the `azure-native:location` config. */
    location?: string;
    /** Kubernetes version (`1.33` or `1.33.2`). Default AKS's default. */
    kubernetesVersion?: string;
    /** Namespace for models and gateway. Default `models`. */
    namespace?: string;
    /** System node pool. */
    systemPool?: NodePoolSettings;
    /** User node pool for models. */
    userPool?: NodePoolSettings;
    /** Use the cluster of the `plumberhub:kubeconfig` secret instead of creating one. Default false. */
    existingCluster?: boolean;
    /** With `existingCluster` and an ACR: object id of the cluster's kubelet identity, granted AcrPull. */
    kubeletObjectId?: string;
    /** Gateway image. Default the pinned nginx. */
    gatewayImage?: string;
}

/** A validated environment: every default filled in. */
export interface HubConfig {
    target: HubTarget;
    models: Model[];
    gateway: Required<Omit<HubGatewaySpec, "acme" | "dnsLabel">> & Pick<HubGatewaySpec, "acme" | "dnsLabel">;
    registry: Required<Pick<HubRegistrySpec, "kind">> & HubRegistrySpec;
    swarm: Required<Pick<HubSwarmSpec, "network" | "endpointMode" | "publishMode" | "constraints">> & HubSwarmSpec;
    aks: Required<Pick<HubAksSpec, "namespace" | "existingCluster">> & HubAksSpec & { systemPool: NodePool; userPool: NodePool };
    /** Base image for model builds; default the renderer's pinned one. */
    baseImage?: string;
}

/** Thrown by `validateHubConfig`: one line per problem. */
export class HubConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            problems.length === 1
                ? `invalid stack config: ${problems[0]}`
                : `${problems.length} problems in the stack config:\n- ${problems.join("\n- ")}`,
        );
        this.name = "HubConfigError";
    }
}

const NS = "plumberhub";

/** Name the stack program (`index.ts`) gives its `ModelHub`: child names and swarm file names derive from it. */
export const DEFAULT_HUB_NAME = "plumberhub";
const GATEWAY_KEYS = ["host", "ipAddresses", "users", "tls", "acme", "replicas", "httpsPort", "httpPort", "dnsLabel", "maxBodyMiB", "readTimeoutSeconds", "title"];
const ACME_KEYS = ["email", "zoneName", "subscriptionId", "resourceGroup", "staging"];
const REGISTRY_KEYS = ["kind", "server", "username", "port", "sku", "namePrefix"];
const SWARM_KEYS = ["host", "network", "endpointMode", "publishMode", "constraints", "gatewayImage", "registryImage"];
const AKS_KEYS = ["resourceGroupName", "location", "kubernetesVersion", "namespace", "systemPool", "userPool", "existingCluster", "kubeletObjectId", "gatewayImage"];
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)$/;
const REGISTRY_SERVER = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:\d{1,5})?$/;
const DNS_LABEL = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Validates the raw `plumberhub:*` config (plain values by key, without the namespace) and which secret keys are
 * set (their values never come here). `baseDir` resolves model paths (the Pulumi project folder).
 */
export function validateHubConfig(raw: Record<string, unknown>, secretsSet: ReadonlySet<string>, baseDir: string): HubConfig {
    const problems: string[] = [];
    for (const key of Object.keys(raw)) {
        if ((HUB_CONFIG_KEYS as readonly string[]).includes(key)) continue;
        if ((HUB_SECRET_KEYS as readonly string[]).includes(key)) {
            problems.push(`\`${NS}:${key}\` holds a secret and must be set with \`pulumi config set --secret ${NS}:${key}\``);
            continue;
        }
        const near = closest(key, [...HUB_CONFIG_KEYS, ...HUB_SECRET_KEYS]);
        problems.push(`\`${NS}:${key}\` is not a plumberhub config key; ${near ? `did you mean \`${NS}:${near}\`?` : `known keys: ${[...HUB_CONFIG_KEYS, ...HUB_SECRET_KEYS].join(", ")}`}`);
    }

    const target = checkEnum(raw.target, `${NS}:target`, HUB_TARGETS, undefined, problems, true);
    let models: Model[] = [];
    try {
        models = validateModels(raw.models ?? [], { field: `${NS}:models`, baseDir });
    } catch (error) {
        if (!(error instanceof ModelSpecError)) throw error;
        problems.push(...error.problems);
    }
    const gateway = checkGateway(raw.gateway, target, secretsSet, problems);
    const registry = checkRegistry(raw.registry, target, secretsSet, problems);
    const swarm = checkSwarm(raw.swarm, problems);
    const aks = checkAks(raw.aks, target, secretsSet, problems);
    const baseImage = checkImage(raw.baseImage, `${NS}:baseImage`, problems);

    for (const model of models) {
        for (const user of model.users ?? []) {
            if (!gateway.users.includes(user)) {
                problems.push(
                    `\`${NS}:models\` model \`${model.name}\` allows user ${show(user)}, who is not a gateway user; add it to \`${NS}:gateway.users\` (now ${gateway.users.join(", ")})`,
                );
            }
        }
        if (target === "aks" && model.image && !isPinnedByDigest(model.image)) {
            problems.push(`\`${NS}:models\` model \`${model.name}\` image ${show(model.image)} must be pinned by digest (\`…@sha256:<64 hex>\`) on AKS`);
        }
    }
    if (target === "aks" && raw.swarm !== undefined) problems.push(`\`${NS}:swarm\` is set but \`${NS}:target\` is "aks"; remove it or set the target to "swarm"`);
    if (target === "swarm" && raw.aks !== undefined) problems.push(`\`${NS}:aks\` is set but \`${NS}:target\` is "swarm"; remove it or set the target to "aks"`);
    if (target === "aks" && aks.existingCluster && registry.kind === "acr" && !aks.kubeletObjectId) {
        problems.push(`\`${NS}:aks.existingCluster\` with an "acr" registry needs \`${NS}:aks.kubeletObjectId\` to grant the cluster AcrPull (\`az aks show --query identityProfile.kubeletidentity.objectId\`)`);
    }
    const hostGiven = isObject(raw.gateway) && raw.gateway.host !== undefined;
    if (target === "aks" && !hostGiven) {
        if (gateway.dnsLabel && aks.location) gateway.host = `${gateway.dnsLabel}.${aks.location}.cloudapp.azure.com`;
        else problems.push(`\`${NS}:gateway.host\` is required on AKS: the gateway's DNS name (or set \`${NS}:gateway.dnsLabel\` and \`${NS}:aks.location\` for \`{label}.{location}.cloudapp.azure.com\`)`);
    }
    if (target === "swarm" && registry.kind === "acr") problems.push(`\`${NS}:registry.kind\` "acr" needs \`${NS}:target\` "aks"; on a swarm use "swarm" or "external"`);
    if (target === "aks" && registry.kind === "swarm") problems.push(`\`${NS}:registry.kind\` "swarm" needs \`${NS}:target\` "swarm"; on AKS use "acr" or "external"`);

    if (problems.length > 0) throw new HubConfigError(problems);
    return { target: target!, models, gateway, registry, swarm, aks, ...(baseImage ? { baseImage } : {}) };
}

function checkGateway(value: unknown, target: HubTarget | undefined, secretsSet: ReadonlySet<string>, problems: string[]): HubConfig["gateway"] {
    const at = `${NS}:gateway`;
    const spec = objectOrEmpty(value, at, "{ host, users, tls, … }", GATEWAY_KEYS, problems);
    const host = typeof spec.host === "string" ? spec.host : "localhost";
    if (spec.host !== undefined && (typeof spec.host !== "string" || !HOST_NAME.test(spec.host))) {
        problems.push(`\`${at}.host\` must be a lower-case DNS name such as \`models.example.com\`, got ${show(spec.host)}`);
    }
    const ipAddresses = checkList(spec.ipAddresses, `${at}.ipAddresses`, "IPv4 addresses", (ip) => IPV4.test(ip), target === "swarm" ? ["127.0.0.1"] : [], problems);
    const users = checkList(spec.users, `${at}.users`, "user names", (user) => isValid(() => validateUserName(user)), ["admin"], problems);
    if (users.length === 0) problems.push(`\`${at}.users\` is empty, so nobody could log in; list at least one user`);
    const tls = checkEnum(spec.tls, `${at}.tls`, HUB_TLS_MODES, "selfSigned", problems)!;
    if (tls === "provided") {
        for (const key of ["tlsCertificate", "tlsKey"]) {
            if (!secretsSet.has(key)) problems.push(`\`${at}.tls\` is "provided" but the secret \`${NS}:${key}\` is not set; set it with \`pulumi config set --secret ${NS}:${key} < file.pem\``);
        }
    }
    let acme: HubGatewaySpec["acme"];
    if (tls === "acme") {
        const acmeSpec = objectOrEmpty(spec.acme, `${at}.acme`, "{ email, zoneName, subscriptionId, resourceGroup, staging? }", ACME_KEYS, problems);
        for (const key of ["email", "zoneName", "subscriptionId", "resourceGroup"]) {
            if (typeof acmeSpec[key] !== "string" || acmeSpec[key] === "") problems.push(`\`${at}.acme.${key}\` is required when \`${at}.tls\` is "acme", got ${show(acmeSpec[key])}`);
        }
        if (host === "localhost") problems.push(`\`${at}.host\` must be a public DNS name in \`${at}.acme.zoneName\` for "acme" certificates, got "localhost"`);
        acme = acmeSpec as HubGatewaySpec["acme"];
    } else if (spec.acme !== undefined) {
        problems.push(`\`${at}.acme\` is set but \`${at}.tls\` is ${show(tls)}; set \`tls: acme\` or remove it`);
    }
    const dnsLabel = spec.dnsLabel;
    if (dnsLabel !== undefined && (typeof dnsLabel !== "string" || !DNS_LABEL.test(dnsLabel))) {
        problems.push(`\`${at}.dnsLabel\` must be 3–63 lower-case letters, digits and \`-\`, starting with a letter, got ${show(dnsLabel)}`);
    }
    if (dnsLabel !== undefined && target === "swarm") problems.push(`\`${at}.dnsLabel\` is an Azure setting; remove it on a swarm`);
    const defaults = GATEWAY_SETTINGS_DEFAULTS;
    const httpsPort = checkInteger(spec.httpsPort, `${at}.httpsPort`, 1, 65535, defaults.httpsPort, problems);
    const httpPort = checkInteger(spec.httpPort, `${at}.httpPort`, 1, 65535, defaults.httpPort, problems);
    if (httpsPort === httpPort) problems.push(`\`${at}.httpPort\` and \`${at}.httpsPort\` are both ${httpsPort}; they must differ`);
    const title = spec.title ?? defaults.title;
    collect(problems, () => validateGatewayTitle(title, `${at}.title`));
    return {
        host,
        ipAddresses,
        users,
        tls,
        ...(acme ? { acme } : {}),
        replicas: checkInteger(spec.replicas, `${at}.replicas`, 1, MAX_GATEWAY_REPLICAS, defaults.replicas[target ?? "swarm"], problems),
        httpsPort,
        httpPort,
        ...(typeof dnsLabel === "string" ? { dnsLabel } : {}),
        maxBodyMiB: checkInteger(spec.maxBodyMiB, `${at}.maxBodyMiB`, 1, 1024, defaults.maxBodyMiB, problems),
        readTimeoutSeconds: checkInteger(spec.readTimeoutSeconds, `${at}.readTimeoutSeconds`, 1, 3600, defaults.readTimeoutSeconds, problems),
        title: String(title),
    };
}

function checkRegistry(value: unknown, target: HubTarget | undefined, secretsSet: ReadonlySet<string>, problems: string[]): HubConfig["registry"] {
    const at = `${NS}:registry`;
    const spec = objectOrEmpty(value, at, "{ kind, server?, username?, port?, sku? }", REGISTRY_KEYS, problems);
    const kind = checkEnum(spec.kind, `${at}.kind`, HUB_REGISTRY_KINDS, target === "aks" ? "acr" : "swarm", problems)!;
    if (kind === "external") {
        if (typeof spec.server !== "string" || !REGISTRY_SERVER.test(spec.server)) {
            problems.push(`\`${at}.server\` must be a registry host[:port] without scheme, e.g. \`ghcr.io\`, when \`${at}.kind\` is "external", got ${show(spec.server)}`);
        }
        if (typeof spec.username !== "string" || spec.username === "") problems.push(`\`${at}.username\` is required when \`${at}.kind\` is "external", got ${show(spec.username)}`);
        if (!secretsSet.has("registryPassword")) problems.push(`\`${at}.kind\` is "external" but the secret \`${NS}:registryPassword\` is not set; set it with \`pulumi config set --secret ${NS}:registryPassword\``);
    } else {
        for (const key of ["server", "username"]) if (spec[key] !== undefined) problems.push(`\`${at}.${key}\` only applies to an "external" registry; \`${at}.kind\` is ${show(kind)}`);
    }
    const port = checkInteger(spec.port, `${at}.port`, 1, 65535, SWARM_DEFAULTS.registryPort, problems);
    if (spec.port !== undefined && kind !== "swarm") problems.push(`\`${at}.port\` only applies to a "swarm" registry; \`${at}.kind\` is ${show(kind)}`);
    const sku = checkEnum(spec.sku, `${at}.sku`, ACR_SKUS, DEFAULT_ACR_SKU, problems);
    for (const key of ["sku", "namePrefix"]) {
        if (spec[key] !== undefined && kind !== "acr") problems.push(`\`${at}.${key}\` only applies to an "acr" registry; \`${at}.kind\` is ${show(kind)}`);
    }
    const namePrefix = spec.namePrefix ?? "plumberhub";
    if (kind === "acr") collectAt(problems, at, () => validateAcrSettings({ namePrefix: namePrefix as string }));
    return {
        kind,
        ...(typeof spec.server === "string" ? { server: spec.server } : {}),
        ...(typeof spec.username === "string" ? { username: spec.username } : {}),
        ...(kind === "swarm" ? { port } : {}),
        ...(kind === "acr" ? { sku, namePrefix: String(namePrefix) } : {}),
    };
}

function checkSwarm(value: unknown, problems: string[]): HubConfig["swarm"] {
    const at = `${NS}:swarm`;
    const spec = objectOrEmpty(value, at, "{ host, network, endpointMode, publishMode, … }", SWARM_KEYS, problems);
    // No host: the Docker provider's own default, `DOCKER_HOST` or the local engine.
    if (spec.host !== undefined) collect(problems, () => validateDockerHost(spec.host, `${at}.host`));
    const network = spec.network ?? SWARM_DEFAULTS.network;
    collect(problems, () => validateSwarmName(network, `${at}.network`));
    const constraints = checkList(spec.constraints, `${at}.constraints`, "placement constraints such as `node.role == worker`", (c) => isValid(() => validatePlacementConstraint(c, "")), [], problems);
    const gatewayImage = checkImage(spec.gatewayImage, `${at}.gatewayImage`, problems);
    const registryImage = checkImage(spec.registryImage, `${at}.registryImage`, problems);
    const endpointMode = checkEnum(spec.endpointMode, `${at}.endpointMode`, ENDPOINT_MODES, SWARM_DEFAULTS.endpointMode, problems)!;
    const publishMode = checkEnum(spec.publishMode, `${at}.publishMode`, PUBLISH_MODES, SWARM_DEFAULTS.publishMode, problems)!;
    // The gateway and the registry publish ports: the pair must work for them.
    collect(problems, () => validateSwarmPublishing({ endpointMode, publishMode }, at, true));
    return {
        ...(typeof spec.host === "string" ? { host: spec.host } : {}),
        network: String(network),
        endpointMode,
        publishMode,
        constraints,
        ...(gatewayImage ? { gatewayImage } : {}),
        ...(registryImage ? { registryImage } : {}),
    };
}

function checkAks(value: unknown, target: HubTarget | undefined, secretsSet: ReadonlySet<string>, problems: string[]): HubConfig["aks"] {
    const at = `${NS}:aks`;
    const spec = objectOrEmpty(value, at, "{ location, kubernetesVersion, namespace, systemPool, userPool, … }", AKS_KEYS, problems);
    const namespace = spec.namespace ?? DEFAULT_NAMESPACE;
    collect(problems, () => validateNamespace(namespace, `${at}.namespace`));
    if (spec.kubernetesVersion !== undefined) collect(problems, () => validateKubernetesVersion(spec.kubernetesVersion, `${at}.kubernetesVersion`));
    for (const key of ["resourceGroupName", "location"]) {
        if (spec[key] !== undefined && (typeof spec[key] !== "string" || !/^[-\w.()]{1,90}$/.test(spec[key] as string))) {
            problems.push(`\`${at}.${key}\` must be an Azure name of 1 to 90 letters, digits, \`-\`, \`_\`, \`.\` or parentheses, got ${show(spec[key])}`);
        }
    }
    const existingCluster = spec.existingCluster ?? false;
    if (typeof existingCluster !== "boolean") problems.push(`\`${at}.existingCluster\` must be true or false, got ${show(existingCluster)}`);
    if (existingCluster === true && target === "aks" && !secretsSet.has("kubeconfig")) {
        problems.push(`\`${at}.existingCluster\` is true but the secret \`${NS}:kubeconfig\` is not set; set it with \`pulumi config set --secret ${NS}:kubeconfig < kubeconfig.yaml\``);
    }
    const pool = (key: "systemPool" | "userPool", defaults: NodePool, system: boolean): NodePool => {
        const settings = spec[key];
        if (settings !== undefined && !isObject(settings)) {
            problems.push(`\`${at}.${key}\` must be an object { name, vmSize, minCount, maxCount }, got ${show(settings)}`);
            return defaults;
        }
        if (settings) checkKeys(settings, ["name", "vmSize", "minCount", "maxCount"], `${at}.${key}`, problems);
        return collect(problems, () => validateNodePool(settings as NodePoolSettings | undefined, `${at}.${key}`, defaults, system)) ?? defaults;
    };
    const kubeletObjectId = spec.kubeletObjectId;
    if (kubeletObjectId !== undefined && (typeof kubeletObjectId !== "string" || !GUID.test(kubeletObjectId))) {
        problems.push(`\`${at}.kubeletObjectId\` must be a GUID such as \`00000000-0000-0000-0000-000000000000\`, got ${show(kubeletObjectId)}`);
    }
    const gatewayImage = checkImage(spec.gatewayImage, `${at}.gatewayImage`, problems);
    return {
        ...(typeof kubeletObjectId === "string" ? { kubeletObjectId } : {}),
        ...(typeof spec.resourceGroupName === "string" ? { resourceGroupName: spec.resourceGroupName } : {}),
        ...(typeof spec.location === "string" ? { location: spec.location } : {}),
        ...(typeof spec.kubernetesVersion === "string" ? { kubernetesVersion: spec.kubernetesVersion } : {}),
        namespace: String(namespace),
        systemPool: pool("systemPool", { ...SYSTEM_POOL_DEFAULTS }, true),
        userPool: pool("userPool", { ...USER_POOL_DEFAULTS }, false),
        existingCluster: existingCluster === true,
        ...(gatewayImage ? { gatewayImage } : {}),
    };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function objectOrEmpty(value: unknown, at: string, shape: string, keys: string[], problems: string[]): Record<string, unknown> {
    if (value === undefined) return {};
    if (!isObject(value)) {
        problems.push(`\`${at}\` must be an object ${shape}, got ${show(value)}`);
        return {};
    }
    checkKeys(value, keys, at, problems);
    return value;
}

function checkEnum<T extends string>(value: unknown, at: string, allowed: readonly T[], fallback: T | undefined, problems: string[], required = false): T | undefined {
    if (value === undefined && !required) return fallback;
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    problems.push(`\`${at}\` ${value === undefined ? "is required" : `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}, got ${show(value)}`}${value === undefined ? `: one of ${allowed.map((a) => `"${a}"`).join(", ")}` : ""}`);
    return fallback;
}

function checkList(value: unknown, at: string, what: string, valid: (item: string) => boolean, fallback: string[], problems: string[]): string[] {
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) {
        problems.push(`\`${at}\` must be a list of ${what}, got ${show(value)}`);
        return fallback;
    }
    const seen: string[] = [];
    value.forEach((item, i) => {
        if (typeof item !== "string" || !valid(item)) problems.push(`\`${at}[${i}]\` must be one of ${what}, got ${show(item)}`);
        else if (seen.includes(item)) problems.push(`\`${at}[${i}]\` ${show(item)} is listed twice`);
        else seen.push(item);
    });
    return seen;
}

function checkImage(value: unknown, at: string, problems: string[]): string | undefined {
    if (value === undefined) return undefined;
    if (!isImageReference(value)) {
        problems.push(`\`${at}\` must be an image reference such as \`nginx:1.28.0\` or \`…@sha256:<64 hex>\`, got ${show(value)}`);
        return undefined;
    }
    return value;
}

/** Like `collect`, for validators that name a bare field (`\`namePrefix\``): the field is put under `at`. */
function collectAt<T>(problems: string[], at: string, check: () => T): T | undefined {
    const local: string[] = [];
    const result = collect(local, check);
    problems.push(...local.map((problem) => problem.replace(/^`([\w.]+)`/, `\`${at}.$1\``)));
    return result;
}

/** Runs a validator that throws; its message becomes one problem. */
function collect<T>(problems: string[], check: () => T): T | undefined {
    try {
        return check();
    } catch (error) {
        problems.push((error as Error).message);
        return undefined;
    }
}

function isValid(check: () => void): boolean {
    try {
        check();
        return true;
    } catch {
        return false;
    }
}
