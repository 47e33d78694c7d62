// The policy pack's rules, each with a passing and a failing resource. Passing resources come from the real
// renderers (the objects the AKS/swarm components create), so a renderer change that breaks a rule fails here.
import { renderGatewayFiles } from "../../components/render/gateway";
import {
    kubernetesGatewayConfig,
    KubernetesGatewaySettings,
    renderDefaultDenyPolicy,
    renderGatewayObjects,
    renderKubernetesGatewayFiles,
    renderModelObjects,
} from "../../components/render/kubernetes";
import { planGatewayConfigs, renderSwarmGatewayConfigs, ROLE_LABEL } from "../../components/render/swarm";
import { validateModel } from "../../components/config/validateModel";
import {
    asResourcePolicy,
    asStackPolicy,
    clusterEntraOnly,
    gatewayTlsOn,
    imagesByDigest,
    hubNamespacesDenyByDefault,
    modelsIsolated,
    nginxTlsProblems,
    parseNginxConfig,
    nodePoolsSized,
    nodePoolsZonal,
    noUnauthenticatedExposure,
    PolicyResource,
    registryAdminUserOff,
    resourceLimitsSet,
    RULES,
    STACK_RULES,
    stateProtected,
    TYPES,
} from "../../policy/rules";

const DIGEST_IMAGE = `plumberhub.azurecr.io/iris@sha256:${"a".repeat(64)}`;
const iris = validateModel({ name: "iris", image: "plumberhub.azurecr.io/iris:1.0" });
const gatewaySettings: KubernetesGatewaySettings = { namespace: "ml", models: [iris] };

function modelDeployment(image = DIGEST_IMAGE): PolicyResource {
    const { deployment } = renderModelObjects(iris, { namespace: "ml", image });
    return { type: TYPES.deployment, name: "iris", props: structuredClone(deployment) };
}

function gatewayObjects() {
    const files = renderKubernetesGatewayFiles(gatewaySettings);
    return renderGatewayObjects({
        namespace: "ml",
        ...files,
        siteFiles: files.siteFiles,
        tlsCert: "CERT",
        tlsKey: "KEY",
        htpasswd: "u:h",
        image: DIGEST_IMAGE,
    });
}

/** A swarm service's props in the shape `docker.Service` receives them (see components/swarm/serviceArgs.ts). */
function swarmService(role: string, overrides: { image?: string; limits?: Record<string, number>; published?: number[] } = {}): PolicyResource {
    return {
        type: TYPES.swarmService,
        name: `hub-${role}`,
        props: {
            name: role,
            labels: [{ label: ROLE_LABEL, value: role }],
            taskSpec: {
                containerSpec: { image: overrides.image ?? DIGEST_IMAGE },
                resources: { limits: overrides.limits ?? { nanoCpus: 1e9, memoryBytes: 512 * 1024 * 1024 } },
            },
            endpointSpec: {
                mode: "dnsrr",
                ports: (overrides.published ?? []).map((p) => ({ targetPort: 8000, publishedPort: p, publishMode: "host" })),
            },
        },
    };
}

/** The swarm gateway's nginx.conf as the `docker.ServiceConfig` SwarmGateway creates (base64 data, role label). */
function swarmGatewayConfig(nginxConf?: string): PolicyResource {
    const rendered = renderSwarmGatewayConfigs({ models: [{ name: "iris" }] });
    const [file] = planGatewayConfigs("hub-gateway", { ...rendered, nginxConf: nginxConf ?? rendered.nginxConf });
    return {
        type: TYPES.swarmConfig,
        name: "hub-gateway-nginx.conf",
        props: { name: file.name, data: Buffer.from(file.contents, "utf8").toString("base64"), labels: [{ label: ROLE_LABEL, value: "gateway" }] },
    };
}

