import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { GATEWAY_SETTINGS_DEFAULTS } from "../config/gateway";
import { EndpointMode, PublishMode, validateSwarmName } from "../config/swarm";
import {
    planEdgeService,
    planGatewayConfigs,
    planGatewaySecrets,
    planGatewayService,
    renderSwarmGatewayConfigs,
    ROLE_LABEL,
    staticFileKey,
    swarmGatewayAcmeVolume,
    SwarmGatewaySettings,
    validateGatewayServiceOptions,
} from "../render/swarm";
import { ACME_FILE_NAMES, GatewayAcme, validateGatewayCertificateSource } from "../render/gateway";
import { DEFAULT_PROTECT_STATE } from "../config/stateProtection";
import { asResourceError } from "../util/errors";
import { createSwarmFiles, fileRefs, serviceArgsFromPlan, toLabels } from "./serviceArgs";

export interface SwarmGatewayArgs {
    /** Id of the hub's overlay network (`SwarmNetwork.networkId`). */
    networkId: pulumi.Input<string>;
    /**
     * What the gateway serves: the models listed on the landing page (others are routed by DNS too), user
     * ACLs, limits, title … (the gateway renderer's `GatewayConfig` minus routing, paths and ports, which the
     * swarm target sets).
     */
    settings: SwarmGatewaySettings;
    /** PEM certificate chain (`ServerCertificate`). Required unless `acme` is given. */
    tlsCertificate?: pulumi.Input<string>;
    /** PEM private key (`ServerCertificate`); stored as a swarm secret. Required unless `acme` is given. */
    tlsKey?: pulumi.Input<string>;
    /**
     * The certificate from an ACME server instead (HTTP-01 through `httpPort`, which must be port 80 as the ACME
     * server sees it), issued and renewed inside the running gateway; its state lives on the volume
     * `swarmGatewayAcmeVolume(filePrefix)`.
     * Default none.
     */
    acme?: GatewayAcme;
    /** Keep the ACME volume (account and certificates) when Pulumi deletes it (`retainOnDelete`). Default `DEFAULT_PROTECT_STATE` (true). */
    retainAcmeData?: boolean;
    /** htpasswd lines of the gateway users (`Credentials`); stored as a swarm secret. */
    htpasswd: pulumi.Input<string>;
    /** nginx image. Default `DEFAULT_GATEWAY_IMAGE` (a pinned public nginx tag). */
    image?: pulumi.Input<string>;
    /** Gateway replicas. Default 1. */
    replicas?: number;
    /** Published HTTPS port on the swarm nodes. Default 443. */
    httpsPort?: number;
    /** Published HTTP port (redirects to HTTPS). Default 80. */
    httpPort?: number;
    /** `ingress` (routing mesh, default) or `host` (only on nodes that run a gateway task; required with `dnsrr`). */
    publishMode?: PublishMode;
    /** `vip` (default) or `dnsrr`. */
    endpointMode?: EndpointMode;
    /** Placement constraints of the gateway and its edge. Default `["node.role == manager"]` (`SWARM_DEFAULTS.gatewayConstraints`). */
    constraints?: string[];
    /** Extra service labels. Default none. */
    labels?: Record<string, string>;
    /** Prefix of the swarm config and secret names (`{prefix}-{file}-{hash}`). Default: the component's name. */
    filePrefix?: string;
}

/** Checks `SwarmGatewayArgs` before anything is created; throws naming the field. */
export function validateSwarmGatewayArgs(name: string, args: SwarmGatewayArgs): void {
    validateGatewayServiceOptions({ ...args, image: undefined }, "args");
    validateSwarmName(args.filePrefix ?? name, "filePrefix");
    validateGatewayCertificateSource(
        { certificate: args.tlsCertificate !== undefined, key: args.tlsKey !== undefined, acme: args.acme !== undefined },
        { certificate: "args.tlsCertificate", key: "args.tlsKey", acme: "args.acme" },
    );
}

/**
 * The nginx gateway as a swarm service behind an edge service. The edge (nginx, L4) holds the published ports with a
 * config that never changes with models, users or certificates, and forwards TCP to the gateway's tasks with the
 * PROXY protocol; the gateway (TLS, auth, routing) rolls `start-first` behind it, so a change of the platform fails
 * no request. nginx.conf and static files are swarm configs, certificate, key and htpasswd are swarm secrets, all
 * named by content hash: a change creates new objects and rolls the gateway instead of failing on an immutable object.
 */
