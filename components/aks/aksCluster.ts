import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as resources from "@pulumi/azure-native/resources";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_NAMESPACE } from "../config/aks";
import { AKS_DNS_SERVICE_IP, AKS_SERVICE_CIDR, renderNamespace } from "../render/kubernetes";
import {
    defaultDnsPrefix,
    NodePool,
    NodePoolSettings,
    SYSTEM_POOL_DEFAULTS,
    USER_POOL_DEFAULTS,
    validateDnsPrefix,
    validateKubernetesVersion,
    validateNamespace,
    validateNodePool,
} from "../config/aks";
import { asResourceError } from "../util/errors";
import { childName, createKubernetesResource } from "./kubernetesResources";

/** Built-in Azure role **AcrPull** (pull images from a registry). */
export const ACR_PULL_ROLE_DEFINITION_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

/** A cluster that already exists: give its kubeconfig or a ready Kubernetes provider. */
export interface ExistingCluster {
    /** Kubeconfig of the cluster (treated as a secret). */
    kubeconfig?: pulumi.Input<string>;
    /** A Kubernetes provider for the cluster (instead of `kubeconfig`). */
    provider?: k8s.Provider;
    /**
     * Object id of the cluster's kubelet identity, to grant it AcrPull on `registryId`. Without it, attach the
     * registry yourself (`az aks update --attach-acr`) and leave `registryId` out.
     */
    kubeletObjectId?: pulumi.Input<string>;
}

export interface AksClusterArgs {
    /** Existing resource group for the cluster. Default: a new one named after the component. */
    resourceGroupName?: pulumi.Input<string>;
    /** Azure region, e.g. `westeurope`. Default: the resource group's (for a new group: the provider's location). */
    location?: pulumi.Input<string>;
    /** Kubernetes version, `1.33` (newest patch) or `1.33.2`. Default: AKS's default version. */
    kubernetesVersion?: string;
    /** DNS prefix of the API server's address. Default: the component name. */
    dnsPrefix?: string;
    /** System node pool (autoscaling). Default `system`, `Standard_D2s_v5`, 1–3 nodes. */
    systemPool?: NodePoolSettings;
    /** Optional user node pool for the models (autoscaling). Default `models`, `Standard_D4s_v5`, 1–5 nodes when given. */
    userPool?: NodePoolSettings;
    /** Registry id to grant the kubelet identity AcrPull on (so no pull secret is needed). Default: none. */
    registryId?: pulumi.Input<string>;
    /** Namespace created for the environment's models and gateway. Default `DEFAULT_NAMESPACE` (`models`). */
    namespace?: string;
    /** Bring your own cluster: nothing on Azure is created except the optional AcrPull assignment. */
    existing?: ExistingCluster;
    /** Tags on the Azure resources. Default none. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** The Azure-only fields that make no sense with `existing`. */
const CREATE_ONLY_FIELDS = ["resourceGroupName", "location", "kubernetesVersion", "dnsPrefix", "systemPool", "userPool", "tags"] as const;

/** Checks the plain fields of `AksClusterArgs` and returns the pools with defaults (pure; throws naming the field). */
export function validateAksClusterArgs(name: string, args: AksClusterArgs): { systemPool: NodePool; userPool?: NodePool } {
    validateNamespace(args.namespace ?? DEFAULT_NAMESPACE);
    if (args.existing) {
        const { kubeconfig, provider, kubeletObjectId } = args.existing;
        if ((kubeconfig === undefined) === (provider === undefined)) {
            throw new Error("`existing` needs exactly one of `kubeconfig` and `provider`");
        }
        const extra = CREATE_ONLY_FIELDS.filter((field) => args[field] !== undefined);
        if (extra.length > 0) {
            throw new Error(`${extra.map((f) => `\`${f}\``).join(", ")} only apply to a cluster this component creates; remove them or \`existing\``);
        }
        if (args.registryId !== undefined && kubeletObjectId === undefined) {
            throw new Error(
                "`registryId` with `existing` needs `existing.kubeletObjectId` to grant AcrPull; " +
                    "or attach the registry yourself (`az aks update --attach-acr`) and leave `registryId` out",
            );
        }
        return { systemPool: { ...SYSTEM_POOL_DEFAULTS } };
    }
    if (args.kubernetesVersion !== undefined) validateKubernetesVersion(args.kubernetesVersion);
    validateDnsPrefix(args.dnsPrefix ?? defaultDnsPrefix(name));
    const systemPool = validateNodePool(args.systemPool, "systemPool", SYSTEM_POOL_DEFAULTS, true);
    const userPool = args.userPool ? validateNodePool(args.userPool, "userPool", USER_POOL_DEFAULTS, false) : undefined;
    if (userPool && userPool.name === systemPool.name) {
        throw new Error(`\`userPool.name\` must differ from \`systemPool.name\`, both are \`${userPool.name}\``);
    }
    return { systemPool, userPool };
}