describe("rule: images by digest", () => {
    test("a model Deployment whose image is pinned by digest passes", () => {
        expect(imagesByDigest(modelDeployment())).toEqual([]);
    });

    test("a Deployment container with a tag instead of a digest is a violation", () => {
        expect(imagesByDigest(modelDeployment("plumberhub.azurecr.io/iris:1.0"))).toEqual([
            'container "model" of Deployment "iris" uses image "plumberhub.azurecr.io/iris:1.0", which is not pinned by digest: use "registry/repository@sha256:<64 hex digits>" (ModelImage\'s `repoDigest`), so every replica and every rollback runs the same bytes',
        ]);
    });

    test("an init container is checked too", () => {
        const resource = modelDeployment();
        resource.props.spec.template.spec.initContainers = [{ name: "fetch", image: "busybox", resources: { limits: { cpu: "1", memory: "1Gi" } } }];
        expect(imagesByDigest(resource)).toEqual([
            'init container "fetch" of Deployment "iris" uses image "busybox", which is not pinned by digest: use "registry/repository@sha256:<64 hex digits>" (ModelImage\'s `repoDigest`), so every replica and every rollback runs the same bytes',
        ]);
    });

    test("a swarm service pinned by digest passes", () => {
        expect(imagesByDigest(swarmService("model"))).toEqual([]);
    });

    test("a model swarm service with a tag is a violation", () => {
        expect(imagesByDigest(swarmService("model", { image: "r/iris:1.0" }))).toEqual([
            'swarm service "hub-model" uses image "r/iris:1.0", which is not pinned by digest: use "registry/repository@sha256:<64 hex digits>" (ModelImage\'s `repoDigest`), so every replica and every rollback runs the same bytes',
        ]);
    });

    test("the platform's gateway, its edge and the registry may use pinned tags", () => {
        expect(imagesByDigest(swarmService("gateway", { image: "nginx:1.28.0-bookworm" }))).toEqual([]);
        expect(imagesByDigest(swarmService("edge", { image: "nginx:1.28.0-bookworm" }))).toEqual([]);
        expect(imagesByDigest(swarmService("registry", { image: "registry:2.8.3" }))).toEqual([]);
    });

    test("an unlabelled swarm service with a tag is a violation", () => {
        expect(imagesByDigest(swarmService("", { image: "r/iris:1.0" }))).toHaveLength(1);
    });

    test("a digest that is not 64 hex digits is a violation", () => {
        expect(imagesByDigest(swarmService("model", { image: "r/iris@sha256:abc" }))).toHaveLength(1);
    });
});

describe("rule: cpu and memory limits", () => {
    test("a rendered model Deployment sets both limits", () => {
        expect(resourceLimitsSet(modelDeployment())).toEqual([]);
    });

    test("a container without a memory limit is a violation", () => {
        const resource = modelDeployment();
        delete resource.props.spec.template.spec.containers[0].resources.limits.memory;
        expect(resourceLimitsSet(resource)).toEqual([
            'container "model" of Deployment "iris" sets no `resources.limits.memory`: one busy R process must not starve the node',
        ]);
    });

    test("a container without resources names both limits", () => {
        const resource = modelDeployment();
        delete resource.props.spec.template.spec.containers[0].resources;
        expect(resourceLimitsSet(resource)).toEqual([
            'container "model" of Deployment "iris" sets no `resources.limits.cpu` and `resources.limits.memory`: one busy R process must not starve the node',
        ]);
    });

    test("the platform's gateway and its edge are sized by the platform team, not by this rule", () => {
        expect(resourceLimitsSet(swarmService("gateway", { limits: {} }))).toEqual([]);
        expect(resourceLimitsSet(swarmService("edge", { limits: {} }))).toEqual([]);
    });

    test("a swarm service with NanoCPUs and memory limits passes", () => {
        expect(resourceLimitsSet(swarmService("model"))).toEqual([]);
    });

    test("a model swarm service without a memory limit is a violation", () => {
        expect(resourceLimitsSet(swarmService("model", { limits: { nanoCpus: 1e9 } }))).toEqual([
            'swarm service "hub-model" sets no `taskSpec.resources.limits.memoryBytes`: one busy R process must not starve the node',
        ]);
    });
});

