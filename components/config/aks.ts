/**
 * Plain settings of the AKS target (registry, cluster, node pools, gateway) and their validation. No Pulumi:
 * the components in `components/aks/` call these before declaring anything, and rethrow as `ResourceError`.
 * Every message names the field in backticks, the bad value and what is valid.
 */
import { isIPv4, show, validateInteger, validateOneOf } from "./checks";
import { MAX_GATEWAY_REPLICAS } from "./gateway";
import { validateImageReference } from "./image";

/** Namespace of a hub's models and gateway on AKS. */
export const DEFAULT_NAMESPACE = "models";

/** ACR SKUs. */
export const ACR_SKUS = ["Basic", "Standard", "Premium"] as const;
export type AcrSku = (typeof ACR_SKUS)[number];
/** The SKU of a new registry: enough for a few teams' images; upgrade in place when it is not. */
export const DEFAULT_ACR_SKU: AcrSku = "Basic";

/** Length of the random suffix that makes an ACR name globally unique (36^8 ≈ 2.8e12 names). */
export const ACR_SUFFIX_LENGTH = 8;

/** ACR names: 5–50 letters and digits, globally unique (they become `{name}.azurecr.io`). */
const ACR_NAME = /^[A-Za-z0-9]{5,50}$/;
const ACR_PREFIX = new RegExp(`^[a-z0-9]{1,${50 - ACR_SUFFIX_LENGTH}}$`);
/** Kubernetes version as AKS takes it: `1.33` (newest patch) or `1.33.2`. */
const KUBERNETES_VERSION = /^1\.(\d{1,3})(\.\d{1,3})?$/;
/** Linux node pool names: lower-case letters and digits, starting with a letter, ≤ 12 characters. */
const POOL_NAME = /^[a-z][a-z0-9]{0,11}$/;
/** AKS DNS prefix: 1–54 letters, digits and `-`, starting and ending with a letter or digit. */
const DNS_PREFIX = /^[A-Za-z0-9]([A-Za-z0-9-]{0,52}[A-Za-z0-9])?$/;
/** Kubernetes namespace: a DNS-1123 label. */
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** Azure public IP DNS label: 3–63 lower-case letters, digits and `-`, starting with a letter, not ending with `-`. */
const AZURE_DNS_LABEL = /^[a-z][a-z0-9-]{1,61}[a-z0-9]$/;

/** Throws unless `label` is an Azure public IP DNS label (`{label}.{region}.cloudapp.azure.com`), naming `field`. */
export function validateAzureDnsLabel(label: unknown, field: string): void {
    if (typeof label !== "string" || !AZURE_DNS_LABEL.test(label)) {
        throw new Error(
            `\`${field}\` must be 3–63 lower-case letters, digits and \`-\`, starting with a letter and not ending with \`-\` ` +
                `(it becomes {label}.{region}.cloudapp.azure.com), got ${show(label)}`,
        );
    }
}
const MAX_POOL_NODES = 1000;

function isInteger(value: unknown): value is number {
    return typeof value === "number" && Number.isInteger(value);
}

// ---------------------------------------------------------------------------------------------
// Registry

export interface AcrNameSettings {
    /** Exact registry name (no suffix). */
    registryName?: string;
    /** Prefix of a generated name (a random suffix is added). */
    namePrefix?: string;
    sku?: string;
}

/** The default ACR name prefix for a component name: its letters and digits, lower-cased, cut to fit. */
export function defaultAcrNamePrefix(componentName: string): string {
    const prefix = componentName
        .toLowerCase()
        .replace(/[^a-z0-9]/g, "")
        .slice(0, 50 - ACR_SUFFIX_LENGTH);
    return prefix.length > 0 ? prefix : "plumberhub";
}

