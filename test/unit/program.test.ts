import { isSecret, promiseOf, RecordedResource, recordedInputs, recordedNames } from "../helpers/pulumiMocks";
import { ADMIN_KUBECONFIG, configMap, installProgramMocks, runStackProgram, stackConfig } from "../helpers/stackProgram";

const recorded = installProgramMocks();
jest.setTimeout(60_000);

const dev = stackConfig("dev");
const prod = stackConfig("prod");

const inputsOf = (type: string, name: string) => recordedInputs(recorded, type, name);

const namesOf = (type: string) => recordedNames(recorded, type);

describe("the dev stack (Pulumi.dev.yaml: swarm on the local engine)", () => {
    let exported: Record<string, any>;
    let resources: RecordedResource[];
    beforeAll(async () => {
        exported = await runStackProgram(dev);
        resources = [...recorded];
    });
    beforeEach(() => recorded.splice(0, recorded.length, ...resources));

    test("creates a Docker provider, the network, the registry, both models and the gateway", () => {
        expect(namesOf("pulumi:providers:docker")).toEqual(["plumberhub-docker"]);
        expect(inputsOf("docker:index/network:Network", "plumberhub-network-network").name).toBe("plumberhub-dev");
        expect(namesOf("docker:index/service:Service")).toEqual([
            "plumberhub-bos-rf-service",
            "plumberhub-gateway-edge-service",
            "plumberhub-gateway-service",
            "plumberhub-hello-service",
            "plumberhub-registry-service",
        ]);
        expect(namesOf("docker:index/remoteImage:RemoteImage")).toEqual(["plumberhub-bos-rf-image", "plumberhub-hello-image"]);
        // A push is named after its image's content-hash tag.
        expect(namesOf("docker:index/registryImage:RegistryImage").map((name) => name.replace(/-[0-9a-f]{16}$/, "-{tag}"))).toEqual([
            "plumberhub-bos-rf-push-{tag}",
            "plumberhub-hello-push-{tag}",
        ]);
    });

    test("names each model's service after the model so the gateway finds it by DNS", () => {
        expect(inputsOf("docker:index/service:Service", "plumberhub-hello-service").name).toBe("hello");
        expect(inputsOf("docker:index/service:Service", "plumberhub-bos-rf-service").name).toBe("bos-rf");
    });

    test("pushes the model images to the swarm registry and runs them by digest", () => {
        expect(inputsOf("docker:index/remoteImage:RemoteImage", "plumberhub-hello-image").name).toMatch(/^127\.0\.0\.1:5000\/hello:[0-9a-f]{16}$/);
        const image = inputsOf("docker:index/service:Service", "plumberhub-hello-service").taskSpec.containerSpec.image;
        expect(image).toBe(`127.0.0.1:5000/hello@sha256:${"d".repeat(64)}`);
    });

    test("publishes the configured ports on the edge, not on the gateway behind it", () => {
        const ports = inputsOf("docker:index/service:Service", "plumberhub-gateway-edge-service").endpointSpec.ports;
        expect(ports.map((p: any) => [p.targetPort, p.publishedPort]).sort()).toEqual([
            [443, 8443],
            [80, 8080],
        ]);
        expect(inputsOf("docker:index/service:Service", "plumberhub-gateway-service").endpointSpec.ports).toEqual([]);
    });

    test("exports the gateway URL and each model's URL and docs", async () => {
        expect(await promiseOf(exported.url)).toBe("https://localhost:8443/");
        expect(await promiseOf(exported.models)).toEqual({
            hello: { url: "https://localhost:8443/hello/", docsUrl: "https://localhost:8443/hello/__docs__/" },
            "bos-rf": { url: "https://localhost:8443/bos-rf/", docsUrl: "https://localhost:8443/bos-rf/__docs__/" },
        });
    });

    test("keeps the registry on a manager, with its volume, whatever the models' placement", async () => {
        const withConstraints = { ...dev, ...configMap({ "plumberhub:swarm": { network: "plumberhub-dev", constraints: ["node.role == worker"] } }) };
        await runStackProgram(withConstraints);
        expect(inputsOf("docker:index/service:Service", "plumberhub-registry-service").taskSpec.placement.constraints).toEqual([
            "node.role == manager",
        ]);
        expect(inputsOf("docker:index/service:Service", "plumberhub-hello-service").taskSpec.placement.constraints).toEqual(["node.role == worker"]);
    });

    test("talks to the engine DOCKER_HOST names, or the local one, when the stack names none", () => {
        expect(inputsOf("pulumi:providers:docker", "plumberhub-docker").host).toBeUndefined();
    });

    test("exports what another stack needs to join: network, registry and name template", async () => {
        expect(await promiseOf(exported.join)).toEqual({
            target: "swarm",
            network: "plumberhub-dev",
            gatewayNameTemplate: "{model}.models.plumberhub.internal",
            modelPort: 8000,
            registryServer: "127.0.0.1:5000",
            registryAuth: "password",
            gatewayUrl: "https://localhost:8443/",
        });
    });

    test("exports passwords and the registry login as secrets", async () => {
        expect(await isSecret(exported.passwords)).toBe(true);
        expect(Object.keys(await promiseOf(exported.passwords))).toEqual(["alice"]);
        expect(await isSecret(exported.registryLogin)).toBe(true);
    });
});