describe("rule: gateway TLS on", () => {
    test("the rendered AKS gateway ConfigMap passes", () => {
        const { config } = gatewayObjects();
        expect(gatewayTlsOn({ type: TYPES.configMap, name: "gw-config", props: config })).toEqual([]);
    });

    test("an http-only gateway ConfigMap is a violation naming each problem", () => {
        const { config } = gatewayObjects();
        const httpOnly = renderGatewayFiles({ ...kubernetesGatewayConfig(gatewaySettings), tls: "http-only" })["nginx.conf"];
        const props = { ...config, data: { ...config.data, "nginx.conf": httpOnly } };
        expect(gatewayTlsOn({ type: TYPES.configMap, name: "gw-config", props })).toEqual([
            'gateway ConfigMap "gw-config" (`nginx.conf`) has no server with `listen … ssl`: the gateway must serve HTTPS',
            'gateway ConfigMap "gw-config" (`nginx.conf`) plain-HTTP server `listen 8443` forwards requests (`proxy_pass`): plain HTTP may only redirect to HTTPS',
            'gateway ConfigMap "gw-config" (`nginx.conf`) plain-HTTP server `listen 8443` asks for passwords (`auth_basic`): they would cross the network in clear text',
            'gateway ConfigMap "gw-config" (`nginx.conf`) plain-HTTP server `listen 8443` does not redirect to HTTPS (`return 301 https://…`)',
        ]);
    });

    test("a ConfigMap that is not labelled as the gateway is not checked", () => {
        const { config } = gatewayObjects();
        const props = {
            ...config,
            metadata: { ...config.metadata, labels: { "app.kubernetes.io/component": "model" } },
            data: { "nginx.conf": "events {}" },
        };
        expect(gatewayTlsOn({ type: TYPES.configMap, name: "other", props })).toEqual([]);
    });

    test("the rendered swarm gateway config passes", () => {
        expect(gatewayTlsOn(swarmGatewayConfig())).toEqual([]);
    });

    test("a swarm gateway config whose HTTPS server lost `ssl` is a violation", () => {
        const conf = renderSwarmGatewayConfigs({ models: [{ name: "iris" }] }).nginxConf;
        expect(conf).toContain("listen 443 proxy_protocol ssl;");
        const plain = conf
            .replace("listen 443 proxy_protocol ssl;", "listen 443 proxy_protocol;")
            .replace("listen 127.0.0.1:8443 ssl;", "listen 127.0.0.1:8443;");
        expect(gatewayTlsOn(swarmGatewayConfig(plain))).toEqual([
            'gateway swarm config "hub-gateway-nginx.conf" has no server with `listen … ssl`: the gateway must serve HTTPS',
            'gateway swarm config "hub-gateway-nginx.conf" plain-HTTP server `listen 443 proxy_protocol`, `listen 127.0.0.1:8443` forwards requests (`proxy_pass`): plain HTTP may only redirect to HTTPS',
            'gateway swarm config "hub-gateway-nginx.conf" plain-HTTP server `listen 443 proxy_protocol`, `listen 127.0.0.1:8443` asks for passwords (`auth_basic`): they would cross the network in clear text',
            'gateway swarm config "hub-gateway-nginx.conf" plain-HTTP server `listen 443 proxy_protocol`, `listen 127.0.0.1:8443` does not redirect to HTTPS (`return 301 https://…`)',
        ]);
    });

    test("an HTTPS server without a certificate is a violation", () => {
        const conf = "events {}\nhttp {\n  server { listen 443 ssl; location / { return 200; } }\n}\n";
        expect(nginxTlsProblems(conf)).toEqual(["server `listen 443 ssl` sets no `ssl_certificate` and `ssl_certificate_key`"]);
    });

    test("certificates set at http level count for every server", () => {
        const conf =
            "http {\n  ssl_certificate /c; ssl_certificate_key /k;\n  server { listen 443 ssl; }\n  server { listen 80; location / { return 308 https://$host$request_uri; } }\n}\n";
        expect(nginxTlsProblems(conf)).toEqual([]);
    });

    test("braces inside quoted strings and comments do not confuse the parser", () => {
        const conf =
            "http { # a comment with }\n  server { listen 80; location = /h { return 200 '{\"ok\":1}'; } location / { return 301 https://x; } }\n  server { listen 443 ssl; ssl_certificate /c; ssl_certificate_key /k; }\n}\n";
        expect(nginxTlsProblems(conf)).toEqual([]);
    });

    test("Lua blocks are read as Lua: # and braces in its strings, comments and long brackets do not confuse the parser", () => {
        const lua = [
            "init_by_lua_block {",
            "    local t = { '}', \"}\", [[ } ]], [==[ ]] } ]==] } -- a } in a comment",
            "    --[[ a long comment with } ]]",
            "    local n = #t",
            "}",
        ].join("\n");
        const conf = `http {\n${lua}\n  server { listen 443 ssl; ssl_certificate /c; ssl_certificate_key /k; }\n}\n`;
        expect(nginxTlsProblems(conf)).toEqual([]);
        const parsed = parseNginxConfig(conf);
        expect(parsed[0].block!.map((directive) => directive.name)).toEqual(["init_by_lua_block", "server"]);
    });

    test("the gateway's nginx.conf with metrics (Lua) parses and passes", () => {
        expect(nginxTlsProblems(renderSwarmGatewayConfigs({ models: [{ name: "iris" }], metrics: true }).nginxConf)).toEqual([]);
    });

    test("an unbalanced configuration is a violation", () => {
        expect(nginxTlsProblems("http { server { listen 443 ssl; }")).toEqual(["cannot be parsed (missing `}`)"]);
    });
});

