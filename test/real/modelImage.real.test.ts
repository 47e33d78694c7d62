/**
 * The model container for real: both example models staged with `stageBuildContext`, built by
 * `docker build` on the local Debian base image (scripts/build-local-images.sh), run with ports
 * published on 127.0.0.1 only, and probed over HTTP. Also the same entrypoint.R as a host process.
 * Needs docker, the image local/r-plumber:bookworm and (for the host tests) Rscript with plumber.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { stageBuildContext } from "../../components/image/buildContext";
import { MODEL_UID, renderModelContainerFiles } from "../../components/render/modelContainer";
import { freePort, requireTools, run, RunError, startService, waitUntil } from "../helpers/processes";
import { docker } from "../helpers/swarm";

jest.setTimeout(900_000);

const REPO = path.resolve(__dirname, "../..");
const ARTIFACTS = path.join(REPO, "test-artifacts", "model-image");
const BASE_IMAGE = "local/r-plumber:bookworm";
// Everything this file creates in docker starts with this, plus the pid so parallel runs never collide.
const PREFIX = `plumberhub-modelimage-${process.pid}`;
const SAMPLE = fs.readFileSync(path.join(REPO, "examples/models/bos-rf/sample-request.json"), "utf8");

interface ExampleBuild {
    image: string;
    /** Wall time of a build with `--no-cache`, ms. */
    coldMs: number;
    coldOutput: string;
    /** Wall time of the rebuild after staging the same context again, ms. */
    warmMs: number;
    warmOutput: string;
}

interface RunningModel {
    container: string;
    base: string;
    /** ms from `docker run` to the first 200 on /healthz. */
    startMs: number;
}

/** Builds the model's context as the component does: rendered files + the example folder under `model/`. */
function stage(name: string): string {
    const modelDir = path.join(REPO, "examples/models", name);
    const spec = JSON.parse(fs.readFileSync(path.join(modelDir, "model.json"), "utf8")) as { packages: string[] };
    return stageBuildContext({
        name,
        sourceDir: modelDir,
        files: renderModelContainerFiles({ packages: spec.packages, port: 8000 }),
        outRoot: path.join(ARTIFACTS, "contexts"),
    }).dir;
}

/** `docker build` with the legacy builder (its "Using cache" lines are what the cache test reads). */
async function dockerBuild(tag: string, dir: string, extra: string[] = []): Promise<{ ms: number; output: string }> {
    const started = Date.now();
    // --force-rm: no container is left behind by a failing step either.
    const { stdout, stderr } = await run("docker", ["build", "--force-rm", ...extra, "--build-arg", `BASE_IMAGE=${BASE_IMAGE}`, "-t", tag, dir], {
        env: { ...process.env, DOCKER_BUILDKIT: "0" },
        timeoutMs: 600_000,
    });
    return { ms: Date.now() - started, output: stdout + stderr };
}

/**
 * The steps of a legacy-builder log after `FROM` (`ARG` before `FROM` and `FROM` itself never say
 * "Using cache"), split into cached ones (a count) and the others (their "Step n/m" lines).
 */
function cacheReport(output: string): { cached: number; uncached: string[] } {
    const steps = output.split(/^(?=Step \d+\/\d+ : )/m).filter((chunk) => chunk.startsWith("Step "));
    const fromIndex = steps.findIndex((step) => / : FROM /.test(step.split("\n")[0]));
    if (fromIndex < 0) throw new Error(`no "Step n/m : FROM" line in docker build output:\n${output}`);
    const after = steps.slice(fromIndex + 1);
    const uncached = after.filter((step) => !/^ ---> Using cache$/m.test(step)).map((step) => step.split("\n")[0]);
    return { cached: after.length - uncached.length, uncached };
}

/** stdout of a docker command, trimmed. */
async function dockerOut(...args: string[]): Promise<string> {
    return (await docker(args)).stdout.trim();
}

async function startContainer(name: string, image: string, env: Record<string, string> = {}): Promise<RunningModel> {
    const container = `${PREFIX}-${name}`;
    const started = Date.now();
    const envArgs = Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    // --health-interval: the image's own HEALTHCHECK command, probed every 2 s instead of 30 s.
    await dockerOut("run", "-d", "--name", container, "--health-interval", "2s", "-p", "127.0.0.1::8000", ...envArgs, image);
    const hostPort = (await dockerOut("port", container, "8000/tcp")).split("\n")[0];
    if (!hostPort.startsWith("127.0.0.1:")) throw new Error(`port published on ${hostPort}, not 127.0.0.1`);
    const base = `http://${hostPort}`;
    await waitUntil(
        `${container} /healthz`,
        async () => {
            return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200;
        },
        60_000,
        100,
    );
    return { container, base, startMs: Date.now() - started };
}

