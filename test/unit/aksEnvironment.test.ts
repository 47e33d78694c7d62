import * as pulumi from "@pulumi/pulumi";
import { installRecordingMocks, isSecret, isSecretInput, parentRecorder, promiseOf, RecordedResource, settle } from "../helpers/pulumiMocks";

const SUBSCRIPTION = "11111111-2222-3333-4444-555555555555";
const KUBELET_OBJECT_ID = "99999999-8888-7777-6666-555555555555";
const KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: clusterAdmin\n  user:\n    token: admin-token\n";

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
    {
        "azure-native:containerregistry:listRegistryCredentials": () => ({
            username: "prodacr",
            passwords: [{ name: "password", value: "acr-push-password" }],
        }),
        "azure-native:containerservice:listManagedClusterAdminCredentials": () => ({
            kubeconfigs: [{ name: "clusterAdmin", value: Buffer.from(KUBECONFIG).toString("base64") }],
        }),
        "azure-native:authorization:getClientConfig": () => ({
            subscriptionId: SUBSCRIPTION,
            tenantId: "tenant",
            clientId: "client",
            objectId: "deployer",
        }),
    },
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
    const env = environment();
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

    test("every model and gateway Deployment waits for the AcrPull assignment and the namespace", async () => {
        const { cluster, links } = await deployedEnvironment();
        const [acrPull, namespace] = cluster.workloadDependencies;
        expect(links.find((l) => l.name === "prod-acrpull")).toBeDefined();
        const deployments = links.filter((l) => l.type === "kubernetes:apps/v1:Deployment");
        expect(deployments.map((l) => l.name).sort()).toEqual(["bos-rf-deployment", "gateway-deployment", "hello-deployment", "iris-deployment"]);
        for (const link of deployments) expect(link.opts.dependsOn).toEqual([acrPull, namespace]);
    });

    test("every child hangs under its component, and Kubernetes objects use the cluster's provider", async () => {
        const { registry, cluster, deployed, gateway, links } = await deployedEnvironment();
        const parentOf = (name: string) => links.find((l) => l.name === name)?.parent;
        expect(parentOf("prod-registry")).toBe(registry);
        expect(parentOf("prod-suffix")).toBe(registry);
        for (const child of ["prod-rg", "prod-cluster", "prod-k8s", "prod-acrpull", "prod-namespace"]) expect(parentOf(child)).toBe(cluster);
        for (const [i, m] of models.entries()) {
            expect(parentOf(`${m.name}-deployment`)).toBe(deployed[i]);
            expect(parentOf(`${m.name}-service`)).toBe(deployed[i]);
        }
        expect(parentOf("iris-horizontal-pod-autoscaler")).toBe(deployed[2]);
        expect(parentOf("gateway-service")).toBe(gateway);
        const kubernetesLinks = links.filter((l) => l.type.startsWith("kubernetes:") && l.type !== "pulumi:providers:kubernetes");
        expect(kubernetesLinks.length).toBe(17); // namespace + 2 + 3 + 4 model objects + 7 gateway objects
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

    test("the registry gets an ACR-legal name with a random suffix and admin user only for pushing", async () => {
        const { registry } = await deployedEnvironment();
        const inputs = only("azure-native:containerregistry:Registry", "prod-registry").inputs;
        expect(inputs.registryName).toBe("plumberhubab12cd34");
        expect(inputs.sku).toEqual({ name: "Basic" });
        expect(inputs.adminUserEnabled).toBe(true);
        expect(await promiseOf(registry.loginServer)).toBe("plumberhubab12cd34.azurecr.io");
    });

    test("the cluster has a system identity, RBAC, autoscaling pools and the fixed DNS service address", async () => {
        await deployedEnvironment();
        const inputs = only("azure-native:containerservice:ManagedCluster", "prod-cluster").inputs;
        expect(inputs.identity).toEqual({ type: "SystemAssigned" });
        expect(inputs.enableRBAC).toBe(true);
        expect(inputs.kubernetesVersion).toBe("1.33");
        expect(inputs.resourceGroupName).toBe("prod-rg-7f3a");
        expect(inputs.networkProfile).toMatchObject({ serviceCidr: "10.0.0.0/16", dnsServiceIP: "10.0.0.10" });
        expect(inputs.agentPoolProfiles.map((p: Record<string, unknown>) => [p.name, p.mode, p.enableAutoScaling, p.minCount, p.maxCount])).toEqual([
            ["system", "System", true, 1, 3],
            ["models", "User", true, 1, 4],
        ]);
        expect(inputs.agentPoolProfiles[0].nodeTaints).toEqual(["CriticalAddonsOnly=true:NoSchedule"]);
    });

    test("kubeconfig, registry credentials and gateway secrets are secret, and the kubeconfig is the decoded admin one", async () => {
        const { registry, cluster } = await deployedEnvironment();
        expect(await isSecret(cluster.kubeconfig)).toBe(true);
        expect(await promiseOf(cluster.kubeconfig)).toBe(KUBECONFIG);
        expect(await isSecret(registry.username)).toBe(true);
        expect(await isSecret(registry.password)).toBe(true);
        expect(await promiseOf(registry.password)).toBe("acr-push-password");
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
        expect(service.metadata.annotations).toEqual({ "service.beta.kubernetes.io/azure-dns-label-name": "plumberhub-prod" });
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
