import * as pulumi from "@pulumi/pulumi";
import type { AcrTokenExchangeRequest } from "../../components/aks/acrTokenExchange";
import { parse } from "yaml";
import { AKS_SERVER_ID, userCredentialsAnswer } from "../helpers/aksKubeconfig";
import { installRecordingMocks, isSecret, isSecretInput, parentRecorder, promiseOf, RecordedResource, settle } from "../helpers/pulumiMocks";

const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const KUBELET_OBJECT_ID = "99999999-8888-7777-6666-555555555555";
const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: clusterAdmin\n  user:\n    token: admin-token\n";

// The ACR token exchange is an HTTPS call to the registry (tested against a local server in acrLogin.test.ts).
const mockExchanges: AcrTokenExchangeRequest[] = [];
jest.mock("../../components/aks/acrTokenExchange", () => ({
    ...jest.requireActual("../../components/aks/acrTokenExchange"),
    exchangeAcrRefreshToken: (request: AcrTokenExchangeRequest) => {
        mockExchanges.push(request);
        return Promise.resolve("acr-refresh-token");
    },
}));
/** The `format` of each user-credentials invoke. */
const userCredentialFormats: unknown[] = [];
/** Invoke tokens, in call order. */
const invoked: string[] = [];
const recordInvokes = (calls: NonNullable<Parameters<typeof installRecordingMocks>[1]>) =>
    Object.fromEntries(
        Object.entries(calls).map(([token, answer]) => [
            token,
            (args: pulumi.runtime.MockCallArgs) => {
                invoked.push(token);
                return answer(args);
            },
        ]),
    );

const recorded = installRecordingMocks(
    {
        "random:index/randomString:RandomString": () => ({ result: "ab12cd34" }),
        "azure-native:resources:ResourceGroup": (args) => ({ name: `${args.name}-7f3a` }),
        "azure-native:containerregistry:Registry": (args) => ({
            name: args.inputs.registryName,
            loginServer: `${args.inputs.registryName}.azurecr.io`,
        }),
        "azure-native:containerservice:ManagedCluster": (args) => ({
            name: `${args.name}-5e1b`,
            identityProfile: { kubeletidentity: { objectId: KUBELET_OBJECT_ID, clientId: "kubelet-client-id", resourceId: "/kubelet" } },
        }),
    },
    recordInvokes({
        // What the admin user's login would be: nothing may ask for it.
        "azure-native:containerregistry:listRegistryCredentials": () => ({
            username: "prodacr",
            passwords: [{ name: "password", value: "acr-push-password" }],
        }),
        "azure-native:authorization:getClientToken": () => ({ token: "arm-access-token" }),
        "azure-native:containerservice:listManagedClusterAdminCredentials": () => ({
            kubeconfigs: [{ name: "clusterAdmin", value: Buffer.from(KUBECONFIG).toString("base64") }],
        }),
        "azure-native:containerservice:listManagedClusterUserCredentials": (args) => {
            userCredentialFormats.push(args.inputs.format);
            return userCredentialsAnswer();
        },
        "azure-native:authorization:getClientConfig": () => ({
            subscriptionId: SUBSCRIPTION,
            tenantId: "tenant",
            clientId: "client",
            objectId: "deployer",
        }),
    }),
);

import { AcrRegistry, AksCluster, KubernetesGateway, KubernetesModel } from "../../components/aks";
import { testModel } from "../helpers/models";

const model = testModel;

const models = [
    model("hello"),
    model("bos-rf", { replicas: 2 }),
    model("iris", { autoscaling: { minReplicas: 2, maxReplicas: 5, targetCpuUtilization: 70 } }),
];

/** A 3-model AKS environment, composed the way a stack program does it. */
function environment() {
    const { transformation, links } = parentRecorder();
    const opts = { transformations: [transformation] };
    const registry = new AcrRegistry("prod", { resourceGroupName: "prod-rg", namePrefix: "plumberhub" }, opts);
    const cluster = new AksCluster(
        "prod",
        { kubernetesVersion: "1.33", userPool: { minCount: 1, maxCount: 4 }, registryId: registry.registryId, namespace: "models" },
        opts,
    );
    // Stands in for ModelImage.repoDigest: known only at deploy time.
    const digestOf = (name: string) => pulumi.interpolate`${registry.loginServer}/${name}@sha256:${"c".repeat(64)}`;
    const deployed = models.map(
        (m) =>
            new KubernetesModel(
                m.name,
                { model: m, image: digestOf(m.name), namespace: "models", provider: cluster.provider, dependsOn: cluster.workloadDependencies },
                opts,
            ),
    );
    const gateway = new KubernetesGateway(
        "gateway",
        {
            models,
            namespace: "models",
            provider: cluster.provider,
            tlsCertificate: pulumi.secret("-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n"),
            tlsKey: pulumi.secret("-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n"),
            htpasswd: pulumi.secret("alice:{SSHA}aGFzaA==\n"),
            dnsLabel: "plumberhub-prod",
            location: "westeurope",
            dependsOn: cluster.workloadDependencies,
        },
        opts,
    );
    return { registry, cluster, deployed, gateway, links };
}

