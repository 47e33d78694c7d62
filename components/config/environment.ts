/**
 * The stack config of one environment (`plumberhub:*` keys in `Pulumi.<stack>.yaml`): what a user writes
 * (`Hub…Spec`) and the validated `HubConfig` with every default filled in (`validateHubConfig` makes one).
 */
import type { AcrSku, AksClusterSpec, MaintenanceWindow, NodePool } from "./aks";
import type { Model } from "./model";
import type { EndpointMode, PublishMode } from "./swarm";
import type { HubTarget } from "./target";
import { AcmeChallenge, TLS_MODES, TlsMode } from "./tls";
/** The gateway's certificate sources (the TLS layer's modes). */
export type HubTlsMode = TlsMode;
export const HUB_TLS_MODES = TLS_MODES;
export type HubRegistryKind = "swarm" | "acr" | "external";
export const HUB_REGISTRY_KINDS: readonly HubRegistryKind[] = ["swarm", "acr", "external"];

/** Plain (non-secret) config keys, without the `plumberhub:` namespace. */
export const HUB_CONFIG_KEYS = ["target", "models", "gateway", "registry", "swarm", "aks", "baseImage", "protectState"] as const;
/** Secret config keys (`pulumi config set --secret plumberhub:KEY`). */
/** The secrets of a `tcp://` swarm manager's mutual TLS (PEM): the CA that signed the manager's certificate, and the client's certificate and key. */
export const SWARM_TLS_SECRET_KEYS = { caCertificate: "swarmTlsCaCertificate", certificate: "swarmTlsCertificate", key: "swarmTlsKey" } as const;
export const HUB_SECRET_KEYS = [
    "userPasswords",
    "registryPassword",
    "tlsCertificate",
    "tlsKey",
    "kubeconfig",
    SWARM_TLS_SECRET_KEYS.caCertificate,
    SWARM_TLS_SECRET_KEYS.certificate,
    SWARM_TLS_SECRET_KEYS.key,
] as const;
export type HubSecretKey = (typeof HUB_SECRET_KEYS)[number];

/** `plumberhub:gateway.acme` — certificates from an ACME server (Let's Encrypt by default). */
export interface HubAcmeSpec {
    /** Account contact e-mail; the ACME server sends expiry notices to it. Required. */
    email: string;
    /**
     * `http` (default): the HTTP-01 challenge through the gateway's port 80, issued and renewed inside the running
     * gateway (at two-thirds of the lifetime, no deploy needed); the host must be reachable from the internet on port
     * 80. `azureDns`: the DNS-01 challenge in an Azure DNS zone, issued during `pulumi up` (private clusters; renews
     * only on `up`).
     */
    challenge?: AcmeChallenge;
    /** ACME directory URL (https). Default Let's Encrypt production. */
    directoryUrl?: string;
    /** Let's Encrypt's staging directory instead (untrusted certificates, generous rate limits). Default false. */
    staging?: boolean;
    /** `http`: PEM CA certificates the renewal trusts for a private ACME server's directory. Default the system roots. */
    caBundle?: string;
    /** `azureDns`: the Azure DNS zone holding the gateway's host, e.g. `example.com`. Required there. */
    zoneName?: string;
    /** `azureDns`: subscription of the zone. Required there. */
    subscriptionId?: string;
    /** `azureDns`: resource group of the zone. Required there. */
    resourceGroup?: string;
}

/** `plumberhub:gateway` — the one HTTPS entry point in front of every model. */
export interface HubGatewaySpec {
    /** Host name clients use: in the certificate and in every URL. Default `localhost`. */
    host?: string;
    /** Extra IP addresses for the self-signed certificate. Default `["127.0.0.1"]` on swarm, none on AKS. */
    ipAddresses?: string[];
    /** Gateway users (basic auth). Passwords generated unless given in the `plumberhub:userPasswords` secret. Default `["admin"]`. */
    users?: string[];
    /** Certificate source: `selfSigned` (default), `provided` (secrets `plumberhub:tlsCertificate` / `tlsKey`) or `acme`. */
    tls?: HubTlsMode;
    /** Where `tls: acme` gets its certificate; required when `tls` is `acme`. */
    acme?: HubAcmeSpec;
    /** nginx replicas. Default 1 on swarm, 2 on AKS. */
    replicas?: number;
    /** Published HTTPS port (swarm). Default 443. */
    httpsPort?: number;
    /** Published HTTP port, redirecting to HTTPS (swarm). Default 80. */
    httpPort?: number;
    /** Azure DNS label of the gateway's public IP (AKS): `{label}.{region}.cloudapp.azure.com`. Default none. */
    dnsLabel?: string;
    /** Largest request body, MiB. Default 10. */
    maxBodyMiB?: number;
    /** Seconds a model may take to answer. Default 120. */
    readTimeoutSeconds?: number;
    /** Landing page title. Default `plumberhub models`. */
    title?: string;
    /**
     * Per-model request metrics at `/metrics` (Prometheus text format, behind the gateway's basic auth), counted by
     * nginx's Lua module: needs a gateway image with Debian's nginx and `libnginx-mod-http-lua` (the local image has
     * it; README "Metrics"). Default false.
     */
    metrics?: boolean;
}

