/**
 * Validation of a stack's config (`plumberhub:*` keys): plain values in, a `HubConfig` with every default filled
 * in out. Pure and synchronous (the model folders are checked on disk). Every problem names the config key path in
 * backticks, the bad value and what is valid; all problems are reported together.
 */
import {
    AKS_CLUSTER_SPEC_KEYS,
    ACR_SKUS,
    DEFAULT_ACR_SKU,
    AKS_TIERS,
    DEFAULT_AKS_TIER,
    DEFAULT_AVAILABILITY_ZONES,
    DEFAULT_DEPLOYER_CLUSTER_ADMIN,
    DEFAULT_KUBELOGIN_MODE,
    DEFAULT_MAINTENANCE_WINDOW,
    DEFAULT_NAMESPACE,
    defaultAcrNamePrefix,
    KUBELOGIN_MODES,
    MaintenanceWindowSettings,
    validateAzureDnsLabel,
    NodePool,
    NodePoolSettings,
    SYSTEM_POOL_DEFAULTS,
    USER_POOL_DEFAULTS,
    validateAcrSettings,
    validateApiServerAccess,
    validateAutoUpgradedVersion,
    validateAvailabilityZones,
    validateKubernetesVersion,
    validateLocalAccounts,
    validateMaintenanceWindow,
    validateNamespace,
    validateNodePool,
    validateObjectId,
    validateObjectIds,
} from "./aks";
import {
    checkEnum,
    checkInteger,
    checkKeys,
    checkList,
    checkPort,
    checkText,
    closest,
    collect,
    collectAt,
    isDnsName,
    isIPv4,
    isObject,
    isValid,
    objectOrEmpty,
    show,
} from "./checks";
import { validateUserName } from "./credentials";
import {
    DEFAULT_HUB_NAME,
    HUB_CONFIG_KEYS,
    HUB_REGISTRY_KINDS,
    HUB_SECRET_KEYS,
    HUB_TLS_MODES,
    HubConfig,
    HubConfigError,
    HubAcmeSpec,
    HubGatewaySpec,
    SWARM_TLS_SECRET_KEYS,
} from "./environment";
import { ACME_CHALLENGES, checkAcmeDirectoryOnHttpsPort, checkAcmeDirectoryUrl, checkAcmeEmail, checkCaBundle, renewsInGateway } from "./tls";
import { DEFAULT_PROTECT_STATE } from "./stateProtection";
import { HUB_TARGETS, HubTarget } from "./target";
import { GATEWAY_SETTINGS_DEFAULTS, MAX_GATEWAY_REPLICAS, MAX_READ_TIMEOUT_SECONDS, validateGatewayMetrics, validateGatewayTitle } from "./gateway";
import { isPinnedByDigest, isRegistryHost, validateImageReference } from "./image";
import { isIP } from "net";
import { Model } from "./model";
import {
    ENDPOINT_MODES,
    PUBLISH_MODES,
    SWARM_DEFAULTS,
    isLoopbackHost,
    swarmRegistryHost,
    isRemoteDockerHost,
    validateDockerHost,
    validateDockerTransport,
    validatePlacementConstraint,
    validateSshOpts,
    validateSwarmName,
    validateSwarmPublishing,
} from "./swarm";
import { ModelSpecError, modelTargetProblems, validateModels } from "./validateModel";