function only(type: string, name: string): RecordedResource {
    const found = recorded.filter((r) => r.type === type && r.name === name);
    if (found.length !== 1)
        throw new Error(`expected one ${type} ${name}, got ${found.length} among ${recorded.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return found[0];
}

async function deployedEnvironment() {
    recorded.length = 0;
    invoked.length = 0;
    mockExchanges.length = 0;
    const env = environment();
    await promiseOf(env.registry.password);
    await promiseOf(env.gateway.url);
    await Promise.all(env.deployed.map((d) => promiseOf(d.image)));
    await promiseOf(env.cluster.namespace);
    await settle();
    return env;
}

describe("a 3-model AKS environment (mocks)", () => {
    test("the kubelet identity gets AcrPull on the registry, as a service principal", async () => {
        await deployedEnvironment();
        const assignment = only("azure-native:authorization:RoleAssignment", "prod-acrpull").inputs;
        expect(assignment.roleDefinitionId).toBe(
            `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d`,
        );
        expect(assignment.principalId).toBe(KUBELET_OBJECT_ID);
        expect(assignment.principalType).toBe("ServicePrincipal");
        expect(assignment.scope).toBe(only("azure-native:containerregistry:Registry", "prod-registry").id);
    });

    test("every model and gateway Deployment waits for the models' node pool, the AcrPull assignment and the namespace", async () => {
        const { cluster, links } = await deployedEnvironment();
        const names = await Promise.all(cluster.workloadDependencies.map((r) => promiseOf(r.urn)));
        expect(names.map((urn) => urn.split("::").pop())).toEqual(["prod-pool-models", "prod-acrpull", "prod-namespace"]);
        const deployments = links.filter((l) => l.type === "kubernetes:apps/v1:Deployment");
        expect(deployments.map((l) => l.name).sort()).toEqual(["bos-rf-deployment", "gateway-deployment", "hello-deployment", "iris-deployment"]);
        for (const link of deployments) expect(link.opts.dependsOn).toEqual(cluster.workloadDependencies);
    });

    test("every child hangs under its component, and Kubernetes objects use the cluster's provider", async () => {
        const { registry, cluster, deployed, gateway, links } = await deployedEnvironment();
        const parentOf = (name: string) => links.find((l) => l.name === name)?.parent;
        expect(parentOf("prod-registry")).toBe(registry);
        expect(parentOf("prod-suffix")).toBe(registry);
        const clusterChildren = [
            "prod-rg",
            "prod-cluster",
            "prod-pool-models",
            "prod-maintenance-upgrade",
            "prod-maintenance-node-os",
            "prod-deployer-cluster-admin",
        ];
        for (const child of [...clusterChildren, "prod-k8s", "prod-acrpull", "prod-namespace"]) expect(parentOf(child)).toBe(cluster);
        for (const [i, m] of models.entries()) {
            expect(parentOf(`${m.name}-deployment`)).toBe(deployed[i]);
            expect(parentOf(`${m.name}-service`)).toBe(deployed[i]);
        }
        expect(parentOf("iris-horizontal-pod-autoscaler")).toBe(deployed[2]);
        expect(parentOf("gateway-service")).toBe(gateway);
        const kubernetesLinks = links.filter((l) => l.type.startsWith("kubernetes:") && l.type !== "pulumi:providers:kubernetes");
        expect(kubernetesLinks.length).toBe(22); // namespace + 3 + 4 + 5 model objects + 9 gateway objects
        for (const link of kubernetesLinks) expect(link.opts.provider).toBe(cluster.provider);
    });

    test("objects of each model: PDB only with more than one replica, HPA only when autoscaled", async () => {
        await deployedEnvironment();
        const names = (type: string) =>
            recorded
                .filter((r) => r.type === type)
                .map((r) => r.name)
                .sort();
        expect(names("kubernetes:policy/v1:PodDisruptionBudget")).toEqual([
            "bos-rf-pod-disruption-budget",
            "gateway-pod-disruption-budget",
            "iris-pod-disruption-budget",
        ]);
        expect(names("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")).toEqual(["iris-horizontal-pod-autoscaler"]);
        expect(only("kubernetes:core/v1:Service", "hello-service").inputs.metadata).toMatchObject({ name: "model-hello", namespace: "models" });
    });

    test("pods run images by digest from the registry and carry no imagePullSecrets", async () => {
        await deployedEnvironment();
        for (const m of models) {
            const pod = only("kubernetes:apps/v1:Deployment", `${m.name}-deployment`).inputs.spec.template.spec;
            expect(pod.containers[0].image).toBe(`plumberhubab12cd34.azurecr.io/${m.name}@sha256:${"c".repeat(64)}`);
            expect(pod.imagePullSecrets).toBeUndefined();
        }
        expect(JSON.stringify(recorded.map((r) => r.inputs))).not.toContain("imagePullSecrets");
    });

    test("the registry gets an ACR-legal name with a random suffix and no admin user", async () => {
        const { registry } = await deployedEnvironment();
        const inputs = only("azure-native:containerregistry:Registry", "prod-registry").inputs;
        expect(inputs.registryName).toBe("plumberhubab12cd34");
        expect(inputs.sku).toEqual({ name: "Basic" });
        expect(inputs.adminUserEnabled).toBe(false);
        expect(await promiseOf(registry.loginServer)).toBe("plumberhubab12cd34.azurecr.io");
    });

    test("pushes log in as the deploying identity: its ARM token exchanged for an ACR token, never the admin credentials", async () => {
        const { registry } = await deployedEnvironment();
        expect(mockExchanges).toEqual([{ loginServer: "plumberhubab12cd34.azurecr.io", tenantId: "tenant", accessToken: "arm-access-token" }]);
        expect(await promiseOf(registry.username)).toBe("00000000-0000-0000-0000-000000000000");
        expect(await promiseOf(registry.password)).toBe("acr-refresh-token");
        expect(await promiseOf(registry.login.password)).toBe("acr-refresh-token");
        expect(invoked).toContain("azure-native:authorization:getClientToken");
        expect(invoked).not.toContain("azure-native:containerregistry:listRegistryCredentials");
    });

    test("the registry and its images are protected and stay in Azure when Pulumi deletes it, unless protectState is false", async () => {
        const { links } = await deployedEnvironment();
        const kept = links.find((l) => l.name === "prod-registry")?.opts;
        expect([kept?.protect, kept?.retainOnDelete]).toEqual([true, true]);
        const { transformation, links: throwaway } = parentRecorder();
        new AcrRegistry("scratch", { resourceGroupName: "rg", protectState: false }, { transformations: [transformation] });
        await settle();
        const scratch = throwaway.find((l) => l.name === "scratch-registry")?.opts;
        expect([scratch?.protect, scratch?.retainOnDelete]).toEqual([false, false]);
    });

    test("the cluster has a system identity, RBAC, its tainted autoscaling system pool and the fixed DNS service address", async () => {
        await deployedEnvironment();
        const inputs = only("azure-native:containerservice:ManagedCluster", "prod-cluster").inputs;
        expect(inputs.identity).toEqual({ type: "SystemAssigned" });
        expect(inputs.enableRBAC).toBe(true);
        expect(inputs.kubernetesVersion).toBe("1.33");
        expect(inputs.resourceGroupName).toBe("prod-rg-7f3a");
        expect(inputs.networkProfile).toMatchObject({ serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10" });
        expect(inputs.agentPoolProfiles.map((p: Record<string, unknown>) => [p.name, p.mode, p.enableAutoScaling, p.minCount, p.maxCount])).toEqual([
            ["system", "System", true, 2, 3],
        ]);
        expect(inputs.agentPoolProfiles[0].nodeTaints).toEqual(["CriticalAddonsOnly=true:NoSchedule"]);
    });

    test("the models' pool is an AgentPool of its own on the cluster: an autoscaling, untainted user pool", async () => {
        await deployedEnvironment();
        expect(only("azure-native:containerservice:AgentPool", "prod-pool-models").inputs).toEqual({
            resourceGroupName: "prod-rg-7f3a",
            resourceName: "prod-cluster-5e1b",
            agentPoolName: "models",
            mode: "User",
            vmSize: "Standard_D4s_v5",
            osType: "Linux",
            type: "VirtualMachineScaleSets",
            enableAutoScaling: true,
            count: 1,
            minCount: 1,
            maxCount: 4,
            availabilityZones: ["1", "2", "3"],
        });
    });

    test("kubeconfig, registry credentials and gateway secrets are secret, and the kubeconfig is the user one", async () => {
        const { registry, cluster } = await deployedEnvironment();
        expect(await isSecret(cluster.kubeconfig)).toBe(true);
        expect(parse((await promiseOf(cluster.kubeconfig))!).users[0].name).toBe("clusterUser_prod-rg_prod-cluster");
        expect(await isSecret(registry.username)).toBe(true);
        expect(await isSecret(registry.password)).toBe(true);
        expect(await promiseOf(registry.password)).toBe("acr-refresh-token");
        expect(isSecretInput(only("pulumi:providers:kubernetes", "prod-k8s").inputs.kubeconfig)).toBe(true);
        expect(isSecretInput(only("kubernetes:core/v1:Secret", "gateway-secret-tls").inputs.stringData)).toBe(true);
        expect(isSecretInput(only("kubernetes:core/v1:Secret", "gateway-secret-htpasswd").inputs.stringData)).toBe(true);
        const plainText = JSON.stringify(
            recorded.filter((r) => r.type !== "kubernetes:core/v1:Secret" && r.type !== "pulumi:providers:kubernetes").map((r) => r.inputs),
        );
        expect(plainText).not.toContain("admin-token");
        expect(plainText).not.toContain("PRIVATE KEY");
        expect(plainText).not.toContain("aGFzaA==");
    });

    test("the gateway Deployment's spec stays readable and carries the config checksum", async () => {
        await deployedEnvironment();
        const spec = only("kubernetes:apps/v1:Deployment", "gateway-deployment").inputs.spec;
        expect(isSecretInput(spec)).toBe(false);
        expect(spec.replicas).toBe(2);
        expect(spec.template.metadata.annotations["plumberhub.io/config-checksum"]).toMatch(/^[0-9a-f]{64}$/);
    });

    test("the gateway url uses the Azure DNS label", async () => {
        const { gateway } = await deployedEnvironment();
        expect(await promiseOf(gateway.url)).toBe("https://plumberhub-prod.westeurope.cloudapp.azure.com");
        const service = only("kubernetes:core/v1:Service", "gateway-service").inputs;
        expect(service.metadata.annotations).toMatchObject({ "service.beta.kubernetes.io/azure-dns-label-name": "plumberhub-prod" });
    });
});

describe("bring your own cluster (mocks)", () => {
    test("a kubeconfig makes a provider and the namespace, and nothing on Azure", async () => {
        recorded.length = 0;
        const cluster = new AksCluster("byo", { existing: { kubeconfig: KUBECONFIG } });
        await promiseOf(cluster.namespace);
        await settle();
        const created = recorded.filter((r) => !r.type.startsWith("plumberhub:")).map((r) => r.type);
        expect(created.sort()).toEqual(["kubernetes:core/v1:Namespace", "pulumi:providers:kubernetes"]);
        expect(await isSecret(cluster.kubeconfig)).toBe(true);
        expect(isSecretInput(only("pulumi:providers:kubernetes", "byo-k8s").inputs.kubeconfig)).toBe(true);
    });

    test("a provider is used as given, and a kubelet id still gets AcrPull", async () => {
        recorded.length = 0;
        const { transformation, links } = parentRecorder();
        const k8s = await import("@pulumi/kubernetes");
        const provider = new k8s.Provider("mine", { kubeconfig: "x" });
        const cluster = new AksCluster(
            "byo2",
            { existing: { provider, kubeletObjectId: "kubelet-2" }, registryId: "/subscriptions/s/registries/r" },
            { transformations: [transformation] },
        );
        await promiseOf(cluster.namespace);
        await settle();
        expect(cluster.provider).toBe(provider);
        expect(links.find((l) => l.name === "byo2-namespace")?.opts.provider).toBe(provider);
        expect(only("azure-native:authorization:RoleAssignment", "byo2-acrpull").inputs).toMatchObject({
            principalId: "kubelet-2",
            scope: "/subscriptions/s/registries/r",
        });
    });
});

describe("a production AKS cluster (mocks)", () => {
    const clusterInputs = () => only("azure-native:containerservice:ManagedCluster", "prod-cluster").inputs;
    const linkOf = (links: { name: string; opts: pulumi.ResourceOptions }[], name: string) => links.find((l) => l.name === name)!;

    test("sign-in is Entra ID only: managed Entra ID, Azure RBAC, no local accounts", async () => {
        await deployedEnvironment();
        expect(clusterInputs().aadProfile).toEqual({ managed: true, enableAzureRBAC: true, adminGroupObjectIDs: [] });
        expect(clusterInputs().disableLocalAccounts).toBe(true);
        expect(clusterInputs().apiServerAccessProfile).toBeUndefined();
    });

    test("both pools spread over three zones, on the Standard tier", async () => {
        await deployedEnvironment();
        expect(clusterInputs().agentPoolProfiles.map((p: Record<string, unknown>) => p.availabilityZones)).toEqual([["1", "2", "3"]]);
        expect(only("azure-native:containerservice:AgentPool", "prod-pool-models").inputs.availabilityZones).toEqual(["1", "2", "3"]);
        expect(clusterInputs().sku).toEqual({ name: "Base", tier: "Standard" });
    });

    test("AKS upgrades patches and node images by itself", async () => {
        await deployedEnvironment();
        expect(clusterInputs().autoUpgradeProfile).toEqual({ upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" });
        expect(clusterInputs().networkProfile).toMatchObject({ networkPlugin: "azure", networkDataplane: "cilium", networkPolicy: "cilium" });
    });

    test("both upgrade schedules use the weekly window, Sunday 02:00 UTC for 4 hours", async () => {
        await deployedEnvironment();
        const window = {
            schedule: { weekly: { dayOfWeek: "Sunday", intervalWeeks: 1 } },
            startTime: "02:00",
            utcOffset: "+00:00",
            durationHours: 4,
        };
        expect(only("azure-native:containerservice:MaintenanceConfiguration", "prod-maintenance-upgrade").inputs).toEqual({
            resourceGroupName: "prod-rg-7f3a",
            resourceName: "prod-cluster-5e1b",
            configName: "aksManagedAutoUpgradeSchedule",
            maintenanceWindow: window,
        });
        expect(only("azure-native:containerservice:MaintenanceConfiguration", "prod-maintenance-node-os").inputs).toMatchObject({
            configName: "aksManagedNodeOSUpgradeSchedule",
            maintenanceWindow: window,
        });
    });

    test("the resource group and the cluster are protected", async () => {
        const { links } = await deployedEnvironment();
        expect(linkOf(links, "prod-rg").opts.protect).toBe(true);
        expect(linkOf(links, "prod-cluster").opts.protect).toBe(true);
        expect(linkOf(links, "prod-maintenance-upgrade").opts.protect).toBeUndefined();
    });

    test("the cluster's own pool list is left alone after creation (the cluster API cannot change it)", async () => {
        const { links } = await deployedEnvironment();
        expect(linkOf(links, "prod-cluster").opts.ignoreChanges).toEqual(["agentPoolProfiles"]);
    });

    test("the autoscaler's node count of the models' pool is left alone", async () => {
        const { links } = await deployedEnvironment();
        expect(linkOf(links, "prod-pool-models").opts.ignoreChanges).toEqual(["count"]);
    });

    test("protectState false leaves the resource group and the cluster unprotected", async () => {
        recorded.length = 0;
        const { transformation, links } = parentRecorder();
        const cluster = new AksCluster("scratch", { protectState: false }, { transformations: [transformation] });
        await promiseOf(cluster.namespace);
        await settle();
        expect(linkOf(links, "scratch-rg").opts.protect).toBe(false);
        expect(linkOf(links, "scratch-cluster").opts.protect).toBe(false);
    });

    test("the provider signs in with kubelogin through az login, and nothing asks for the admin credentials", async () => {
        await deployedEnvironment();
        const provider = only("pulumi:providers:kubernetes", "prod-k8s").inputs.kubeconfig;
        expect(isSecretInput(provider)).toBe(true);
        const exec = parse(provider.value).users[0].user.exec;
        expect([exec.command, ...exec.args]).toEqual(["kubelogin", "get-token", "--login", "azurecli", "--server-id", AKS_SERVER_ID]);
        expect(invoked).toContain("azure-native:containerservice:listManagedClusterUserCredentials");
        expect(invoked).not.toContain("azure-native:containerservice:listManagedClusterAdminCredentials");
    });

    test("the user credentials are asked for in exec format (kubelogin), not the legacy azure auth provider", async () => {
        userCredentialFormats.length = 0;
        const cluster = new AksCluster("formats", {});
        await promiseOf(cluster.kubeconfig);
        expect(userCredentialFormats).toEqual(["exec"]);
    });

    test("the identity running Pulumi gets AKS RBAC Cluster Admin on the cluster before the namespace is made", async () => {
        const { links } = await deployedEnvironment();
        const grant = only("azure-native:authorization:RoleAssignment", "prod-deployer-cluster-admin").inputs;
        expect(grant.principalId).toBe("deployer");
        expect(grant.scope).toBe(only("azure-native:containerservice:ManagedCluster", "prod-cluster").id);
        expect(grant.roleDefinitionId).toBe(
            `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b`,
        );
        const [dependency] = linkOf(links, "prod-namespace").opts.dependsOn as pulumi.Resource[];
        expect(await promiseOf(dependency.urn)).toContain("prod-deployer-cluster-admin");
    });

    test("the cluster-admin grant stays with the identity of the first up when another identity runs Pulumi", async () => {
        const { links } = await deployedEnvironment();
        expect(linkOf(links, "prod-deployer-cluster-admin").opts.ignoreChanges).toEqual(["principalId"]);
    });

    test("with deployerClusterAdmin false, no grant is made", async () => {
        recorded.length = 0;
        const cluster = new AksCluster("grouponly", { deployerClusterAdmin: false, adminGroupObjectIds: ["aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"] });
        await promiseOf(cluster.namespace);
        await settle();
        expect(recorded.filter((r) => r.type === "azure-native:authorization:RoleAssignment")).toEqual([]);
        expect(only("azure-native:containerservice:ManagedCluster", "grouponly-cluster").inputs.aadProfile.adminGroupObjectIDs).toEqual([
            "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        ]);
    });

    test("authorized IP ranges restrict the public API server", async () => {
        recorded.length = 0;
        const cluster = new AksCluster("ranges", { authorizedIpRanges: ["203.0.113.0/24"] });
        await promiseOf(cluster.namespace);
        await settle();
        expect(only("azure-native:containerservice:ManagedCluster", "ranges-cluster").inputs.apiServerAccessProfile).toEqual({
            authorizedIPRanges: ["203.0.113.0/24"],
        });
    });

    test("a private cluster has a private API server", async () => {
        recorded.length = 0;
        const cluster = new AksCluster("private", { privateCluster: true });
        await promiseOf(cluster.namespace);
        await settle();
        expect(only("azure-native:containerservice:ManagedCluster", "private-cluster").inputs.apiServerAccessProfile).toEqual({
            enablePrivateCluster: true,
        });
    });

    test("no zones for a region without them, and the Free tier for a test cluster", async () => {
        recorded.length = 0;
        const cluster = new AksCluster("nozones", { availabilityZones: [], tier: "Free" });
        await promiseOf(cluster.namespace);
        await settle();
        const inputs = only("azure-native:containerservice:ManagedCluster", "nozones-cluster").inputs;
        expect("availabilityZones" in inputs.agentPoolProfiles[0]).toBe(false);
        expect("availabilityZones" in only("azure-native:containerservice:AgentPool", "nozones-pool-models").inputs).toBe(false);
        expect(inputs.sku).toEqual({ name: "Base", tier: "Free" });
    });

    test("with local accounts kept, the admin kubeconfig is exported as a secret of its own", async () => {
        invoked.length = 0;
        recorded.length = 0;
        const cluster = new AksCluster("breakglass", { localAccounts: true, exportAdminKubeconfig: true });
        expect(await isSecret(cluster.adminKubeconfig)).toBe(true);
        expect(await promiseOf(cluster.adminKubeconfig)).toBe(KUBECONFIG);
        await settle();
        expect(only("azure-native:containerservice:ManagedCluster", "breakglass-cluster").inputs.disableLocalAccounts).toBe(false);
        expect(invoked).toContain("azure-native:containerservice:listManagedClusterAdminCredentials");
    });

    test("by default there is no admin kubeconfig", async () => {
        const { cluster } = await deployedEnvironment();
        expect(await promiseOf(cluster.adminKubeconfig)).toBeUndefined();
    });

    test("the kubelogin mode is the configured one", async () => {
        recorded.length = 0;
        const cluster = new AksCluster("inpod", { kubeloginMode: "workloadidentity" });
        const exec = parse((await promiseOf(cluster.kubeconfig))!).users[0].user.exec;
        expect(exec.args.slice(0, 3)).toEqual(["get-token", "--login", "workloadidentity"]);
    });
});
