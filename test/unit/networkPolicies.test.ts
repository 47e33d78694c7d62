/**
 * What the rendered NetworkPolicies of an AKS environment allow, as connections: the rendered objects (gateway and
 * two models) run through a NetworkPolicy evaluator (test/helpers/networkPolicy.ts), itself tested first on
 * hand-written policies.
 */
import { DEFAULT_DENY_POLICY_NAME, KubernetesObject, renderKubernetesManifests } from "../../components/render/kubernetes";
import { findObject, kubernetesSchemaErrors } from "../helpers/kubernetesSchema";
import { testModel } from "../helpers/models";
import { Connection, Endpoint, isAllowed, NetworkPolicy, PodEndpoint } from "../helpers/networkPolicy";

describe("the NetworkPolicy evaluator", () => {
    const web: PodEndpoint = { namespace: "a", labels: { app: "web" }, ip: "10.244.0.1", ports: [{ name: "http", containerPort: 8080 }] };
    const db: PodEndpoint = { namespace: "a", labels: { app: "db" }, ip: "10.244.0.2", ports: [{ name: "sql", containerPort: 5432 }] };
    const elsewhere: PodEndpoint = { namespace: "b", labels: { app: "web" }, ip: "10.244.1.1" };
    const policy = (name: string, spec: NetworkPolicy["spec"]): NetworkPolicy => ({
        kind: "NetworkPolicy",
        metadata: { name, namespace: "a" },
        spec,
    });
    const dbFromWeb = policy("db", {
        podSelector: { matchLabels: { app: "db" } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: "sql" }] }],
    });

    test("without a policy selecting them, pods talk freely", () => {
        expect(isAllowed([], {}, { from: web, to: db, port: 1234 })).toBe(true);
    });

    test("an ingress policy lets in only its peers (same namespace) on the named port, and leaves egress open", () => {
        expect(isAllowed([dbFromWeb], {}, { from: web, to: db, port: 5432 })).toBe(true);
        expect(isAllowed([dbFromWeb], {}, { from: web, to: db, port: 5433 })).toBe(false);
        expect(isAllowed([dbFromWeb], {}, { from: web, to: db, port: 5432, protocol: "UDP" })).toBe(false);
        expect(isAllowed([dbFromWeb], {}, { from: elsewhere, to: db, port: 5432 })).toBe(false);
        expect(isAllowed([dbFromWeb], {}, { from: db, to: { ip: "1.1.1.1" }, port: 443 })).toBe(true);
    });

    test("a named port that the destination pod does not have matches nothing", () => {
        const webFromAnyone = policy("web", { podSelector: { matchLabels: { app: "web" } }, ingress: [{ ports: [{ port: "sql" }] }] });
        expect(isAllowed([webFromAnyone], {}, { from: db, to: web, port: 5432 })).toBe(false);
        expect(isAllowed([webFromAnyone], {}, { from: db, to: web, port: 8080 })).toBe(false);
    });

    test("namespaceSelector and podSelector in one peer must both match; in two peers either does", () => {
        const both = policy("both", {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } }, podSelector: { matchLabels: { app: "api" } } }] }],
        });
        const either = policy("either", {
            podSelector: {},
            policyTypes: ["Ingress"],
            ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } } }, { podSelector: { matchLabels: { app: "api" } } }] }],
        });
        expect(isAllowed([both], { b: { team: "b" } }, { from: elsewhere, to: db, port: 1 })).toBe(false);
        expect(isAllowed([either], { b: { team: "b" } }, { from: elsewhere, to: db, port: 1 })).toBe(true);
    });

    test("an egress ipBlock allows its range minus the exceptions, and a policy with no rules denies all", () => {
        const out = policy("out", {
            podSelector: {},
            policyTypes: ["Egress"],
            egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] } }], ports: [{ protocol: "TCP", port: 443 }] }],
        });
        expect(isAllowed([out], {}, { from: web, to: { ip: "1.1.1.1" }, port: 443 })).toBe(true);
        expect(isAllowed([out], {}, { from: web, to: { ip: "169.254.169.254" }, port: 443 })).toBe(false);
        expect(isAllowed([out], {}, { from: web, to: { ip: "1.1.1.1" }, port: 80 })).toBe(false);
        const deny = policy("deny", { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        expect(isAllowed([deny], {}, { from: web, to: { ip: "1.1.1.1" }, port: 443 })).toBe(false);
        expect(isAllowed([deny], {}, { from: { ip: "1.1.1.1" }, to: web, port: 8080 })).toBe(false);
    });

    test("policyTypes left out means Ingress, plus Egress when there are egress rules", () => {
        const implicit = policy("implicit", { podSelector: { matchLabels: { app: "web" } }, egress: [] });
        expect(isAllowed([implicit], {}, { from: web, to: { ip: "1.1.1.1" }, port: 443 })).toBe(false);
        expect(isAllowed([implicit], {}, { from: db, to: web, port: 8080 })).toBe(false);
    });
});

