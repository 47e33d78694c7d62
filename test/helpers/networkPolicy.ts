/**
 * A small evaluator of Kubernetes NetworkPolicy (networking.k8s.io/v1) semantics, to test what rendered policies
 * allow as connections rather than as JSON:
 * - a pod is isolated for a direction when any policy of its namespace selects it and lists that policy type
 *   (`policyTypes` left out: Ingress, plus Egress when the policy has `egress` rules);
 * - an isolated direction is allowed when a rule of one of those policies matches both the peer and the port;
 * - a connection between two pods needs the source's egress and the destination's ingress.
 * Peers: `podSelector` alone (pods of the policy's namespace), `namespaceSelector` alone (all pods of the matching
 * namespaces), both in one peer (both must match), `ipBlock` (`cidr` minus `except`; matched on the address, pods
 * included). Ports: a number, a name (resolved on the destination pod's container ports, same protocol; a name never
 * matches an address outside the cluster), `endPort`, protocol default TCP; no `port` = every port of the protocol.
 */

export type Protocol = "TCP" | "UDP" | "SCTP";

/** A pod as the evaluator sees it. */
export interface PodEndpoint {
    namespace: string;
    labels: Record<string, string>;
    ip: string;
    ports?: { name?: string; containerPort: number; protocol?: string }[];
}

/** An address outside the cluster (the internet, a node's metadata service…). */
export interface AddressEndpoint {
    ip: string;
}

export type Endpoint = PodEndpoint | AddressEndpoint;

export interface Connection {
    from: Endpoint;
    to: Endpoint;
    port: number;
    /** Default TCP. */
    protocol?: Protocol;
}

export interface LabelSelector {
    matchLabels?: Record<string, string>;
    matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

interface Peer {
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
}

interface PolicyPort {
    protocol?: string;
    port?: number | string;
    endPort?: number;
}

interface Rule {
    from?: Peer[];
    to?: Peer[];
    ports?: PolicyPort[];
}

/** A NetworkPolicy object (only the fields the semantics use). */
export interface NetworkPolicy {
    kind: string;
    metadata: { name: string; namespace?: string };
    spec: { podSelector: LabelSelector; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

/** Labels of each namespace, by name (`kubernetes.io/metadata.name` is added, as the API server does). */
export type Namespaces = Record<string, Record<string, string>>;

export function isPod(endpoint: Endpoint): endpoint is PodEndpoint {
    return "namespace" in endpoint;
}

/** Whether `labels` match a label selector (an empty selector matches everything). */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
    const byLabels = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
    const byExpressions = (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
        switch (operator) {
            case "In":
                return key in labels && values.includes(labels[key]);
            case "NotIn":
                return !(key in labels) || !values.includes(labels[key]);
            case "Exists":
                return key in labels;
            case "DoesNotExist":
                return !(key in labels);
        }
    });
    return byLabels && byExpressions;
}

function ipToNumber(ip: string): number {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
    return parts.reduce((n, p) => n * 256 + p, 0);
}

/** Whether IPv4 `ip` lies in `cidr` (`a.b.c.d/n`). */
export function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const size = 2 ** (32 - Number(bits));
    return Math.floor(ipToNumber(ip) / size) === Math.floor(ipToNumber(base) / size);
}

function namespaceLabels(namespaces: Namespaces, name: string): Record<string, string> {
    return { ...(namespaces[name] ?? {}), "kubernetes.io/metadata.name": name };
}

function peerMatches(peer: Peer, policyNamespace: string, endpoint: Endpoint, namespaces: Namespaces): boolean {
    if (peer.ipBlock) {
        return inCidr(endpoint.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((cidr) => inCidr(endpoint.ip, cidr));
    }
    if (!isPod(endpoint)) return false;
    const namespaceOk = peer.namespaceSelector
        ? selectorMatches(peer.namespaceSelector, namespaceLabels(namespaces, endpoint.namespace))
        : endpoint.namespace === policyNamespace;
    const podOk = peer.podSelector ? selectorMatches(peer.podSelector, endpoint.labels) : true;
    return namespaceOk && podOk;
}

function portMatches(policyPort: PolicyPort, port: number, protocol: Protocol, destination: Endpoint): boolean {
    if ((policyPort.protocol ?? "TCP") !== protocol) return false;
    if (policyPort.port === undefined) return true;
    if (typeof policyPort.port === "number") {
        return policyPort.endPort === undefined ? port === policyPort.port : port >= policyPort.port && port <= policyPort.endPort;
    }
    // A named port is the destination pod's container port of that name and protocol.
    if (!isPod(destination)) return false;
    return (destination.ports ?? []).some((p) => p.name === policyPort.port && p.containerPort === port && (p.protocol ?? "TCP") === protocol);
}

function ruleMatches(rule: Rule, peers: Peer[] | undefined, policyNamespace: string, peer: Endpoint, c: Connection, namespaces: Namespaces) {
    const protocol = c.protocol ?? "TCP";
    const peerOk = !peers || peers.length === 0 || peers.some((p) => peerMatches(p, policyNamespace, peer, namespaces));
    const portOk = !rule.ports || rule.ports.length === 0 || rule.ports.some((p) => portMatches(p, c.port, protocol, c.to));
    return peerOk && portOk;
}

function policyTypes(policy: NetworkPolicy): string[] {
    return policy.spec.policyTypes ?? (policy.spec.egress ? ["Ingress", "Egress"] : ["Ingress"]);
}

/** Whether `direction` of the connection is allowed on `pod`'s side (its egress for the source, ingress for the destination). */
function sideAllowed(policies: NetworkPolicy[], namespaces: Namespaces, pod: PodEndpoint, direction: "Ingress" | "Egress", c: Connection): boolean {
    const selecting = policies.filter(
        (p) =>
            p.kind === "NetworkPolicy" &&
            (p.metadata.namespace ?? "default") === pod.namespace &&
            selectorMatches(p.spec.podSelector, pod.labels) &&
            policyTypes(p).includes(direction),
    );
    if (selecting.length === 0) return true; // not isolated
    const peer = direction === "Ingress" ? c.from : c.to;
    return selecting.some((policy) => {
        const rules = (direction === "Ingress" ? policy.spec.ingress : policy.spec.egress) ?? [];
        return rules.some((rule) => ruleMatches(rule, direction === "Ingress" ? rule.from : rule.to, pod.namespace, peer, c, namespaces));
    });
}

/** Whether the policies let the connection through: the source pod's egress and the destination pod's ingress. */
export function isAllowed(policies: NetworkPolicy[], namespaces: Namespaces, connection: Connection): boolean {
    const { from, to } = connection;
    const egressOk = !isPod(from) || sideAllowed(policies, namespaces, from, "Egress", connection);
    const ingressOk = !isPod(to) || sideAllowed(policies, namespaces, to, "Ingress", connection);
    return egressOk && ingressOk;
}