/** `plumberhub:registry` — where model images are pushed. */
export interface HubRegistrySpec {
    /** `swarm` (a registry service on the swarm; default there), `acr` (default on AKS) or `external`. */
    kind?: HubRegistryKind;
    /** external: registry host[:port]; its password is the `plumberhub:registryPassword` secret. */
    server?: string;
    /** external: the user that pushes. */
    username?: string;
    /** swarm: published port on the manager. Default 5000. */
    port?: number;
    /**
     * swarm: the address (IP or DNS name) of the registry's manager that every node and the machine running
     * `pulumi up` reach it at. Default `127.0.0.1`, which only works on a single node. Any other address is in the
     * registry's certificate, and every node trusts its CA (the platform installs it on each node).
     */
    host?: string;
    /**
     * swarm: placement constraints of the registry besides `node.role == manager`, e.g. `["node.hostname == manager1"]`:
     * with several managers, pin it to the one at `host` (its images live on that node's volume). Default none.
     */
    constraints?: string[];
    /** acr: SKU. Default `Basic`. */
    sku?: AcrSku;
    /** acr: name prefix; a random suffix makes the globally unique name. Default `plumberhub`. */
    namePrefix?: string;
}

/** `plumberhub:swarm` — the Docker Swarm target. */
export interface HubSwarmSpec {
    /** Docker endpoint of a swarm manager (`unix://`, `npipe://`, `ssh://[user@]host[:port]`, `tcp://host:port`). Default `DOCKER_HOST`, else the local engine. */
    host?: string;
    /** Overlay network models and gateway share; other stacks' models join it by this name. Default `plumberhub`. */
    network?: string;
    /** `vip` (default) or `dnsrr` (hosts without IPVS; then `publishMode` must be `host`). */
    endpointMode?: EndpointMode;
    /** Gateway/registry ports: `ingress` (default, routing mesh) or `host`. */
    publishMode?: PublishMode;
    /** Placement constraints of the models, e.g. `node.role == worker` (the registry stays on a manager, with its volume). Default none. */
    constraints?: string[];
    /** Placement constraints of the gateway. Default `["node.role == manager"]` (`SWARM_DEFAULTS.gatewayConstraints`). */
    gatewayConstraints?: string[];
    /**
     * A `tcp://` host without TLS (the secrets `swarmTlsCaCertificate`, `swarmTlsCertificate`, `swarmTlsKey`) is refused:
     * the Docker API is root on every node. True accepts it, for a network you trust. Default false.
     */
    allowInsecureTcp?: boolean;
    /**
     * Extra `ssh` arguments for an `ssh://` host, e.g. `["-o", "UserKnownHostsFile=/path/known_hosts", "-i", "/path/key"]`.
     * `pulumi up` also asks the manager directly while it waits for replicas: over ssh:// through your ssh-agent
     * (`SSH_AUTH_SOCK`). Default none (your ssh configuration).
     */
    sshOpts?: string[];
    /** Gateway image. Default the pinned nginx. */
    gatewayImage?: string;
    /** Registry image. Default the pinned registry:2. */
    registryImage?: string;
}

/** `plumberhub:aks` — the AKS target: where it goes, and the cluster settings of `AksClusterSpec`. */
export interface HubAksSpec extends AksClusterSpec {
    /** Existing resource group to use; default a new one. */
    resourceGroupName?: string;
    /** Azure region. Default the `azure-native:location` config. */
    location?: string;
    /** Namespace for models and gateway. Default `models`. */
    namespace?: string;
    /**
     * Use the cluster of the `plumberhub:kubeconfig` secret instead of creating one; the cluster settings of
     * `AksClusterSpec` are refused with it (they only apply to a cluster plumberhub creates). Default false.
     */
    existingCluster?: boolean;
    /** With `existingCluster` and an ACR: object id of the cluster's kubelet identity, granted AcrPull. */
    kubeletObjectId?: string;
    /** Gateway image. Default the pinned nginx. */
    gatewayImage?: string;
}

/** A validated environment: every default filled in. */
export interface HubConfig {
    target: HubTarget;
    models: Model[];
    gateway: Required<Omit<HubGatewaySpec, "acme" | "dnsLabel">> & Pick<HubGatewaySpec, "acme" | "dnsLabel">;
    registry: Required<Pick<HubRegistrySpec, "kind">> & HubRegistrySpec;
    swarm: Required<Pick<HubSwarmSpec, "network" | "endpointMode" | "publishMode" | "constraints" | "gatewayConstraints">> & HubSwarmSpec;
    aks: Required<
        Pick<
            HubAksSpec,
            | "namespace"
            | "existingCluster"
            | "availabilityZones"
            | "tier"
            | "adminGroupObjectIds"
            | "deployerClusterAdmin"
            | "privateCluster"
            | "localAccounts"
            | "exportAdminKubeconfig"
            | "kubeloginMode"
        >
    > &
        HubAksSpec & { systemPool: NodePool; userPool: NodePool; maintenanceWindow: MaintenanceWindow };
    /** Base image for model builds; default the renderer's pinned one. */
    baseImage?: string;
    /**
     * `plumberhub:protectState`: whether the stateful resources outlive `pulumi destroy` and replacements —
     * `protect` on the AKS resource group, cluster and ACR registry, `retainOnDelete` on the ACR registry and on the
     * swarm registry's data volume. Default `DEFAULT_PROTECT_STATE` (true); false for throwaway stacks.
     */
    protectState: boolean;
}

/** Thrown by `validateHubConfig`: one line per problem. */
export class HubConfigError extends Error {
    constructor(public readonly problems: string[]) {
        super(
            problems.length === 1
                ? `invalid stack config: ${problems[0]}`
                : `${problems.length} problems in the stack config:\n- ${problems.join("\n- ")}`,
        );
        this.name = "HubConfigError";
    }
}

/** Name the stack program (`index.ts`) gives its `ModelHub`: child names and swarm file names derive from it. */
export const DEFAULT_HUB_NAME = "plumberhub";
