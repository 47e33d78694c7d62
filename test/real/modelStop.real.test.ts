/**
 * How a model container stops, for real: a tiny model with a slow endpoint, built from the rendered Dockerfile on the
 * local Debian base image (`LOCAL_IMAGES.baseImage`, scripts/build-local-images.sh), run, then stopped by
 * `docker stop` (SIGTERM, as swarm and the kubelet send it). The entrypoint's shell waits until R has answered the
 * requests it has, then stops R: a request in progress gets its answer, an idle container stops at once.
 * Needs docker and the base image.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCAL_IMAGES } from "../../components/config/stackConfig";
import { stageBuildContext } from "../../components/image/buildContext";
import { MODEL_IDLE_WAIT_ENV } from "../../components/config/model";
import { renderModelContainerFiles } from "../../components/render/modelContainer";
import { run, waitUntil } from "../helpers/processes";
import { docker } from "../helpers/swarm";

jest.setTimeout(600_000);

// Everything this file creates in docker starts with this, plus the pid so parallel runs never collide.
const PREFIX = `plumberhub-modelstop-${process.pid}`;
const IMAGE = `${PREFIX}:test`;
/** Seconds the slow endpoint takes. */
const SLOW_SECONDS = 8;
const PLUMBER_R = `#* @get /slow
function() {
  Sys.sleep(${SLOW_SECONDS})
  list(done = TRUE)
}
`;

async function dockerOut(...args: string[]): Promise<string> {
    return (await docker(args)).stdout.trim();
}

/** Runs the image and waits for /healthz; returns the container's name and its base URL. */
async function startContainer(name: string, env: string[] = []): Promise<{ container: string; base: string }> {
    const container = `${PREFIX}-${name}`;
    await dockerOut("run", "-d", "--name", container, "-p", "127.0.0.1::8000", ...env.flatMap((e) => ["-e", e]), IMAGE);
    const base = `http://${(await dockerOut("port", container, "8000/tcp")).split("\n")[0]}`;
    await waitUntil(
        `${container} /healthz`,
        async () => (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200,
        60_000,
        100,
    );
    return { container, base };
}

/** `docker stop -t 30`: the wall time it took, ms (it returns once the container has exited). */
async function stop(container: string): Promise<number> {
    const started = Date.now();
    await docker(["stop", "-t", "30", container], { timeoutMs: 60_000 });
    return Date.now() - started;
}

async function exitCode(container: string): Promise<number> {
    return Number(await dockerOut("inspect", "--format", "{{.State.ExitCode}}", container));
}

const containers: string[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
    await run("docker", ["image", "inspect", LOCAL_IMAGES.baseImage]).catch(() => {
        throw new Error(`base image ${LOCAL_IMAGES.baseImage} is missing: run scripts/build-local-images.sh first`);
    });
    const source = fs.mkdtempSync(path.join(os.tmpdir(), "modelstop-src-"));
    const outRoot = fs.mkdtempSync(path.join(os.tmpdir(), "modelstop-ctx-"));
    tempDirs.push(source, outRoot);
    fs.writeFileSync(path.join(source, "plumber.R"), PLUMBER_R);
    const context = stageBuildContext({
        name: "slow",
        sourceDir: source,
        files: renderModelContainerFiles({ packages: [], port: 8000 }),
        outRoot,
    });
    await docker(["build", "--force-rm", "--build-arg", `BASE_IMAGE=${LOCAL_IMAGES.baseImage}`, "-t", IMAGE, context.dir], { timeoutMs: 600_000 });
});

afterAll(async () => {
    for (const container of containers) await run("docker", ["rm", "-f", container]).catch(() => undefined);
    await run("docker", ["rmi", "-f", IMAGE]).catch(() => undefined);
    for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

test("a request in progress when the container is stopped gets its answer, and the container exits 0 after it", async () => {
    const { container, base } = await startContainer("busy");
    containers.push(container);
    const requested = Date.now();
    const request = fetch(`${base}/slow`, { signal: AbortSignal.timeout(60_000) }).then(async (response) => ({
        status: response.status,
        body: await response.text(),
        answeredMs: Date.now() - requested,
    }));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stopMs = await stop(container);
    const stoppedMs = Date.now() - requested;
    const answer = await request;
    console.log(`slow request answered after ${answer.answeredMs} ms; docker stop took ${stopMs} ms (stopped ${stoppedMs} ms after the request)`);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ done: [true] });
    expect(answer.answeredMs).toBeGreaterThanOrEqual(SLOW_SECONDS * 1000);
    expect(stoppedMs).toBeGreaterThanOrEqual(answer.answeredMs); // not before the answer
    expect(stopMs).toBeLessThan(20_000); // well before docker's 30 s kill
    expect(await exitCode(container)).toBe(0);
});

test("the platform's wait bounds it: with 2 s a longer request is cut when they are up", async () => {
    const { container, base } = await startContainer("bounded", [`${MODEL_IDLE_WAIT_ENV}=2`]);
    containers.push(container);
    const request = fetch(`${base}/slow`, { signal: AbortSignal.timeout(60_000) }).then(
        (response) => response.status,
        () => "cut",
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const stopMs = await stop(container);
    console.log(`bounded wait of 2 s: docker stop took ${stopMs} ms`);
    expect(await request).toBe("cut");
    expect(stopMs).toBeGreaterThanOrEqual(1800);
    expect(stopMs).toBeLessThan(SLOW_SECONDS * 1000 - 1000);
});

test("an idle container stops within a couple of seconds, with exit code 0", async () => {
    const { container } = await startContainer("idle");
    containers.push(container);
    const stopMs = await stop(container);
    console.log(`idle container: docker stop took ${stopMs} ms`);
    expect(stopMs).toBeLessThan(3000);
    expect(await exitCode(container)).toBe(0);
});
