import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as resources from "@pulumi/azure-native/resources";
import type * as azureInputs from "@pulumi/azure-native/types/input";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AKS_DNS_SERVICE_IP, AKS_SERVICE_CIDR, renderNamespace } from "../render/kubernetes";
import {
    AKS_CLUSTER_SPEC_KEYS,
    AksClusterSpec,
    AksTier,
    DEFAULT_AKS_TIER,
    DEFAULT_AVAILABILITY_ZONES,
    DEFAULT_DEPLOYER_CLUSTER_ADMIN,
    DEFAULT_KUBELOGIN_MODE,
    DEFAULT_NAMESPACE,
    defaultDnsPrefix,
    KubeloginMode,
    MaintenanceWindow,
    NodePool,
    SYSTEM_POOL_DEFAULTS,
    USER_POOL_DEFAULTS,
    validateAksTier,
    validateApiServerAccess,
    validateAutoUpgradedVersion,
    validateAvailabilityZones,
    validateDnsPrefix,
    validateKubeloginMode,
    validateKubernetesVersion,
    validateLocalAccounts,
    validateMaintenanceWindow,
    validateNamespace,
    validateNodePool,
    validateObjectIds,
} from "../config/aks";
import { show } from "../config/checks";
import { DEFAULT_PROTECT_STATE } from "../config/stateProtection";
import { asResourceError } from "../util/errors";
import { useKubeloginMode } from "./kubeloginKubeconfig";
import { childName, createKubernetesResource } from "./kubernetesResources";

/** Built-in Azure role **AcrPull** (pull images from a registry). */
export const ACR_PULL_ROLE_DEFINITION_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
/** Built-in Azure role **Azure Kubernetes Service RBAC Cluster Admin** (every Kubernetes object, with Azure RBAC). */
export const AKS_RBAC_CLUSTER_ADMIN_ROLE_DEFINITION_ID = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";

/** AKS's names of the two planned-maintenance schedules (Kubernetes upgrades, node OS image upgrades) by child name suffix. */
export const MAINTENANCE_CONFIGURATION_NAMES = { upgrade: "aksManagedAutoUpgradeSchedule", "node-os": "aksManagedNodeOSUpgradeSchedule" } as const;

/**
 * AKS moves the cluster to each new patch of its minor version and the nodes to each new node image, inside the
 * maintenance window; minor upgrades stay a config change (`kubernetesVersion`).
 */
export const AUTO_UPGRADE_PROFILE = Object.freeze({ upgradeChannel: "patch", nodeOSUpgradeChannel: "NodeImage" });

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

export interface AksClusterArgs extends AksClusterSpec {
    /** Existing resource group for the cluster. Default: a new one named after the component. */
    resourceGroupName?: pulumi.Input<string>;
    /** Azure region, e.g. `westeurope`. Default: the resource group's (for a new group: the provider's location). */
    location?: pulumi.Input<string>;
    /** DNS prefix of the API server's address. Default: the component name. */
    dnsPrefix?: string;
    /**
     * Put `protect` on the resource group this component creates and on the cluster, so `pulumi destroy` or a
     * replacing change stops instead of deleting them. No effect with `existing`. Default true (`DEFAULT_PROTECT_STATE`).
     */
    protectState?: boolean;
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
const CREATE_ONLY_FIELDS = ["resourceGroupName", "location", "dnsPrefix", "tags", ...AKS_CLUSTER_SPEC_KEYS] as const;

/** The settings of a cluster this component creates, every default filled in. */
export interface AksClusterSettings {
    systemPool: NodePool;
    userPool: NodePool;
    availabilityZones: string[];
    tier: AksTier;
    kubeloginMode: KubeloginMode;
    maintenanceWindow: MaintenanceWindow;
}

/**
 * Checks the plain fields of `AksClusterArgs` (pure; throws naming the field) and returns the settings of the
 * cluster to create with defaults filled in, or undefined for an `existing` one.
 */
export function validateAksClusterArgs(name: string, args: AksClusterArgs): AksClusterSettings | undefined {
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
        return undefined;
    }
    if (args.kubernetesVersion !== undefined) {
        validateKubernetesVersion(args.kubernetesVersion);
        validateAutoUpgradedVersion(args.kubernetesVersion);
    }
    validateDnsPrefix(args.dnsPrefix ?? defaultDnsPrefix(name));
    const systemPool = validateNodePool(args.systemPool, "systemPool", SYSTEM_POOL_DEFAULTS, true);
    const userPool = validateNodePool(args.userPool, "userPool", USER_POOL_DEFAULTS, false);
    if (userPool.name === systemPool.name) {
        throw new Error(`\`userPool.name\` must differ from \`systemPool.name\`, both are \`${userPool.name}\``);
    }
    const availabilityZones = args.availabilityZones ?? [...DEFAULT_AVAILABILITY_ZONES];
    validateAvailabilityZones(availabilityZones, "availabilityZones");
    const tier = args.tier ?? DEFAULT_AKS_TIER;
    validateAksTier(tier);
    validateObjectIds(args.adminGroupObjectIds ?? [], "adminGroupObjectIds");
    if (args.deployerClusterAdmin !== undefined && typeof args.deployerClusterAdmin !== "boolean") {
        throw new Error(`\`deployerClusterAdmin\` must be true or false, got ${show(args.deployerClusterAdmin)}`);
    }
    validateApiServerAccess(args);
    validateLocalAccounts(args);
    const kubeloginMode = args.kubeloginMode ?? DEFAULT_KUBELOGIN_MODE;
    validateKubeloginMode(kubeloginMode);
    const maintenanceWindow = validateMaintenanceWindow(args.maintenanceWindow, "maintenanceWindow");
    return { systemPool, userPool, availabilityZones, tier, kubeloginMode, maintenanceWindow };
}