describe("rule: no model exposed without the gateway's auth", () => {
    test("the gateway's LoadBalancer Service passes", () => {
        const { service } = gatewayObjects();
        expect(service.spec.type).toBe("LoadBalancer");
        expect(noUnauthenticatedExposure({ type: TYPES.kubernetesService, name: "gateway", props: service })).toEqual([]);
    });

    test("a model's own LoadBalancer Service is a violation", () => {
        const { loadBalancer } = renderModelObjects(iris, { namespace: "ml", image: DIGEST_IMAGE, loadBalancer: true });
        expect(noUnauthenticatedExposure({ type: TYPES.kubernetesService, name: "iris-public", props: loadBalancer! })).toEqual([
            'Service "iris-public" is of type LoadBalancer but is not the gateway (label `app.kubernetes.io/component: gateway`): it would expose its pods without the gateway\'s TLS and authentication; use type ClusterIP and reach the model through the gateway',
        ]);
    });

    test("a model's ClusterIP Service passes", () => {
        const { service } = renderModelObjects(iris, { namespace: "ml", image: DIGEST_IMAGE });
        expect(noUnauthenticatedExposure({ type: TYPES.kubernetesService, name: "iris", props: service })).toEqual([]);
    });

    test("a swarm gateway publishing 443 passes", () => {
        expect(noUnauthenticatedExposure(swarmService("gateway", { published: [443, 80] }))).toEqual([]);
    });

    test("a swarm model service publishing a port is a violation", () => {
        expect(noUnauthenticatedExposure(swarmService("model", { published: [8000] }))).toEqual([
            'swarm model service "hub-model" publishes port(s) 8000: it would be reachable without the gateway\'s TLS and authentication; publish nothing and reach the model through the gateway',
        ]);
    });
});

/** A node pool's properties as AksCluster sends them (the parts the rules read). */
const nodePool = (mode: string) => ({
    mode,
    vmSize: "Standard_D4s_v5",
    enableAutoScaling: true,
    count: 2,
    minCount: 2,
    maxCount: 5,
    availabilityZones: ["1", "2", "3"],
});

/** An AKS cluster's inputs as AksCluster sends them (the parts the rules read), with `overrides` on top. */
function managedCluster(overrides: Record<string, unknown> = {}, opts = { protect: true }): PolicyResource {
    return {
        type: TYPES.managedCluster,
        name: "hub-cluster",
        props: {
            disableLocalAccounts: true,
            aadProfile: { managed: true, enableAzureRBAC: true },
            agentPoolProfiles: [{ name: "system", ...nodePool("System") }],
            ...overrides,
        },
        opts,
    };
}

/** The models' pool as AksCluster sends it (an `AgentPool` resource), with `overrides` on top. */
function agentPool(overrides: Record<string, unknown> = {}): PolicyResource {
    return { type: TYPES.agentPool, name: "hub-pool-models", props: { agentPoolName: "models", ...nodePool("User"), ...overrides } };
}

function registry(props: Record<string, unknown> = {}, opts = { protect: true }): PolicyResource {
    return { type: TYPES.registry, name: "hub-acr", props: { sku: { name: "Basic" }, ...props }, opts };
}

describe("rule: ACR admin user off", () => {
    test("a registry without the admin user passes", () => {
        expect(registryAdminUserOff(registry())).toEqual([]);
        expect(registryAdminUserOff(registry({ adminUserEnabled: false }))).toEqual([]);
    });

    test("a registry with the admin user is a violation", () => {
        expect(registryAdminUserOff(registry({ adminUserEnabled: true }))).toEqual([
            'ACR registry "hub-acr" enables the admin user (`adminUserEnabled: true`): one shared password that can push and pull every repository; set `adminUserEnabled: false` and push with an Entra ID token (pulls use the kubelet identity\'s AcrPull role)',
        ]);
    });
});

