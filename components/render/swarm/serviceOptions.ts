/** Options every swarm service of the plan takes, their check, and the restart and update policies services share. */
import { EndpointMode, PublishMode, validateLabels, validatePlacementConstraint, validateSwarmPublishing } from "../../config/swarm";
import { SwarmServicePlan, SwarmUpdatePlan } from "./plan";

/** Options shared by every swarm service the plan describes. */
export interface SwarmServiceOptions {
    /** `vip` (default: one virtual IP, needs IPVS) or `dnsrr` (DNS round robin, works without IPVS). */
    endpointMode?: EndpointMode;
    /** Placement constraints such as `node.role == worker`. Default none. */
    constraints?: string[];
    /** Extra service labels. Default none. */
    labels?: Record<string, string>;
}

/** Options of a service that publishes ports (gateway, registry). */
export interface SwarmPublishedServiceOptions extends SwarmServiceOptions {
    /** `ingress` (default: routing mesh, every node) or `host` (only the task's node; needed with `dnsrr`). */
    publishMode?: PublishMode;
}

/** Checks the swarm options; throws naming the field in backticks, the bad value and what is valid. */
export function validateSwarmServiceOptions(options: SwarmPublishedServiceOptions, field = "args", publishes = false): void {
    validateSwarmPublishing(options, field, publishes);
    (options.constraints ?? []).forEach((constraint, i) => validatePlacementConstraint(constraint, `${field}.constraints[${i}]`));
    validateLabels(options.labels ?? {}, `${field}.labels`);
}

/** Restart a task whatever made it stop, 5 s apart, without a limit. */
export const RESTART: SwarmServicePlan["restart"] = { condition: "any", delay: "5s", maxAttempts: 0, window: "0s" };

/**
 * Host-published ports can be bound by one task per node only, so a new task of a service that publishes them (the
 * edge, the registry) cannot start before the old one stops: `stop-first` there, `start-first` with the routing mesh.
 */
export function updateFor(publishMode: PublishMode, failureAction: SwarmUpdatePlan["failureAction"]): SwarmUpdatePlan {
    return { parallelism: 1, delay: "0s", order: publishMode === "host" ? "stop-first" : "start-first", failureAction, monitor: "10s" };
}