/** What a pool of either kind (the cluster's system pool, an `AgentPool` resource) is made of. */
type PoolProperties = Omit<azureInputs.containerservice.ManagedClusterAgentPoolProfileArgs, "name">;

function agentPool(pool: NodePool, mode: "System" | "User", zones: string[]): PoolProperties {
    return {
        mode,
        vmSize: pool.vmSize,
        osType: "Linux",
        type: "VirtualMachineScaleSets",
        enableAutoScaling: true,
        // AKS requires a count even with the autoscaler (pulumi-azure-native#2943): the first size; later ignored.
        count: Math.max(1, pool.minCount),
        minCount: pool.minCount,
        maxCount: pool.maxCount,
        ...(zones.length > 0 ? { availabilityZones: zones } : {}),
        // The user pool runs the models: keep them off the system pool (AKS's documented taint for system-only pools).
        ...(mode === "System" ? { nodeTaints: ["CriticalAddonsOnly=true:NoSchedule"] } : {}),
    };
}

/** The weekly window of a planned-maintenance schedule, as AKS takes it (UTC). */
export function maintenanceWindowInput(window: MaintenanceWindow): azureInputs.containerservice.MaintenanceWindowArgs {
    return {
        schedule: { weekly: { dayOfWeek: window.day, intervalWeeks: 1 } },
        startTime: `${String(window.startHourUtc).padStart(2, "0")}:00`,
        utcOffset: "+00:00",
        durationHours: window.durationHours,
    };
}

/** The one kubeconfig of a `listManagedCluster…Credentials` answer, decoded. */
function decodedKubeconfig(credentials: { kubeconfigs?: { value?: string }[] }, what: string): string {
    const encoded = credentials.kubeconfigs?.[0]?.value;
    if (!encoded) throw new Error(`${what} returned no kubeconfig`);
    return Buffer.from(encoded, "base64").toString("utf8");
}

/**
 * The Kubernetes side of an AKS environment: a resource group (or an existing one), a `ManagedCluster` with a
 * system-assigned identity, Entra ID sign-in with Azure RBAC (no local accounts), zone-spread autoscaling pools (the
 * system pool inside the cluster, the models' pool as its own `AgentPool` so it can change later),
 * patch and node-image auto-upgrades in a weekly maintenance window, an **AcrPull** role assignment on the registry
 * to the cluster's kubelet identity, the user kubeconfig (kubelogin, no secret in it), a Kubernetes provider built
 * from it and the environment's namespace. Or bring your own cluster with `existing`.
 */
