import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";
import { AcrRegistry } from "../aks/acrRegistry";
import { AksCluster } from "../aks/aksCluster";
import { KubernetesGateway } from "../aks/kubernetesGateway";
import { KubernetesModel } from "../aks/kubernetesModel";
import { GATEWAY_SETTINGS_DEFAULTS } from "../config/gateway";
import { RegistryLogin } from "../image/modelImage";
import { kubernetesGatewaySettings } from "../render/hubConfigInputs";
import { externalRegistryLogin, gatewayCertificateArgs, gatewayUrl, HubParts, joinRouting, TargetDeployment } from "./hubParts";

/**
 * The AKS side of a ModelHub: a resource group (or the configured one), ACR (or an external registry), the cluster
 * with AcrPull for its kubelet identity (or an existing cluster from the kubeconfig secret), one Deployment +
 * Service per model and the gateway behind a LoadBalancer.
 */
export function deployOnAks(parts: HubParts): TargetDeployment {
    const { name, parent, config, secrets } = parts;
    const { aks, gateway, registry } = config;

    const resourceGroupName: pulumi.Input<string> | undefined = aks.existingCluster
        ? aks.resourceGroupName
        : (aks.resourceGroupName ??
          new resources.ResourceGroup(`${name}-rg`, { location: aks.location }, { parent, protect: config.protectState }).name);

    let login: RegistryLogin;
    let registryId: pulumi.Output<string> | undefined;
    if (registry.kind === "acr") {
        if (resourceGroupName === undefined) {
            throw new pulumi.ResourceError("`plumberhub:aks.resourceGroupName` is required to create an ACR next to an existing cluster", parent);
        }
        const acr = new AcrRegistry(
            `${name}-acr`,
            { resourceGroupName, location: aks.location, sku: registry.sku, namePrefix: registry.namePrefix, protectState: config.protectState },
            { parent },
        );
        login = acr.login;
        registryId = acr.registryId;
    } else {
        login = externalRegistryLogin(registry, secrets);
    }

    const cluster = new AksCluster(
        `${name}-aks`,
        aks.existingCluster
            ? { namespace: aks.namespace, registryId, existing: { kubeconfig: secrets.kubeconfig, kubeletObjectId: aks.kubeletObjectId } }
            : {
                  resourceGroupName,
                  location: aks.location,
                  kubernetesVersion: aks.kubernetesVersion,
                  systemPool: aks.systemPool,
                  userPool: aks.userPool,
                  availabilityZones: aks.availabilityZones,
                  tier: aks.tier,
                  adminGroupObjectIds: aks.adminGroupObjectIds,
                  deployerClusterAdmin: aks.deployerClusterAdmin,
                  authorizedIpRanges: aks.authorizedIpRanges,
                  privateCluster: aks.privateCluster,
                  localAccounts: aks.localAccounts,
                  exportAdminKubeconfig: aks.exportAdminKubeconfig,
                  kubeloginMode: aks.kubeloginMode,
                  maintenanceWindow: aks.maintenanceWindow,
                  registryId,
                  namespace: aks.namespace,
                  protectState: config.protectState,
              },
        { parent },
    );

    for (const model of config.models) {
        new KubernetesModel(
            `${name}-${model.name}`,
            {
                model,
                image: parts.imageFor(model, login, []),
                namespace: aks.namespace,
                provider: cluster.provider,
                // As `npm run render` does: a stopping pod finishes the longest request the gateway waits for.
                gatewayReadTimeoutSeconds: config.gateway.readTimeoutSeconds,
                // Pods may only start once the kubelet can pull from the registry.
                dependsOn: cluster.workloadDependencies,
            },
            { parent },
        );
    }

    new KubernetesGateway(
        `${name}-gateway`,
        {
            models: config.models,
            namespace: aks.namespace,
            provider: cluster.provider,
            ...gatewayCertificateArgs(parts),
            retainAcmeData: config.protectState,
            htpasswd: parts.users.htpasswd,
            // The same settings `npm run render` writes into the review YAML.
            ...kubernetesGatewaySettings(config),
            location: aks.location,
            hostname: gateway.host,
            dependsOn: cluster.workloadDependencies,
        },
        { parent },
    );

    return {
        url: pulumi.output(gatewayUrl(gateway.host, GATEWAY_SETTINGS_DEFAULTS.httpsPort)),
        registryLogin: login,
        kubeconfig: cluster.kubeconfig,
        adminKubeconfig: cluster.adminKubeconfig,
        join: pulumi.output({ namespace: aks.namespace, ...joinRouting("aks", aks.namespace) }),
    };
}
