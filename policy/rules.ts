/**
 * The rules of the plumberhub policy pack as plain functions `(resource) → violation messages` (and, for what needs
 * the whole stack, `(resources) → violations`), so they are unit-tested without the policy runtime;
 * `asResourcePolicy` and `asStackPolicy` wrap them for `@pulumi/policy` (see index.ts).
 *
 * How the rules recognise plumberhub's parts — the components label their resources this way:
 * - Kubernetes: `metadata.labels["app.kubernetes.io/component"]` is `gateway` on every gateway object
 *   (ConfigMap with `nginx.conf`, Deployment, LoadBalancer Service) and `model` on model objects.
 * - Swarm: the label `org.plumberhub.role` (`ROLE_LABEL`) is `gateway`, `edge`, `model` or `registry` on services,
 *   configs and secrets; the gateway's nginx configuration is the gateway-labelled `docker.ServiceConfig`
 *   whose swarm name contains `nginx.conf` (names are `{prefix}-nginx.conf-{content hash}`).
 *
 * During `pulumi preview` a value that is not known yet (an image digest computed by the build) makes the
 * policy runtime skip the check for that resource instead of failing it.
 */
import type {
    PolicyResourceOptions,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { isPinnedByDigest } from "../components/config/image";
import { DEFAULT_DENY_POLICY_NAME } from "../components/render/kubernetes/objects";
import { ROLE_LABEL } from "../components/render/swarm/plan";

/**
 * The part of a resource a rule reads: Pulumi type token, Pulumi resource name, properties (inputs for a resource
 * rule, outputs for a stack rule), and, when the engine sent them, resource options and URN.
 */
export interface PolicyResource {
    type: string;
    name: string;
    props: Record<string, any>;
    /**
     * The resource options the engine tells a policy pack about. `protect` is there; `retainOnDelete` is not (the
     * analyzer protocol does not carry it), so no rule can see it.
     */
    opts?: Partial<Pick<PolicyResourceOptions, "protect">>;
    /** Where a stack rule's violation is shown. */
    urn?: string;
}

/** A rule: a stable name, what it asks for, and its check. */
export interface PolicyRule {
    name: string;
    description: string;
    validate: (resource: PolicyResource) => string[];
}

/** One violation of a stack rule, shown on `resource` (on the stack when absent). */
export interface StackViolation {
    message: string;
    resource?: PolicyResource;
}

/** A rule about the stack as a whole: it sees every resource (with its outputs) at once. */
export interface StackPolicyRule {
    name: string;
    description: string;
    validate: (resources: PolicyResource[]) => StackViolation[];
}

/** Kubernetes label that says which plumberhub part an object belongs to (`gateway` or `model`). */
export const KUBERNETES_COMPONENT_LABEL = "app.kubernetes.io/component";
/** Swarm label with the same meaning (`gateway`, `model` or `registry`). */
export const SWARM_ROLE_LABEL = ROLE_LABEL;

export const TYPES = {
    deployment: "kubernetes:apps/v1:Deployment",
    kubernetesService: "kubernetes:core/v1:Service",
    configMap: "kubernetes:core/v1:ConfigMap",
    swarmService: "docker:index/service:Service",
    swarmConfig: "docker:index/serviceConfig:ServiceConfig",
    networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    resourceGroup: "azure-native:resources:ResourceGroup",
    managedCluster: "azure-native:containerservice:ManagedCluster",
    agentPool: "azure-native:containerservice:AgentPool",
    registry: "azure-native:containerregistry:Registry",
} as const;

function kubernetesLabels(props: Record<string, any>): Record<string, string> {
    return props.metadata?.labels ?? {};
}

/** Docker's label list (`[{ label, value }]`) as a record. */
function swarmLabels(props: Record<string, any>): Record<string, string> {
    const list: { label: string; value: string }[] = props.labels ?? [];
    return Object.fromEntries(list.map(({ label, value }) => [label, value]));
}

/** Containers and init containers of a Deployment's pod template, with the field path used in messages. */
function podContainers(props: Record<string, any>): { name: string; container: Record<string, any> }[] {
    const spec = props.spec?.template?.spec ?? {};
    return [
        ...(spec.initContainers ?? []).map((container: any) => ({ name: `init container "${container.name}"`, container })),
        ...(spec.containers ?? []).map((container: any) => ({ name: `container "${container.name}"`, container })),
    ];
}

/**
 * The gateway (with its edge on swarm) and the registry are the platform's own services, pinned by tag to public
 * images and sized by the platform team; the digest and limits rules are about model workloads (and anything else
 * unlabelled).
 */
function isPlatformService(type: string, props: Record<string, any>): boolean {
    const role = type === TYPES.deployment ? kubernetesLabels(props)[KUBERNETES_COMPONENT_LABEL] : swarmLabels(props)[SWARM_ROLE_LABEL];
    return role === "gateway" || role === "edge" || role === "registry";
}

// ---------------------------------------------------------------------------------------------
// Images by digest

/** Every model Deployment container and swarm service runs an image pinned by digest (`…@sha256:<64 hex>`). */
export function imagesByDigest({ type, name, props }: PolicyResource): string[] {
    if (isPlatformService(type, props)) return [];
    const problem = (what: string, image: unknown) =>
        `${what} uses image ${JSON.stringify(image ?? null)}, which is not pinned by digest: use "registry/repository@sha256:<64 hex digits>" (ModelImage's \`repoDigest\`), so every replica and every rollback runs the same bytes`;
    if (type === TYPES.deployment) {
        return podContainers(props)
            .filter(({ container }) => !isPinnedByDigest(container.image))
            .map(({ name: what, container }) => problem(`${what} of Deployment "${name}"`, container.image));
    }
    if (type === TYPES.swarmService) {
        const image = props.taskSpec?.containerSpec?.image;
        return isPinnedByDigest(image) ? [] : [problem(`swarm service "${name}"`, image)];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------
// CPU and memory limits

/** Every model Deployment container sets `resources.limits.cpu` and `.memory`; every model swarm service sets NanoCPUs and memory limits. */
export function resourceLimitsSet({ type, name, props }: PolicyResource): string[] {
    if (isPlatformService(type, props)) return [];
    if (type === TYPES.deployment) {
        return podContainers(props).flatMap(({ name: what, container }) => {
            const limits = container.resources?.limits ?? {};
            const missing = ["cpu", "memory"].filter((key) => limits[key] === undefined || limits[key] === null || limits[key] === "");
            return missing.length === 0
                ? []
                : [
                      `${what} of Deployment "${name}" sets no ${missing.map((key) => `\`resources.limits.${key}\``).join(" and ")}: one busy R process must not starve the node`,
                  ];
        });
    }
    if (type === TYPES.swarmService) {
        const limits = props.taskSpec?.resources?.limits ?? {};
        const missing = ["nanoCpus", "memoryBytes"].filter((key) => !(typeof limits[key] === "number" && limits[key] > 0));
        return missing.length === 0
            ? []
            : [
                  `swarm service "${name}" sets no ${missing.map((key) => `\`taskSpec.resources.limits.${key}\``).join(" and ")}: one busy R process must not starve the node`,
              ];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------
// Gateway TLS

/** One nginx directive: name, arguments, and its block when it has one. */
interface NginxDirective {
    name: string;
    args: string[];
    block?: NginxDirective[];
}

/** Words, quoted strings and `{ } ;` of an nginx configuration; `#` comments dropped. */
function nginxTokens(text: string): string[] {
    const tokens: string[] = [];
    let i = 0;
    while (i < text.length) {
        const c = text[i];
        if (/\s/.test(c)) i++;
        else if (c === "#") while (i < text.length && text[i] !== "\n") i++;
        else if (c === "{" || c === "}" || c === ";") tokens.push(text[i++]);
        else if (c === '"' || c === "'") {
            let j = i + 1;
            while (j < text.length && text[j] !== c) j += text[j] === "\\" ? 2 : 1;
            tokens.push(text.slice(i + 1, j));
            i = j + 1;
        } else {
            let j = i;
            while (j < text.length && !/[\s{};]/.test(text[j])) j++;
            tokens.push(text.slice(i, j));
            i = j;
            // `*_by_lua_block { … }` holds Lua, not nginx syntax (`#` is Lua's length operator): kept as an empty block.
            if (/_by_lua_block$/.test(tokens[tokens.length - 1])) {
                while (i < text.length && /\s/.test(text[i])) i++;
                if (text[i] === "{") {
                    tokens.push("{", "}");
                    i = luaBlockEnd(text, i + 1);
                }
            }
        }
    }
    return tokens;
}

/** Index after the `}` closing a Lua block whose `{` is just before `start`: braces in Lua strings and comments skipped. */
function luaBlockEnd(text: string, start: number): number {
    let depth = 1;
    let i = start;
    const longBracket = (at: number) => /^\[=*\[/.exec(text.slice(at, at + 64))?.[0];
    const skipLong = (at: number, open: string) => {
        const close = text.indexOf(`]${"=".repeat(open.length - 2)}]`, at + open.length);
        if (close < 0) throw new Error("missing `]]` in a Lua block");
        return close + open.length;
    };
    while (i < text.length) {
        const c = text[i];
        if (c === "-" && text[i + 1] === "-") {
            const open = longBracket(i + 2);
            if (open) i = skipLong(i + 2, open);
            else while (i < text.length && text[i] !== "\n") i++;
        } else if (c === '"' || c === "'") {
            let j = i + 1;
            while (j < text.length && text[j] !== c && text[j] !== "\n") j += text[j] === "\\" ? 2 : 1;
            i = j + 1;
        } else if (c === "[" && longBracket(i)) {
            i = skipLong(i, longBracket(i)!);
        } else {
            if (c === "{") depth++;
            if (c === "}" && --depth === 0) return i + 1;
            i++;
        }
    }
    throw new Error("missing `}` after a Lua block");
}

/** Parses an nginx configuration into directives; throws on unbalanced braces. */
export function parseNginxConfig(text: string): NginxDirective[] {
    const tokens = nginxTokens(text);
    let at = 0;
    const parseBlock = (nested: boolean): NginxDirective[] => {
        const directives: NginxDirective[] = [];
        let words: string[] = [];
        while (at < tokens.length) {
            const token = tokens[at++];
            if (token === ";") {
                if (words.length > 0) directives.push({ name: words[0], args: words.slice(1) });
                words = [];
            } else if (token === "{") {
                directives.push({ name: words[0] ?? "", args: words.slice(1), block: parseBlock(true) });
                words = [];
            } else if (token === "}") {
                if (!nested) throw new Error("unexpected `}`");
                return directives;
            } else words.push(token);
        }
        if (nested) throw new Error("missing `}`");
        return directives;
    };
    return parseBlock(false);
}

/** All directives named `name` at any depth. */
function findAll(directives: NginxDirective[], name: string): NginxDirective[] {
    return directives.flatMap((d) => [...(d.name === name ? [d] : []), ...findAll(d.block ?? [], name)]);
}

/**
 * What is wrong with a gateway nginx configuration, TLS-wise: it must have a server listening with `ssl`
 * (with `ssl_certificate` and `ssl_certificate_key`), and a plain-HTTP server may only redirect to HTTPS
 * (it may not proxy to models or check passwords, which would cross the network in clear text).
 */
export function nginxTlsProblems(text: string): string[] {
    let config: NginxDirective[];
    try {
        config = parseNginxConfig(text);
    } catch (error) {
        return [`cannot be parsed (${(error as Error).message})`];
    }
    const problems: string[] = [];
    const servers = findAll(config, "server").filter((d) => d.block !== undefined);
    const inherited = (name: string) => config.some((d) => d.name === "http" && (d.block ?? []).some((inner) => inner.name === name));
    const tlsServers = servers.filter((s) => (s.block ?? []).some((d) => d.name === "listen" && d.args.includes("ssl")));
    if (tlsServers.length === 0) problems.push("has no server with `listen … ssl`: the gateway must serve HTTPS");
    for (const server of tlsServers) {
        const missing = ["ssl_certificate", "ssl_certificate_key"].filter(
            (name) => !(server.block ?? []).some((d) => d.name === name) && !inherited(name),
        );
        const listen = (server.block ?? []).find((d) => d.name === "listen")!;
        if (missing.length > 0) problems.push(`server \`listen ${listen.args.join(" ")}\` sets no ${missing.map((m) => `\`${m}\``).join(" and ")}`);
    }
    for (const server of servers.filter((s) => !tlsServers.includes(s))) {
        const block = server.block ?? [];
        const listens = block.filter((d) => d.name === "listen").map((d) => `\`listen ${d.args.join(" ")}\``);
        const where = `plain-HTTP server ${listens.length > 0 ? listens.join(", ") : "`listen 80`"}`;
        const passwords = findAll(block, "auth_basic").some((d) => d.args[0] !== "off");
        for (const bad of ["proxy_pass", "fastcgi_pass", "uwsgi_pass", "grpc_pass"].filter((name) => findAll(block, name).length > 0)) {
            problems.push(`${where} forwards requests (\`${bad}\`): plain HTTP may only redirect to HTTPS`);
        }
        if (passwords) problems.push(`${where} asks for passwords (\`auth_basic\`): they would cross the network in clear text`);
        const redirects = findAll(block, "return").some((d) => /^30[1278]$/.test(d.args[0] ?? "") && (d.args[1] ?? "").startsWith("https://"));
        if (!redirects) problems.push(`${where} does not redirect to HTTPS (\`return 301 https://…\`)`);
    }
    return problems;
}

/** The gateway's nginx configuration (Kubernetes ConfigMap key `nginx.conf`, or the swarm config) listens with TLS. */
export function gatewayTlsOn({ type, name, props }: PolicyResource): string[] {
    let text: unknown;
    let what: string;
    if (type === TYPES.configMap && kubernetesLabels(props)[KUBERNETES_COMPONENT_LABEL] === "gateway" && props.data?.["nginx.conf"] !== undefined) {
        text = props.data["nginx.conf"];
        what = `gateway ConfigMap "${name}" (\`nginx.conf\`)`;
    } else if (
        type === TYPES.swarmConfig &&
        swarmLabels(props)[SWARM_ROLE_LABEL] === "gateway" &&
        String(props.name ?? name).includes("nginx.conf")
    ) {
        // docker.ServiceConfig `data` is base64.
        text = typeof props.data === "string" ? Buffer.from(props.data, "base64").toString("utf8") : props.data;
        what = `gateway swarm config "${name}"`;
    } else {
        return [];
    }
    if (typeof text !== "string") return [`${what} has no nginx configuration text`];
    return nginxTlsProblems(text).map((problem) => `${what} ${problem}`);
}

// ---------------------------------------------------------------------------------------------
// No model exposed without the gateway's authentication

/**
 * Only the gateway (TLS + basic auth) faces the outside: a Kubernetes `LoadBalancer` Service that is not
 * labelled as the gateway, or a swarm model service that publishes ports, would expose plumber without auth.
 */
export function noUnauthenticatedExposure({ type, name, props }: PolicyResource): string[] {
    if (type === TYPES.kubernetesService && props.spec?.type === "LoadBalancer") {
        if (kubernetesLabels(props)[KUBERNETES_COMPONENT_LABEL] === "gateway") return [];
        return [
            `Service "${name}" is of type LoadBalancer but is not the gateway (label \`${KUBERNETES_COMPONENT_LABEL}: gateway\`): it would expose its pods without the gateway's TLS and authentication; use type ClusterIP and reach the model through the gateway`,
        ];
    }
    if (type === TYPES.swarmService && swarmLabels(props)[SWARM_ROLE_LABEL] === "model") {
        const published = (props.endpointSpec?.ports ?? []).filter((port: any) => port.publishedPort !== undefined && port.publishedPort !== null);
        if (published.length === 0) return [];
        const ports = published.map((port: any) => port.publishedPort).join(", ");
        return [
            `swarm model service "${name}" publishes port(s) ${ports}: it would be reachable without the gateway's TLS and authentication; publish nothing and reach the model through the gateway`,
        ];
    }
    return [];
}

// ---------------------------------------------------------------------------------------------
// Azure: no shared secrets, zones, state kept

/** The ACR registry has no admin user: pushes exchange an Entra ID token, nodes pull with the kubelet identity. */
export function registryAdminUserOff({ type, name, props }: PolicyResource): string[] {
    if (type !== TYPES.registry || props.adminUserEnabled !== true) return [];
    return [
        `ACR registry "${name}" enables the admin user (\`adminUserEnabled: true\`): one shared password that can push and pull every repository; set \`adminUserEnabled: false\` and push with an Entra ID token (pulls use the kubelet identity's AcrPull role)`,
    ];
}

/** The AKS cluster takes no local accounts and authorizes Kubernetes requests with Entra ID and Azure RBAC. */
export function clusterEntraOnly({ type, name, props }: PolicyResource): string[] {
    if (type !== TYPES.managedCluster) return [];
    const problems: string[] = [];
    if (props.disableLocalAccounts !== true) {
        problems.push(
            `AKS cluster "${name}" keeps its local accounts (\`disableLocalAccounts\` is not true): the admin kubeconfig (listClusterAdminCredential) bypasses Entra ID and Azure RBAC; set \`disableLocalAccounts: true\``,
        );
    }
    const off = ["managed", "enableAzureRBAC"].filter((key) => props.aadProfile?.[key] !== true).map((key) => `\`aadProfile.${key}\``);
    if (off.length > 0) {
        problems.push(
            `AKS cluster "${name}" does not authorize with Entra ID and Azure RBAC (${off.join(" and ")} not true): set \`aadProfile: { managed: true, enableAzureRBAC: true }\` and grant access with the "Azure Kubernetes Service RBAC …" roles`,
        );
    }
    return problems;
}

/** An AKS node pool as a rule sees it: where it is declared (for messages) and its properties. */
interface NodePoolOf {
    where: string;
    pool: Record<string, any>;
}

/** The node pools a resource declares: a cluster's `agentPoolProfiles`, or an `AgentPool` resource itself. */
function nodePools({ type, name, props }: PolicyResource): NodePoolOf[] {
    if (type === TYPES.managedCluster) {
        const pools: Record<string, any>[] = props.agentPoolProfiles ?? [];
        return pools.map((pool) => ({ where: `node pool "${pool.name}" of AKS cluster "${name}"`, pool }));
    }
    if (type === TYPES.agentPool) return [{ where: `AKS node pool "${props.agentPoolName ?? name}" (AgentPool "${name}")`, pool: props }];
    return [];
}

/** How to lower a rule that a stack cannot meet, in the pack's config. */
const lowerInPackConfig = (rule: string) =>
    `lower this policy in the pack's config instead: {"${rule}": "advisory"} (\`pulumi … --policy-pack-config\`, pulumi/actions \`policyPackConfigs\`)`;

/** Name of the zones rule: a region without zones sets its enforcement level in the pack's config. */
export const ZONES_RULE = "plumberhub-aks-availability-zones";

/** Every AKS node pool (in the cluster or an `AgentPool`) spreads over availability zones. */
export function nodePoolsZonal(resource: PolicyResource): string[] {
    return nodePools(resource)
        .filter(({ pool }) => !(Array.isArray(pool.availabilityZones) && pool.availabilityZones.length > 0))
        .map(
            ({ where }) =>
                `${where} sets no \`availabilityZones\`: all its nodes can sit in one zone and fail with it; spread it over the region's zones (e.g. ["1", "2", "3"]). In a region without zones, ${lowerInPackConfig(ZONES_RULE)}`,
        );
}

/** Name of the pool sizes rule: a test cluster with one-node pools sets its enforcement level in the pack's config. */
export const POOL_SIZES_RULE = "plumberhub-aks-pool-sizes";
/** Fewest nodes a pool may keep: one node's loss or upgrade then leaves capacity. */
export const MIN_POOL_NODES = 2;

/** Every AKS node pool keeps at least `MIN_POOL_NODES` nodes (`minCount` with the autoscaler, else `count`). */
export function nodePoolsSized(resource: PolicyResource): string[] {
    return nodePools(resource).flatMap(({ where, pool }) => {
        const field = pool.enableAutoScaling === true ? "minCount" : "count";
        const size: unknown = pool[field];
        if (typeof size === "number" && size >= MIN_POOL_NODES) return [];
        return [
            `${where} may shrink to ${JSON.stringify(size ?? null)} node(s) (\`${field}\`): losing or upgrading one node leaves it without capacity; set \`${field}\` to at least ${MIN_POOL_NODES} (plumberhub: \`plumberhub:aks.systemPool\` / \`userPool\` \`minCount\`). For a test cluster, ${lowerInPackConfig(POOL_SIZES_RULE)}`,
        ];
    });
}

/** The stateful Azure resources and what `pulumi destroy` or a replacement would take with them. */
const STATEFUL: Record<string, { what: string; loses: string }> = {
    [TYPES.resourceGroup]: { what: "resource group", loses: "it and everything in it" },
    [TYPES.managedCluster]: { what: "AKS cluster", loses: "the cluster and every workload on it" },
    [TYPES.registry]: { what: "ACR registry", loses: "the registry and every image in it" },
};

/**
 * The resource group, the AKS cluster and the ACR registry are protected. Only `protect` counts: the pack cannot see
 * `retainOnDelete` (see `PolicyResource.opts`), so a registry that should outlive its stack sets both.
 */
export function stateProtected({ type, name, opts }: PolicyResource): string[] {
    const stateful = STATEFUL[type];
    if (stateful === undefined || opts?.protect === true) return [];
    const retain = type === TYPES.registry ? " (`retainOnDelete` alone does not count: policy packs cannot see it)" : "";
    return [
        `${stateful.what} "${name}" is not protected: \`pulumi destroy\` or a replacement would delete ${stateful.loses}; set the resource option \`protect: true\`${retain} (plumberhub: \`plumberhub:protectState\`, on by default)`,
    ];
}

// ---------------------------------------------------------------------------------------------
// Kubernetes: the hub's namespace denies all traffic by default, every model is isolated

/** What keeps a NetworkPolicy from denying all traffic of every pod in its namespace. */
function defaultDenyProblems(props: Record<string, any>): string[] {
    const spec = props.spec ?? {};
    const selector = spec.podSelector;
    const problems: string[] = [];
    const selectsAll =
        selector !== undefined &&
        selector !== null &&
        Object.keys(selector.matchLabels ?? {}).length === 0 &&
        (selector.matchExpressions ?? []).length === 0;
    if (!selectsAll) problems.push("`spec.podSelector` must be {} (every pod of the namespace)");
    const types: unknown[] = spec.policyTypes ?? [];
    const missing = ["Ingress", "Egress"].filter((t) => !types.includes(t));
    if (missing.length > 0) problems.push(`\`spec.policyTypes\` lacks ${missing.join(" and ")}`);
    for (const direction of ["ingress", "egress"].filter((key) => (spec[key] ?? []).length > 0)) {
        problems.push(`\`spec.${direction}\` has rules, which a default-deny policy may not have`);
    }
    return problems;
}

const namespaceOf = (resource: PolicyResource): string => resource.props.metadata?.namespace ?? "default";
const withComponent = (resources: PolicyResource[], component: string) =>
    resources.filter((r) => r.type === TYPES.deployment && kubernetesLabels(r.props)[KUBERNETES_COMPONENT_LABEL] === component);

/**
 * Every namespace where the stack runs the plumberhub gateway (the hub's namespace) has a NetworkPolicy `default-deny`
 * (podSelector {}, policyTypes Ingress and Egress, no rules), so a pod gets only the traffic the gateway's and the
 * models' own policies allow. A team stack, which adds models to a hub's namespace, finds it there.
 */
export function hubNamespacesDenyByDefault(resources: PolicyResource[]): StackViolation[] {
    const denies = resources.filter((r) => r.type === TYPES.networkPolicy && r.props.metadata?.name === DEFAULT_DENY_POLICY_NAME);
    return withComponent(resources, "gateway").flatMap((gateway): StackViolation[] => {
        const namespace = namespaceOf(gateway);
        const deny = denies.find((policy) => namespaceOf(policy) === namespace);
        if (deny === undefined) {
            return [
                {
                    message: `namespace "${namespace}" runs the gateway Deployment "${gateway.name}" but has no NetworkPolicy "${DEFAULT_DENY_POLICY_NAME}": add one with \`podSelector: {}\`, \`policyTypes: [Ingress, Egress]\` and no rules, so a pod gets only the traffic the gateway's and the models' own policies allow`,
                    resource: gateway,
                },
            ];
        }
        const problems = defaultDenyProblems(deny.props);
        if (problems.length === 0) return [];
        return [
            {
                message: `NetworkPolicy "${DEFAULT_DENY_POLICY_NAME}" in namespace "${namespace}" (the gateway's) does not deny all traffic: ${problems.join("; ")}`,
                resource: deny,
            },
        ];
    });
}

/** Whether `policy` selects pods labelled `labels` (matchLabels only: plumberhub's policies use nothing else). */
function selects(policy: PolicyResource, labels: Record<string, string>): boolean {
    const selector = policy.props.spec?.podSelector;
    if (selector === undefined || selector === null || (selector.matchExpressions ?? []).length > 0) return false;
    return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

/**
 * Every model Deployment's pods are isolated both ways by a NetworkPolicy of the same stack (the model's own, or a
 * `default-deny`), wherever the model is deployed from: what reaches a model's plain-HTTP port is only the gateway.
 */
export function modelsIsolated(resources: PolicyResource[]): StackViolation[] {
    const policies = resources.filter((r) => r.type === TYPES.networkPolicy);
    return withComponent(resources, "model").flatMap((model): StackViolation[] => {
        const labels: Record<string, string> = model.props.spec?.template?.metadata?.labels ?? {};
        const isolating = policies.filter((policy) => namespaceOf(policy) === namespaceOf(model) && selects(policy, labels));
        const types = new Set(isolating.flatMap((policy): string[] => policy.props.spec?.policyTypes ?? []));
        const missing = ["Ingress", "Egress"].filter((t) => !types.has(t));
        if (missing.length === 0) return [];
        return [
            {
                message: `model Deployment "${model.name}" in namespace "${namespaceOf(model)}" has no NetworkPolicy isolating its pods for ${missing.join(" and ")}: any pod could reach its plain-HTTP port (or it could reach anything); deploy it with plumberhub's KubernetesModel, which renders one (\`model-{name}\`), or add a policy selecting its pods with \`policyTypes: [Ingress, Egress]\``,
                resource: model,
            },
        ];
    });
}

// ---------------------------------------------------------------------------------------------
// The pack

export const RULES: PolicyRule[] = [
    {
        name: "plumberhub-images-by-digest",
        description: "Deployment containers and swarm services run images pinned by digest (@sha256:…).",
        validate: imagesByDigest,
    },
    {
        name: "plumberhub-resource-limits",
        description: "Every container (Kubernetes) and every swarm service sets CPU and memory limits.",
        validate: resourceLimitsSet,
    },
    {
        name: "plumberhub-gateway-tls",
        description: "The gateway's nginx configuration serves HTTPS; plain HTTP only redirects.",
        validate: gatewayTlsOn,
    },
    {
        name: "plumberhub-no-unauthenticated-exposure",
        description: "Only the gateway is exposed (LoadBalancer Service or published swarm port); models are reached through it.",
        validate: noUnauthenticatedExposure,
    },
    {
        name: "plumberhub-acr-admin-user-off",
        description: "The ACR registry has no admin user (adminUserEnabled is not true).",
        validate: registryAdminUserOff,
    },
    {
        name: "plumberhub-aks-entra-only",
        description: "The AKS cluster disables local accounts and authorizes with Entra ID and Azure RBAC.",
        validate: clusterEntraOnly,
    },
    {
        name: ZONES_RULE,
        description: "Every AKS node pool spreads over availability zones (a region without zones lowers this policy in the pack's config).",
        validate: nodePoolsZonal,
    },
    {
        name: POOL_SIZES_RULE,
        description: `Every AKS node pool keeps at least ${MIN_POOL_NODES} nodes (minCount), so a node's loss leaves capacity (a test cluster lowers this policy in the pack's config).`,
        validate: nodePoolsSized,
    },
    {
        name: "plumberhub-state-protected",
        description: "The resource group, the AKS cluster and the ACR registry carry `protect`.",
        validate: stateProtected,
    },
];

export const STACK_RULES: StackPolicyRule[] = [
    {
        name: "plumberhub-hub-namespace-default-deny",
        description: `Every namespace with the plumberhub gateway has a NetworkPolicy "${DEFAULT_DENY_POLICY_NAME}" that denies all traffic.`,
        validate: hubNamespacesDenyByDefault,
    },
    {
        name: "plumberhub-models-isolated",
        description: "Every model Deployment's pods are selected by a NetworkPolicy of the stack for both Ingress and Egress.",
        validate: modelsIsolated,
    },
];

/** What a rule reads of a resource the engine sent. */
function policyResource(resource: Pick<PolicyResource, "type" | "name" | "props" | "opts" | "urn">): PolicyResource {
    return { type: resource.type, name: resource.name, props: resource.props, opts: resource.opts, urn: resource.urn };
}

/** A rule as a mandatory `@pulumi/policy` resource policy: each message becomes one violation. */
export function asResourcePolicy(rule: PolicyRule): ResourceValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            for (const message of rule.validate(policyResource(args))) reportViolation(message);
        },
    };
}

/** A stack rule as a mandatory `@pulumi/policy` stack policy: each violation is reported on its resource's URN. */
export function asStackPolicy(rule: StackPolicyRule): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
            for (const { message, resource } of rule.validate(args.resources.map(policyResource))) reportViolation(message, resource?.urn);
        },
    };
}
