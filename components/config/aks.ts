/**
 * Plain settings of the AKS target (registry, cluster, node pools, gateway) and their validation. No Pulumi:
 * the components in `components/aks/` call these before declaring anything, and rethrow as `ResourceError`.
 * Every message names the field in backticks, the bad value and what is valid.
 */
import { isIPv4, show, validateInteger } from "./checks";
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

export const SYSTEM_POOL_DEFAULTS = Object.freeze({ name: "system", vmSize: "Standard_D2s_v5", minCount: 1, maxCount: 3 });
export const USER_POOL_DEFAULTS = Object.freeze({ name: "models", vmSize: "Standard_D4s_v5", minCount: 1, maxCount: 5 });

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