/** Throws when the registry's name or SKU breaks ACR's rules. */
export function validateAcrSettings(settings: AcrNameSettings): void {
    if (settings.registryName !== undefined && settings.namePrefix !== undefined) {
        throw new Error("`registryName` and `namePrefix` exclude each other: give an exact name or a prefix for a generated one");
    }
    if (settings.registryName !== undefined && (typeof settings.registryName !== "string" || !ACR_NAME.test(settings.registryName))) {
        throw new Error(`\`registryName\` must be 5–50 letters and digits (ACR names have no \`-\` or \`_\`), got ${show(settings.registryName)}`);
    }
    if (settings.namePrefix !== undefined && (typeof settings.namePrefix !== "string" || !ACR_PREFIX.test(settings.namePrefix))) {
        throw new Error(
            `\`namePrefix\` must be 1–${50 - ACR_SUFFIX_LENGTH} lower-case letters and digits ` +
                `(a ${ACR_SUFFIX_LENGTH}-character random suffix is added), got ${show(settings.namePrefix)}`,
        );
    }
    if (settings.sku !== undefined && !(ACR_SKUS as readonly string[]).includes(settings.sku)) {
        throw new Error(`\`sku\` must be one of ${ACR_SKUS.map((s) => `\`${s}\``).join(", ")}, got ${show(settings.sku)}`);
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster

/** An AKS node pool with cluster autoscaling. */
export interface NodePoolSettings {
    /** Pool name (Linux: lower-case letters and digits, ≤ 12). */
    name?: string;
    /** VM size, e.g. `Standard_D2s_v5`. */
    vmSize?: string;
    /** Fewest nodes. */
    minCount?: number;
    /** Most nodes; ≥ `minCount`. */
    maxCount?: number;
}

/**
 * The system pool runs CoreDNS, metrics-server and the other add-ons: 2 nodes so one node's loss or upgrade leaves
 * them running (3, one per zone, is AKS's recommendation for production). AKS accepts 1, for a test cluster.
 */
export const SYSTEM_POOL_DEFAULTS = Object.freeze({ name: "system", vmSize: "Standard_D2s_v5", minCount: 2, maxCount: 3 });
/** The models' pool: 2 nodes so a model with 2 replicas survives a node's loss or upgrade. */
export const USER_POOL_DEFAULTS = Object.freeze({ name: "models", vmSize: "Standard_D4s_v5", minCount: 2, maxCount: 5 });

/** A pool with every default filled in. */
export type NodePool = Required<NodePoolSettings>;

/**
 * Checks a node pool and fills its defaults. The system pool needs ≥ 1 node (it runs CoreDNS and
 * metrics-server); a user pool may scale to 0.
 */
export function validateNodePool(pool: NodePoolSettings | undefined, field: string, defaults: NodePool, system: boolean): NodePool {
    const filled = { ...defaults, ...(pool ?? {}) };
    if (typeof filled.name !== "string" || !POOL_NAME.test(filled.name)) {
        throw new Error(`\`${field}.name\` must be 1–12 lower-case letters and digits starting with a letter, got ${show(filled.name)}`);
    }
    if (typeof filled.vmSize !== "string" || !/^[A-Za-z0-9_]+$/.test(filled.vmSize)) {
        throw new Error(`\`${field}.vmSize\` must be an Azure VM size such as \`Standard_D2s_v5\`, got ${show(filled.vmSize)}`);
    }
    const least = system ? 1 : 0;
    validateInteger(filled.minCount, `${field}.minCount`, least, MAX_POOL_NODES);
    if (!isInteger(filled.maxCount) || filled.maxCount < Math.max(1, filled.minCount) || filled.maxCount > MAX_POOL_NODES) {
        throw new Error(
            `\`${field}.maxCount\` must be an integer from \`minCount\` (${filled.minCount}) to ${MAX_POOL_NODES} and at least 1, ` +
                `got ${show(filled.maxCount)}`,
        );
    }
    return filled;
}

/** Availability zones an AKS node pool can spread over (in a region that has zones). */
export const AVAILABILITY_ZONES = ["1", "2", "3"] as const;
/** Both pools spread over every zone, so one zone's outage leaves nodes running. */
export const DEFAULT_AVAILABILITY_ZONES: readonly string[] = AVAILABILITY_ZONES;