const NS = "plumberhub";
const GATEWAY_KEYS = [
    "host",
    "ipAddresses",
    "users",
    "tls",
    "acme",
    "replicas",
    "httpsPort",
    "httpPort",
    "dnsLabel",
    "maxBodyMiB",
    "readTimeoutSeconds",
    "title",
    "metrics",
];
const ACME_KEYS = ["email", "challenge", "directoryUrl", "staging", "caBundle", "zoneName", "subscriptionId", "resourceGroup"];
const ACME_AZURE_DNS_KEYS = ["zoneName", "subscriptionId", "resourceGroup"] as const;
const REGISTRY_KEYS = ["kind", "server", "username", "port", "host", "constraints", "sku", "namePrefix"];
const SWARM_KEYS = [
    "host",
    "network",
    "endpointMode",
    "publishMode",
    "constraints",
    "gatewayConstraints",
    "allowInsecureTcp",
    "sshOpts",
    "gatewayImage",
    "registryImage",
];
const AKS_KEYS = ["resourceGroupName", "location", "namespace", "existingCluster", "kubeletObjectId", "gatewayImage", ...AKS_CLUSTER_SPEC_KEYS];

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
        problems.push(
            `\`${NS}:${key}\` is not a plumberhub config key; ${near ? `did you mean \`${NS}:${near}\`?` : `known keys: ${[...HUB_CONFIG_KEYS, ...HUB_SECRET_KEYS].join(", ")}`}`,
        );
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
    const swarm = checkSwarm(raw.swarm, target, secretsSet, problems);
    const aks = checkAks(raw.aks, target, secretsSet, problems);
    const baseImage = checkImage(raw.baseImage, `${NS}:baseImage`, problems);
    const protectState = raw.protectState ?? DEFAULT_PROTECT_STATE;
    if (typeof protectState !== "boolean") {
        problems.push(
            `\`${NS}:protectState\` must be true (keep the registry, its data and the AKS cluster on \`pulumi destroy\`) or false (a throwaway stack), got ${show(protectState)}`,
        );
    }

    for (const model of models) {
        if (target !== undefined) problems.push(...modelTargetProblems(model, target, `\`${NS}:models\` model \`${model.name}\``));
        for (const user of model.users ?? []) {
            if (!gateway.users.includes(user)) {
                problems.push(
                    `\`${NS}:models\` model \`${model.name}\` allows user ${show(user)}, who is not a gateway user; add it to \`${NS}:gateway.users\` (now ${gateway.users.join(", ")})`,
                );
            }
        }
        if (target === "aks" && model.image && !isPinnedByDigest(model.image)) {
            problems.push(
                `\`${NS}:models\` model \`${model.name}\` image ${show(model.image)} must be pinned by digest (\`…@sha256:<64 hex>\`) on AKS`,
            );
        }
    }
    if (target === "aks" && raw.swarm !== undefined)
        problems.push(`\`${NS}:swarm\` is set but \`${NS}:target\` is "aks"; remove it or set the target to "swarm"`);
    if (target === "swarm" && raw.aks !== undefined)
        problems.push(`\`${NS}:aks\` is set but \`${NS}:target\` is "swarm"; remove it or set the target to "aks"`);
    if (target === "aks" && aks.existingCluster && registry.kind === "acr" && !aks.kubeletObjectId) {
        problems.push(
            `\`${NS}:aks.existingCluster\` with an "acr" registry needs \`${NS}:aks.kubeletObjectId\` to grant the cluster AcrPull (\`az aks show --query identityProfile.kubeletidentity.objectId\`)`,
        );
    }
    const hostGiven = isObject(raw.gateway) && raw.gateway.host !== undefined;
    if (target === "aks" && !hostGiven) {
        if (gateway.dnsLabel && aks.location) gateway.host = `${gateway.dnsLabel}.${aks.location}.cloudapp.azure.com`;
        else
            problems.push(
                `\`${NS}:gateway.host\` is required on AKS: the gateway's DNS name (or set \`${NS}:gateway.dnsLabel\` and \`${NS}:aks.location\` for \`{label}.{location}.cloudapp.azure.com\`)`,
            );
    }
    if (gateway.acme && (gateway.host === "localhost" || isIP(gateway.host) !== 0) && !(target === "aks" && !hostGiven))
        problems.push(`\`${NS}:gateway.host\` must be the public DNS name the certificate is for with \`tls: acme\`, got ${show(gateway.host)}`);
    if (renewsInGateway(gateway.acme) && target !== undefined) {
        const acmeDirectory = gateway.acme?.directoryUrl;
        // A malformed URL is already reported by its own check.
        if (acmeDirectory !== undefined && target === "aks" && isValid(() => checkAcmeDirectoryUrl(acmeDirectory, "")))
            collect(problems, () => checkAcmeDirectoryOnHttpsPort(acmeDirectory, `${NS}:gateway.acme.directoryUrl`));
        if (!(target === "aks" ? aks.gatewayImage : swarm.gatewayImage))
            problems.push(
                `\`${NS}:${target}.gatewayImage\` is required with \`${NS}:gateway.acme.challenge\` "http": an nginx image with lego and openssl (README "Certificates" has its Dockerfile; scripts/build-local-images.sh builds one)`,
            );
        // The challenge answer and the certificate live on one node's volume; the edge may send the ACME server's
        // requests to a task on any node.
        if (target === "swarm" && gateway.replicas > 1)
            problems.push(
                `\`${NS}:gateway.replicas\` must be 1 with \`${NS}:gateway.acme.challenge\` "http" on a swarm, got ${gateway.replicas}: the renewal's volume is local to one node`,
            );
    }
    if (gateway.metrics && target !== undefined && !(target === "aks" ? aks.gatewayImage : swarm.gatewayImage))
        problems.push(
            `\`${NS}:${target}.gatewayImage\` is required with \`${NS}:gateway.metrics\` true: an image with Debian's nginx and its Lua module (libnginx-mod-http-lua), which the default nginx image lacks (README "Metrics" has its Dockerfile; scripts/build-local-images.sh builds one)`,
        );
    // The machine running `pulumi up` and every node reach the registry at its host: loopback is the manager only when
    // the manager is this machine.
    if (target === "swarm" && registry.kind === "swarm" && isRemoteDockerHost(swarm.host) && isLoopbackHost(swarmRegistryHost(registry)))
        problems.push(
            `\`${NS}:registry.host\` must be the manager's address that every node and this machine reach when \`${NS}:swarm.host\` is a remote manager (${show(swarm.host)}), got ${show(swarmRegistryHost(registry))}`,
        );
    if (target === "swarm" && registry.kind === "acr")
        problems.push(`\`${NS}:registry.kind\` "acr" needs \`${NS}:target\` "aks"; on a swarm use "swarm" or "external"`);
    if (target === "aks" && registry.kind === "swarm")
        problems.push(`\`${NS}:registry.kind\` "swarm" needs \`${NS}:target\` "swarm"; on AKS use "acr" or "external"`);

    if (problems.length > 0) throw new HubConfigError(problems);
    return { target: target!, models, gateway, registry, swarm, aks, ...(baseImage ? { baseImage } : {}), protectState: protectState === true };
}

