import * as pulumi from "@pulumi/pulumi";
import { Credentials } from "../credentials/credentials";
import { RegistryLogin } from "../image/modelImage";
import { HubConfig, HubRegistryKind } from "../config/environment";
import { httpsPortSuffix } from "../config/gateway";
import { Model } from "../config/model";
import { modelRouting } from "../config/routing";
import { GatewayAcme } from "../render/gateway";
import { gatewayAcme } from "../render/hubConfigInputs";
import { ServerCertificate } from "../tls/serverCertificate";
import { HubSecrets } from "./readHubConfig";

// Types shared by ModelHub and the per-target wiring (kept apart so neither imports the other).

/** How one model is reached through the gateway. */
export interface ModelEndpoint {
    /** `https://host/{model}/` */
    url: string;
    /** `https://host/{model}/__docs__/` (Swagger UI) */
    docsUrl: string;
}

/** What another stack needs to deploy a model next to this hub's gateway (read it with a StackReference). */
export interface HubJoinInfo {
    target: HubConfig["target"];
    /** Swarm: the overlay network a model service must join. */
    network?: string;
    /** AKS: the namespace a model's Service must live in. */
    namespace?: string;
    /** Registry host to push images to. */
    registryServer: string;
    /**
     * How a push to `registryServer` authenticates (`registryAuthOf`): `entra` — an ACR, which each stack logs in to
     * with its own Entra ID identity (`acrPushLogin`); `password` — with the platform's `registryLogin` secret output.
     * Absent on a platform deployed with an older plumberhub, which is treated as `password`.
     */
    registryAuth?: RegistryAuth;
    /** Host name the gateway resolves for `{model}` (`modelRouting`): a model's service must answer to it. */
    gatewayNameTemplate: string;
    /** Port the gateway connects to on that host (swarm: the model's own port; AKS: its Service's). */
    modelPort: number;
    /** Public base URL of the gateway. */
    gatewayUrl: string;
}

/** How pushes to a hub's registry authenticate: see `HubJoinInfo.registryAuth`. */
export type RegistryAuth = "entra" | "password";

/** Values of `RegistryAuth`, for validation. */
export const REGISTRY_AUTHS: readonly RegistryAuth[] = ["entra", "password"];

/** How pushes to a registry of `kind` authenticate: an ACR with Entra ID tokens (it has no admin user), any other with a password. */
export function registryAuthOf(kind: HubRegistryKind): RegistryAuth {
    return kind === "acr" ? "entra" : "password";
}

/** What each target's wiring hands back to the hub. */
export interface TargetDeployment {
    url: pulumi.Output<string>;
    registryLogin: RegistryLogin;
    join: pulumi.Output<Omit<HubJoinInfo, "gatewayUrl" | "registryServer" | "registryAuth" | "target">>;
    kubeconfig?: pulumi.Output<string | undefined>;
    /** AKS with `exportAdminKubeconfig`: the cluster's admin kubeconfig. */
    adminKubeconfig?: pulumi.Output<string | undefined>;
}

/** What the hub has built before the target's own resources: shared by both targets. */
export interface HubParts {
    name: string;
    parent: pulumi.ComponentResource;
    config: HubConfig;
    secrets: HubSecrets;
    users: Credentials;
    /** The gateway's certificate made during `pulumi up`; undefined when the gateway gets it from ACME itself (HTTP-01). */
    tls: ServerCertificate | undefined;
    /**
     * Image to run for each model: the pushed digest of a built model, or the model's own `image`. Built by the remote
     * Docker engine `docker` (a swarm manager's, which then pushes it), else by the local engine.
     */
    imageFor: (model: Model, registry: RegistryLogin, dependsOn: pulumi.Resource[], docker?: pulumi.ProviderResource) => pulumi.Output<string>;
}

/**
 * Where the gateway's certificate comes from, as both gateway components take it: the renewal inside the gateway
 * (`tls: acme` with the HTTP-01 challenge) or the certificate and key made during `pulumi up`.
 */
export function gatewayCertificateArgs(
    parts: Pick<HubParts, "config" | "tls">,
): { acme: GatewayAcme } | { tlsCertificate: pulumi.Output<string>; tlsKey: pulumi.Output<string> } {
    const acme = gatewayAcme(parts.config.gateway);
    if (acme) return { acme };
    if (!parts.tls) throw new Error("the gateway has neither an ACME renewal nor a certificate made during `pulumi up`");
    return { tlsCertificate: parts.tls.certChainPem, tlsKey: parts.tls.privateKeyPem };
}

/**
 * The push login of an `external` registry: server and user from the config, the password from its secret. The
 * config validation guarantees all three for that kind; this says which is missing if a caller skipped it.
 */
export function externalRegistryLogin(registry: HubConfig["registry"], secrets: HubSecrets): RegistryLogin {
    if (registry.server === undefined || registry.username === undefined || secrets.registryPassword === undefined) {
        throw new Error(
            "an external registry needs `plumberhub:registry.server`, `plumberhub:registry.username` and the secret `plumberhub:registryPassword`",
        );
    }
    return { server: registry.server, username: registry.username, password: secrets.registryPassword };
}

/** The gateway's public base URL: the port is left out when it is the HTTPS default. */
export function gatewayUrl(host: string, httpsPort: number): string {
    return `https://${host}${httpsPortSuffix(httpsPort)}/`;
}

/** The routing part of `join` on `target`: the host template and port the gateway uses for models it does not list. */
export function joinRouting(target: HubConfig["target"], namespace?: string): Pick<HubJoinInfo, "gatewayNameTemplate" | "modelPort"> {
    const routing = modelRouting(target, namespace);
    return { gatewayNameTemplate: routing.hostTemplate, modelPort: routing.port };
}
