/**
 * Kubernetes objects for the AKS target, as plain JSON (no Pulumi, no I/O). One source of truth: the Pulumi
 * components (`components/aks/`) create their `kubernetes.*` resources from these objects, and the YAML export
 * (`renderKubernetesManifests` + `toKubernetesYaml`) writes the very same objects for review.
 * This file: what every object shares, and the namespace.
 */
import { createHash } from "crypto";

/** A Kubernetes object as plain JSON. */
export interface KubernetesObject {
    apiVersion: string;
    kind: string;
    metadata: {
        name: string;
        namespace?: string;
        labels?: Record<string, string>;
        annotations?: Record<string, string>;
    };
    // Free-form JSON (spec, data, …) as Kubernetes defines it; the tests check every object against the API schemas.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    [field: string]: any;
}

/** Annotation whose change rolls the pods (the checksum of the configuration they read). */
export const CONFIG_CHECKSUM_ANNOTATION = "plumberhub.io/config-checksum";

/** Pulumi's annotation that skips waiting for a resource to become ready (used for the LoadBalancer IP). */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

/** Azure cloud-provider annotations of a LoadBalancer Service. */
export const AZURE_DNS_LABEL_ANNOTATION = "service.beta.kubernetes.io/azure-dns-label-name";
/** Static public IP (replaces the deprecated `spec.loadBalancerIP` on AKS). */
export const AZURE_STATIC_IP_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-ipv4";
/** Resource group of a static IP that is not in the cluster's node resource group. */
export const AZURE_IP_RESOURCE_GROUP_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-resource-group";

/** `app.kubernetes.io/part-of` of every object. */
export const PART_OF = "plumberhub";

/** Hex SHA-256 of a value's canonical JSON (keys sorted), for checksum annotations. */
export function configChecksum(value: unknown): string {
    return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value as Record<string, unknown>)
            .filter(([, v]) => v !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/** Spread replicas over nodes where possible (soft, so a one-node cluster still schedules them). */
export function spreadOverNodes(selector: Record<string, string>) {
    return [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }];
}

/** A PDB that keeps all but one pod up during node drains. */
export function disruptionBudget(
    name: string,
    namespace: string,
    labels: Record<string, string>,
    selector: Record<string, string>,
): KubernetesObject {
    return {
        apiVersion: "policy/v1",
        kind: "PodDisruptionBudget",
        metadata: { name, namespace, labels },
        spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
    };
}

/** The container security context of every plumberhub container: no privileges, read-only root. */
export const DROP_ALL = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };

/** The environment's namespace; pods in it must meet the `restricted` Pod Security Standard. */
export function renderNamespace(name: string): KubernetesObject {
    return {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
            name,
            labels: {
                "app.kubernetes.io/part-of": PART_OF,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
            },
        },
    };
}