/** `gateway.acme`: the e-mail, the challenge and what each challenge needs (the other's keys are refused). */
function checkAcme(value: unknown, at: string, problems: string[]): HubAcmeSpec {
    const spec = objectOrEmpty(value, at, "{ email, challenge?, directoryUrl?, staging?, caBundle?, zoneName?, … }", ACME_KEYS, problems);
    collect(problems, () => checkAcmeEmail(spec.email, `${at}.email`));
    // Configs written before the http challenge existed name a zone and no challenge: they keep DNS-01.
    const defaultChallenge = spec.challenge === undefined && spec.zoneName !== undefined ? "azureDns" : "http";
    const challenge = checkEnum(spec.challenge, `${at}.challenge`, ACME_CHALLENGES, defaultChallenge, problems)!;
    if (spec.directoryUrl !== undefined) collect(problems, () => checkAcmeDirectoryUrl(spec.directoryUrl, `${at}.directoryUrl`));
    if (spec.staging !== undefined && typeof spec.staging !== "boolean")
        problems.push(`\`${at}.staging\` must be true (Let's Encrypt's staging directory) or false, got ${show(spec.staging)}`);
    if (spec.staging === true && spec.directoryUrl !== undefined)
        problems.push(`\`${at}.staging\` and \`${at}.directoryUrl\` are both set; staging picks Let's Encrypt's staging directory, so give one`);
    if (challenge === "azureDns") {
        for (const key of ACME_AZURE_DNS_KEYS) {
            if (typeof spec[key] !== "string" || spec[key] === "")
                problems.push(`\`${at}.${key}\` is required with \`${at}.challenge\` "azureDns", got ${show(spec[key])}`);
        }
        if (spec.caBundle !== undefined) problems.push(`\`${at}.caBundle\` is used with the "http" challenge only; remove it`);
    } else {
        for (const key of ACME_AZURE_DNS_KEYS) {
            if (spec[key] !== undefined)
                problems.push(`\`${at}.${key}\` is used with \`${at}.challenge\` "azureDns" only; remove it or set the challenge`);
        }
        if (spec.caBundle !== undefined) collect(problems, () => checkCaBundle(spec.caBundle, `${at}.caBundle`));
        // lego then trusts only the bundle: Let's Encrypt's directory would no longer verify.
        if (spec.caBundle !== undefined && spec.directoryUrl === undefined)
            problems.push(
                `\`${at}.caBundle\` needs \`${at}.directoryUrl\`: the bundle replaces the system roots, so it is for a private ACME server's directory`,
            );
    }
    return { ...(spec as unknown as HubAcmeSpec), challenge };
}