describe("the prod stack (Pulumi.prod.yaml: ACR + AKS)", () => {
    let exported: Record<string, any>;
    let resources: RecordedResource[];
    beforeAll(async () => {
        exported = await runStackProgram(prod);
        resources = [...recorded];
    });
    beforeEach(() => recorded.splice(0, recorded.length, ...resources));

    test("creates a resource group, ACR, the cluster and the AcrPull role assignment", () => {
        expect(namesOf("azure-native:resources:ResourceGroup")).toEqual(["plumberhub-rg"]);
        expect(inputsOf("azure-native:containerregistry:Registry", "plumberhub-acr-registry").sku).toEqual({ name: "Basic" });
        expect(inputsOf("azure-native:containerservice:ManagedCluster", "plumberhub-aks-cluster").kubernetesVersion).toBe("1.33");
        expect(inputsOf("azure-native:authorization:RoleAssignment", "plumberhub-aks-acrpull").principalId).toBe(
            "99999999-8888-7777-6666-555555555555",
        );
    });

    test("deploys each model and the gateway in the configured namespace", () => {
        expect(namesOf("kubernetes:apps/v1:Deployment")).toEqual([
            "plumberhub-bos-rf-deployment",
            "plumberhub-gateway-deployment",
            "plumberhub-hello-deployment",
        ]);
        for (const name of ["plumberhub-hello-deployment", "plumberhub-bos-rf-deployment", "plumberhub-gateway-deployment"]) {
            expect(inputsOf("kubernetes:apps/v1:Deployment", name).metadata.namespace).toBe("models");
        }
        expect(namesOf("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toEqual(["plumberhub-bos-rf-horizontal-pod-autoscaler"]);
    });

    test("runs the models from ACR by digest", () => {
        const container = inputsOf("kubernetes:apps/v1:Deployment", "plumberhub-hello-deployment").spec.template.spec.containers[0];
        expect(container.image).toBe(`plumberhubab12cd34.azurecr.io/hello@sha256:${"d".repeat(64)}`);
    });

    test("puts the gateway behind a LoadBalancer with the Azure DNS label", () => {
        const service = inputsOf("kubernetes:core/v1:Service", "plumberhub-gateway-service");
        expect(service.spec.type).toBe("LoadBalancer");
        expect(service.metadata.annotations["service.beta.kubernetes.io/azure-dns-label-name"]).toBe("plumberhub-prod");
    });

    test("exports the gateway URL from the DNS label and region", async () => {
        expect(await promiseOf(exported.url)).toBe("https://plumberhub-prod.westeurope.cloudapp.azure.com/");
        expect((await promiseOf<any>(exported.join)).gatewayNameTemplate).toBe("model-{model}.models.svc.cluster.local");
    });

    test("exports the kubeconfig, passwords and registry login as secrets", async () => {
        expect(await isSecret(exported.kubeconfig)).toBe(true);
        expect(await promiseOf(exported.kubeconfig)).toContain("kind: Config");
        expect(await isSecret(exported.passwords)).toBe(true);
        expect(Object.keys(await promiseOf(exported.passwords)).sort()).toEqual(["alice", "bob"]);
        expect(await isSecret(exported.registryLogin)).toBe(true);
    });
});

describe("the admin kubeconfig of the prod stack", () => {
    const aks = JSON.parse(prod["plumberhub:aks"]);

    test("is not exported by default", async () => {
        const exported = await runStackProgram(prod);
        expect(Object.keys(exported)).not.toContain("adminKubeconfig");
        expect(Object.keys(exported)).toContain("kubeconfig");
    });

    test("is exported as a secret with local accounts kept and exportAdminKubeconfig on", async () => {
        const exported = await runStackProgram({
            ...prod,
            "plumberhub:aks": JSON.stringify({ ...aks, localAccounts: true, exportAdminKubeconfig: true }),
        });
        expect(await isSecret(exported.adminKubeconfig)).toBe(true);
        expect(await promiseOf(exported.adminKubeconfig)).toBe(ADMIN_KUBECONFIG);
    });
});

test("a password chosen in the userPasswords secret replaces the generated one", async () => {
    const exported = await runStackProgram({ ...dev, "plumberhub:userPasswords": JSON.stringify({ alice: "correct-horse-battery" }) }, [
        "plumberhub:userPasswords",
    ]);
    expect(await promiseOf(exported.passwords)).toEqual({ alice: "correct-horse-battery" });
    expect(namesOf("random:index/randomPassword:RandomPassword")).not.toContain("plumberhub-users-alice");
});

const without = (config: Record<string, string>, key: string) => Object.fromEntries(Object.entries(config).filter(([k]) => k !== key));
const hello = { name: "hello", path: "examples/models/hello" };

/** Broken configs: each stops the program before any resource, with a message naming the key. */
const broken: [string, Record<string, string>, string, string[]?][] = [
    ["no target", without(dev, "plumberhub:target"), '`plumberhub:target` is required: one of "swarm", "aks"'],
    ["an unknown target", { ...dev, "plumberhub:target": "k8s" }, '`plumberhub:target` must be one of "swarm", "aks", got "k8s"'],
    ["a misspelt key", { ...dev, "plumberhub:model": "[]" }, "`plumberhub:model` is not a plumberhub config key; did you mean `plumberhub:models`?"],
    [
        "an upper-case model name",
        { ...dev, ...configMap({ "plumberhub:models": [{ ...hello, name: "Hello" }] }) },
        '`plumberhub:models[0].name` must be a DNS-1035 label: lower-case letters, digits and `-`, starting with a letter and ending with a letter or digit, got "Hello"; try "hello"',
    ],
    [
        "a model folder that does not exist",
        { ...dev, ...configMap({ "plumberhub:models": [{ ...hello, path: "examples/models/nope" }] }) },
        '`plumberhub:models[0].path` "examples/models/nope" does not exist',
    ],
    [
        "two models with one name",
        { ...dev, ...configMap({ "plumberhub:models": [hello, hello] }) },
        '`plumberhub:models[1].name` "hello" is already used by `plumberhub:models[0].name`; model names must be unique',
    ],
    [
        "a memory limit in MB",
        { ...dev, ...configMap({ "plumberhub:models": [{ ...hello, memory: { limit: "500MB" } }] }) },
        '`plumberhub:models[0].memory.limit` must be a Kubernetes quantity such as "512Mi", "1Gi" or "1G", got "500MB"; "MB" is not a unit: use "M" (powers of 10) or "Mi" (powers of 2)',
    ],
    [
        "gateway users not a list",
        { ...dev, ...configMap({ "plumberhub:gateway": { users: "alice" } }) },
        '`plumberhub:gateway.users` must be a list of user names, got "alice"',
    ],
    [
        "DNS round robin with ports on the routing mesh, which Docker refuses",
        { ...dev, ...configMap({ "plumberhub:swarm": { network: "plumberhub-dev", endpointMode: "dnsrr", publishMode: "ingress" } }) },
        '`plumberhub:swarm.publishMode` must be "host" when `plumberhub:swarm.endpointMode` is "dnsrr": Docker refuses ingress-published ports on a dnsrr service',
    ],
    [
        "a Docker host that is not an endpoint",
        { ...dev, ...configMap({ "plumberhub:swarm": { network: "plumberhub-dev", host: "manager.example.com" } }) },
        '`plumberhub:swarm.host` must be unix:///path/to/docker.sock, npipe:////./pipe/name, ssh://[user@]host[:port] or tcp://host:port, got "manager.example.com"',
    ],
    [
        "a model allowing a user the gateway does not have",
        { ...dev, ...configMap({ "plumberhub:models": [{ ...hello, users: ["carol"] }] }) },
        '`plumberhub:models` model `hello` allows user "carol", who is not a gateway user; add it to `plumberhub:gateway.users` (now alice)',
    ],
    [
        "autoscaling on a swarm, which has no autoscaler",
        { ...dev, ...configMap({ "plumberhub:models": [{ ...hello, autoscaling: { maxReplicas: 4 } }] }) },
        "`plumberhub:models` model `hello` sets `autoscaling`, which a swarm cannot do (Docker Swarm has no autoscaler): " +
            "set a fixed `replicas` instead; autoscaling works on AKS (Kubernetes HPA)",
    ],
    [
        "provided TLS without the certificate secrets",
        { ...dev, ...configMap({ "plumberhub:gateway": { tls: "provided" } }) },
        '`plumberhub:gateway.tls` is "provided" but the secret `plumberhub:tlsKey` is not set; set it with `pulumi config set --secret plumberhub:tlsKey < file.pem`',
    ],
    [
        "an HTTPS port out of range",
        { ...dev, ...configMap({ "plumberhub:gateway": { httpsPort: 70000 } }) },
        "`plumberhub:gateway.httpsPort` must be an integer from 1 to 65535, got 70000",
    ],
    [
        "an external registry without its password",
        { ...dev, ...configMap({ "plumberhub:registry": { kind: "external", server: "ghcr.io", username: "ci" } }) },
        '`plumberhub:registry.kind` is "external" but the secret `plumberhub:registryPassword` is not set; set it with `pulumi config set --secret plumberhub:registryPassword`',
    ],
    [
        "ACR on a swarm",
        { ...dev, ...configMap({ "plumberhub:registry": { kind: "acr" } }) },
        '`plumberhub:registry.kind` "acr" needs `plumberhub:target` "aks"; on a swarm use "swarm" or "external"',
    ],
    [
        "an unknown endpoint mode",
        { ...dev, ...configMap({ "plumberhub:swarm": { endpointMode: "round-robin" } }) },
        '`plumberhub:swarm.endpointMode` must be one of "vip", "dnsrr", got "round-robin"',
    ],
    [
        "a Kubernetes version with a v",
        { ...prod, ...configMap({ "plumberhub:aks": { kubernetesVersion: "v1.33", location: "westeurope" } }) },
        '`plumberhub:aks.kubernetesVersion` must look like `1.33` (newest patch) or `1.33.2`, without a leading `v`, got "v1.33"',
    ],
    ...(
        [
            [
                "a pinned Kubernetes patch",
                { kubernetesVersion: "1.33.2" },
                '`plumberhub:aks.kubernetesVersion` "1.33.2" pins a patch, but AKS upgrades patches itself (auto-upgrade channel `patch`); give the minor version, "1.33"',
            ],
            [
                "an availability zone 4",
                { availabilityZones: ["1", "4"] },
                '`plumberhub:aks.availabilityZones` must be a list of distinct zones "1", "2", "3" (`[]` for a region without zones), got ["1","4"]',
            ],
            ["an unknown AKS tier", { tier: "Basic" }, '`plumberhub:aks.tier` must be one of "Free", "Standard", "Premium", got "Basic"'],
            [
                "an admin group by name",
                { adminGroupObjectIds: ["aks-admins"] },
                '`plumberhub:aks.adminGroupObjectIds[0]` must be a GUID such as `00000000-0000-0000-0000-000000000000`, got "aks-admins"',
            ],
            [
                "admin groups as one string instead of a list",
                { adminGroupObjectIds: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" },
                '`plumberhub:aks.adminGroupObjectIds` must be a list of Entra ID object ids (GUIDs), got "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"',
            ],
            [
                "authorized ranges as one string instead of a list",
                { authorizedIpRanges: "203.0.113.0/24" },
                '`plumberhub:aks.authorizedIpRanges` must be a non-empty list of IPv4 CIDR ranges such as `203.0.113.0/24`, got "203.0.113.0/24"',
            ],
            [
                "zones as one string instead of a list",
                { availabilityZones: "1" },
                '`plumberhub:aks.availabilityZones` must be a list of distinct zones "1", "2", "3" (`[]` for a region without zones), got "1"',
            ],
            [
                "cluster settings next to an existing cluster",
                { existingCluster: true, systemPool: { minCount: 3 }, tier: "Free" },
                "`plumberhub:aks.systemPool`, `plumberhub:aks.tier` only apply to a cluster plumberhub creates, but `plumberhub:aks.existingCluster` is true; remove them or `existingCluster`",
            ],
            [
                "deployerClusterAdmin that is not true or false",
                { deployerClusterAdmin: "yes" },
                '`plumberhub:aks.deployerClusterAdmin` must be true or false, got "yes"',
            ],
            [
                "an authorized range without a prefix length",
                { authorizedIpRanges: ["203.0.113.7"] },
                '`plumberhub:aks.authorizedIpRanges[0]` must be an IPv4 CIDR range such as `203.0.113.0/24`, got "203.0.113.7"',
            ],
            [
                "authorized ranges on a private cluster",
                { authorizedIpRanges: ["203.0.113.0/24"], privateCluster: true },
                "`plumberhub:aks.authorizedIpRanges` and `plumberhub:aks.privateCluster` exclude each other: a private API server has no public address to restrict; keep one",
            ],
            [
                "the admin kubeconfig without local accounts",
                { exportAdminKubeconfig: true },
                "`plumberhub:aks.exportAdminKubeconfig` needs `plumberhub:aks.localAccounts: true`: with local accounts disabled (the default) AKS issues no admin kubeconfig",
            ],
            [
                "an unknown kubelogin mode",
                { kubeloginMode: "browser" },
                '`plumberhub:aks.kubeloginMode` must be one of "azurecli", "workloadidentity", "spn", "msi", "azd", "azurepipelines", "devicecode", "interactive", "ropc", got "browser"',
            ],
            [
                "a misspelt maintenance window key",
                { maintenanceWindow: { startHour: 3 } },
                "`plumberhub:aks.maintenanceWindow.startHour` is not a known key; did you mean `startHourUtc`?",
            ],
            [
                "a maintenance window of 2 hours",
                { maintenanceWindow: { durationHours: 2 } },
                "`plumberhub:aks.maintenanceWindow.durationHours` must be an integer from 4 to 24, got 2",
            ],
        ] as [string, Record<string, unknown>, string][]
    ).map(([title, aks, message]): [string, Record<string, string>, string] => [
        title,
        { ...prod, ...configMap({ "plumberhub:aks": { location: "westeurope", ...aks } }) },
        message,
    ]),
    [
        "AKS without a gateway host",
        { ...prod, ...configMap({ "plumberhub:gateway": { users: ["alice"] } }) },
        "`plumberhub:gateway.host` is required on AKS: the gateway's DNS name (or set `plumberhub:gateway.dnsLabel` and `plumberhub:aks.location` for `{label}.{location}.cloudapp.azure.com`)",
    ],
    [
        "a password for a user the gateway does not have",
        { ...dev, "plumberhub:userPasswords": JSON.stringify({ mallory: "hunter2hunter2" }) },
        '`plumberhub:userPasswords` has a password for "mallory", who is not in `plumberhub:gateway.users` (alice)',
        ["plumberhub:userPasswords"],
    ],
    [
        "a secret stored in plain text",
        { ...dev, "plumberhub:registryPassword": "plain-text-password" },
        "`plumberhub:registryPassword` is stored in plain text; set it again with `pulumi config set --secret plumberhub:registryPassword` so it is encrypted",
    ],
    [
        "AKS settings on a swarm",
        { ...dev, ...configMap({ "plumberhub:aks": { namespace: "x" } }) },
        '`plumberhub:aks` is set but `plumberhub:target` is "swarm"; remove it or set the target to "aks"',
    ],
    [
        "protectState that is not true or false",
        { ...dev, "plumberhub:protectState": "yes" },
        '`plumberhub:protectState` must be true (keep the registry, its data and the AKS cluster on `pulumi destroy`) or false (a throwaway stack), got "yes"',
    ],
];

describe("a broken config", () => {
    test.each(broken)("%s stops the program before any resource, naming the key", async (...[, config, message, secretKeys]) => {
        await expect(runStackProgram(config, secretKeys ?? [])).rejects.toThrow(message);
        expect(recorded).toEqual([]);
    });

    test("never shows a secret value in its message", async () => {
        const error = await runStackProgram({ ...dev, "plumberhub:userPasswords": JSON.stringify({ mallory: "hunter2hunter2" }) }, [
            "plumberhub:userPasswords",
        ]).catch((e) => e);
        expect(String(error.message)).not.toContain("hunter2");
    });

    test("reports every problem at once, one line each", async () => {
        const config = { ...dev, "plumberhub:target": "k8s", ...configMap({ "plumberhub:swarm": { network: "bad name" } }) };
        await expect(runStackProgram(config)).rejects.toThrow(
            '2 problems in the stack config:\n- `plumberhub:target` must be one of "swarm", "aks", got "k8s"\n' +
                '- `plumberhub:swarm.network` must be 1–63 letters, digits, "_", "." or "-" starting with a letter or digit, got "bad name"',
        );
    });
});