/** Throws unless `zones` is a list of distinct zones `"1"`, `"2"`, `"3"` (`[]`: a region without zones), naming `field`. */
export function validateAvailabilityZones(zones: unknown, field: string): void {
    const valid = Array.isArray(zones) && zones.every((z, i) => (AVAILABILITY_ZONES as readonly unknown[]).includes(z) && zones.indexOf(z) === i);
    if (!valid) {
        throw new Error(`\`${field}\` must be a list of distinct zones "1", "2", "3" (\`[]\` for a region without zones), got ${show(zones)}`);
    }
}

/** AKS pricing tiers of the control plane. */
export const AKS_TIERS = ["Free", "Standard", "Premium"] as const;
export type AksTier = (typeof AKS_TIERS)[number];
/**
 * `Standard`: the API server's uptime SLA (99.95 % with zones) and a control plane that scales with the cluster;
 * `Free` has no SLA and is meant for tests, `Premium` adds long-term support of old Kubernetes versions.
 */
export const DEFAULT_AKS_TIER: AksTier = "Standard";

/** Entra ID object ids (groups, users, identities) are GUIDs. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Throws unless `id` is an Entra ID object id (a GUID), naming `field`. */
export function validateObjectId(id: unknown, field: string): void {
    if (typeof id !== "string" || !GUID.test(id)) {
        throw new Error(`\`${field}\` must be a GUID such as \`00000000-0000-0000-0000-000000000000\`, got ${show(id)}`);
    }
}

/** Throws unless `ids` is a list of Entra ID object ids (GUIDs), naming `field` (and the bad entry's index). */
export function validateObjectIds(ids: unknown, field: string): void {
    if (!Array.isArray(ids)) {
        throw new Error(`\`${field}\` must be a list of Entra ID object ids (GUIDs), got ${show(ids)}`);
    }
    ids.forEach((id, i) => validateObjectId(id, `${field}[${i}]`));
}

/** Whether `value` is an IPv4 range in CIDR notation, `203.0.113.0/24` (a single address: `/32`). */
export function isIPv4Cidr(value: unknown): value is string {
    if (typeof value !== "string") return false;
    const [address, prefix, ...rest] = value.split("/");
    return rest.length === 0 && isIPv4(address) && prefix !== undefined && /^(3[0-2]|[12]?\d)$/.test(prefix);
}

/** How the API server is reached: from the listed public ranges only, or only from inside the cluster's network. */
export interface ApiServerAccessSettings {
    authorizedIpRanges?: string[];
    privateCluster?: boolean;
}

/** Throws when the API server access settings are malformed or combined (their fields under `prefix`, e.g. `aks.`). */
export function validateApiServerAccess(settings: ApiServerAccessSettings, prefix = ""): void {
    const { authorizedIpRanges, privateCluster } = settings;
    if (privateCluster !== undefined && typeof privateCluster !== "boolean") {
        throw new Error(`\`${prefix}privateCluster\` must be true or false, got ${show(privateCluster)}`);
    }
    if (authorizedIpRanges === undefined) return;
    if (!Array.isArray(authorizedIpRanges) || authorizedIpRanges.length === 0) {
        throw new Error(
            `\`${prefix}authorizedIpRanges\` must be a non-empty list of IPv4 CIDR ranges such as \`203.0.113.0/24\`, got ${show(authorizedIpRanges)}`,
        );
    }
    authorizedIpRanges.forEach((range, i) => {
        if (!isIPv4Cidr(range)) {
            throw new Error(`\`${prefix}authorizedIpRanges[${i}]\` must be an IPv4 CIDR range such as \`203.0.113.0/24\`, got ${show(range)}`);
        }
    });
    if (privateCluster === true) {
        throw new Error(
            `\`${prefix}authorizedIpRanges\` and \`${prefix}privateCluster\` exclude each other: a private API server has no public address to restrict; keep one`,
        );
    }
}

