/**
 * `pulumi up` waits until a model's replicas run, and says why when they cannot: it asks the Docker engine (the
 * engine API, through dockerode) for the service's update status and tasks until `judgeConvergence` says converged,
 * failed, or that replicas found no node for `PLACEMENT_GRACE_SECONDS`.
 */
import * as fs from "fs";
import * as path from "path";
import Docker from "dockerode";
import { validateDockerHost } from "../config/swarm";
import {
    CONVERGENCE_TIMEOUT_SECONDS,
    convergenceFailure,
    Convergence,
    judgeConvergence,
    NodeReport,
    nodesWithoutTask,
    PLACEMENT_GRACE_SECONDS,
    ServiceReport,
    TaskReport,
} from "./convergence";

/** Seconds between two looks at the service. */
const POLL_SECONDS = 2;

/** Client TLS for a `tcp://` engine as plain PEM texts (`DockerTls` once resolved). */
export interface DockerTlsPem {
    caCertificate: string;
    certificate: string;
    key: string;
}

/**
 * Throws unless an `ssh://` host can be asked directly: dockerode reaches it through the ssh-agent (`SSH_AUTH_SOCK`),
 * not the `ssh` binary the Docker provider runs. Called before anything is created, so a missing agent fails early.
 */
export function checkSshAgent(host: string | undefined, env: Record<string, string | undefined> = process.env): void {
    if (host?.startsWith("ssh://") && !env.SSH_AUTH_SOCK) {
        throw new Error(
            `the swarm manager ${JSON.stringify(host)} is reached over ssh://, and \`pulumi up\` also asks it directly while it waits for replicas, through your ssh-agent; SSH_AUTH_SOCK is not set: start one and add your key (\`eval "$(ssh-agent)" && ssh-add\`)`,
        );
    }
}

/**
 * A Docker engine API client for `host` (`unix://`, `npipe://`, `ssh://[user@]host[:port]` or `tcp://host:port`); a
 * `tcp://` host uses `tls` when given, else `DOCKER_TLS_VERIFY` / `DOCKER_CERT_PATH` as the Docker CLI and provider
 * read them. Without a host, the engine `DOCKER_HOST` names or the local socket.
 */
export function dockerClient(host?: string, tls?: DockerTlsPem): Docker {
    if (host === undefined) return new Docker();
    validateDockerHost(host, "dockerHost");
    if (host.startsWith("unix://")) return new Docker({ socketPath: host.slice("unix://".length) });
    if (host.startsWith("npipe://")) return new Docker({ socketPath: host.slice("npipe://".length) });
    const url = new URL(host);
    if (url.protocol === "ssh:") {
        checkSshAgent(host);
        return new Docker({
            protocol: "ssh",
            host: url.hostname,
            port: url.port || 22,
            username: url.username || undefined,
            sshOptions: { agent: process.env.SSH_AUTH_SOCK },
        });
    }
    if (tls) return new Docker({ protocol: "https", host: url.hostname, port: url.port, ca: tls.caCertificate, cert: tls.certificate, key: tls.key });
    const certs = process.env.DOCKER_CERT_PATH;
    const tlsFiles = certs
        ? {
              ca: fs.readFileSync(path.join(certs, "ca.pem")),
              cert: fs.readFileSync(path.join(certs, "cert.pem")),
              key: fs.readFileSync(path.join(certs, "key.pem")),
          }
        : {};
    const https = process.env.DOCKER_TLS_VERIFY === "1" || url.port === "2376";
    return new Docker({ protocol: https ? "https" : "http", host: url.hostname, port: url.port, ...tlsFiles });
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/**
 * Resolves with the running replica count once every replica of `serviceId` runs and no update is in progress;
 * rejects with a message naming the model, how many replicas were placed and why the others were not, when swarm
 * rolled the update back, or after `CONVERGENCE_TIMEOUT_SECONDS`.
 */
export async function waitForReplicas(docker: Docker, serviceId: string, model: string, replicas: number): Promise<number> {
    const started = Date.now();
    const elapsed = () => Math.round((Date.now() - started) / 1000);
    let unplacedSince: number | undefined;
    let last: Convergence;
    for (;;) {
        const service = (await docker.getService(serviceId).inspect()) as ServiceReport;
        const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [serviceId] }) })) as TaskReport[];
        last = judgeConvergence(model, replicas, service, tasks);
        if (last.state === "converged") return last.running;
        if (last.state === "failed") throw new Error(last.message);
        unplacedSince = last.unplaced > 0 && last.reason !== undefined ? (unplacedSince ?? elapsed()) : undefined;
        if (unplacedSince !== undefined && elapsed() - unplacedSince >= PLACEMENT_GRACE_SECONDS) {
            throw new Error(convergenceFailure(model, replicas, last, elapsed()));
        }
        if (elapsed() >= CONVERGENCE_TIMEOUT_SECONDS) throw new Error(convergenceFailure(model, replicas, last, elapsed()));
        await sleep(POLL_SECONDS);
    }
}

/**
 * Resolves once the global service `serviceId` runs a task on every ready, active node and no update of it is in
 * progress; rejects after
 * `CONVERGENCE_TIMEOUT_SECONDS` naming `what` and each node still without one (with its task's error).
 */
export async function waitForEveryNode(docker: Docker, serviceId: string, what: string): Promise<void> {
    const started = Date.now();
    for (;;) {
        const nodes = (await docker.listNodes()) as NodeReport[];
        const tasks = (await docker.listTasks({ filters: JSON.stringify({ service: [serviceId] }) })) as TaskReport[];
        const missing = nodesWithoutTask(nodes, tasks);
        // After a change (a new CA), old tasks still run until the rolling update has replaced them all.
        const service = (await docker.getService(serviceId).inspect()) as ServiceReport;
        const updating = service.UpdateStatus?.State === "updating" || service.UpdateStatus?.State === "rollback_started";
        if (missing.length === 0 && !updating) return;
        if ((Date.now() - started) / 1000 >= CONVERGENCE_TIMEOUT_SECONDS) {
            throw new Error(
                `${what} is not running on every node after ${CONVERGENCE_TIMEOUT_SECONDS} s: ${
                    missing.length > 0
                        ? missing.map((m) => `${m.node} (${m.state})`).join(", ")
                        : `its update is still ${service.UpdateStatus?.State}`
                }`,
            );
        }
        await sleep(POLL_SECONDS);
    }
}