function checkGateway(value: unknown, target: HubTarget | undefined, secretsSet: ReadonlySet<string>, problems: string[]): HubConfig["gateway"] {
    const at = `${NS}:gateway`;
    const spec = objectOrEmpty(value, at, "{ host, users, tls, … }", GATEWAY_KEYS, problems);
    const host = typeof spec.host === "string" ? spec.host : "localhost";
    if (spec.host !== undefined && !isDnsName(spec.host)) {
        problems.push(`\`${at}.host\` must be a lower-case DNS name such as \`models.example.com\`, got ${show(spec.host)}`);
    }
    const ipAddresses = checkList(spec.ipAddresses, `${at}.ipAddresses`, "IPv4 addresses", isIPv4, target === "swarm" ? ["127.0.0.1"] : [], problems);
    const users = checkList(spec.users, `${at}.users`, "user names", (user) => isValid(() => validateUserName(user)), ["admin"], problems);
    if (users.length === 0) problems.push(`\`${at}.users\` is empty, so nobody could log in; list at least one user`);
    const tls = checkEnum(spec.tls, `${at}.tls`, HUB_TLS_MODES, "selfSigned", problems)!;
    if (tls === "provided") {
        for (const key of ["tlsCertificate", "tlsKey"]) {
            if (!secretsSet.has(key))
                problems.push(
                    `\`${at}.tls\` is "provided" but the secret \`${NS}:${key}\` is not set; set it with \`pulumi config set --secret ${NS}:${key} < file.pem\``,
                );
        }
    }
    let acme: HubGatewaySpec["acme"];
    if (tls === "acme") {
        acme = checkAcme(spec.acme, `${at}.acme`, problems);
    } else if (spec.acme !== undefined) {
        problems.push(`\`${at}.acme\` is set but \`${at}.tls\` is ${show(tls)}; set \`tls: acme\` or remove it`);
    }
    const dnsLabel = spec.dnsLabel;
    if (dnsLabel !== undefined) collect(problems, () => validateAzureDnsLabel(dnsLabel, `${at}.dnsLabel`));
    if (dnsLabel !== undefined && target === "swarm") problems.push(`\`${at}.dnsLabel\` is an Azure setting; remove it on a swarm`);
    const defaults = GATEWAY_SETTINGS_DEFAULTS;
    const httpsPort = checkPort(spec.httpsPort, `${at}.httpsPort`, defaults.httpsPort, problems);
    const httpPort = checkPort(spec.httpPort, `${at}.httpPort`, defaults.httpPort, problems);
    if (httpsPort === httpPort) problems.push(`\`${at}.httpPort\` and \`${at}.httpsPort\` are both ${httpsPort}; they must differ`);
    const title = checkText(spec.title, defaults.title, (t) => validateGatewayTitle(t, `${at}.title`), problems);
    const metrics = spec.metrics ?? defaults.metrics;
    collect(problems, () => validateGatewayMetrics(metrics, `${at}.metrics`));
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
        readTimeoutSeconds: checkInteger(
            spec.readTimeoutSeconds,
            `${at}.readTimeoutSeconds`,
            1,
            MAX_READ_TIMEOUT_SECONDS,
            defaults.readTimeoutSeconds,
            problems,
        ),
        title,
        metrics: metrics === true,
    };
}

