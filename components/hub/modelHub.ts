import * as pulumi from "@pulumi/pulumi";
import { Credentials } from "../credentials/credentials";
import { ModelImage } from "../image/modelImage";
import { HubJoinInfo, HubParts, ModelEndpoint, registryAuthOf } from "./hubParts";
import type { PlatformRegistryLogin } from "./platformStack";
import { HubConfig } from "../config/environment";
import { acmeDirectoryUrl } from "../config/tls";
import { ServerCertificate } from "../tls/serverCertificate";
import { gatewayAcme } from "../render/hubConfigInputs";
import { HubSecrets } from "./readHubConfig";
import { deployOnSwarm } from "./swarmEnvironment";
import { loadAksWiring } from "../util/aksTarget";

export interface ModelHubArgs {
    /** The validated environment (`readHubConfig()` in a stack program, or `validateHubConfig`). */
    config: HubConfig;
    /** Secret config values, each a `pulumi.secret`. Default none (passwords generated, self-signed TLS). */
    secrets?: HubSecrets;
    /** Folder, relative to the Pulumi project, for the rendered image build contexts. Default `.plumberhub/build`. */
    contextRoot?: string;
}

/**
 * A whole environment in one call: registry, model images, model deployments and the gateway, on a Docker Swarm
 * (`target: swarm`) or on AKS (`target: aks`). Outputs the gateway URL, each model's URL and docs, the user
 * passwords and kubeconfig as secrets, and what other stacks need to add models of their own.
 */
export class ModelHub extends pulumi.ComponentResource {
    /** Public base URL of the gateway, e.g. `https://localhost/`. */
    public readonly url: pulumi.Output<string>;
    /** Per model: `url` and `docsUrl`. */
    public readonly models: pulumi.Output<Record<string, ModelEndpoint>>;
    /** Gateway passwords by user (secret). */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** CA certificate of the gateway's TLS (public): `curl --cacert`. Empty with `tls: acme` over HTTP-01 (a public CA). */
    public readonly caCertPem: pulumi.Output<string>;
    /**
     * Expiry of the gateway's certificate as of this `up` (ISO 8601). Undefined with `tls: acme` over HTTP-01: that one
     * renews itself, and `https://{host}/healthz/certificate` gives its current `notAfter` and `daysLeft`.
     */
    public readonly certificateNotAfter: pulumi.Output<string | undefined>;
    /** Kubeconfig on AKS (secret): the Entra ID user kubeconfig of a new cluster (runs kubelogin); undefined on swarm. */
    public readonly kubeconfig: pulumi.Output<string | undefined>;
    /** Admin kubeconfig on AKS with `aks.exportAdminKubeconfig` (secret, a client certificate); else undefined. */
    public readonly adminKubeconfig: pulumi.Output<string | undefined>;
    /** Registry login for pushing more images (secret); on an ACR a token that expires about 3 hours after this `up`. */
    public readonly registryLogin: pulumi.Output<PlatformRegistryLogin>;
    /** What another stack needs to join this hub. */
    public readonly join: pulumi.Output<HubJoinInfo>;

    constructor(name: string, args: ModelHubArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:hub:ModelHub", name, {}, opts);
        const { config } = args;
        const secrets = args.secrets ?? {};
        const gateway = config.gateway;

        const users = new Credentials(
            `${name}-users`,
            {
                users: gateway.users.map((user) => ({
                    name: user,
                    ...(secrets.userPasswords?.[user] ? { password: secrets.userPasswords[user] } : {}),
                })),
            },
            { parent: this },
        );
        // With HTTP-01 the gateway gets its certificate itself, after the deploy.
        const tls = gatewayAcme(gateway) ? undefined : new ServerCertificate(`${name}-tls`, gatewayTlsArgs(config, secrets), { parent: this });

        const images = new Map<string, ModelImage>();
        const imageFor: HubParts["imageFor"] = (model, registry, dependsOn, docker) => {
            if (model.image) return pulumi.output(model.image);
            const image = new ModelImage(
                `${name}-${model.name}`,
                { model, registry, baseImage: config.baseImage, contextRoot: args.contextRoot, buildOnRemoteEngine: docker !== undefined },
                { parent: this, dependsOn, ...(docker ? { providers: [docker] } : {}) },
            );
            images.set(model.name, image);
            return image.repoDigest;
        };

        const parts: HubParts = { name, parent: this, config, secrets, users, tls, imageFor };
        const deployment =
            config.target === "swarm"
                ? deployOnSwarm(parts)
                : // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only on AKS: its SDKs are optional peers
                  loadAksWiring(() => require("./aksEnvironment") as typeof import("./aksEnvironment")).deployOnAks(parts);

        this.url = deployment.url;
        this.models = this.url.apply((base) =>
            Object.fromEntries(
                config.models.map((model) => [model.name, { url: `${base}${model.name}/`, docsUrl: `${base}${model.name}/__docs__/` }]),
            ),
        );
        this.passwords = pulumi.secret(users.passwords);
        this.caCertPem = tls ? tls.caCertPem : pulumi.output("");
        this.certificateNotAfter = tls ? tls.notAfter : pulumi.output(undefined);
        this.kubeconfig = deployment.kubeconfig ? pulumi.secret(deployment.kubeconfig) : pulumi.output(undefined);
        this.adminKubeconfig = deployment.adminKubeconfig ? pulumi.secret(deployment.adminKubeconfig) : pulumi.output(undefined);
        this.registryLogin = pulumi.secret(pulumi.output(deployment.registryLogin));
        this.join = pulumi
            .all([deployment.join, deployment.url, deployment.registryLogin.server])
            .apply(([join, gatewayUrl, registryServer]): HubJoinInfo => ({
                target: config.target,
                ...join,
                registryServer,
                registryAuth: registryAuthOf(config.registry.kind),
                gatewayUrl,
            }));
        this.registerOutputs({
            url: this.url,
            models: this.models,
            passwords: this.passwords,
            caCertPem: this.caCertPem,
            certificateNotAfter: this.certificateNotAfter,
            kubeconfig: this.kubeconfig,
            adminKubeconfig: this.adminKubeconfig,
            registryLogin: this.registryLogin,
            join: this.join,
        });
    }
}

function gatewayTlsArgs(config: HubConfig, secrets: HubSecrets): ConstructorParameters<typeof ServerCertificate>[1] {
    const { gateway } = config;
    const hosts = { dnsNames: [gateway.host], ipAddresses: gateway.ipAddresses };
    switch (gateway.tls) {
        case "provided":
            return { mode: "provided", ...hosts, certificatePem: secrets.tlsCertificate, privateKeyPem: secrets.tlsKey };
        case "acme": {
            const acme = gateway.acme!;
            return {
                mode: "acme",
                dnsNames: [gateway.host],
                acme: {
                    email: acme.email,
                    zoneName: acme.zoneName!,
                    serverUrl: acmeDirectoryUrl(acme),
                    azureDns: { subscriptionId: acme.subscriptionId!, resourceGroup: acme.resourceGroup!, authMethod: "oidc" },
                },
            };
        }
        default:
            return { mode: "selfSigned", ...hosts };
    }
}