/** Local accounts (the certificate-based admin kubeconfig) and whether to export that kubeconfig. */
export interface LocalAccountSettings {
    localAccounts?: boolean;
    exportAdminKubeconfig?: boolean;
}

/** Throws when `exportAdminKubeconfig` is set without local accounts (AKS refuses admin credentials then). */
export function validateLocalAccounts(settings: LocalAccountSettings, prefix = ""): void {
    for (const key of ["localAccounts", "exportAdminKubeconfig"] as const) {
        if (settings[key] !== undefined && typeof settings[key] !== "boolean") {
            throw new Error(`\`${prefix}${key}\` must be true or false, got ${show(settings[key])}`);
        }
    }
    if (settings.exportAdminKubeconfig === true && settings.localAccounts !== true) {
        throw new Error(
            `\`${prefix}exportAdminKubeconfig\` needs \`${prefix}localAccounts: true\`: with local accounts disabled (the default) AKS issues no admin kubeconfig`,
        );
    }
}

/**
 * kubelogin's `--login` modes (`kubelogin get-token --login …`): how the user kubeconfig gets an Entra ID token.
 * `azurecli` reuses `az login` (in CI too, after `azure/login`); `workloadidentity` the federated token of a pod with
 * workload identity (`AZURE_FEDERATED_TOKEN_FILE`); `spn` a service principal's secret or certificate; `msi` a managed
 * identity; `azd` the Azure Developer CLI; `azurepipelines` an Azure DevOps service connection; `devicecode`,
 * `interactive` and `ropc` a person's sign-in.
 */
export const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn", "msi", "azd", "azurepipelines", "devicecode", "interactive", "ropc"] as const;
export type KubeloginMode = (typeof KUBELOGIN_MODES)[number];
/** `azurecli`: the identity of `az login`, which is also what azure-native uses by default. */
export const DEFAULT_KUBELOGIN_MODE: KubeloginMode = "azurecli";

/** Throws unless `mode` is one of kubelogin's login modes, naming `field`. */
export function validateKubeloginMode(mode: unknown, field = "kubeloginMode"): void {
    validateOneOf(mode, KUBELOGIN_MODES, field);
}

/** Throws unless `tier` is an AKS pricing tier, naming `field`. */
export function validateAksTier(tier: unknown, field = "tier"): void {
    validateOneOf(tier, AKS_TIERS, field);
}

/** Days of a weekly maintenance window (AKS's `WeekDay`). */
export const WEEK_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"] as const;
export type WeekDay = (typeof WEEK_DAYS)[number];

/** A weekly window in which AKS may upgrade the cluster and the nodes' OS image. */
export interface MaintenanceWindowSettings {
    /** Day of the week. Default `Sunday`. */
    day?: WeekDay;
    /** Start, hour of the day in UTC (0–23). Default 2. */
    startHourUtc?: number;
    /** Length in hours, 4–24 (AKS's bounds). Default 4. */
    durationHours?: number;
}
/** A full window with every default filled in. */
export type MaintenanceWindow = Required<MaintenanceWindowSettings>;
/** Sunday 02:00–06:00 UTC: a quiet time in Europe and the Americas, long enough for a node-by-node upgrade. */
export const DEFAULT_MAINTENANCE_WINDOW: MaintenanceWindow = Object.freeze({ day: "Sunday", startHourUtc: 2, durationHours: 4 });

/** Checks a maintenance window and fills its defaults; fields named under `field`. */
export function validateMaintenanceWindow(window: MaintenanceWindowSettings | undefined, field: string): MaintenanceWindow {
    const filled = { ...DEFAULT_MAINTENANCE_WINDOW, ...(window ?? {}) };
    validateOneOf(filled.day, WEEK_DAYS, `${field}.day`);
    validateInteger(filled.startHourUtc, `${field}.startHourUtc`, 0, 23);
    validateInteger(filled.durationHours, `${field}.durationHours`, 4, 24);
    return filled;
}

/**
 * Throws when `version` pins a patch (`1.33.2`): the cluster's `patch` auto-upgrade channel moves patches, and the
 * next `pulumi up` would try to downgrade it back.
 */
