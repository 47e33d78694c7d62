import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { validateSwarmName } from "../config/swarm";
import { ROLE_LABEL } from "../render/swarm";
import { toLabels } from "./serviceArgs";
import { asResourceError } from "../util/errors";

export interface SwarmNetworkArgs {
    /**
     * Docker name of the overlay network. It is exported and stable: models deployed from other stacks join
     * the hub by this name. Default: the component's name.
     */
    networkName?: string;
    /** Extra network labels. Default none. */
    labels?: Record<string, string>;
}

/** Checks `SwarmNetworkArgs`; throws naming the field. */
export function validateSwarmNetworkArgs(name: string, args: SwarmNetworkArgs): void {
    validateSwarmName(args.networkName ?? name, "networkName");
}

/**
 * The hub's attachable overlay network. Every model service and the gateway join it; the gateway finds a
 * model by its service name through Docker's embedded DNS, so anything that joins later is routable.
 */
export class SwarmNetwork extends pulumi.ComponentResource {
    /** The network's Docker name. */
    public readonly networkName: pulumi.Output<string>;
    /** The network's id, for `networksAdvanced`. */
    public readonly networkId: pulumi.Output<string>;

    constructor(name: string, args: SwarmNetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:swarm:SwarmNetwork", name, {}, opts);
        asResourceError(this, () => validateSwarmNetworkArgs(name, args));
        const network = new docker.Network(
            `${name}-network`,
            {
                name: args.networkName ?? name,
                driver: "overlay",
                attachable: true,
                labels: toLabels({ ...args.labels, [ROLE_LABEL]: "network" }),
            },
            { parent: this },
        );
        this.networkName = network.name;
        this.networkId = network.id;
        this.registerOutputs({ networkName: this.networkName, networkId: this.networkId });
    }
}