describe("rule: AKS with Entra ID only", () => {
    test("a cluster without local accounts, with Entra ID and Azure RBAC, passes", () => {
        expect(clusterEntraOnly(managedCluster())).toEqual([]);
    });

    test("a cluster that keeps its local accounts is a violation", () => {
        expect(clusterEntraOnly(managedCluster({ disableLocalAccounts: false }))).toEqual([
            'AKS cluster "hub-cluster" keeps its local accounts (`disableLocalAccounts` is not true): the admin kubeconfig (listClusterAdminCredential) bypasses Entra ID and Azure RBAC; set `disableLocalAccounts: true`',
        ]);
    });

    test("a cluster without an Entra ID profile names both settings", () => {
        expect(clusterEntraOnly(managedCluster({ aadProfile: undefined }))).toEqual([
            'AKS cluster "hub-cluster" does not authorize with Entra ID and Azure RBAC (`aadProfile.managed` and `aadProfile.enableAzureRBAC` not true): set `aadProfile: { managed: true, enableAzureRBAC: true }` and grant access with the "Azure Kubernetes Service RBAC …" roles',
        ]);
    });

    test("Entra ID with Kubernetes RBAC instead of Azure RBAC is a violation", () => {
        expect(clusterEntraOnly(managedCluster({ aadProfile: { managed: true } }))).toEqual([
            expect.stringContaining("(`aadProfile.enableAzureRBAC` not true)"),
        ]);
    });
});

describe("rule: AKS node pools over availability zones", () => {
    test("pools spread over zones pass, in the cluster and as AgentPool resources", () => {
        expect(nodePoolsZonal(managedCluster())).toEqual([]);
        expect(nodePoolsZonal(agentPool())).toEqual([]);
    });

    test("a cluster's pool without zones is a violation that says how a region without zones opts out", () => {
        const resource = managedCluster();
        resource.props.agentPoolProfiles[0].availabilityZones = [];
        expect(nodePoolsZonal(resource)).toEqual([
            'node pool "system" of AKS cluster "hub-cluster" sets no `availabilityZones`: all its nodes can sit in one zone and fail with it; spread it over the region\'s zones (e.g. ["1", "2", "3"]). In a region without zones, lower this policy in the pack\'s config instead: {"plumberhub-aks-availability-zones": "advisory"} (`pulumi … --policy-pack-config`, pulumi/actions `policyPackConfigs`)',
        ]);
    });

    test("an AgentPool resource without zones is a violation", () => {
        expect(nodePoolsZonal(agentPool({ availabilityZones: undefined }))).toEqual([
            expect.stringMatching(/^AKS node pool "models" \(AgentPool "hub-pool-models"\) sets no `availabilityZones`/),
        ]);
    });
});

describe("rule: AKS node pools keep two nodes", () => {
    test("pools that keep at least two nodes pass, in the cluster and as AgentPool resources", () => {
        expect(nodePoolsSized(managedCluster())).toEqual([]);
        expect(nodePoolsSized(agentPool())).toEqual([]);
    });

    test("an autoscaled pool that may shrink to one node is a violation that says how a test cluster opts out", () => {
        expect(nodePoolsSized(agentPool({ minCount: 1 }))).toEqual([
            'AKS node pool "models" (AgentPool "hub-pool-models") may shrink to 1 node(s) (`minCount`): losing or upgrading one node leaves it without capacity; set `minCount` to at least 2 (plumberhub: `plumberhub:aks.systemPool` / `userPool` `minCount`). For a test cluster, lower this policy in the pack\'s config instead: {"plumberhub-aks-pool-sizes": "advisory"} (`pulumi … --policy-pack-config`, pulumi/actions `policyPackConfigs`)',
        ]);
    });

    test("a cluster's system pool with minCount 1 is a violation", () => {
        const resource = managedCluster();
        resource.props.agentPoolProfiles[0].minCount = 1;
        expect(nodePoolsSized(resource)).toEqual([expect.stringMatching(/^node pool "system" of AKS cluster "hub-cluster" may shrink to 1 node/)]);
    });

    test("a pool without the autoscaler is judged by its fixed count", () => {
        expect(nodePoolsSized(agentPool({ enableAutoScaling: false, minCount: undefined, count: 1 }))).toEqual([
            expect.stringContaining("may shrink to 1 node(s) (`count`)"),
        ]);
        expect(nodePoolsSized(agentPool({ enableAutoScaling: false, minCount: undefined, count: 3 }))).toEqual([]);
    });
});

