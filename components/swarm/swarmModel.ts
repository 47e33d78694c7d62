import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { EndpointMode } from "../config/swarm";
import { planModelService, validateSwarmServiceOptions } from "../render/swarm";
import { Model } from "../config/model";
import { serviceArgsFromPlan } from "./serviceArgs";
import { asResourceError } from "../util/errors";

export interface SwarmModelArgs {
    /** The validated model (`validateModels`); its name is the service name the gateway routes `/{name}/…` to. */
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
}

/**
 * One model as a swarm service: replicas, cpu/memory reservations and limits from the model's quantities,
 * healthcheck on `/healthz`, `start-first` rolling updates that roll back on a failed healthcheck, restart
 * policy, placement, endpoint mode, `PUBLIC_PATH_PREFIX=/{name}`. The service's description comes from
 * `planModelService`, the same function the stack-file export uses.
 */
export class SwarmModel extends pulumi.ComponentResource {
    /** Service name = DNS name on the hub network = the model's name. */
    public readonly serviceName: pulumi.Output<string>;
    /** The service's id. */
    public readonly serviceId: pulumi.Output<string>;
    /** The image the service runs. */
    public readonly image: pulumi.Output<string>;
    /** Address inside the hub network, `http://{name}:{port}`. */
    public readonly internalUrl: pulumi.Output<string>;

    constructor(name: string, args: SwarmModelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:swarm:SwarmModel", name, {}, opts);
        asResourceError(this, () => validateSwarmModelArgs(args));
        const { model } = args;
        const plan = pulumi
            .output(args.image)
            .apply((image) =>
                planModelService(model, { image, endpointMode: args.endpointMode, constraints: args.constraints, labels: args.labels }),
            );
        const service = new docker.Service(`${name}-service`, serviceArgsFromPlan(plan, args.networkId), { parent: this });

        this.serviceName = service.name;
        this.serviceId = service.id;
        this.image = plan.image;
        this.internalUrl = pulumi.interpolate`http://${service.name}:${model.port}`;
        this.registerOutputs({
            serviceName: this.serviceName,
            serviceId: this.serviceId,
            image: this.image,
            internalUrl: this.internalUrl,
        });
    }
}
