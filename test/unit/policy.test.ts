// The policy pack's rules, each with a passing and a failing resource. Passing resources come from the real
// renderers (the objects the AKS/swarm components create), so a renderer change that breaks a rule fails here.
import { renderGatewayFiles } from "../../components/render/gateway";
import {
    kubernetesGatewayConfig,
    KubernetesGatewaySettings,
    renderGatewayObjects,
    renderKubernetesGatewayFiles,
    renderModelObjects,
} from "../../components/render/kubernetes";
import { planGatewayConfigs, renderSwarmGatewayConfigs, ROLE_LABEL } from "../../components/render/swarm";
import { validateModel } from "../../components/config/validateModel";
import {
    asResourcePolicy,
    gatewayTlsOn,
    imagesByDigest,
    nginxTlsProblems,
    noUnauthenticatedExposure,
    PolicyResource,
    resourceLimitsSet,
    RULES,
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

describe("the pack", () => {
    test("rule names are unique and every rule is mandatory", () => {
        const policies = RULES.map(asResourcePolicy);
        expect(new Set(policies.map((p) => p.name)).size).toBe(RULES.length);
        expect(policies.map((p) => p.enforcementLevel)).toEqual(RULES.map(() => "mandatory"));
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
});