/** Loud failures: these tests never skip when docker or the base image is missing. */
async function requireDockerAndBaseImage(): Promise<void> {
    await run("docker", ["info"], { timeoutMs: 30_000 }).catch((error) => {
        throw new Error(`docker is not usable (install docker.io and start dockerd): ${error}`);
    });
    await run("docker", ["image", "inspect", BASE_IMAGE]).catch(() => {
        throw new Error(`base image ${BASE_IMAGE} is missing: run scripts/build-local-images.sh first`);
    });
}

const builds: Record<string, ExampleBuild> = {};
let hello: RunningModel;
let bos: RunningModel;
const figures: string[] = [];

describe("model image built from the rendered context", () => {
    beforeAll(async () => {
        await requireDockerAndBaseImage();
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        for (const name of ["hello", "bos-rf"]) {
            const image = `${PREFIX}-${name}:test`;
            const cold = await dockerBuild(image, stage(name), ["--no-cache"]);
            // Staged again from scratch, as every `pulumi up` does: new files, same bytes. --cache-from pins
            // the cache to the build above: left to itself the legacy builder may follow the newest of
            // several matching layers, e.g. from another build of the same Dockerfile running meanwhile.
            const warm = await dockerBuild(image, stage(name), ["--cache-from", image]);
            builds[name] = { image, coldMs: cold.ms, coldOutput: cold.output, warmMs: warm.ms, warmOutput: warm.output };
            fs.writeFileSync(path.join(ARTIFACTS, `${name}-build-cold.log`), cold.output);
            fs.writeFileSync(path.join(ARTIFACTS, `${name}-build-warm.log`), warm.output);
            figures.push(`${name}: build --no-cache ${cold.ms} ms, rebuild ${warm.ms} ms`);
        }
        hello = await startContainer("hello", builds.hello.image, { PUBLIC_PATH_PREFIX: "/hello" });
        bos = await startContainer("bos-rf", builds["bos-rf"].image);
        figures.push(`start to first /healthz 200: hello ${hello.startMs} ms, bos-rf ${bos.startMs} ms`);
    });

    afterAll(async () => {
        for (const model of [hello, bos]) {
            if (!model) continue;
            await run("docker", ["logs", model.container])
                .then(({ stdout, stderr }) => fs.writeFileSync(path.join(ARTIFACTS, `${model.container}.log`), stdout + stderr))
                .catch(() => undefined);
            await run("docker", ["rm", "-f", model.container]).catch(() => undefined);
        }
        for (const build of Object.values(builds)) await run("docker", ["rmi", "-f", build.image]).catch(() => undefined);
        fs.writeFileSync(path.join(ARTIFACTS, "figures.txt"), figures.join("\n") + "\n");
        console.log(figures.join("\n"));
    });

    test("answers GET /healthz with 200 and a JSON status", async () => {
        for (const model of [hello, bos]) {
            const response = await fetch(`${model.base}/healthz`);
            expect(response.status).toBe(200);
            expect(response.headers.get("content-type")).toBe("application/json");
            expect(await response.json()).toEqual({ status: "ok" });
        }
    });

    test("scores 10 Boston rows with 10 numbers close to their known medv", async () => {
        const response = await fetch(`${bos.base}/score`, { method: "POST", headers: { "content-type": "application/json" }, body: SAMPLE });
        expect(response.status).toBe(200);
        const predictions = (await response.json()) as unknown[];
        expect(predictions).toHaveLength(10);
        for (const value of predictions) expect(typeof value === "number" && Number.isFinite(value)).toBe(true);
        // medv of MASS::Boston rows 1-10, from the R in the image; a forest trained on them predicts them closely.
        const medv = (await dockerOut("exec", bos.container, "Rscript", "-e", "cat(MASS::Boston$medv[1:10])")).split(" ").map(Number);
        const meanAbsError = (predictions as number[]).reduce((sum, p, i) => sum + Math.abs(p - medv[i]), 0) / 10;
        expect(meanAbsError).toBeLessThan(3);
        figures.push(`bos-rf mean absolute error on sample rows: ${meanAbsError.toFixed(2)} ($1000s)`);
    });

    test("answers a score request with a missing column with 400 naming the columns", async () => {
        const response = await fetch(`${bos.base}/score`, { method: "POST", headers: { "content-type": "application/json" }, body: '[{"crim":1}]' });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ error: "missing columns: zn, indus, chas, nox, rm, age, dis, rad, tax, ptratio, black, lstat" });
    });

    test("answers a score request that is not JSON with 400", async () => {
        const response = await fetch(`${bos.base}/score`, { method: "POST", headers: { "content-type": "application/json" }, body: "not json" });
        expect(response.status).toBe(400);
        expect(await response.json()).toEqual({ error: "the body must be JSON: an array of row objects" });
    });

    test("echoes msg on GET /echo", async () => {
        const response = await fetch(`${hello.base}/echo?msg=hi`);
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ msg: ["The message is: 'hi'"] });
    });

    test("serves a PNG on GET /plot", async () => {
        const response = await fetch(`${hello.base}/plot`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe("image/png");
        const bytes = Buffer.from(await response.arrayBuffer());
        expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
        fs.writeFileSync(path.join(ARTIFACTS, "hello-plot.png"), bytes);
    });

    test("adds two numbers on POST /sum", async () => {
        const response = await fetch(`${hello.base}/sum`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"a":1,"b":2.5}',
        });
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual([3.5]);
    });

    test("runs every process of the container as the non-root model user", async () => {
        for (const model of [hello, bos]) {
            const rows = (await dockerOut("top", model.container, "-o", "pid,uid,args")).split("\n").slice(1);
            expect(rows.some((row) => row.includes("/opt/plumberhub/entrypoint.R") && row.includes("R "))).toBe(true);
            for (const row of rows) expect(row.trim().split(/\s+/)[1]).toBe(String(MODEL_UID));
        }
    });

    test("keeps the model folder read-only to the running API", async () => {
        await expect(run("docker", ["exec", bos.container, "touch", "/app/model/x"])).rejects.toThrow("Permission denied");
    });

    test("bakes the model trained by build.R into the image", async () => {
        expect(await dockerOut("exec", bos.container, "ls", "/app/model")).toContain("bos_rf.rds");
        const { stdout, stderr } = await run("docker", ["logs", bos.container]);
        expect(stdout + stderr).toContain("Running plumber API at http://0.0.0.0:8000");
        expect(stdout + stderr).not.toContain("training in memory");
    });

    test("serves the docs at /__docs__/", async () => {
        const response = await fetch(`${hello.base}/__docs__/`);
        expect(response.status).toBe(200);
        expect(await response.text()).toContain("<title>Swagger UI</title>");
    });

    test("sets the OpenAPI servers to PUBLIC_PATH_PREFIX when it is set", async () => {
        const spec = (await (await fetch(`${hello.base}/openapi.json`)).json()) as { servers: { url: string }[] };
        expect(spec.servers).toEqual([{ url: "/hello" }]);
    });

    test("leaves plumber's own servers URL when PUBLIC_PATH_PREFIX is not set", async () => {
        const spec = (await (await fetch(`${bos.base}/openapi.json`)).json()) as { servers: { url: string }[] };
        expect(spec.servers).toEqual([{ url: "" }]);
    });

    test("reports healthy through the image's own HEALTHCHECK", async () => {
        await waitUntil(
            `${hello.container} healthy`,
            async () => (await dockerOut("inspect", "-f", "{{.State.Health.Status}}", hello.container)) === "healthy",
            30_000,
            500,
        );
        const log = JSON.parse(await dockerOut("inspect", "-f", "{{json .State.Health.Log}}", hello.container)) as {
            Start: string;
            End: string;
            ExitCode: number;
        }[];
        const durations = log.map((probe) => Date.parse(probe.End) - Date.parse(probe.Start));
        figures.push(`healthcheck probe wall time: ${durations.join(", ")} ms`);
        expect(log.at(-1)!.ExitCode).toBe(0);
    });

    test("reuses the cache for every step of a rebuild with no change", () => {
        for (const [name, build] of Object.entries(builds)) {
            const cold = cacheReport(build.coldOutput);
            const warm = cacheReport(build.warmOutput);
            // The --no-cache build ran every step; the rebuild took every one of them from the cache.
            expect({ name, cached: cold.cached }).toEqual({ name, cached: 0 });
            expect({ name, uncached: warm.uncached, cached: warm.cached }).toEqual({ name, uncached: [], cached: cold.uncached.length });
            expect(warm.cached).toBeGreaterThanOrEqual(12);
        }
    });

    test("stops within 3 seconds of docker stop, with exit code 0", async () => {
        const started = Date.now();
        await dockerOut("stop", "-t", "20", hello.container);
        const ms = Date.now() - started;
        figures.push(`docker stop: ${ms} ms`);
        expect(ms).toBeLessThan(3000);
        expect(await dockerOut("inspect", "-f", "{{.State.ExitCode}}", hello.container)).toBe("0");
    });
});