describe("what the rendered NetworkPolicies of an AKS environment allow", () => {
    const fetcher = testModel("fetcher", { egress: "internet" }); // port 8000, no public Service
    const hello = testModel("hello", { port: 8123 }); // default egress, public LoadBalancer
    const objects: KubernetesObject[] = renderKubernetesManifests({
        namespace: "models",
        models: [fetcher, hello],
        images: { fetcher: `acr.example/fetcher@sha256:${"a".repeat(64)}`, hello: `acr.example/hello@sha256:${"b".repeat(64)}` },
        loadBalancedModels: ["hello"],
        gateway: { tlsCert: "cert", tlsKey: "key", htpasswd: "alice:x\n" },
    });
    const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as NetworkPolicy[];

    /** A pod of a rendered Deployment, as the evaluator sees it. */
    const podOf = (deployment: string, ip: string): PodEndpoint => {
        const { metadata, spec } = findObject(objects, "Deployment", deployment).spec.template;
        return { namespace: "models", labels: metadata.labels, ip, ports: spec.containers.flatMap((c: { ports: [] }) => c.ports) };
    };
    const pods = {
        gateway: podOf("gateway", "10.244.0.10"),
        fetcher: podOf("fetcher", "10.244.0.20"),
        hello: podOf("hello", "10.244.1.30"),
        kubeDns: {
            namespace: "kube-system",
            labels: { "k8s-app": "kube-dns" },
            ip: "10.244.2.2",
            ports: [
                { name: "dns", containerPort: 53, protocol: "UDP" },
                { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
            ],
        },
        // Labelled like the gateway, in the hub's namespace: the trust boundary is who may create pods there.
        sameNamespaceAsGateway: {
            namespace: "models",
            labels: findObject(objects, "Deployment", "gateway").spec.template.metadata.labels,
            ip: "10.244.0.11",
        },
        // Labelled like the gateway, in another namespace (e.g. a team's): the label alone must not open the models.
        otherNamespace: { namespace: "team-b", labels: findObject(objects, "Deployment", "gateway").spec.template.metadata.labels, ip: "10.244.3.3" },
    };
    const internet: Endpoint = { ip: "203.0.113.7" };
    const address = (ip: string): Endpoint => ({ ip });
    const namespaces = { models: {}, "kube-system": {}, "team-b": {} };

    const cases: [string, "allowed" | "denied", Connection][] = [
        ["internet → gateway https (8443)", "allowed", { from: internet, to: pods.gateway, port: 8443 }],
        ["internet → gateway http (8080)", "allowed", { from: internet, to: pods.gateway, port: 8080 }],
        ["internet → gateway on another port", "denied", { from: internet, to: pods.gateway, port: 9113 }],
        ["internet → model without a public Service", "denied", { from: internet, to: pods.fetcher, port: 8000 }],
        ["internet → model with a public Service, on its http port", "allowed", { from: internet, to: pods.hello, port: 8123 }],
        ["internet → model with a public Service, on another port", "denied", { from: internet, to: pods.hello, port: 8000 }],
        ["gateway → model on its http port", "allowed", { from: pods.gateway, to: pods.fetcher, port: 8000 }],
        ["gateway → other model on its http port", "allowed", { from: pods.gateway, to: pods.hello, port: 8123 }],
        ["gateway → model on another port", "denied", { from: pods.gateway, to: pods.fetcher, port: 9000 }],
        ["gateway → kube-dns 53/UDP", "allowed", { from: pods.gateway, to: pods.kubeDns, port: 53, protocol: "UDP" }],
        ["gateway → instance metadata", "denied", { from: pods.gateway, to: address("169.254.169.254"), port: 80 }],
        ["gateway → internet", "denied", { from: pods.gateway, to: address("1.1.1.1"), port: 443 }],
        ["model → model", "denied", { from: pods.fetcher, to: pods.hello, port: 8123 }],
        ["model (no egress) → model", "denied", { from: pods.hello, to: pods.fetcher, port: 8000 }],
        ["model → gateway", "denied", { from: pods.fetcher, to: pods.gateway, port: 8443 }],
        ["model → kube-dns 53/UDP", "allowed", { from: pods.hello, to: pods.kubeDns, port: 53, protocol: "UDP" }],
        ["model → kube-dns 53/TCP", "allowed", { from: pods.hello, to: pods.kubeDns, port: 53, protocol: "TCP" }],
        ["model (no egress) → instance metadata", "denied", { from: pods.hello, to: address("169.254.169.254"), port: 80 }],
        ["model (internet egress) → instance metadata", "denied", { from: pods.fetcher, to: address("169.254.169.254"), port: 80 }],
        ["model (internet egress) → Azure wireserver", "denied", { from: pods.fetcher, to: address("168.63.129.16"), port: 80 }],
        ["model (internet egress) → a private address", "denied", { from: pods.fetcher, to: address("10.0.0.1"), port: 443 }],
        ["model (internet egress) → 1.1.1.1:443", "allowed", { from: pods.fetcher, to: address("1.1.1.1"), port: 443 }],
        ["model (no egress) → 1.1.1.1:443", "denied", { from: pods.hello, to: address("1.1.1.1"), port: 443 }],
        ["another namespace's pod, labelled as the gateway → model", "denied", { from: pods.otherNamespace, to: pods.fetcher, port: 8000 }],
        [
            "a hub-namespace pod labelled as the gateway → model (trusted: whoever may create pods in the hub namespace is inside the trust boundary)",
            "allowed",
            { from: pods.sameNamespaceAsGateway, to: pods.fetcher, port: 8000 },
        ],
    ];

    test.each(cases)("%s: %s", (_, verdict, connection) => {
        expect(isAllowed(policies, namespaces, connection) ? "allowed" : "denied").toBe(verdict);
    });

    test("any pod of the namespace that may connect out reaches a model with a public Service on http (public anyway), not a model without one", () => {
        const debug: PodEndpoint = { namespace: "models", labels: { app: "debug" }, ip: "10.244.0.98" };
        // A policy a user adds so the pod may connect out at all (default-deny blocks it otherwise).
        const openEgress: NetworkPolicy = {
            kind: "NetworkPolicy",
            metadata: { name: "debug-out", namespace: "models" },
            spec: { podSelector: { matchLabels: { app: "debug" } }, policyTypes: ["Egress"], egress: [{}] },
        };
        const withOpenEgress = [...policies, openEgress];
        expect(isAllowed(withOpenEgress, namespaces, { from: debug, to: pods.hello, port: 8123 })).toBe(true);
        expect(isAllowed(withOpenEgress, namespaces, { from: debug, to: pods.fetcher, port: 8000 })).toBe(false);
    });

    test("every pod of the namespace is isolated: a pod no other policy selects gets nothing in or out", () => {
        const stray: PodEndpoint = {
            namespace: "models",
            labels: { app: "debug" },
            ip: "10.244.0.99",
            ports: [{ name: "http", containerPort: 8000 }],
        };
        expect(isAllowed(policies, namespaces, { from: pods.gateway, to: stray, port: 8000 })).toBe(false);
        expect(isAllowed(policies, namespaces, { from: stray, to: address("1.1.1.1"), port: 443 })).toBe(false);
        expect(isAllowed(policies, namespaces, { from: stray, to: pods.kubeDns, port: 53, protocol: "UDP" })).toBe(false);
    });

    test("the policies are the namespace's default-deny, the gateway's ingress and egress and one per model, all schema-valid", async () => {
        expect(policies.map((p) => p.metadata.name)).toEqual([
            "model-fetcher",
            "model-hello",
            DEFAULT_DENY_POLICY_NAME,
            "gateway-ingress",
            "gateway-egress",
        ]);
        expect(findObject(objects, "NetworkPolicy", DEFAULT_DENY_POLICY_NAME).spec).toEqual({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        expect(await kubernetesSchemaErrors(policies)).toEqual([]);
    });
});
