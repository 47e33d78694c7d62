/**
 * Whether a model's swarm service has converged, judged from what the Docker engine reports (the service's update
 * status and its tasks). Pure: plain values in, a verdict out; `waitForReplicas` asks the engine and calls this.
 */

/** The part of a task the judgement reads (Docker engine API, `GET /tasks`). */
export interface TaskReport {
    NodeID?: string;
    DesiredState?: string;
    Status?: { State?: string; Err?: string; Message?: string; Timestamp?: string };
}

/** The part of a service the judgement reads (`GET /services/{id}`). */
export interface ServiceReport {
    UpdateStatus?: { State?: string; Message?: string };
}

/**
 * Oldest task first, by `Status.Timestamp`. The engine writes Go's RFC 3339 with nanoseconds and trailing zeros
 * trimmed (`…:01Z`, `…:01.12Z`, `…:01.123Z`), which text order gets wrong within one second: the fraction is padded
 * to nine digits first. Timestamps are UTC (`Z`); a task without one is the oldest.
 */
export function byTimestamp(a: TaskReport, b: TaskReport): number {
    const key = (task: TaskReport) =>
        (task.Status?.Timestamp ?? "").replace(
            /(?:\.(\d{1,9}))?Z$/,
            (_match, fraction: string | undefined) => `.${(fraction ?? "").padEnd(9, "0")}Z`,
        );
    const [left, right] = [key(a), key(b)];
    return left < right ? -1 : left > right ? 1 : 0;
}

/** The part of a node the judgement reads (`GET /nodes`). */
export interface NodeReport {
    ID: string;
    Description?: { Hostname?: string };
    Status?: { State?: string };
    Spec?: { Availability?: string };
}

/**
 * The nodes a global service should run on (ready and active) that have no running task of it yet, each with its
 * latest task's state and error: empty once every such node runs one.
 */
export function nodesWithoutTask(nodes: NodeReport[], tasks: TaskReport[]): { node: string; state: string }[] {
    const eligible = nodes.filter((node) => node.Status?.State === "ready" && node.Spec?.Availability === "active");
    return eligible
        .filter((node) => !tasks.some((task) => task.NodeID === node.ID && task.DesiredState === "running" && task.Status?.State === "running"))
        .map((node) => {
            const latest = tasks.filter((task) => task.NodeID === node.ID).sort((a, b) => byTimestamp(b, a))[0];
            const state = latest ? [latest.Status?.State, latest.Status?.Err].filter(Boolean).join(": ") : "no task yet";
            return { node: node.Description?.Hostname ?? node.ID, state };
        });
}

/** How long replicas may wait for a node before `pulumi up` says why (seconds). Swarm decides placement at once. */
export const PLACEMENT_GRACE_SECONDS = 30;
/** How long `pulumi up` waits for all replicas to run (seconds), as the Docker provider's convergence did. */
export const CONVERGENCE_TIMEOUT_SECONDS = 300;

export type Convergence =
    | { state: "converged"; running: number }
    | { state: "waiting"; running: number; unplaced: number; reason?: string; lastTaskError?: string }
    | { state: "failed"; message: string };

/**
 * Replicas that run: tasks swarm wants running that are `running` — with a healthcheck, only once healthy (until then
 * swarm reports them `starting`).
 */
export function runningReplicas(tasks: TaskReport[]): number {
    return tasks.filter((task) => task.DesiredState === "running" && task.Status?.State === "running").length;
}

/** Update states after which the service runs its previous spec, not the one just deployed. */
const ROLLED_BACK = ["rollback_completed", "rollback_paused", "rollback_started", "paused"];

/**
 * The verdict on `model`'s service with `replicas` wanted: converged when every replica runs and no update is in
 * progress; failed when swarm rolled the update back or paused it; waiting otherwise, with the replicas no node
 * took and the scheduler's reason (e.g. `no suitable node (insufficient resources on 1 node)`).
 */
export function judgeConvergence(model: string, replicas: number, service: ServiceReport, tasks: TaskReport[]): Convergence {
    const update = service.UpdateStatus;
    if (update?.State !== undefined && ROLLED_BACK.includes(update.State)) {
        return {
            state: "failed",
            message:
                `model \`${model}\`: swarm ${update.State.replace("_", " ")} its update${update.Message ? ` (${update.Message})` : ""}, so it runs ` +
                "its previous version: see `docker service ps` for the failed tasks, fix the model, then `pulumi up --refresh` " +
                "(the refresh lets Pulumi see the version swarm went back to)",
        };
    }
    const current = tasks.filter((task) => task.DesiredState === "running");
    const running = runningReplicas(tasks);
    const waiting = current.filter((task) => task.Status?.State === "pending" || task.Status?.State === "new");
    const reason = waiting.map((task) => task.Status?.Err).find((err) => err !== undefined && err !== "");
    if (running >= replicas && (update?.State === undefined || update.State === "completed")) return { state: "converged", running };
    // The newest task that failed or was rejected (an image that cannot be pulled, a container that exits …).
    const lastTaskError = tasks
        .filter((task) => (task.Status?.State === "failed" || task.Status?.State === "rejected") && task.Status.Err)
        .sort(byTimestamp)
        .pop()?.Status?.Err;
    return {
        state: "waiting",
        running,
        unplaced: waiting.length,
        ...(reason !== undefined ? { reason } : {}),
        ...(lastTaskError !== undefined ? { lastTaskError } : {}),
    };
}

/** The message `pulumi up` fails with when replicas cannot be placed or do not all run in time. */
export function convergenceFailure(model: string, replicas: number, last: Extract<Convergence, { state: "waiting" }>, seconds: number): string {
    const placed = replicas - last.unplaced;
    if (last.reason !== undefined && last.unplaced > 0) {
        return (
            `model \`${model}\`: ${placed} of ${replicas} replicas placed after ${seconds} s; ${last.unplaced} wait: ${last.reason}. ` +
            "Lower or drop the model's `cpu.request` / `memory.request` (reserved on swarm), lower `replicas`, add nodes or relax `swarm.constraints`"
        );
    }
    const error = last.lastTaskError !== undefined ? `; the last task failed with: ${last.lastTaskError}` : "";
    return `model \`${model}\`: ${last.running} of ${replicas} replicas running after ${seconds} s${error}; see \`docker service ps\` for every task`;
}
