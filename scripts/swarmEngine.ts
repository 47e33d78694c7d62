/**
 * A stack's models on a swarm, through the Docker engine API (dockerode): a model is the service named like it
 * (`planModelService`). Facts from the service and its tasks; logs from `GET /services/{name}/logs`, each line
 * named by its task as `docker service logs` names it (`hello.1.k3j4l5m6n7o8@node1`).
 */
import type Docker from "dockerode";
import { NodeReport, runningReplicas, TaskReport } from "../components/swarm/convergence";
import { engineError, ModelEngine } from "./modelEngine";
import { EngineFacts, lineSplitter, LogLine, LogRequest } from "./operations";

/** The part of a service the commands read (`GET /services`). */
interface ServiceSpecReport {
    ID: string;
    UpdatedAt?: string;
    Spec: {
        Name: string;
        Mode?: { Replicated?: { Replicas?: number }; Global?: object };
        TaskTemplate?: { ContainerSpec?: { Image?: string; TTY?: boolean } };
    };
}

/** A task as the log prefix names it. */
type NamedTask = TaskReport & { ID: string; Slot?: number };

/**
 * Reads the engine's log stream without a TTY: frames of an 8-byte header (stream, 3 zero bytes, big-endian length)
 * and the payload. `push` returns the payloads a chunk completes and keeps a partial frame for the next.
 */
export function dockerLogFrames(): (chunk: Buffer) => Buffer[] {
    let pending = Buffer.alloc(0);
    return (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        const payloads: Buffer[] = [];
        while (pending.length >= 8) {
            const size = pending.readUInt32BE(4);
            if (pending.length < 8 + size) break;
            payloads.push(pending.subarray(8, 8 + size));
            pending = pending.subarray(8 + size);
        }
        return payloads;
    };
}

/**
 * One line of a service log read with `details`: `key=value,…` context (URL-encoded values; swarm's node, service
 * and task ids among them), a space, then the line. A line without context is returned whole.
 */
export function parseDetailedLogLine(line: string): { context: Record<string, string>; text: string } {
    const space = line.indexOf(" ");
    const head = space === -1 ? line : line.slice(0, space);
    if (!/^[^=,\s]+=[^,\s]*(,[^=,\s]+=[^,\s]*)*$/.test(head)) return { context: {}, text: line };
    const context = Object.fromEntries(
        head.split(",").map((pair) => {
            const eq = pair.indexOf("=");
            return [decodeURIComponent(pair.slice(0, eq)), decodeURIComponent(pair.slice(eq + 1))];
        }),
    );
    return { context, text: space === -1 ? "" : line.slice(space + 1) };
}

/** The name `docker service logs` gives a task: `{service}.{slot}.{task id, 12 characters}@{node hostname}`. */
export function taskLogName(service: string, task: NamedTask | undefined, taskId: string, nodes: NodeReport[]): string {
    const node = nodes.find((n) => n.ID === task?.NodeID);
    const slot = task?.Slot !== undefined ? `.${task.Slot}` : "";
    return `${service}${slot}.${taskId.slice(0, 12)}@${node?.Description?.Hostname ?? task?.NodeID ?? "?"}`;
}

/** The models of a stack on the swarm that the Docker engine `docker` manages; `where` names it in messages. */
export class SwarmModelEngine implements ModelEngine {
    constructor(
        private readonly docker: Docker,
        readonly where: string,
    ) {}

    /** A call to the engine, its failure said as `engineError` (naming the engine). */
    private async ask<T>(call: () => Promise<T>): Promise<T> {
        try {
            return await call();
        } catch (error) {
            throw engineError(this.where, error);
        }
    }