export class AksCluster extends pulumi.ComponentResource {
    /** Resource group of the cluster (undefined for an existing cluster). */
    public readonly resourceGroupName: pulumi.Output<string | undefined>;
    /** The managed cluster's name (undefined for an existing cluster). */
    public readonly clusterName: pulumi.Output<string | undefined>;
    /**
     * Kubeconfig (secret): for a new cluster the Entra ID user kubeconfig, which runs `kubelogin get-token` and holds
     * no credential; for an existing one the given kubeconfig (undefined when it came as a provider).
     */
    public readonly kubeconfig: pulumi.Output<string | undefined>;
    /** Admin kubeconfig (secret, a client certificate): only with `exportAdminKubeconfig`, else undefined. */
    public readonly adminKubeconfig: pulumi.Output<string | undefined>;
    /** Object id of the kubelet identity that pulls images (undefined when unknown). */
    public readonly kubeletObjectId: pulumi.Output<string | undefined>;
    /** The environment's namespace. */
    public readonly namespace: pulumi.Output<string>;
    /** Address of the cluster's DNS service, for the gateway's resolver (undefined for an existing cluster). */
    public readonly dnsServiceIp: pulumi.Output<string | undefined>;
    /** Kubernetes provider for the cluster: pass it to `KubernetesModel` and `KubernetesGateway`. */
    public readonly provider: k8s.Provider;
    /**
     * What workloads must wait for: the namespace, the models' node pool (pods have no node before it) and the AcrPull
     * role assignment (pods pull images only after it).
     */
    public readonly workloadDependencies: pulumi.Resource[];

