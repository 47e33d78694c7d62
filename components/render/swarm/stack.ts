/** The whole `docker stack deploy`: network, model services and, optionally, the gateway and a registry. */
import { Model } from "../../config/model";
import { SWARM_DEFAULTS, validateSwarmName } from "../../config/swarm";
import {
    GatewaySecretContents,
    GatewayServiceOptions,
    planEdgeService,
    planGatewayFiles,
    planGatewayService,
    renderSwarmGatewayConfigs,
    SwarmGatewaySettings,
} from "./gatewayService";

import { GatewayAcme, validateGatewayCertificateSource } from "../gateway";
import { SwarmStackPlan } from "./plan";
import { planModelService, SwarmModelOptions } from "./modelService";
import {
    planRegistryCaFile,
    planRegistryFiles,
    planRegistryService,
    planRegistryTrustService,
    RegistryFileContents,
    RegistryServiceOptions,
} from "./registryService";

export interface SwarmStackInput {
    /** Prefix of config and secret names, e.g. the stack name. Default `plumberhub`. */
    prefix?: string;
    /** Name of the attachable overlay network. Default `plumberhub`. */
    networkName?: string;
    /** Use an existing network of that name instead of creating it with the stack. Default false. */
    externalNetwork?: boolean;
    /** Models (validated) with the image each runs. */
    models: { model: Model; image: string; replicas?: number }[];
    /** Options for every model service. */
    modelOptions?: SwarmModelOptions;
    /** The gateway; omit for a stack of models that joins another stack's network. */
    /** With `acme`, the certificate comes from an ACME server (`secrets` then hold no certificate or key; `options.acmeVolume` is required). */
    gateway?: { settings: SwarmGatewaySettings; secrets: GatewaySecretContents; options?: GatewayServiceOptions; acme?: GatewayAcme };
    /**
     * A registry service. Images must be pushed before models can start, so deploy it as a stack of its own
     * first (`models: []`, no gateway).
     */
    registry?: {
        secrets: RegistryFileContents;
        options: RegistryServiceOptions;
        /** With several nodes: the CA every node's engine must trust to pull from `server` (`host:port`), installed by a global service. */
        trust?: { caCertificate: string; server: string };
    };
}

/** The plan of one `docker stack deploy`: network, model services and (optionally) the gateway and a registry. */
export function planSwarmStack(input: SwarmStackInput): SwarmStackPlan {
    const prefix = input.prefix ?? "plumberhub";
    validateSwarmName(prefix, "prefix");
    const networkName = input.networkName ?? SWARM_DEFAULTS.network;
    validateSwarmName(networkName, "networkName");
    const services = input.models.map(({ model, image, replicas }) => planModelService(model, { ...input.modelOptions, image, replicas }));
    const gateway = input.gateway;
    if (gateway) {
        validateGatewayCertificateSource(
            {
                certificate: gateway.secrets.tlsCertificate !== undefined,
                key: gateway.secrets.tlsKey !== undefined,
                acme: gateway.acme !== undefined,
            },
            { certificate: "gateway.secrets.tlsCertificate", key: "gateway.secrets.tlsKey", acme: "gateway.acme" },
        );
    }
    const files = gateway
        ? planGatewayFiles(prefix, renderSwarmGatewayConfigs(gateway.settings, gateway.options?.httpsPort, gateway.acme), gateway.secrets)
        : { configs: [], secrets: [] };
    if (gateway) services.push(planGatewayService(files, gateway.options), planEdgeService(files, gateway.options));
    const registrySecrets = input.registry ? planRegistryFiles(prefix, input.registry.secrets) : [];
    if (input.registry) services.push(planRegistryService(registrySecrets, input.registry.options));
    const trust = input.registry?.trust;
    const registryConfigs = trust ? [planRegistryCaFile(prefix, trust.caCertificate)] : [];
    if (trust) services.push(planRegistryTrustService(registryConfigs[0], { server: trust.server, image: input.registry?.options.image }));
    const names = services.map((service) => service.name);
    const duplicate = names.find((name, i) => names.indexOf(name) !== i);
    if (duplicate) throw new Error(`\`models\` has two services named \`${duplicate}\`; service names must be unique in a stack`);
    return {
        network: { name: networkName, external: input.externalNetwork ?? false },
        services,
        configs: [...files.configs, ...registryConfigs],
        secrets: [...files.secrets, ...registrySecrets],
        volumes: [...(input.registry ? [input.registry.options.volume] : []), ...(gateway?.options?.acmeVolume ? [gateway.options.acmeVolume] : [])],
    };
}