export function validateAutoUpgradedVersion(version: string, field = "kubernetesVersion"): void {
    const patch = KUBERNETES_VERSION.exec(version)?.[2];
    if (patch !== undefined) {
        throw new Error(
            `\`${field}\` ${show(version)} pins a patch, but AKS upgrades patches itself (auto-upgrade channel \`patch\`); give the minor version, ${show(version.slice(0, -patch.length))}`,
        );
    }
}

/** Throws unless `version` is a Kubernetes version AKS accepts (`1.33` or `1.33.2`). */
export function validateKubernetesVersion(version: unknown, field = "kubernetesVersion"): void {
    if (typeof version !== "string" || !KUBERNETES_VERSION.test(version)) {
        throw new Error(`\`${field}\` must look like \`1.33\` (newest patch) or \`1.33.2\`, without a leading \`v\`, got ${show(version)}`);
    }
}

/** Throws unless `prefix` is a valid AKS DNS prefix. */
export function validateDnsPrefix(prefix: unknown): void {
    if (typeof prefix !== "string" || !DNS_PREFIX.test(prefix)) {
        throw new Error(`\`dnsPrefix\` must be 1–54 letters, digits and \`-\`, starting and ending with a letter or digit, got ${show(prefix)}`);
    }
}

/** The default DNS prefix for a component name. */
export function defaultDnsPrefix(componentName: string): string {
    const prefix = componentName
        .replace(/[^A-Za-z0-9-]/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 54)
        .replace(/-+$/, "");
    return prefix.length > 0 ? prefix : "plumberhub";
}

/** Throws unless `namespace` is a Kubernetes namespace name (DNS-1123 label). */
export function validateNamespace(namespace: unknown, field = "namespace"): void {
    if (typeof namespace !== "string" || !NAMESPACE.test(namespace)) {
        throw new Error(
            `\`${field}\` must be a DNS-1123 label (1–63 lower-case letters, digits and \`-\`, starting and ending with a letter or digit), got ${show(namespace)}`,
        );
    }
}

/**
 * The settings of a cluster `AksCluster` creates, as plain values: its args and the `plumberhub:aks` keys of the same
 * names (`HubAksSpec`) both take them, so each is documented and listed once.
 */
