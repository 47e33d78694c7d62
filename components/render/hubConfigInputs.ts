/**
 * From a validated environment (`HubConfig`) to the renderers' inputs: the one mapping that both the Pulumi wiring
 * (`components/hub/swarmEnvironment.ts`, `aksEnvironment.ts`) and the file export (`npm run render`) use, so the
 * exported files and the Pulumi resources come from the same plan. Pure: plain values in, plain values out.
 */
import { DEFAULT_HUB_NAME, HubConfig } from "../config/environment";
import { MIB } from "../config/gateway";
import { acmeDirectoryUrl, renewsInGateway } from "../config/tls";
import { GatewayAcme, GatewayLimits } from "./gateway";
import { KubernetesGatewayManifestInput, KubernetesManifestsInput } from "./kubernetes";
import {
    GatewaySecretContents,
    GatewayServiceOptions,
    swarmGatewayAcmeVolume,
    SwarmGatewaySettings,
    SwarmModelOptions,
    SwarmStackInput,
} from "./swarm";

/** The gateway's request limits from `plumberhub:gateway` (MiB → bytes). */
export function gatewayLimits(gateway: HubConfig["gateway"]): GatewayLimits {
    return { maxBodyBytes: gateway.maxBodyMiB * MIB, readTimeoutSeconds: gateway.readTimeoutSeconds };
}

/**
 * The gateway's ACME renewal (HTTP-01 challenge, renewed in the running gateway) from `plumberhub:gateway`; undefined
 * unless `tls: acme` with the `http` challenge (the `azureDns` challenge issues during `pulumi up` instead).
 */
export function gatewayAcme(gateway: HubConfig["gateway"]): GatewayAcme | undefined {
    const acme = gateway.acme;
    if (gateway.tls !== "acme" || !acme || !renewsInGateway(acme)) return undefined;
    return {
        renewal: { dnsNames: [gateway.host], email: acme.email, directoryUrl: acmeDirectoryUrl(acme) },
        ...(acme.caBundle !== undefined ? { caBundlePem: acme.caBundle } : {}),
    };
}

/** What the swarm gateway serves: the models (with their ports and user lists), limits and title. */
export function swarmGatewaySettings(config: HubConfig): SwarmGatewaySettings {
    return {
        models: config.models.map((model) => ({ name: model.name, port: model.port, ...(model.users ? { users: model.users } : {}) })),
        limits: gatewayLimits(config.gateway),
        title: config.gateway.title,
        metrics: config.gateway.metrics,
    };
}

/** The swarm gateway service's options: image, replicas, published ports, swarm placement and the ACME volume. */
export function swarmGatewayOptions(config: HubConfig, hubName: string = DEFAULT_HUB_NAME): GatewayServiceOptions {
    const { swarm, gateway } = config;
    return {
        ...(gatewayAcme(gateway) ? { acmeVolume: swarmGatewayAcmeVolume(swarmGatewayFilePrefix(hubName)) } : {}),
        ...(swarm.gatewayImage ? { image: swarm.gatewayImage } : {}),
        replicas: gateway.replicas,
        httpsPort: gateway.httpsPort,
        httpPort: gateway.httpPort,
        publishMode: swarm.publishMode,
        endpointMode: swarm.endpointMode,
        constraints: swarm.gatewayConstraints,
    };
}

/** Options of every model service on the swarm. */
export function swarmModelOptions(config: HubConfig): SwarmModelOptions {
    return {
        endpointMode: config.swarm.endpointMode,
        constraints: config.swarm.constraints,
        gatewayReadTimeoutSeconds: config.gateway.readTimeoutSeconds,
    };
}

/** Prefix of the gateway's swarm config and secret names: `SwarmGateway`'s component name, `{hub}-gateway`. */
export function swarmGatewayFilePrefix(hubName: string): string {
    return `${hubName}-gateway`;
}

/**
 * The stack file's input for a swarm environment: the network, one service per model (with `images[model]`) and
 * the gateway with its secret files. The registry service is not part of it (images must be pushed first).
 */
export function swarmStackInput(
    config: HubConfig,
    images: Record<string, string>,
    secrets: GatewaySecretContents,
    hubName: string = DEFAULT_HUB_NAME,
): SwarmStackInput {
    const acme = gatewayAcme(config.gateway);
    return {
        prefix: swarmGatewayFilePrefix(hubName),
        networkName: config.swarm.network,
        models: config.models.map((model) => ({ model, image: imageOf(images, model.name) })),
        modelOptions: swarmModelOptions(config),
        gateway: {
            settings: swarmGatewaySettings(config),
            secrets,
            options: swarmGatewayOptions(config, hubName),
            ...(acme ? { acme } : {}),
        },
    };
}

/** The AKS gateway's plain settings from the config: image, replicas, DNS label, limits and title. */
export function kubernetesGatewaySettings(
    config: HubConfig,
): Pick<KubernetesGatewayManifestInput, "image" | "replicas" | "dnsLabel" | "limits" | "title" | "metrics"> {
    const { aks, gateway } = config;
    return {
        ...(aks.gatewayImage ? { image: aks.gatewayImage } : {}),
        replicas: gateway.replicas,
        ...(gateway.dnsLabel ? { dnsLabel: gateway.dnsLabel } : {}),
        limits: gatewayLimits(gateway),
        title: gateway.title,
        metrics: gateway.metrics,
    };
}

/** Every Kubernetes object's input for an AKS environment: namespace, models (with `images[model]`) and gateway. */
export function kubernetesManifestsInput(
    config: HubConfig,
    images: Record<string, string>,
    secrets: { tlsCert?: string; tlsKey?: string; htpasswd: string },
): KubernetesManifestsInput {
    for (const model of config.models) imageOf(images, model.name);
    const acme = gatewayAcme(config.gateway);
    return {
        namespace: config.aks.namespace,
        models: config.models,
        images,
        gateway: { ...kubernetesGatewaySettings(config), ...secrets, ...(acme ? { acme } : {}) },
    };
}

function imageOf(images: Record<string, string>, model: string): string {
    const image = images[model];
    if (!image) throw new Error(`\`images\` has no image for model \`${model}\`; give one per model`);
    return image;
}