    constructor(name: string, args: AksClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:aks:AksCluster", name, {}, opts);
        const settings = asResourceError(this, () => validateAksClusterArgs(name, args));
        const namespaceName = args.namespace ?? DEFAULT_NAMESPACE;
        this.workloadDependencies = [];
        let client: pulumi.Output<authorization.GetClientConfigResult> | undefined;
        const clientConfig = () => (client ??= authorization.getClientConfigOutput({ parent: this }));
        /** Azure RBAC grants the namespace waits for (the deployer's own access to the cluster). */
        const namespaceGrants: pulumi.Resource[] = [];

        let principalId: pulumi.Input<string> | undefined;
        if (!settings) {
            const existing = args.existing!;
            this.resourceGroupName = pulumi.output(undefined);
            this.clusterName = pulumi.output(undefined);
            this.dnsServiceIp = pulumi.output(undefined);
            this.kubeconfig = existing.kubeconfig === undefined ? pulumi.output(undefined) : pulumi.secret(existing.kubeconfig);
            this.adminKubeconfig = pulumi.output(undefined);
            this.kubeletObjectId = pulumi.output(existing.kubeletObjectId);
            principalId = existing.kubeletObjectId;
            this.provider =
                existing.provider ?? new k8s.Provider(`${name}-k8s`, { kubeconfig: this.kubeconfig as pulumi.Output<string> }, { parent: this });
        } else {
            const protect = args.protectState ?? DEFAULT_PROTECT_STATE;
            const resourceGroupName =
                args.resourceGroupName ??
                new resources.ResourceGroup(`${name}-rg`, { location: args.location, tags: args.tags }, { parent: this, protect }).name;
            const cluster = new containerservice.ManagedCluster(
                `${name}-cluster`,
                {
                    resourceGroupName,
                    location: args.location,
                    dnsPrefix: args.dnsPrefix ?? defaultDnsPrefix(name),
                    kubernetesVersion: args.kubernetesVersion,
                    sku: { name: "Base", tier: settings.tier },
                    identity: { type: "SystemAssigned" },
                    enableRBAC: true,
                    // Entra ID sign-in, Kubernetes authorization by Azure role assignments, no certificate accounts.
                    aadProfile: { managed: true, enableAzureRBAC: true, adminGroupObjectIDs: args.adminGroupObjectIds ?? [] },
                    disableLocalAccounts: args.localAccounts !== true,
                    ...(args.authorizedIpRanges || args.privateCluster
                        ? {
                              apiServerAccessProfile: args.privateCluster
                                  ? { enablePrivateCluster: true }
                                  : { authorizedIPRanges: args.authorizedIpRanges },
                          }
                        : {}),
                    autoUpgradeProfile: { ...AUTO_UPGRADE_PROFILE },
                    // AKS needs one pool to create a cluster: the system pool; the models' pool is its own resource below.
                    agentPoolProfiles: [{ name: settings.systemPool.name, ...agentPool(settings.systemPool, "System", settings.availabilityZones) }],
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
                // The cluster API cannot change its pools after creation (azure-native's ManagedCluster docs), and the
                // autoscaler owns the node count: change the system pool with `az aks nodepool update` or a new pool.
                { parent: this, protect, ignoreChanges: ["agentPoolProfiles"] },
            );
            const userPool = new containerservice.AgentPool(
                `${name}-pool-${settings.userPool.name}`,
                {
                    resourceGroupName,
                    resourceName: cluster.name,
                    agentPoolName: settings.userPool.name,
                    ...agentPool(settings.userPool, "User", settings.availabilityZones),
                },
                // The autoscaler owns the node count: AKS refuses a PUT whose count differs from the autoscaled one
                // ("Cannot manually scale AgentPool … with cluster autoscaler enabled").
                { parent: this, ignoreChanges: ["count"] },
            );
            this.workloadDependencies.push(userPool);
            for (const [suffix, configName] of Object.entries(MAINTENANCE_CONFIGURATION_NAMES)) {
                new containerservice.MaintenanceConfiguration(
                    `${name}-maintenance-${suffix}`,
                    {
                        resourceGroupName,
                        resourceName: cluster.name,
                        configName,
                        maintenanceWindow: maintenanceWindowInput(settings.maintenanceWindow),
                    },
                    { parent: this },
                );
            }
            if (args.deployerClusterAdmin ?? DEFAULT_DEPLOYER_CLUSTER_ADMIN) {
                const client = clientConfig();
                namespaceGrants.push(
                    new authorization.RoleAssignment(
                        `${name}-deployer-cluster-admin`,
                        {
                            principalId: client.objectId,
                            roleDefinitionId: pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${AKS_RBAC_CLUSTER_ADMIN_ROLE_DEFINITION_ID}`,
                            scope: cluster.id,
                            description: `Kubernetes objects of ${name} for the identity that runs Pulumi (plumberhub)`,
                        },
                        // The grant stays with the identity of the first `up`: another identity's preview (a PR) would
                        // show a replacement, and a person's `up` would take the grant from CI.
                        { parent: this, ignoreChanges: ["principalId"] },
                    ),
                );
            }
            // The user kubeconfig carries no credential: kubelogin fetches an Entra ID token as `kubeloginMode` says.
            // It needs only "Azure Kubernetes Service Cluster User Role" (listClusterUserCredential), never the admin one.
            const userCredentials = containerservice.listManagedClusterUserCredentialsOutput(
                { resourceGroupName, resourceName: cluster.name, format: "exec" },
                { parent: this },
            );
            const mode = settings.kubeloginMode;
            this.kubeconfig = pulumi.secret(
                userCredentials.apply((c) => useKubeloginMode(decodedKubeconfig(c, `cluster \`${name}\` (user credentials)`), mode)),
            );
            this.adminKubeconfig = args.exportAdminKubeconfig
                ? pulumi.secret(
                      containerservice
                          .listManagedClusterAdminCredentialsOutput({ resourceGroupName, resourceName: cluster.name }, { parent: this })
                          .apply((c) => decodedKubeconfig(c, `cluster \`${name}\` (admin credentials)`)),
                  )
                : pulumi.output(undefined);
            this.resourceGroupName = pulumi.output(resourceGroupName);
            this.clusterName = cluster.name;
            this.dnsServiceIp = pulumi.output(AKS_DNS_SERVICE_IP);
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
            const subscriptionId = clientConfig().subscriptionId;
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
            dependsOn: namespaceGrants,
        });
        this.workloadDependencies.push(namespace);
        this.namespace = namespace.urn.apply(() => namespaceName);

        this.registerOutputs({
            resourceGroupName: this.resourceGroupName,
            clusterName: this.clusterName,
            kubeconfig: this.kubeconfig,
            adminKubeconfig: this.adminKubeconfig,
            kubeletObjectId: this.kubeletObjectId,
            namespace: this.namespace,
            dnsServiceIp: this.dnsServiceIp,
        });
    }
}