export class SwarmGateway extends pulumi.ComponentResource {
    /** The gateway's service name. */
    public readonly serviceName: pulumi.Output<string>;
    /** The gateway's service id. */
    public readonly serviceId: pulumi.Output<string>;
    /** The edge's service name: it holds the published ports and forwards TCP to the gateway's tasks. */
    public readonly edgeServiceName: pulumi.Output<string>;
    /** Swarm names of the configs (content-hashed), by file key. */
    public readonly configNames: pulumi.Output<Record<string, string>>;
    /** Published HTTPS port. */
    public readonly httpsPort: pulumi.Output<number>;

    constructor(name: string, args: SwarmGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:swarm:SwarmGateway", name, {}, opts);
        const prefix = args.filePrefix ?? name;
        // Rendered now, from plain values, so the renderer's validation errors surface at construction.
        const rendered = asResourceError(this, () => {
            validateSwarmGatewayArgs(name, args);
            return renderSwarmGatewayConfigs(args.settings, args.httpsPort, args.acme);
        });
        const configs = pulumi.output(asResourceError(this, () => planGatewayConfigs(prefix, rendered)));
        const secrets = pulumi
            .all([args.tlsCertificate, args.tlsKey, args.htpasswd])
            .apply(([tlsCertificate, tlsKey, htpasswd]) => planGatewaySecrets(prefix, { tlsCertificate, tlsKey, htpasswd }));
        const labels = { [ROLE_LABEL]: "gateway" };
        const acmeKeys = [ACME_FILE_NAMES.script, ...(args.acme?.caBundlePem !== undefined ? [ACME_FILE_NAMES.caBundle] : [])];
        const configKeys = ["nginx.conf", "edge.conf", ...(args.acme ? acmeKeys : []), ...Object.keys(rendered.staticFiles).map(staticFileKey)];
        const secretKeys = [...(args.acme ? [] : ["tls.crt", "tls.key"]), "htpasswd"];
        const fileIds = {
            ...createSwarmFiles(name, "config", configs, configKeys, labels, this),
            ...createSwarmFiles(name, "secret", secrets, secretKeys, labels, this),
        };
        const acmeVolume = args.acme
            ? new docker.Volume(
                  `${name}-acme`,
                  { name: swarmGatewayAcmeVolume(prefix), labels: toLabels(labels) },
                  { parent: this, retainOnDelete: args.retainAcmeData ?? DEFAULT_PROTECT_STATE },
              )
            : undefined;
        const planWith = (planService: typeof planGatewayService) =>
            pulumi.all([configs, fileRefs(secrets), args.image, acmeVolume?.name]).apply(([configList, secretList, image, acmeVolumeName]) =>
                planService(
                    { configs: configList, secrets: secretList },
                    {
                        image,
                        replicas: args.replicas,
                        httpsPort: args.httpsPort,
                        httpPort: args.httpPort,
                        publishMode: args.publishMode,
                        endpointMode: args.endpointMode,
                        constraints: args.constraints,
                        labels: args.labels,
                        ...(acmeVolumeName ? { acmeVolume: acmeVolumeName } : {}),
                    },
                ),
            );
        const service = new docker.Service(`${name}-service`, serviceArgsFromPlan(planWith(planGatewayService), args.networkId, fileIds), {
            parent: this,
        });
        // After the gateway: the edge forwards to its tasks.
        const edge = new docker.Service(`${name}-edge-service`, serviceArgsFromPlan(planWith(planEdgeService), args.networkId, fileIds), {
            parent: this,
            dependsOn: [service],
        });

        this.serviceName = service.name;
        this.serviceId = service.id;
        this.edgeServiceName = edge.name;
        this.configNames = configs.apply((list) => Object.fromEntries(list.map((f) => [f.key, f.name])));
        this.httpsPort = pulumi.output(args.httpsPort ?? GATEWAY_SETTINGS_DEFAULTS.httpsPort);
        this.registerOutputs({
            serviceName: this.serviceName,
            serviceId: this.serviceId,
            edgeServiceName: this.edgeServiceName,
            configNames: this.configNames,
            httpsPort: this.httpsPort,
        });
    }
}
