/** The swarm service of one model: replicas, resources, healthcheck, rolling updates that roll back. */
import { parseQuantity } from "../../config/quantities";
import { validateInteger } from "../../config/checks";
import { MAX_REPLICAS, Model, modelRequest } from "../../config/model";
import { modelHost, SWARM_MODEL_HOST_TEMPLATE } from "../../config/routing";
import { SWARM_DEFAULTS } from "../../config/swarm";
import { GATEWAY_SETTINGS_DEFAULTS, MAX_READ_TIMEOUT_SECONDS } from "../../config/gateway";
import { healthcheckCommand, modelContainerEnv } from "../modelContainer";
import { dockerDuration, MODEL_LABEL, ROLE_LABEL, SwarmServicePlan, SwarmUpdatePlan } from "./plan";
import { RESTART, SwarmServiceOptions, validateSwarmServiceOptions } from "./serviceOptions";

/** Seconds R needs to exit once it is idle and stopped. */
const MODEL_EXIT_SECONDS = 5;

/**
 * Seconds swarm lets a model task stop before it kills it: the image's entrypoint first waits for R to answer the
 * requests it has (up to the gateway's read timeout, which the task's environment passes on), then R exits.
 */
export function modelStopGraceSeconds(gatewayReadTimeoutSeconds: number): number {
    return gatewayReadTimeoutSeconds + MODEL_EXIT_SECONDS;
}

/** Swarm rolls a model one task at a time, new task first; a task that fails its healthcheck within `monitor` rolls the service back. */
const MODEL_UPDATE: SwarmUpdatePlan = { parallelism: 1, delay: "0s", order: "start-first", failureAction: "rollback", monitor: "30s" };
const MODEL_ROLLBACK: SwarmUpdatePlan = { parallelism: 1, delay: "0s", order: "start-first", failureAction: "pause", monitor: "30s" };

/**
 * Healthcheck timings of model services: 5 s instead of the image's 30 s, so a rolling update's new task turns
 * healthy within seconds. Durations are written as Docker reads them back (`1m`, not `60s`; see `isDockerDuration`):
 * the Docker provider compares the text, so any other spelling is a diff on every preview.
 */
export const MODEL_HEALTHCHECK_TIMINGS = Object.freeze({ interval: "5s", timeout: "5s", retries: 3, startPeriod: "1m" });

/**
 * The `GET /healthz` probe of images built from the rendered Dockerfile: the Dockerfile's own HEALTHCHECK
 * command (one definition, in the model container renderer) with faster timings. The docker provider requires a
 * command when a service sets healthcheck timings, so it is spelled out here.
 */
export function modelImageHealthcheck(port: number): NonNullable<SwarmServicePlan["healthcheck"]> {
    return { test: ["CMD", ...healthcheckCommand(port)], ...MODEL_HEALTHCHECK_TIMINGS };
}

/** NanoCPUs and bytes from the model's Kubernetes quantities; a reservation only when the model asks for one. */
function modelResources(model: Model): NonNullable<SwarmServicePlan["resources"]> {
    const nano = (q: string) => Math.round(parseQuantity(q) * 1e9);
    const bytes = (q: string) => Math.round(parseQuantity(q));
    const reservations = { nanoCpus: nano(modelRequest(model, "cpu", "swarm")), memoryBytes: bytes(modelRequest(model, "memory", "swarm")) };
    return {
        limits: { nanoCpus: nano(model.cpu.limit), memoryBytes: bytes(model.memory.limit) },
        ...(reservations.nanoCpus > 0 || reservations.memoryBytes > 0 ? { reservations } : {}),
    };
}

/** Options every model service of a hub shares. */
export interface SwarmModelOptions extends SwarmServiceOptions {
    /** The gateway's read timeout, in seconds: how long a stopping task waits for R's requests. Default the gateway's default (120). */
    gatewayReadTimeoutSeconds?: number;
}

export interface ModelServiceOptions extends SwarmModelOptions {
    /** Image to run, ideally `registry/repo@sha256:…` (the `repoDigest` of `ModelImage`). */
    image: string;
    /** Replicas; default the model's `replicas`. */
    replicas?: number;
}

/**
 * The swarm service of one model, named like the model. Its network alias (`SWARM_MODEL_HOST_TEMPLATE`) is what
 * makes it a model: the gateway routes `/{model}/…` to that alias and port through Docker's DNS, so a model from
 * another stack that joins the network with it is reachable without touching the gateway, and a service without
 * it is not.
 */
export function planModelService(model: Model, options: ModelServiceOptions): SwarmServicePlan {
    validateSwarmServiceOptions(options, `models.${model.name}`);
    if (options.replicas !== undefined) validateInteger(options.replicas, `models.${model.name}.replicas`, 1, MAX_REPLICAS);
    const readTimeoutSeconds = options.gatewayReadTimeoutSeconds ?? GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds;
    validateInteger(readTimeoutSeconds, "gatewayReadTimeoutSeconds", 1, MAX_READ_TIMEOUT_SECONDS);
    return {
        name: model.name,
        image: options.image,
        replicas: options.replicas ?? model.replicas,
        env: modelContainerEnv(model, readTimeoutSeconds),
        labels: { ...options.labels, [ROLE_LABEL]: "model", [MODEL_LABEL]: model.name },
        // Images plumberhub builds have the /healthz probe; a prebuilt `image` keeps its own healthcheck, if any.
        healthcheck: model.path !== undefined ? modelImageHealthcheck(model.port) : undefined,
        resources: modelResources(model),
        endpointMode: options.endpointMode ?? SWARM_DEFAULTS.endpointMode,
        ports: [],
        // With a cap per node a new task may find no free slot while the old one runs: replace in place then.
        update: model.maxReplicasPerNode !== undefined ? { ...MODEL_UPDATE, order: "stop-first" } : MODEL_UPDATE,
        rollback: model.maxReplicasPerNode !== undefined ? { ...MODEL_ROLLBACK, order: "stop-first" } : MODEL_ROLLBACK,
        restart: RESTART,
        constraints: options.constraints ?? [],
        spread: [...SWARM_DEFAULTS.modelSpread],
        ...(model.maxReplicasPerNode !== undefined ? { maxReplicasPerNode: model.maxReplicasPerNode } : {}),
        aliases: [modelHost(SWARM_MODEL_HOST_TEMPLATE, model.name)],
        configs: [],
        secrets: [],
        volumes: [],
        // Swarm takes a stopping task out of DNS 2 s before signalling it and the gateway caches DNS for 1 s,
        // so by the signal the task gets no new requests. SIGTERM, not SIGINT: R's interrupt aborts a request
        // in progress with httpuv's 500 "An exception occurred." (the gateway does not retry a 500).
        stopSignal: "SIGTERM",
        stopGracePeriod: dockerDuration(modelStopGraceSeconds(readTimeoutSeconds)),
    };
}