function checkRegistry(value: unknown, target: HubTarget | undefined, secretsSet: ReadonlySet<string>, problems: string[]): HubConfig["registry"] {
    const at = `${NS}:registry`;
    const spec = objectOrEmpty(value, at, "{ kind, server?, username?, port?, sku? }", REGISTRY_KEYS, problems);
    const kind = checkEnum(spec.kind, `${at}.kind`, HUB_REGISTRY_KINDS, target === "aks" ? "acr" : "swarm", problems)!;
    if (kind === "external") {
        if (!isRegistryHost(spec.server)) {
            problems.push(
                `\`${at}.server\` must be a registry host[:port] without scheme, e.g. \`ghcr.io\`, when \`${at}.kind\` is "external", got ${show(spec.server)}`,
            );
        }
        if (typeof spec.username !== "string" || spec.username === "")
            problems.push(`\`${at}.username\` is required when \`${at}.kind\` is "external", got ${show(spec.username)}`);
        if (!secretsSet.has("registryPassword"))
            problems.push(
                `\`${at}.kind\` is "external" but the secret \`${NS}:registryPassword\` is not set; set it with \`pulumi config set --secret ${NS}:registryPassword\``,
            );
    } else {
        for (const key of ["server", "username"])
            if (spec[key] !== undefined) problems.push(`\`${at}.${key}\` only applies to an "external" registry; \`${at}.kind\` is ${show(kind)}`);
    }
    const port = checkPort(spec.port, `${at}.port`, SWARM_DEFAULTS.registryPort, problems);
    for (const key of ["port", "host", "constraints"]) {
        if (spec[key] !== undefined && kind !== "swarm")
            problems.push(`\`${at}.${key}\` only applies to a "swarm" registry; \`${at}.kind\` is ${show(kind)}`);
    }
    const host = swarmRegistryHost({ host: spec.host as string | undefined });
    const constraints = checkConstraints(spec.constraints, `${at}.constraints`, "node.hostname == manager1", [], problems);
    if (!isIPv4(host) && !isDnsName(host))
        problems.push(`\`${at}.host\` must be an IPv4 address or DNS name every swarm node reaches the registry's manager at, got ${show(host)}`);
    const sku = checkEnum(spec.sku, `${at}.sku`, ACR_SKUS, DEFAULT_ACR_SKU, problems);
    for (const key of ["sku", "namePrefix"]) {
        if (spec[key] !== undefined && kind !== "acr")
            problems.push(`\`${at}.${key}\` only applies to an "acr" registry; \`${at}.kind\` is ${show(kind)}`);
    }
    const validatePrefix = (prefix: unknown) => {
        if (kind === "acr") collectAt(problems, at, () => validateAcrSettings({ namePrefix: prefix as string }));
    };
    const namePrefix = checkText(spec.namePrefix, defaultAcrNamePrefix(DEFAULT_HUB_NAME), validatePrefix, problems);
    return {
        kind,
        ...(typeof spec.server === "string" ? { server: spec.server } : {}),
        ...(typeof spec.username === "string" ? { username: spec.username } : {}),
        ...(kind === "swarm" ? { port, host, constraints } : {}),
        ...(kind === "acr" ? { sku, namePrefix } : {}),
    };
}

function checkSwarm(value: unknown, target: HubTarget | undefined, secretsSet: ReadonlySet<string>, problems: string[]): HubConfig["swarm"] {
    const at = `${NS}:swarm`;
    const spec = objectOrEmpty(value, at, "{ host, network, endpointMode, publishMode, … }", SWARM_KEYS, problems);
    // No host: the Docker provider's own default, `DOCKER_HOST` or the local engine.
    if (spec.host !== undefined) collect(problems, () => validateDockerHost(spec.host, `${at}.host`));
    const tlsKeys = Object.values(SWARM_TLS_SECRET_KEYS);
    const missingTls = tlsKeys.filter((key) => !secretsSet.has(key));
    const named = (keys: string[]) => keys.map((key) => `\`${NS}:${key}\``).join(", ");
    collect(problems, () => validateSshOpts(spec.host as string | undefined, spec.sshOpts, { host: `${at}.host`, sshOpts: `${at}.sshOpts` }));
    if (target === "aks") {
        if (missingTls.length < tlsKeys.length)
            problems.push(
                `${named(tlsKeys.filter((key) => secretsSet.has(key)))} set, but they are for a swarm manager and \`${NS}:target\` is "aks"; remove them`,
            );
    } else if (missingTls.length > 0 && missingTls.length < tlsKeys.length) {
        problems.push(`the swarm manager's TLS needs all three secrets ${named(tlsKeys)}; missing ${named(missingTls)}`);
    } else if (spec.host === undefined || isValid(() => validateDockerHost(spec.host, ""))) {
        collect(problems, () =>
            validateDockerTransport(
                { host: spec.host as string | undefined, tls: missingTls.length === 0, allowInsecureTcp: spec.allowInsecureTcp },
                { host: `${at}.host`, tls: `${NS}:swarmTls*`, allowInsecureTcp: `${at}.allowInsecureTcp` },
            ),
        );
    }
    const network = checkText(spec.network, SWARM_DEFAULTS.network, (n) => validateSwarmName(n, `${at}.network`), problems);
    const constraints = checkConstraints(spec.constraints, `${at}.constraints`, "node.role == worker", [], problems);
    const gatewayConstraints = checkConstraints(
        spec.gatewayConstraints,
        `${at}.gatewayConstraints`,
        "node.role == manager",
        [...SWARM_DEFAULTS.gatewayConstraints],
        problems,
    );
    const gatewayImage = checkImage(spec.gatewayImage, `${at}.gatewayImage`, problems);
    const registryImage = checkImage(spec.registryImage, `${at}.registryImage`, problems);
    const endpointMode = checkEnum(spec.endpointMode, `${at}.endpointMode`, ENDPOINT_MODES, SWARM_DEFAULTS.endpointMode, problems)!;
    const publishMode = checkEnum(spec.publishMode, `${at}.publishMode`, PUBLISH_MODES, SWARM_DEFAULTS.publishMode, problems)!;
    // The gateway and the registry publish ports: the pair must work for them.
    collect(problems, () => validateSwarmPublishing({ endpointMode, publishMode }, at, true));
    return {
        ...(typeof spec.host === "string" ? { host: spec.host } : {}),
        network,
        endpointMode,
        publishMode,
        constraints,
        gatewayConstraints,
        ...(spec.allowInsecureTcp === true ? { allowInsecureTcp: true } : {}),
        ...(Array.isArray(spec.sshOpts) ? { sshOpts: spec.sshOpts as string[] } : {}),
        ...(gatewayImage ? { gatewayImage } : {}),
        ...(registryImage ? { registryImage } : {}),
    };
}

