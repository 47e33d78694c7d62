/**
 * The Docker Swarm plan's vocabulary: plain descriptions of services, files, the network and the durations in them.
 * Two consumers read the same plan, so they cannot drift: the Pulumi components in `components/swarm/` turn each
 * part into `docker.*` resources, and `renderSwarmStackFiles` writes it as a compose v3.8 stack file for
 * `docker stack deploy`. No Pulumi, no I/O.
 */
import { EndpointMode, PublishMode } from "../../config/swarm";

/** A file handed to services as a swarm config or secret. */
export interface SwarmFile {
    /** Key in the plan (and in the stack file's `configs:` / `secrets:`). */
    key: string;
    /** Swarm object name: `{prefix}-{key}-{12 hex of sha256(contents)}`. Configs and secrets are immutable, so a new content is a new object and rolls the services that mount it. */
    name: string;
    /** Path of the file in the exported folder, e.g. `configs/nginx.conf`. */
    fileName: string;
    contents: string;
}

/** A config or secret mounted into a service's containers. */
export interface SwarmFileMount {
    /** Key of the file in the plan. */
    source: string;
    /** Swarm object name of that file (content hash included). */
    name: string;
    /** Absolute path inside the container. */
    target: string;
    /** File mode, e.g. 0o444. */
    mode: number;
}

/** Update or rollback behaviour of a service. */
export interface SwarmUpdatePlan {
    parallelism: number;
    /** Go duration between batches, e.g. `0s`. */
    delay: string;
    /** `start-first` starts the new task before stopping the old one (no gap); `stop-first` frees the old task's host port first. */
    order: "start-first" | "stop-first";
    failureAction: "rollback" | "pause" | "continue";
    /** Go duration a new task is watched for failure after it starts. */
    monitor: string;
}

/** One swarm service, described once for both the Pulumi resource and the stack file. */
export interface SwarmServicePlan {
    /** Service name (the stack file's key; the Pulumi service's `name`). */
    name: string;
    image: string;
    /** Tasks of a replicated service (ignored with `global`). */
    replicas: number;
    /** One task on every node instead, also on nodes that join later (`mode: global`). Default false. */
    global?: boolean;
    env: Record<string, string>;
    /** Service labels (`deploy.labels`). */
    labels: Record<string, string>;
    /** Healthcheck; absent = the image's own HEALTHCHECK, if any. */
    healthcheck?: { test: string[]; interval: string; timeout: string; retries: number; startPeriod: string };
    /** CPU in nano-cores (1e9 = one core), memory in bytes; no reservation unless one is asked for. */
    resources?: {
        limits: { nanoCpus: number; memoryBytes: number };
        reservations?: { nanoCpus: number; memoryBytes: number };
    };
    endpointMode: EndpointMode;
    ports: { target: number; published: number; mode: PublishMode }[];
    update: SwarmUpdatePlan;
    rollback: SwarmUpdatePlan;
    restart: { condition: "any" | "on-failure" | "none"; delay: string; maxAttempts: number; window: string };
    constraints: string[];
    /** Placement preferences: node attributes to spread the tasks evenly over, e.g. `node.id` (`spread=node.id`). Default none. */
    spread?: string[];
    /** Most tasks of this service on one node (`max_replicas_per_node`). Default no limit. */
    maxReplicasPerNode?: number;
    /** DNS names this service answers to on the hub network, besides its own name. */
    aliases: string[];
    configs: SwarmFileMount[];
    secrets: SwarmFileMount[];
    /** Named volumes: `source` is the volume name. */
    volumes: { source: string; target: string }[];
    /** Folders of the node bind-mounted into the container: `source` is the node's absolute path. Default none. */
    binds?: { source: string; target: string }[];
    /** Go duration between the stop signal and SIGKILL. */
    stopGracePeriod: string;
    /** Signal that stops a task; default the image's STOPSIGNAL. */
    stopSignal?: string;
    /** The container's command: replaces the image's CMD, keeps its ENTRYPOINT (compose `command`). Default the image's CMD. */
    command?: string[];
}

/** Everything one `docker stack deploy` creates. */
export interface SwarmStackPlan {
    /** The attachable overlay network every service joins; models of other stacks join it by this name. */
    network: { name: string; external: boolean };
    services: SwarmServicePlan[];
    configs: SwarmFile[];
    secrets: SwarmFile[];
    /** Named volumes used by the services. */
    volumes: string[];
}

/** What a service needs to know of a file: its key and content-hashed name (never the contents). */
export type SwarmFileRef = Pick<SwarmFile, "key" | "name">;

/** Label every service of the hub carries: `model`, `gateway`, `edge` (the gateway's L4 front) or `registry`. */
export const ROLE_LABEL = "org.plumberhub.role";
/** Label with the model's name on model services. */
export const MODEL_LABEL = "org.plumberhub.model";

/**
 * A whole number of seconds as the Docker provider reads a duration back from the engine: Go's format with the
 * zero units after the largest left out (`0s`, `45s`, `1m`, `1m30s`, `2h`, `1h0m5s`). Every duration in a service
 * plan must be written so, or `pulumi preview` shows a change that is not there.
 */
export function dockerDuration(seconds: number): string {
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`a duration must be a whole number of seconds ≥ 0, got ${seconds}`);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    const go = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
    return go.replace(/m0s$/, "m").replace(/h0m$/, "h");
}

/** Whether `text` is a duration spelled as `dockerDuration` spells it. */
export function isDockerDuration(text: string): boolean {
    const parts = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
    if (!parts || text === "") return false;
    const [h, m, s] = parts.slice(1).map((part) => Number(part ?? 0));
    return dockerDuration(h * 3600 + m * 60 + s) === text;
}