describe("rule: stateful resources protected", () => {
    const resourceGroup = (protect: boolean): PolicyResource => ({
        type: TYPES.resourceGroup,
        name: "hub-rg",
        props: { location: "westeurope" },
        opts: { protect },
    });

    test("a protected resource group, cluster and registry pass", () => {
        expect([resourceGroup(true), managedCluster(), registry()].flatMap(stateProtected)).toEqual([]);
    });

    test("an unprotected resource group is a violation", () => {
        expect(stateProtected(resourceGroup(false))).toEqual([
            'resource group "hub-rg" is not protected: `pulumi destroy` or a replacement would delete it and everything in it; set the resource option `protect: true` (plumberhub: `plumberhub:protectState`, on by default)',
        ]);
    });

    test("an unprotected cluster is a violation", () => {
        expect(stateProtected(managedCluster({}, { protect: false }))).toEqual([
            expect.stringContaining('AKS cluster "hub-cluster" is not protected'),
        ]);
    });

    test("a registry without protect is a violation that says retainOnDelete cannot be seen", () => {
        expect(stateProtected(registry({}, { protect: false }))).toEqual([
            'ACR registry "hub-acr" is not protected: `pulumi destroy` or a replacement would delete the registry and every image in it; set the resource option `protect: true` (`retainOnDelete` alone does not count: policy packs cannot see it) (plumberhub: `plumberhub:protectState`, on by default)',
        ]);
    });

    test("a resource the engine sent no options for counts as unprotected", () => {
        expect(stateProtected({ ...resourceGroup(true), opts: undefined })).toHaveLength(1);
    });

    test("stateless resources need no protect", () => {
        expect(stateProtected({ ...modelDeployment(), opts: { protect: false } })).toEqual([]);
    });
});

describe("stack rule: the hub's namespace denies all traffic by default", () => {
    const defaultDeny = (namespace = "ml"): PolicyResource => ({
        type: TYPES.networkPolicy,
        name: "hub-default-deny",
        props: structuredClone(renderDefaultDenyPolicy(namespace)),
        urn: "urn:deny",
    });
    const gateway = (): PolicyResource => ({
        type: TYPES.deployment,
        name: "hub-gateway",
        props: structuredClone(gatewayObjects().deployment),
        urn: "urn:gateway",
    });

    test("the gateway's namespace with the rendered default-deny policy passes", () => {
        expect(hubNamespacesDenyByDefault([gateway(), defaultDeny()])).toEqual([]);
    });

    test("the gateway's namespace without one is a violation shown on the gateway Deployment", () => {
        const deployment = gateway();
        expect(hubNamespacesDenyByDefault([deployment, defaultDeny("other")])).toEqual([
            {
                message:
                    'namespace "ml" runs the gateway Deployment "hub-gateway" but has no NetworkPolicy "default-deny": add one with `podSelector: {}`, `policyTypes: [Ingress, Egress]` and no rules, so a pod gets only the traffic the gateway\'s and the models\' own policies allow',
                resource: deployment,
            },
        ]);
    });

    test("a default-deny policy that selects some pods, misses Egress and has rules is a violation naming each problem", () => {
        const deny = defaultDeny();
        deny.props.spec = { podSelector: { matchLabels: { app: "x" } }, policyTypes: ["Ingress"], ingress: [{}] };
        expect(hubNamespacesDenyByDefault([gateway(), deny])).toEqual([
            {
                message:
                    'NetworkPolicy "default-deny" in namespace "ml" (the gateway\'s) does not deny all traffic: `spec.podSelector` must be {} (every pod of the namespace); `spec.policyTypes` lacks Egress; `spec.ingress` has rules, which a default-deny policy may not have',
                resource: deny,
            },
        ]);
    });

    test("a stack with models but no gateway (a team stack) needs no default-deny policy of its own", () => {
        const { networkPolicy } = renderModelObjects(iris, { namespace: "ml", image: DIGEST_IMAGE });
        const policy = { type: TYPES.networkPolicy, name: "iris-network-policy", props: structuredClone(networkPolicy) };
        expect(hubNamespacesDenyByDefault([modelDeployment(), policy])).toEqual([]);
    });
});