function checkAks(value: unknown, target: HubTarget | undefined, secretsSet: ReadonlySet<string>, problems: string[]): HubConfig["aks"] {
    const at = `${NS}:aks`;
    const spec = objectOrEmpty(value, at, "{ location, kubernetesVersion, namespace, systemPool, userPool, … }", AKS_KEYS, problems);
    const namespace = checkText(spec.namespace, DEFAULT_NAMESPACE, (n) => validateNamespace(n, `${at}.namespace`), problems);
    if (spec.kubernetesVersion !== undefined) {
        collect(problems, () => {
            validateKubernetesVersion(spec.kubernetesVersion, `${at}.kubernetesVersion`);
            validateAutoUpgradedVersion(spec.kubernetesVersion as string, `${at}.kubernetesVersion`);
        });
    }
    for (const key of ["resourceGroupName", "location"]) {
        if (spec[key] !== undefined && (typeof spec[key] !== "string" || !/^[-\w.()]{1,90}$/.test(spec[key]))) {
            problems.push(
                `\`${at}.${key}\` must be an Azure name of 1 to 90 letters, digits, \`-\`, \`_\`, \`.\` or parentheses, got ${show(spec[key])}`,
            );
        }
    }
    const existingCluster = spec.existingCluster ?? false;
    if (typeof existingCluster !== "boolean") problems.push(`\`${at}.existingCluster\` must be true or false, got ${show(existingCluster)}`);
    if (existingCluster === true && target === "aks" && !secretsSet.has("kubeconfig")) {
        problems.push(
            `\`${at}.existingCluster\` is true but the secret \`${NS}:kubeconfig\` is not set; set it with \`pulumi config set --secret ${NS}:kubeconfig < kubeconfig.yaml\``,
        );
    }
    const clusterKeys = AKS_CLUSTER_SPEC_KEYS.filter((key) => spec[key] !== undefined);
    if (existingCluster === true && clusterKeys.length > 0) {
        problems.push(
            `${clusterKeys.map((key) => `\`${at}.${key}\``).join(", ")} only apply to a cluster plumberhub creates, but \`${at}.existingCluster\` is true; remove them or \`existingCluster\``,
        );
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
    if (kubeletObjectId !== undefined) collect(problems, () => validateObjectId(kubeletObjectId, `${at}.kubeletObjectId`));
    const gatewayImage = checkImage(spec.gatewayImage, `${at}.gatewayImage`, problems);
    const availabilityZones = spec.availabilityZones ?? [...DEFAULT_AVAILABILITY_ZONES];
    collect(problems, () => validateAvailabilityZones(availabilityZones, `${at}.availabilityZones`));
    const adminGroupObjectIds = spec.adminGroupObjectIds ?? [];
    collect(problems, () => validateObjectIds(adminGroupObjectIds, `${at}.adminGroupObjectIds`));
    const deployerClusterAdmin = spec.deployerClusterAdmin ?? DEFAULT_DEPLOYER_CLUSTER_ADMIN;
    if (typeof deployerClusterAdmin !== "boolean")
        problems.push(`\`${at}.deployerClusterAdmin\` must be true or false, got ${show(deployerClusterAdmin)}`);
    const access = {
        authorizedIpRanges: spec.authorizedIpRanges as string[] | undefined,
        privateCluster: spec.privateCluster as boolean | undefined,
    };
    collect(problems, () => validateApiServerAccess(access, `${at}.`));
    const local = {
        localAccounts: spec.localAccounts as boolean | undefined,
        exportAdminKubeconfig: spec.exportAdminKubeconfig as boolean | undefined,
    };
    collect(problems, () => validateLocalAccounts(local, `${at}.`));
    const maintenanceWindow = spec.maintenanceWindow;
    if (isObject(maintenanceWindow)) checkKeys(maintenanceWindow, ["day", "startHourUtc", "durationHours"], `${at}.maintenanceWindow`, problems);
    else if (maintenanceWindow !== undefined)
        problems.push(`\`${at}.maintenanceWindow\` must be an object { day, startHourUtc, durationHours }, got ${show(maintenanceWindow)}`);
    return {
        ...(typeof kubeletObjectId === "string" ? { kubeletObjectId } : {}),
        ...(typeof spec.resourceGroupName === "string" ? { resourceGroupName: spec.resourceGroupName } : {}),
        ...(typeof spec.location === "string" ? { location: spec.location } : {}),
        ...(typeof spec.kubernetesVersion === "string" ? { kubernetesVersion: spec.kubernetesVersion } : {}),
        namespace,
        systemPool: pool("systemPool", { ...SYSTEM_POOL_DEFAULTS }, true),
        userPool: pool("userPool", { ...USER_POOL_DEFAULTS }, false),
        existingCluster: existingCluster === true,
        ...(gatewayImage ? { gatewayImage } : {}),
        availabilityZones: Array.isArray(availabilityZones) ? (availabilityZones as string[]) : [...DEFAULT_AVAILABILITY_ZONES],
        tier: checkEnum(spec.tier, `${at}.tier`, AKS_TIERS, DEFAULT_AKS_TIER, problems)!,
        adminGroupObjectIds: Array.isArray(adminGroupObjectIds) ? (adminGroupObjectIds as string[]) : [],
        deployerClusterAdmin: deployerClusterAdmin === true,
        ...(Array.isArray(access.authorizedIpRanges) ? { authorizedIpRanges: access.authorizedIpRanges } : {}),
        privateCluster: access.privateCluster === true,
        localAccounts: local.localAccounts === true,
        exportAdminKubeconfig: local.exportAdminKubeconfig === true,
        kubeloginMode: checkEnum(spec.kubeloginMode, `${at}.kubeloginMode`, KUBELOGIN_MODES, DEFAULT_KUBELOGIN_MODE, problems)!,
        maintenanceWindow: collect(problems, () =>
            validateMaintenanceWindow(
                isObject(maintenanceWindow) ? (maintenanceWindow as MaintenanceWindowSettings) : undefined,
                `${at}.maintenanceWindow`,
            ),
        ) ?? { ...DEFAULT_MAINTENANCE_WINDOW },
    };
}

/** A list of swarm placement constraints at `at` (`example` shows the form in the message); `fallback` when unset. */
function checkConstraints(value: unknown, at: string, example: string, fallback: string[], problems: string[]): string[] {
    return checkList(
        value,
        at,
        `placement constraints such as \`${example}\``,
        (c) => isValid(() => validatePlacementConstraint(c, "")),
        fallback,
        problems,
    );
}

/** An image reference, else undefined and a problem. */
function checkImage(value: unknown, at: string, problems: string[]): string | undefined {
    if (value === undefined) return undefined;
    try {
        validateImageReference(value, at);
    } catch (error) {
        problems.push((error as Error).message);
        return undefined;
    }
    return value;
}
