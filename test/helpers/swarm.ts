/**
 * Real Docker Swarm fixtures for the swarm end-to-end test and the scaling benchmark: swarm mode on the
 * local engine (single node, loopback), the Debian-built base images, model images built from the
 * rendered Dockerfile and pushed to a TLS + auth registry, stacks deployed from the rendered stack files.
 * Every Docker object made here is named with the `swarm` prefix and removed by the caller's teardown.
 */
import * as fs from "fs";
import * as path from "path";
import { stageModelImageContext } from "../../components/image/buildContext";
import { STACK_FILE_NAME } from "../../components/render/swarm";
import { Model } from "../../components/config/model";
import { LOCAL_IMAGES } from "../../components/config/stackConfig";
import { run, waitUntil } from "./processes";

export const REPO_ROOT = path.resolve(__dirname, "../..");
/** The Debian-built images (scripts/build-local-images.sh): `LOCAL_IMAGES`, by what the fixtures use them for. */
export const BASE_IMAGES = { rPlumber: LOCAL_IMAGES.baseImage, nginx: LOCAL_IMAGES.gatewayImage, registry: LOCAL_IMAGES.registryImage };

/** The docker CLI; `configDir` (DOCKER_CONFIG) keeps registry logins out of the user's ~/.docker. */
export function docker(args: string[], options: { configDir?: string; input?: string; timeoutMs?: number } = {}) {
    const env = options.configDir ? { ...process.env, DOCKER_CONFIG: options.configDir } : process.env;
    return run("docker", args, { env, input: options.input, timeoutMs: options.timeoutMs ?? 120_000 });
}

async function lines(args: string[]): Promise<string[]> {
    const { stdout } = await docker(args);
    return stdout
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "");
}

/** Puts the engine in swarm mode (single node on 127.0.0.1) unless it already is; returns whether it did. */
export async function ensureSwarm(): Promise<boolean> {
    const state = (await docker(["info", "--format", "{{.Swarm.LocalNodeState}}"])).stdout.trim();
    if (state === "active") return false;
    if (state !== "inactive") throw new Error(`docker swarm is "${state}", expected "active" or "inactive"`);
    await docker(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    return true;
}

/** Builds the Debian-based local images that are missing (scripts/build-local-images.sh); fails loudly if it cannot. */
export async function ensureLocalImages(images: string[]): Promise<void> {
    const missing: string[] = [];
    for (const image of images) {
        try {
            await docker(["image", "inspect", "--format", "{{.Id}}", image]);
        } catch {
            missing.push(image);
        }
    }
    if (missing.length > 0) {
        await run("bash", [path.join(REPO_ROOT, "scripts/build-local-images.sh"), ...missing], { timeoutMs: 30 * 60_000 });
    }
}

/**
 * Builds a model image the way `ModelImage` does (rendered Dockerfile + entrypoint, staged context, tag =
 * content hash of the context) on the local base image; returns `repository:tag`.
 */
export async function buildModelImage(
    model: Pick<Model, "name" | "packages" | "port">,
    sourceDir: string,
    outRoot: string,
    repository: string,
): Promise<string> {
    const context = stageModelImageContext({ ...model, path: sourceDir }, { baseImage: BASE_IMAGES.rPlumber, contextRoot: outRoot });
    const image = `${repository}:${context.tag}`;
    await docker(["build", "--build-arg", `BASE_IMAGE=${BASE_IMAGES.rPlumber}`, "-t", image, context.dir], { timeoutMs: 15 * 60_000 });
    return image;
}

/** Pushes `repository:tag` (logged in through `configDir`) and returns its `repository@sha256:…` digest. */
export async function pushImage(image: string, configDir: string): Promise<string> {
    await docker(["push", image], { configDir, timeoutMs: 10 * 60_000 });
    const repository = image.replace(/:[^:/]+$/, "");
    const digests = JSON.parse((await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", image])).stdout) as string[];
    const digest = digests.find((d) => d.startsWith(`${repository}@`));
    if (!digest) throw new Error(`no digest of ${repository} after push, got ${JSON.stringify(digests)}`);
    return digest;
}

/** Writes the rendered stack files (secrets 0600) to `dir` and runs `docker stack deploy`. */
export async function deployStack(stack: string, files: Record<string, string>, dir: string, configDir: string): Promise<void> {
    for (const [file, contents] of Object.entries(files)) {
        const target = path.join(dir, file);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.writeFileSync(target, contents, { mode: file.startsWith("secrets/") ? 0o600 : 0o644 });
    }
    await docker(["stack", "deploy", "--with-registry-auth", "-c", path.join(dir, STACK_FILE_NAME), stack], { configDir });
}

/** Containers of a service's tasks that are running and (when the image has a healthcheck) healthy. */
export async function readyContainers(service: string): Promise<string[]> {
    const running = await lines(["ps", "-q", "--filter", `label=com.docker.swarm.service.name=${service}`, "--filter", "status=running"]);
    const ready: string[] = [];
    for (const id of running) {
        const health = (await docker(["inspect", "--format", "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}", id])).stdout.trim();
        if (health === "healthy" || health === "none") ready.push(id);
    }
    return ready;
}

/** Waits until exactly `replicas` tasks of `service` are ready and the service's update (if any) finished. */
export async function waitForService(service: string, replicas: number, timeoutMs = 5 * 60_000): Promise<void> {
    await waitUntil(
        `${replicas} ready tasks of ${service}`,
        async () => {
            const state = (
                await docker(["service", "inspect", "--format", "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}", service])
            ).stdout.trim();
            if (state === "paused" || state === "rollback_completed") throw new Error(`update of ${service} is ${state}`);
            return (state === "" || state === "completed") && (await readyContainers(service)).length === replicas;
        },
        timeoutMs,
        1000,
    );
}

/** IPv4 addresses of a service's running tasks on `network`. */
export async function taskAddresses(service: string, network: string): Promise<string[]> {
    const tasks = await lines(["service", "ps", "-q", "--filter", "desired-state=running", service]);
    const addresses: string[] = [];
    for (const task of tasks) {
        const attachments = JSON.parse((await docker(["inspect", "--format", "{{json .NetworksAttachments}}", task])).stdout) as
            { Network: { Spec: { Name: string } }; Addresses: string[] }[] | null;
        for (const attachment of attachments ?? []) {
            if (attachment.Network.Spec.Name === network) addresses.push(...attachment.Addresses.map((a) => a.split("/")[0]));
        }
    }
    return addresses.sort();
}

/** `docker stack rm` and waits until its services, networks, configs and secrets are gone. */
export async function removeStack(stack: string): Promise<void> {
    await docker(["stack", "rm", stack]).catch(() => undefined);
    const label = `label=com.docker.stack.namespace=${stack}`;
    await waitUntil(
        `stack ${stack} removed`,
        async () => {
            for (const kind of ["service", "network", "config", "secret"]) {
                if ((await lines([kind, "ls", "-q", "--filter", label])).length > 0) return false;
            }
            return (await lines(["ps", "-aq", "--filter", label])).length === 0;
        },
        120_000,
        1000,
    );
}

/** Swarm objects (services, networks, configs, secrets) whose name starts with `prefix`: what teardown must leave empty. */
export async function leftovers(prefix: string): Promise<string[]> {
    const found: string[] = [];
    for (const kind of ["service", "network", "config", "secret", "volume"]) {
        const names = await lines([kind, "ls", "--format", "{{.Name}}"]).catch(() => [] as string[]);
        found.push(...names.filter((name) => name.startsWith(prefix)).map((name) => `${kind} ${name}`));
    }
    return found;
}