describe("stack rule: every model isolated by a NetworkPolicy", () => {
    const modelPolicy = (): PolicyResource => {
        const { networkPolicy } = renderModelObjects(iris, { namespace: "ml", image: DIGEST_IMAGE });
        return { type: TYPES.networkPolicy, name: "iris-network-policy", props: structuredClone(networkPolicy) };
    };
    const model = (): PolicyResource => ({ ...modelDeployment(), urn: "urn:iris" });

    test("a model with its rendered policy passes", () => {
        expect(modelsIsolated([model(), modelPolicy()])).toEqual([]);
    });

    test("a model covered only by the namespace's default-deny passes", () => {
        const deny = { type: TYPES.networkPolicy, name: "hub-default-deny", props: structuredClone(renderDefaultDenyPolicy("ml")) };
        expect(modelsIsolated([model(), deny])).toEqual([]);
    });

    test("a model without any policy is a violation shown on its Deployment", () => {
        const iris = model();
        expect(modelsIsolated([iris])).toEqual([
            {
                message:
                    'model Deployment "iris" in namespace "ml" has no NetworkPolicy isolating its pods for Ingress and Egress: any pod could reach its plain-HTTP port (or it could reach anything); deploy it with plumberhub\'s KubernetesModel, which renders one (`model-{name}`), or add a policy selecting its pods with `policyTypes: [Ingress, Egress]`',
                resource: iris,
            },
        ]);
    });

    test("a policy for Ingress only, or one in another namespace or for other pods, does not isolate the model", () => {
        const ingressOnly = modelPolicy();
        ingressOnly.props.spec.policyTypes = ["Ingress"];
        const elsewhere = modelPolicy();
        elsewhere.props.metadata.namespace = "other";
        const otherPods = modelPolicy();
        otherPods.props.spec.podSelector = { matchLabels: { "app.kubernetes.io/name": "hello" } };
        expect(modelsIsolated([model(), ingressOnly, elsewhere, otherPods]).map((v) => v.message)).toEqual([
            expect.stringContaining("isolating its pods for Egress:"),
        ]);
    });
});

describe("the pack", () => {
    test("rule names are unique and every rule is mandatory", () => {
        const policies = [...RULES.map(asResourcePolicy), ...STACK_RULES.map(asStackPolicy)];
        expect(new Set(policies.map((p) => p.name)).size).toBe(RULES.length + STACK_RULES.length);
        expect(policies.map((p) => p.enforcementLevel)).toEqual(policies.map(() => "mandatory"));
    });

    test("a wrapped rule reports each message as one violation", async () => {
        const policy = asResourcePolicy(RULES.find((r) => r.name === "plumberhub-resource-limits")!);
        const resource = modelDeployment();
        delete resource.props.spec.template.spec.containers[0].resources;
        const reported: string[] = [];
        const validate = policy.validateResource as (args: any, report: (message: string) => void) => void | Promise<void>;
        await validate({ type: resource.type, name: resource.name, props: resource.props }, (message) => reported.push(message));
        expect(reported).toEqual(resourceLimitsSet(resource));
        expect(reported).toHaveLength(1);
    });

    test("a wrapped rule sees the resource's protect option", async () => {
        const policy = asResourcePolicy(RULES.find((r) => r.validate === stateProtected)!);
        const validate = policy.validateResource as (args: any, report: (message: string) => void) => void | Promise<void>;
        const reported: string[] = [];
        const { type, name, props } = registry();
        await validate({ type, name, props, opts: { protect: true, ignoreChanges: [], aliases: [] } }, (message) => reported.push(message));
        await validate({ type, name, props, opts: { protect: false, ignoreChanges: [], aliases: [] } }, (message) => reported.push(message));
        expect(reported).toEqual([expect.stringContaining('ACR registry "hub-acr" is not protected')]);
    });

    test("a wrapped stack rule reports each violation on its resource's URN", async () => {
        const policy = asStackPolicy(STACK_RULES.find((rule) => rule.validate === modelsIsolated)!);
        const { type, name, props } = modelDeployment();
        const reported: [string, string | undefined][] = [];
        await policy.validateStack({ resources: [{ type, name, props, urn: "urn:iris" }] } as any, (message, urn) => reported.push([message, urn]));
        expect(reported).toEqual([[expect.stringContaining('model Deployment "iris" in namespace "ml" has no NetworkPolicy'), "urn:iris"]]);
    });
});