describe("a model that defines its own failing GET /healthz", () => {
    const image = `${PREFIX}-sick:test`;
    const container = `${PREFIX}-sick`;

    beforeAll(async () => {
        await requireDockerAndBaseImage();
        const source = path.join(ARTIFACTS, "sick-model");
        fs.mkdirSync(source, { recursive: true });
        fs.writeFileSync(path.join(source, "plumber.R"), '#* @get /healthz\nfunction(res) {\n  res$status <- 503\n  list(status = "down")\n}\n');
        const dir = stageBuildContext({
            name: "sick",
            sourceDir: source,
            files: renderModelContainerFiles({ packages: [], port: 8000 }),
            outRoot: path.join(ARTIFACTS, "contexts"),
        }).dir;
        await dockerBuild(image, dir);
    });

    afterAll(async () => {
        await run("docker", ["rm", "-f", container]).catch(() => undefined);
        await run("docker", ["rmi", "-f", image]).catch(() => undefined);
    });

    test("keeps the model's /healthz and is reported unhealthy by the image's HEALTHCHECK", async () => {
        await dockerOut(
            "run",
            "-d",
            "--name",
            container,
            "--health-interval",
            "1s",
            "--health-retries",
            "2",
            "--health-start-period",
            "1s",
            "-p",
            "127.0.0.1::8000",
            image,
        );
        const base = `http://${(await dockerOut("port", container, "8000/tcp")).split("\n")[0]}`;
        await waitUntil(
            `${container} to answer`,
            async () => (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 503,
            60_000,
            100,
        );
        await waitUntil(
            `${container} unhealthy`,
            async () => (await dockerOut("inspect", "-f", "{{.State.Health.Status}}", container)) === "unhealthy",
            30_000,
            500,
        );
        const log = JSON.parse(await dockerOut("inspect", "-f", "{{json .State.Health.Log}}", container)) as { ExitCode: number }[];
        expect(log.at(-1)!.ExitCode).toBe(1);
    });
});

describe("entrypoint.R on the host", () => {
    const workDir = path.join(ARTIFACTS, "host");
    const entrypoint = path.join(workDir, "entrypoint.R");

    beforeAll(async () => {
        await requireTools({ Rscript: "r-base-core" });
        await run("Rscript", ["-e", "library(plumber); library(swagger)"]).catch((error) => {
            throw new Error(`R packages plumber and swagger are needed on the host (apt packages r-cran-plumber r-cran-swagger): ${error}`);
        });
        fs.mkdirSync(workDir, { recursive: true });
        fs.writeFileSync(entrypoint, renderModelContainerFiles({ packages: [], port: 8000 })["entrypoint.R"]);
    });

    test("serves a model folder with healthz, docs and the prefix as OpenAPI server", async () => {
        const port = await freePort();
        const service = startService("Rscript", [entrypoint], {
            cwd: REPO,
            env: { ...process.env, MODEL_DIR: "examples/models/hello", PORT: String(port), HOST: "127.0.0.1", PUBLIC_PATH_PREFIX: "/hello/" },
        });
        try {
            const base = `http://127.0.0.1:${port}`;
            await waitUntil(
                "host plumber /healthz",
                async () => {
                    if (service.process.exitCode !== null) throw new Error(`Rscript exited: ${service.output()}`);
                    return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200;
                },
                60_000,
                100,
            );
            expect((await fetch(`${base}/__docs__/`)).status).toBe(200);
            const spec = (await (await fetch(`${base}/openapi.json`)).json()) as { servers: { url: string }[] };
            expect(spec.servers).toEqual([{ url: "/hello" }]);
            expect(await (await fetch(`${base}/echo?msg=host`)).json()).toEqual({ msg: ["The message is: 'host'"] });
        } finally {
            await service.stop();
        }
    });

    test.each([
        [{ PORT: "80a" }, "plumberhub entrypoint: PORT must be an integer from 1 to 65535, got '80a'"],
        [{ PORT: "70000" }, "plumberhub entrypoint: PORT must be an integer from 1 to 65535, got '70000'"],
        [{ PUBLIC_PATH_PREFIX: "hello" }, "plumberhub entrypoint: PUBLIC_PATH_PREFIX must be empty or a path such as /my-model, got 'hello'"],
        [{ MODEL_DIR: "/nonexistent" }, "plumberhub entrypoint: MODEL_DIR must be a folder with plumber.R; /nonexistent/plumber.R does not exist"],
    ])("exits with status 2 and a message on %j", async (env, message) => {
        const service = startService("Rscript", [entrypoint], {
            cwd: REPO,
            env: { ...process.env, MODEL_DIR: "examples/models/hello", PORT: "8000", PUBLIC_PATH_PREFIX: "", ...env },
        });
        await waitUntil("entrypoint to exit", () => service.process.exitCode !== null, 30_000, 100);
        expect(service.process.exitCode).toBe(2);
        expect(service.output().trim()).toBe(message);
    });
});

/**
 * A one-package CRAN-like repository (`src/contrib` + `PACKAGES`) made with `R CMD build` and served
 * on 127.0.0.1, so the install path of install-packages.R runs for real without CRAN.
 */
async function startLocalCran(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
    const pkg = path.join(dir, "phdemo");
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(pkg, "R"), { recursive: true });
    fs.writeFileSync(
        path.join(pkg, "DESCRIPTION"),
        [
            "Package: phdemo",
            "Version: 0.1.0",
            "Title: Test Package for plumberhub",
            "Description: Says hello; tests installing a package the base image lacks.",
            "Author: plumberhub tests",
            "Maintainer: plumberhub tests <tests@example.invalid>",
            "License: MIT",
            "",
        ].join("\n"),
    );
    fs.writeFileSync(path.join(pkg, "NAMESPACE"), "export(hi)\n");
    fs.writeFileSync(path.join(pkg, "R", "hi.R"), 'hi <- function() "hi from phdemo"\n');
    const contrib = path.join(dir, "repo", "src", "contrib");
    fs.mkdirSync(contrib, { recursive: true });
    await run("R", ["CMD", "build", "--no-manual", "--no-build-vignettes", pkg], { cwd: contrib });
    await run("Rscript", ["-e", `tools::write_PACKAGES(${JSON.stringify(contrib)}, type = "source")`]);
    const root = path.join(dir, "repo");
    const server = http.createServer((req, res) => {
        const file = path.join(root, path.normalize(decodeURIComponent((req.url ?? "/").split("?")[0])));
        if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(fs.readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe("R packages the base image lacks", () => {
    const image = `${PREFIX}-phdemo:test`;
    let cran: { url: string; close: () => Promise<void> };

    /** Builds the hello model with extra `packages` from the local repository (host network: it is on 127.0.0.1). */
    function buildWith(packages: string[]): Promise<{ ms: number; output: string }> {
        const dir = stageBuildContext({
            name: "hello-packages",
            sourceDir: path.join(REPO, "examples/models/hello"),
            files: renderModelContainerFiles({ packages, port: 8000 }),
            outRoot: path.join(ARTIFACTS, "contexts"),
        }).dir;
        return dockerBuild(image, dir, ["--network", "host", "--build-arg", `CRAN_REPO=${cran.url}`]);
    }

    beforeAll(async () => {
        await requireDockerAndBaseImage();
        await requireTools({ R: "r-base-core" });
        cran = await startLocalCran(path.join(ARTIFACTS, "cran"));
    });

    afterAll(async () => {
        await cran?.close();
        await run("docker", ["rmi", "-f", image]).catch(() => undefined);
    });

    test("are installed from CRAN_REPO while those it has are skipped", async () => {
        const { output } = await buildWith(["phdemo"]);
        expect(output).toContain("plumberhub: R packages already installed: plumber \n");
        expect(output).toContain("plumberhub: installing R packages: phdemo \n");
        expect(await dockerOut("run", "--rm", image, "Rscript", "-e", "cat(phdemo::hi())")).toBe("hi from phdemo");
    });

    test("fail the build when they cannot be installed", async () => {
        const failure = await buildWith(["phmissing"]).then<RunError | undefined, RunError>(
            () => undefined,
            (error: RunError) => error,
        );
        expect(failure).toBeDefined();
        // The layers made before the failing step are untagged: remove the last one (and its own parents).
        const layers = [...failure!.stdout.matchAll(/^ ---> ([0-9a-f]{12})$/gm)].map((m) => m[1]);
        if (layers.length > 0) await run("docker", ["rmi", layers[layers.length - 1]]).catch(() => undefined);
        expect(failure!.stdout).toContain("Error: could not install R packages: phmissing");
        expect(failure!.message).toContain("returned a non-zero code: 1");
    });
});
