import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_PROTECT_STATE } from "../config/stateProtection";
import { EndpointMode, PublishMode, SWARM_DEFAULTS, validateSwarmName } from "../config/swarm";
import {
    planRegistryCaFile,
    planRegistryFiles,
    planRegistryService,
    planRegistryTrustService,
    ROLE_LABEL,
    validateRegistryServiceOptions,
} from "../render/swarm";
import { DockerTls, resolveDockerTls } from "./swarmProvider";
import { dockerClient, waitForEveryNode } from "./waitForReplicas";
import { createSwarmFiles, fileRefs, serviceArgsFromPlan, toLabels } from "./serviceArgs";
import type { RegistryLogin } from "../image/modelImage";
import { asResourceError } from "../util/errors";

export interface SwarmRegistryArgs {
    /** Host name or IP that Docker engines (yours and the swarm nodes) use to reach the registry, e.g. a manager's DNS name. */
    host: pulumi.Input<string>;
    /** Published port. Default 5000. */
    port?: number;
    /** PEM certificate for `host` (`ServerCertificate`-style); engines must trust its CA (`/etc/docker/certs.d/HOST:PORT/ca.crt`). */
    tlsCertificate: pulumi.Input<string>;
    /** PEM private key of that certificate; stored as a swarm secret. */
    tlsKey: pulumi.Input<string>;
    /** htpasswd lines with bcrypt hashes (`user:$2y$…`, what the registry accepts); stored as a swarm secret. */
    htpasswd: pulumi.Input<string>;
    /** User that pushes images (one of the htpasswd users). */
    username: pulumi.Input<string>;
    /** That user's password; output as a secret. */
    password: pulumi.Input<string>;
    /** Id of an overlay network to join (optional: engines reach the registry through the published port). */
    networkId?: pulumi.Input<string>;
    /** Registry image (distribution 2.x). Default `DEFAULT_REGISTRY_IMAGE` (a pinned public tag). */
    image?: pulumi.Input<string>;
    /** `ingress` (default) or `host`. */
    publishMode?: PublishMode;
    /** `vip` (default) or `dnsrr`. */
    endpointMode?: EndpointMode;
    /** Placement constraints besides `node.role == manager`, which always applies (the data volume is local to one node). Default none. */
    constraints?: string[];
    /** Docker name of the data volume. Default `{name}-data`. */
    volumeName?: string;
    /**
     * Keep the data volume, with every pushed image, when Pulumi deletes or replaces it (`retainOnDelete`):
     * `pulumi destroy` then leaves it on the manager, to be removed by hand (`docker volume rm`). Default
     * `DEFAULT_PROTECT_STATE` (true); false for throwaway stacks.
     */
    retainData?: boolean;
    /**
     * PEM CA that signed `tlsCertificate`, made trusted on every node of the swarm —
     * and on nodes that join later — by a global service writing it to `/etc/docker/certs.d/{host}:{port}/ca.crt`
     * (`planRegistryTrustService`); `pulumi up` waits until every node has it. Needed when several nodes pull from
     * the registry at a non-loopback `host`. Default none (engines already trust it, or pull from loopback).
     */
    caCertificate?: pulumi.Input<string>;
    /** Docker endpoint `pulumi up` asks while it waits for every node to trust the CA: the provider's `host`. Default `DOCKER_HOST`, else the local socket. */
    dockerHost?: string;
    /** Client TLS for a `tcp://` `dockerHost` (the provider's `tls`). Default none. */
    dockerTls?: DockerTls;
}

/** Checks `SwarmRegistryArgs` before anything is created; throws naming the field. */
export function validateSwarmRegistryArgs(name: string, args: SwarmRegistryArgs): void {
    validateRegistryServiceOptions({ ...args, image: undefined, volume: args.volumeName ?? `${name}-data` }, "args");
    validateSwarmName(name, "name");
    if (typeof args.htpasswd === "string") checkBcryptHtpasswd(args.htpasswd);
}

/** The registry only understands bcrypt htpasswd entries; anything else fails every login at push time, so fail early. */
export function checkBcryptHtpasswd(htpasswd: string): void {
    const lines = htpasswd.split("\n").filter((line) => line.trim() !== "");
    if (lines.length === 0) throw new Error("`htpasswd` must hold at least one `user:$2y$…` line, got an empty value");
    lines.forEach((line, i) => {
        if (!/^[^:\s]+:\$2[aby]\$\d\d\$/.test(line)) {
            throw new Error(
                `\`htpasswd\` line ${i + 1} must be a bcrypt entry \`user:$2y$…\` (the registry accepts only bcrypt), got user \`${line.split(":")[0]}\` with another hash`,
            );
        }
    });
}