    facts(models: string[]): Promise<Record<string, EngineFacts | undefined>> {
        return this.ask(async () => {
            // `name` filters by prefix: the exact names are picked below.
            const services = (await this.docker.listServices({ filters: JSON.stringify({ name: models }) })) as unknown as ServiceSpecReport[];
            const facts: Record<string, EngineFacts | undefined> = {};
            for (const model of models) {
                const service = services.find((s) => s.Spec.Name === model);
                if (!service) {
                    facts[model] = undefined;
                    continue;
                }
                const tasks = (await this.docker.listTasks({ filters: JSON.stringify({ service: [service.ID] }) })) as TaskReport[];
                const ready = runningReplicas(tasks);
                const replicated = service.Spec.Mode?.Replicated;
                facts[model] = {
                    // A global service (not a model's kind, but a team's own may be) wants one task per eligible node.
                    desired: replicated ? (replicated.Replicas ?? 1) : tasks.filter((task) => task.DesiredState === "running").length,
                    ready,
                    image: service.Spec.TaskTemplate?.ContainerSpec?.Image ?? "",
                    ...(service.UpdatedAt ? { deployedAt: service.UpdatedAt } : {}),
                };
            }
            return facts;
        });
    }

    async logs(model: string, request: LogRequest, onLine: (line: LogLine) => void, signal?: AbortSignal): Promise<void> {
        const found = await this.ask(() => this.docker.listServices({ filters: JSON.stringify({ name: [model] }) }));
        const service = (found as unknown as ServiceSpecReport[]).find((s) => s.Spec.Name === model);
        if (!service) throw new Error(`${this.where} has no service ${model}: is the stack deployed there?`);
        const tasks = (await this.ask(() => this.docker.listTasks({ filters: JSON.stringify({ service: [service.ID] }) }))) as NamedTask[];
        const nodes = (await this.ask(() => this.docker.listNodes())) as NodeReport[];
        let stream: NodeJS.ReadableStream | Buffer;
        try {
            // dockerode's type says a stream; without `follow` the engine's answer arrives whole, as a Buffer.
            stream = await this.docker.getService(service.ID).logs({
                stdout: true,
                stderr: true,
                // The task and node of each line, to name it as `docker service logs` does.
                details: true,
                follow: request.follow,
                ...(request.tail !== undefined ? { tail: request.tail } : {}),
                ...(request.since ? { since: Math.floor(request.since.getTime() / 1000) } : {}),
                ...(signal ? { abortSignal: signal } : {}),
            });
        } catch (error) {
            if (signal?.aborted) return;
            throw engineError(this.where, error);
        }
        const names = new Map<string, string>();
        const nameOf = (taskId: string) => {
            let name = names.get(taskId);
            if (name === undefined) {
                name = taskLogName(
                    model,
                    tasks.find((t) => t.ID === taskId),
                    taskId,
                    nodes,
                );
                names.set(taskId, name);
            }
            return name;
        };
        const emit = (line: string) => {
            const { context, text } = parseDetailedLogLine(line);
            const taskId = context["com.docker.swarm.task.id"];
            onLine({ source: taskId ? nameOf(taskId) : model, text });
        };
        // A TTY service's log is the raw byte stream; otherwise frames, each holding whole lines.
        const tty = service.Spec.TaskTemplate?.ContainerSpec?.TTY === true;
        const frames = dockerLogFrames();
        const splitter = lineSplitter();
        const consume = (chunk: Buffer) => {
            const texts = tty
                ? splitter.push(chunk.toString("utf8"))
                : frames(chunk).flatMap((payload) => payload.toString("utf8").replace(/\n$/, "").split("\n"));
            texts.forEach(emit);
        };
        if (Buffer.isBuffer(stream)) {
            consume(stream);
            splitter.end().forEach(emit);
            return;
        }
        const readable = stream;
        await new Promise<void>((resolve, reject) => {
            readable.on("data", (chunk: Buffer) => consume(chunk));
            readable.on("end", () => {
                splitter.end().forEach(emit);
                resolve();
            });
            readable.on("close", () => resolve());
            readable.on("error", (error: Error) => (signal?.aborted ? resolve() : reject(engineError(this.where, error))));
        });
    }
}
