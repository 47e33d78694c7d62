import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { EndpointMode, validateDockerHost, validateTlsOnTcpHost } from "../config/swarm";
import { planModelService, validateSwarmServiceOptions } from "../render/swarm";
import { Model } from "../config/model";
import { modelHost, SWARM_MODEL_HOST_TEMPLATE } from "../config/routing";
import { serviceArgsFromPlan } from "./serviceArgs";
import { dockerClient, waitForReplicas } from "./waitForReplicas";
import { DockerTls, resolveDockerTls } from "./swarmProvider";
import type { RegistryLogin } from "../image/modelImage";
import { asResourceError } from "../util/errors";

export interface SwarmModelArgs {
    /** The validated model (`validateModels`): the service name, and the model alias the gateway routes `/{name}/…` to. */
    model: Model;
    /** Image to run: the `repoDigest` of its `ModelImage` (`registry/repo@sha256:…`) or the model's prebuilt `image`. */
    image: pulumi.Input<string>;
    /** Id of the hub's overlay network (`SwarmNetwork.networkId`, or read from the platform stack). */
    networkId: pulumi.Input<string>;
    /** `vip` (one virtual IP; needs IPVS in the kernel) or `dnsrr` (DNS round robin). Default `vip`. */
    endpointMode?: EndpointMode;
    /** Placement constraints, e.g. `["node.role == worker"]`. Default none. */
    constraints?: string[];
    /** Extra service labels. Default none. */
    labels?: Record<string, string>;
    /**
     * The gateway's read timeout, in seconds: how long a stopping task waits for R to answer the requests it has.
     * Default the gateway's default (120).
     */
    gatewayReadTimeoutSeconds?: number;
    /**
     * Docker endpoint `pulumi up` asks while it waits for the replicas: the same engine as the Docker provider's
     * (`ssh://`, `tcp://`, `unix://`). Default `DOCKER_HOST`, else the local socket — as the provider's default.
     */
    dockerHost?: string;
    /** Client TLS for a `tcp://` `dockerHost` (the provider's `tls`). Default none. */
    dockerTls?: DockerTls;
    /**
     * Login the nodes pull `image` with, sent along with the service (`docker service create --with-registry-auth`):
     * a private registry's image runs on nodes that never logged in to it. Default none (public or already pulled).
     */
    registryAuth?: RegistryLogin;
}

/** Checks `SwarmModelArgs` before anything is created; throws naming the field. */
export function validateSwarmModelArgs(args: SwarmModelArgs): void {
    if (!args.model || typeof args.model.name !== "string") {
        throw new Error("`model` must be a validated model (from `validateModels`), got " + JSON.stringify(args.model));
    }
    if (args.image === undefined || args.image === "") {
        throw new Error(`\`image\` is required for model \`${args.model.name}\`: pass its ModelImage's \`repoDigest\` or the model's \`image\``);
    }
    validateSwarmServiceOptions(args, "args");
    if (args.dockerHost !== undefined) validateDockerHost(args.dockerHost, "dockerHost");
    validateTlsOnTcpHost(args.dockerHost, args.dockerTls !== undefined, { host: "dockerHost", tls: "dockerTls" });
}

/**
 * One model as a swarm service: replicas, cpu/memory reservations and limits from the model's quantities,
 * healthcheck on `/healthz`, `start-first` rolling updates that roll back on a failed healthcheck, restart
 * policy, placement, endpoint mode, `PUBLIC_PATH_PREFIX=/{name}`. The service's description comes from
 * `planModelService`, the same function the stack-file export uses.
 */
export class SwarmModel extends pulumi.ComponentResource {
    /** Service name: the model's name. */
    public readonly serviceName: pulumi.Output<string>;
    /** The service's id. */
    public readonly serviceId: pulumi.Output<string>;
    /** The image the service runs. */
    public readonly image: pulumi.Output<string>;
    /** Address inside the hub network, `http://{model alias}:{port}` (what the gateway connects to). */
    public readonly internalUrl: pulumi.Output<string>;
    /** Replicas running once `pulumi up` has waited for them (undefined in a preview, which deploys nothing). */
    public readonly readyReplicas: pulumi.Output<number | undefined>;

    constructor(name: string, args: SwarmModelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:swarm:SwarmModel", name, {}, opts);
        asResourceError(this, () => validateSwarmModelArgs(args));
        const { model } = args;
        const plan = pulumi.output(args.image).apply((image) =>
            planModelService(model, {
                image,
                endpointMode: args.endpointMode,
                constraints: args.constraints,
                labels: args.labels,
                gatewayReadTimeoutSeconds: args.gatewayReadTimeoutSeconds,
            }),
        );
        // This component waits for the replicas itself (below), so a failure names the model and the scheduler's reason.
        const service = new docker.Service(
            `${name}-service`,
            serviceArgsFromPlan(plan, args.networkId, {}, { providerWaits: false, registryAuth: args.registryAuth }),
            { parent: this, additionalSecretOutputs: ["auth"] },
        );

        this.serviceName = service.name;
        this.serviceId = service.id;
        this.image = plan.image;
        this.internalUrl = pulumi.output(`http://${modelHost(SWARM_MODEL_HOST_TEMPLATE, model.name)}:${model.port}`);
        // Only in a real deployment: a preview changes nothing to wait for, and unit-test mocks have no engine.
        // A count, not secret, though the TLS it was asked with is.
        const ready = pulumi.all([service.id, plan.replicas, resolveDockerTls(args.dockerTls)]).apply(async ([id, replicas, tls]) => {
            if (pulumi.runtime.isDryRun() || !pulumi.runtime.hasEngine()) return undefined;
            try {
                return await waitForReplicas(dockerClient(args.dockerHost, tls), id, model.name, replicas);
            } catch (error) {
                // The whole message under this component in `pulumi up`'s diagnostics; the rejection only stops the update.
                void pulumi.log.error((error as Error).message, this);
                throw new pulumi.RunError(`model \`${model.name}\` is not ready: see the error of ${name} above`);
            }
        });
        this.readyReplicas = pulumi.unsecret(ready);
        this.registerOutputs({
            serviceName: this.serviceName,
            serviceId: this.serviceId,
            image: this.image,
            internalUrl: this.internalUrl,
            readyReplicas: this.readyReplicas,
        });
    }
}