/**
 * A private registry as a swarm service: TLS and bcrypt htpasswd from swarm secrets, data on a named
 * volume (kept when deleted unless `retainData` is false), one replica pinned to a manager. Outputs the login that
 * `ModelImage` pushes with.
 */
export class SwarmRegistry extends pulumi.ComponentResource {
    /** `host:port` to push to and pull from. */
    public readonly server: pulumi.Output<string>;
    /** The pushing user. */
    public readonly username: pulumi.Output<string>;
    /** That user's password (secret). */
    public readonly password: pulumi.Output<string>;
    /** The registry's service id. */
    public readonly serviceId: pulumi.Output<string>;
    /** Where and as whom `ModelImage` pushes: `server`, `username`, `password`. */
    public readonly login: RegistryLogin;

    constructor(name: string, args: SwarmRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:swarm:SwarmRegistry", name, {}, opts);
        asResourceError(this, () => validateSwarmRegistryArgs(name, args));
        const port = args.port ?? SWARM_DEFAULTS.registryPort;
        const labels = { [ROLE_LABEL]: "registry" };
        const volume = new docker.Volume(
            `${name}-data`,
            { name: args.volumeName ?? `${name}-data`, labels: toLabels(labels) },
            { parent: this, retainOnDelete: args.retainData ?? DEFAULT_PROTECT_STATE },
        );
        const secrets = pulumi.all([args.tlsCertificate, args.tlsKey, args.htpasswd]).apply(([tlsCertificate, tlsKey, htpasswd]) => {
            checkBcryptHtpasswd(htpasswd);
            return planRegistryFiles(name, { tlsCertificate, tlsKey, htpasswd });
        });
        const keys = ["registry.crt", "registry.key", "registry.htpasswd"];
        const fileIds = createSwarmFiles(name, "secret", secrets, keys, labels, this);
        const plan = pulumi.all([fileRefs(secrets), args.image, volume.name]).apply(([refs, image, volumeName]) =>
            planRegistryService(refs, {
                image,
                port,
                volume: volumeName,
                publishMode: args.publishMode,
                endpointMode: args.endpointMode,
                constraints: args.constraints,
            }),
        );
        // Without a network of its own choosing the registry joins a private one: engines reach it by the published port.
        // The Docker provider needs the network's name (it has no auto-naming): the component's, like the volume's.
        const networkId =
            args.networkId ??
            new docker.Network(`${name}-network`, { name: `${name}-network`, driver: "overlay", labels: toLabels(labels) }, { parent: this }).id;
        const service = new docker.Service(`${name}-service`, serviceArgsFromPlan(plan, networkId, fileIds), { parent: this });
        const address = pulumi.interpolate`${args.host}:${port}`;
        // Pushes (the manager's engine) and pulls (every node's) verify the registry from the moment the login is used.
        const trusted = args.caCertificate === undefined ? pulumi.output(undefined) : this.trustOnEveryNode(name, args, address, networkId, labels);

        this.server = pulumi.all([address, trusted]).apply(([server]) => server);
        this.username = pulumi.output(args.username);
        this.password = pulumi.secret(args.password);
        this.serviceId = service.id;
        this.login = {
            server: this.server,
            username: this.username,
            password: this.password,
            ...(args.caCertificate !== undefined ? { caCertificate: args.caCertificate } : {}),
        };
        this.registerOutputs({ server: this.server, username: this.username, password: this.password, serviceId: this.serviceId });
    }

    /** The CA as a swarm config and the global service that installs it on every node; resolves once every node has it. */
    private trustOnEveryNode(
        name: string,
        args: SwarmRegistryArgs,
        server: pulumi.Output<string>,
        networkId: pulumi.Input<string>,
        labels: Record<string, string>,
    ): pulumi.Output<void> {
        const caFile = pulumi.output(args.caCertificate!).apply((pem) => [planRegistryCaFile(name, pem)]);
        const fileIds = createSwarmFiles(name, "config", caFile, ["registry-ca.crt"], labels, this);
        const plan = pulumi
            .all([fileRefs(caFile), server, args.image])
            .apply(([[ref], registry, image]) => planRegistryTrustService(ref, { server: registry, image }));
        // A global service: the provider's convergence check counts replicas, so the component waits itself.
        const service = new docker.Service(`${name}-trust`, serviceArgsFromPlan(plan, networkId, fileIds, { providerWaits: false }), {
            parent: this,
        });
        const waited = pulumi.all([service.id, resolveDockerTls(args.dockerTls)]).apply(async ([id, tls]) => {
            if (pulumi.runtime.isDryRun() || !pulumi.runtime.hasEngine()) return;
            await waitForEveryNode(dockerClient(args.dockerHost, tls), id, `the registry's CA installer \`${name}-trust\``);
        });
        return pulumi.unsecret(waited);
    }
}