function agentPool(pool: NodePool, mode: "System" | "User", hasUserPool: boolean): azureInputs.containerservice.ManagedClusterAgentPoolProfileArgs {
    return {
        name: pool.name,
        mode,
        vmSize: pool.vmSize,
        osType: "Linux",
        type: "VirtualMachineScaleSets",
        enableAutoScaling: true,
        count: Math.max(1, pool.minCount),
        minCount: pool.minCount,
        maxCount: pool.maxCount,
        // With a user pool, keep the models off the system pool (AKS's documented taint for system-only pools).
        ...(mode === "System" && hasUserPool ? { nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"] } : {}),
    };
}

/**
 * The Kubernetes side of an AKS environment: a resource group (or an existing one), a `ManagedCluster` with a
 * system-assigned identity, RBAC and autoscaling pools, an **AcrPull** role assignment on the registry to the
 * cluster's kubelet identity, the admin kubeconfig (secret), a Kubernetes provider built from it and the
 * environment's namespace. Or bring your own cluster with `existing`.
 */
export class AksCluster extends pulumi.ComponentResource {
    /** Resource group of the cluster (undefined for an existing cluster). */
    public readonly resourceGroupName: pulumi.Output<string | undefined>;
    /** The managed cluster's name (undefined for an existing cluster). */
    public readonly clusterName: pulumi.Output<string | undefined>;
    /** Admin kubeconfig (secret; undefined when an existing cluster came as a provider). */
    public readonly kubeconfig: pulumi.Output<string | undefined>;
    /** Object id of the kubelet identity that pulls images (undefined when unknown). */
    public readonly kubeletObjectId: pulumi.Output<string | undefined>;
    /** The environment's namespace. */
    public readonly namespace: pulumi.Output<string>;
    /** Address of the cluster's DNS service, for the gateway's resolver (undefined for an existing cluster). */
    public readonly dnsServiceIp: pulumi.Output<string | undefined>;
    /** Kubernetes provider for the cluster: pass it to `KubernetesModel` and `KubernetesGateway`. */
    public readonly provider: k8s.Provider;
    /** What workloads must wait for: the namespace and the AcrPull role assignment (pods pull images only after it). */
    public readonly workloadDependencies: pulumi.Resource[];

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:aks:AksCluster", name, {}, opts);
        const { systemPool, userPool } = asResourceError(this, () => validateAksClusterArgs(name, args));
        const namespaceName = args.namespace ?? DEFAULT_NAMESPACE;
        this.workloadDependencies = [];

        let principalId: pulumi.Input<string> | undefined;
        if (args.existing) {
            const existingKubeconfig = args.existing.kubeconfig;
            this.resourceGroupName = pulumi.output(undefined);
            this.clusterName = pulumi.output(undefined);
            this.dnsServiceIp = pulumi.output(undefined);
            this.kubeconfig = existingKubeconfig === undefined ? pulumi.output(undefined) : pulumi.secret(existingKubeconfig);
            this.kubeletObjectId = pulumi.output(args.existing.kubeletObjectId);
            principalId = args.existing.kubeletObjectId;
            this.provider =
                args.existing.provider ?? new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig as pulumi.Output<string> }, { parent: this });
        } else {
            const resourceGroupName =
                args.resourceGroupName ??
                new resources.ResourceGroup(`${name}-rg`, { location: args.location, tags: args.tags }, { parent: this }).name;
            const cluster = new containerservice.ManagedCluster(
                `${name}-cluster`,
                {
                    resourceGroupName,
                    location: args.location,
                    dnsPrefix: args.dnsPrefix ?? defaultDnsPrefix(name),
                    kubernetesVersion: args.kubernetesVersion,
                    identity: { type: "SystemAssigned" },
                    enableRBAC: true,
                    agentPoolProfiles: [
                        agentPool(systemPool, "System", userPool !== undefined),
                        ...(userPool ? [agentPool(userPool, "User", true)] : []),
                    ],
                    networkProfile: {
                        networkPlugin: "azure",
                        networkPluginMode: "overlay",
                        // Cilium's dataplane enforces NetworkPolicy: the gateway may only reach model pods.
                        networkDataplane: "cilium",
                        networkPolicy: "cilium",
                        serviceCidr: AKS_SERVICE_CIDR,
                        dnsServiceIP: AKS_DNS_SERVICE_IP,
                    },
                    tags: args.tags,
                },
                { parent: this },
            );
            const credentials = containerservice.listManagedClusterAdminCredentialsOutput(
                { resourceGroupName, resourceName: cluster.name },
                { parent: this },
            );
            this.resourceGroupName = pulumi.output(resourceGroupName);
            this.clusterName = cluster.name;
            this.dnsServiceIp = pulumi.output(AKS_DNS_SERVICE_IP);
            this.kubeconfig = pulumi.secret(
                credentials.apply((c) => {
                    const encoded = c.kubeconfigs?.[0]?.value;
                    if (!encoded) throw new Error(`cluster \`${name}\` returned no admin kubeconfig`);
                    return Buffer.from(encoded, "base64").toString("utf8");
                }),
            );
            const kubeletObjectId = cluster.identityProfile.apply((profile) => {
                const objectId = profile?.["kubeletidentity"]?.objectId;
                if (!objectId) throw new Error(`cluster \`${name}\` has no kubelet identity (identityProfile.kubeletidentity.objectId)`);
                return objectId;
            });
            this.kubeletObjectId = kubeletObjectId;
            principalId = kubeletObjectId;
            this.provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig as pulumi.Output<string> }, { parent: this });
        }

        if (args.registryId !== undefined && principalId !== undefined) {
            const subscriptionId = authorization.getClientConfigOutput({ parent: this }).subscriptionId;
            const acrPull = new authorization.RoleAssignment(
                `${name}-acrpull`,
                {
                    principalId,
                    // The kubelet identity is a managed identity: without the type, Azure looks it up in the
                    // directory and can fail while the identity is still replicating.
                    principalType: "ServicePrincipal",
                    roleDefinitionId: pulumi.interpolate`/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_DEFINITION_ID}`,
                    scope: args.registryId,
                    description: `AcrPull for the kubelet of ${name} (plumberhub)`,
                },
                { parent: this },
            );
            this.workloadDependencies.push(acrPull);
        }

        const namespaceObject = renderNamespace(namespaceName);
        const namespace = createKubernetesResource(childName(name, namespaceObject), namespaceObject, {
            parent: this,
            provider: this.provider,
        });
        this.workloadDependencies.push(namespace);
        this.namespace = namespace.urn.apply(() => namespaceName);

        this.registerOutputs({
            resourceGroupName: this.resourceGroupName,
            clusterName: this.clusterName,
            kubeconfig: this.kubeconfig,
            kubeletObjectId: this.kubeletObjectId,
            namespace: this.namespace,
            dnsServiceIp: this.dnsServiceIp,
        });
    }
}