export interface AksClusterSpec {
    /**
     * Kubernetes minor version, `1.33`: AKS applies its patches itself (auto-upgrade channel `patch`), so a pinned
     * patch (`1.33.2`) is refused. Default: AKS's default version.
     */
    kubernetesVersion?: string;
    /** System node pool (autoscaling). Default `system`, `Standard_D2s_v5`, 2–3 nodes; 3 nodes (one per zone) recommended. */
    systemPool?: NodePoolSettings;
    /** User node pool for the models (autoscaling; always created). Default `models`, `Standard_D4s_v5`, 2–5 nodes. */
    userPool?: NodePoolSettings;
    /**
     * Availability zones both pools spread over, `"1"`–`"3"`. Default all three; `[]` in a region without zones.
     * AKS sets a pool's zones only when it creates the pool: choose them before the first `up`.
     */
    availabilityZones?: string[];
    /** Control plane pricing tier: `Free` (no SLA, tests), `Standard` (uptime SLA) or `Premium`. Default `Standard`. */
    tier?: AksTier;
    /** Entra ID groups (object ids) whose members are Kubernetes cluster admins. Default none. */
    adminGroupObjectIds?: string[];
    /**
     * Grant the identity running Pulumi (`getClientConfig().objectId`) the built-in **Azure Kubernetes Service RBAC
     * Cluster Admin** role on the cluster, so the Kubernetes provider may create the namespace and the workloads.
     * Azure RBAC can take a few minutes to apply a new grant: a first `up` that fails with `Forbidden` succeeds when
     * run again. The grant stays with the identity of the first `up`: a later `up` or preview by another identity
     * (a person, a PR's read-only identity) leaves it alone; give people access through `adminGroupObjectIds`. Set
     * false when `adminGroupObjectIds` (applied at creation) already contains that identity. Default true
     * (`DEFAULT_DEPLOYER_CLUSTER_ADMIN`).
     */
    deployerClusterAdmin?: boolean;
    /** Public IPv4 CIDR ranges allowed to reach the API server (include where Pulumi runs). Default any address (Entra ID still required). */
    authorizedIpRanges?: string[];
    /**
     * The API server gets only a private address. Pulumi (and CI) must then run where that address resolves and is
     * reachable, e.g. on a self-hosted runner in a virtual network peered with the cluster's and linked to its private
     * DNS zone; GitHub's hosted runners cannot reach it. Excludes `authorizedIpRanges`. Default false.
     */
    privateCluster?: boolean;
    /** Keep AKS's local accounts (a certificate admin kubeconfig that bypasses Entra ID). Default false: `disableLocalAccounts`. */
    localAccounts?: boolean;
    /** Fetch the admin kubeconfig as the secret output `adminKubeconfig`; needs `localAccounts: true`. Default false. */
    exportAdminKubeconfig?: boolean;
    /**
     * kubelogin `--login` mode of the user kubeconfig (the `kubeconfig` output and this component's provider): who
     * gets the Entra ID token. Default `azurecli`: the identity of `az login`, also in CI after `azure/login` (GitHub
     * Actions has no federated token file for kubelogin); `workloadidentity` inside a pod with workload identity, `spn`
     * or `msi` for a service principal or managed identity. `kubelogin` must be on the PATH.
     */
    kubeloginMode?: KubeloginMode;
    /** Weekly window for AKS's patch and node-image upgrades. Default Sunday 02:00 UTC, 4 hours. */
    maintenanceWindow?: MaintenanceWindowSettings;
}

/**
 * Grant the identity of the first `up` cluster admin (`deployerClusterAdmin`): without it a new cluster refuses that
 * identity's namespace and workloads.
 */
export const DEFAULT_DEPLOYER_CLUSTER_ADMIN = true;

/** The keys of `AksClusterSpec`: what only a cluster `AksCluster` creates may set. */
export const AKS_CLUSTER_SPEC_KEYS = [
    "kubernetesVersion",
    "systemPool",
    "userPool",
    "availabilityZones",
    "tier",
    "adminGroupObjectIds",
    "deployerClusterAdmin",
    "authorizedIpRanges",
    "privateCluster",
    "localAccounts",
    "exportAdminKubeconfig",
    "kubeloginMode",
    "maintenanceWindow",
] as const satisfies readonly (keyof AksClusterSpec)[];

// ---------------------------------------------------------------------------------------------
// Gateway

export interface KubernetesGatewayChecks {
    replicas?: number;
    image?: string;
    dnsLabel?: string;
    staticIp?: string;
    resolver?: string;
    namespace?: string;
}

/** Throws when a gateway setting is invalid. */
export function validateKubernetesGatewaySettings(settings: KubernetesGatewayChecks): void {
    if (settings.namespace !== undefined) validateNamespace(settings.namespace);
    if (settings.replicas !== undefined) validateInteger(settings.replicas, "replicas", 1, MAX_GATEWAY_REPLICAS);
    if (settings.image !== undefined) validateImageReference(settings.image, "image");
    if (settings.dnsLabel !== undefined) validateAzureDnsLabel(settings.dnsLabel, "dnsLabel");
    if (settings.staticIp !== undefined && !isIPv4(settings.staticIp)) {
        throw new Error(`\`staticIp\` must be an IPv4 address such as \`20.50.1.2\` (an existing Azure public IP), got ${show(settings.staticIp)}`);
    }
    if (settings.resolver !== undefined && !isIPv4(settings.resolver)) {
        throw new Error(
            `\`resolver\` must be the IPv4 address of the cluster's DNS service (kube-dns), such as \`10.0.0.10\`, got ${show(settings.resolver)}`,
        );
    }
}
