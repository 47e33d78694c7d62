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
/** Seconds between the Azure load balancer's health probes of a node (with externalTrafficPolicy Local: kube-proxy's per-service check). */
export const AZURE_PROBE_INTERVAL_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-health-probe-interval";
/** Failed probes in a row before the Azure load balancer stops sending new connections to a node. */
export const AZURE_PROBE_FAILURES_ANNOTATION = "service.beta.kubernetes.io/azure-load-balancer-health-probe-num-of-probe";
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

/**
 * Seconds a termination grace period leaves beyond a pod's drain and the longest request it may still be serving:
 * for the process's own stop after that request, so the deadline never cuts off a request the gateway still waits for.
 */
export const TERMINATION_MARGIN_SECONDS = 10;

/**
 * Topology spread of a workload's pods over zones and nodes (`topology.kubernetes.io/zone`, `kubernetes.io/hostname`;
 * at most one pod more in any domain than in the emptiest). Zones are always soft (`ScheduleAnyway`, a preference): a
 * hard zone spread leaves a pod Pending when the emptiest zone's nodes are full, and the cluster autoscaler of a
 * multi-zone node pool cannot add a node in a chosen zone (so a rollout's surge pod could wait for ever). Hostnames are
 * `hardHostname` (`DoNotSchedule`) for a few small pods that must survive a node loss (the gateway: the autoscaler adds
 * a node for a pod that fits none), soft for the models, whose many large replicas must never wait Pending for room.
 * Hard still schedules on a small cluster: skew counts only the domains that exist, so one node is one hostname
 * domain. `nodeTaintsPolicy: Honor` leaves out nodes the pods cannot run on (the tainted system pool when there is a
 * user pool): counted as empty domains, they would make a hard spread unsatisfiable.
 */
export function topologySpread(selector: Record<string, string>, hardHostname: boolean) {
    return [
        { topologyKey: "topology.kubernetes.io/zone", hard: false },
        { topologyKey: "kubernetes.io/hostname", hard: hardHostname },
    ].map(({ topologyKey, hard }) => ({
        maxSkew: 1,
        topologyKey,
        whenUnsatisfiable: hard ? "DoNotSchedule" : "ScheduleAnyway",
        nodeTaintsPolicy: "Honor",
        labelSelector: { matchLabels: selector },
    }));
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

/** Labels every gateway pod carries, whatever the gateway's name: what the models' NetworkPolicies let in. */
export const GATEWAY_POD_LABELS = Object.freeze({ "app.kubernetes.io/component": "gateway", "app.kubernetes.io/part-of": PART_OF });

/** Labels every model pod carries, whatever its model: what the gateway's NetworkPolicy lets it reach. */
export const MODEL_POD_LABELS = Object.freeze({ "app.kubernetes.io/component": "model", "app.kubernetes.io/part-of": PART_OF });

/** Name of the namespace's default-deny NetworkPolicy (the policy pack looks for it). */
export const DEFAULT_DENY_POLICY_NAME = "default-deny";

/** Labels of the cluster DNS pods (kube-dns / CoreDNS in `kube-system`). */
export const CLUSTER_DNS_POD_LABELS = Object.freeze({ "k8s-app": "kube-dns" });

/** A NetworkPolicy egress rule to the cluster DNS pods on port 53, UDP and TCP (name lookups, nothing else). */
export function clusterDnsEgressRule() {
    return {
        to: [
            {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { ...CLUSTER_DNS_POD_LABELS } },
            },
        ],
        ports: ["UDP", "TCP"].map((protocol) => ({ protocol, port: 53 })),
    };
}

/**
 * The public internet as a NetworkPolicy peer: any address but the private ranges, the link-local range (the instance
 * metadata service 169.254.169.254 included) and Azure's wireserver (168.63.129.16), so a pod allowed out reaches
 * neither the node's credentials nor another pod, node or private service.
 */
export const INTERNET_EGRESS = Object.freeze({
    cidr: "0.0.0.0/0",
    except: Object.freeze(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "168.63.129.16/32"]),
});

/** A NetworkPolicy egress rule to `INTERNET_EGRESS`, on `ports` (every port when left out). */
export function internetEgressRule(ports?: { protocol: "TCP" | "UDP"; port: number }[]) {
    return {
        to: [{ ipBlock: { cidr: INTERNET_EGRESS.cidr, except: [...INTERNET_EGRESS.except] } }],
        ...(ports ? { ports: ports.map((p) => ({ ...p })) } : {}),
    };
}

/**
 * A NetworkPolicy for the pods `podSelector` selects, isolating them for each direction `rules` names (`ingress`,
 * `egress`): only what its rules allow gets through; an empty list allows nothing.
 */
export function networkPolicy(
    metadata: KubernetesObject["metadata"],
    podSelector: { matchLabels?: Record<string, string> },
    rules: { ingress?: object[]; egress?: object[] },
): KubernetesObject {
    const spec: Record<string, unknown> = { podSelector, policyTypes: [] as string[] };
    for (const [type, list] of [
        ["Ingress", rules.ingress],
        ["Egress", rules.egress],
    ] as const) {
        if (list === undefined) continue;
        (spec.policyTypes as string[]).push(type);
        if (list.length > 0) spec[type.toLowerCase()] = list;
    }
    return { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata, spec };
}

/**
 * The namespace's `default-deny` NetworkPolicy: every pod of it is isolated both ways, so a pod gets only the traffic
 * another policy allows (the gateway's and each model's). Enforced by the cluster's network policy engine
 * (`AksCluster` enables Cilium's).
 */
export function renderDefaultDenyPolicy(namespace: string): KubernetesObject {
    const labels = { "app.kubernetes.io/part-of": PART_OF, "app.kubernetes.io/managed-by": "plumberhub" };
    return networkPolicy({ name: DEFAULT_DENY_POLICY_NAME, namespace, labels }, {}, { ingress: [], egress: [] });
}

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
