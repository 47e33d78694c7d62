/**
 * The dev stack under the real Pulumi engine (scripts/get-engine.sh), end to end on the local Docker engine's swarm:
 * `pulumi up` from nothing, a no-change preview, a targeted update under load, the policy pack, a team stack through a
 * real StackReference, a certificate rotation and `pulumi destroy` of both stacks. The tests run in order and share
 * the deployed stacks. The project is a copy in a temporary folder; the backend is a file backend there.
 * Load goes only to the gateway on loopback, bounded in requests and time.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCAL_IMAGES, LOCAL_IMAGES_ENV } from "../../components/config/stackConfig";
import { rfc3339 } from "../../components/config/tls";
import { changedResources, copyProject, hubObjects, PulumiProject, readEvents, readResources, urnName } from "../helpers/engine";
import { request, servedCertificate, servedX509 } from "../helpers/gateway";
import { runBoundedLoad } from "../helpers/load";
import { run, RunError, waitUntil } from "../helpers/processes";
import { StatusReport } from "../../scripts/operations";
import { parseExposition } from "../helpers/prometheus";
import { docker, ensureLocalImages, ensureSwarm, taskAddresses, waitForService } from "../helpers/swarm";

jest.setTimeout(30 * 60_000); // each step deploys or previews for real

const STACK = "dev";
const GATEWAY = "https://localhost:8443";

let work: string;
let platform: PulumiProject;
let team: PulumiProject;
let ca: string;
let password: string;
let swarmStarted = false;

const get = (url: string, auth = true) => request(url, { ca, ...(auth ? { user: "alice", password } : {}) });
const post = (url: string, body: string) =>
    request(url, { method: "POST", ca, user: "alice", password, body, headers: { "content-type": "application/json" } });

/** The upstream addresses (without port) that served the gateway requests with these X-Request-IDs, from its access log. */
async function upstreamsOf(ids: string[]): Promise<string[]> {
    const wanted = new Set(ids);
    const { stdout } = await docker(["service", "logs", "--raw", "gateway"]);
    return stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { request_id: string; upstream_addr: string })
        .filter((entry) => wanted.has(entry.request_id) && entry.upstream_addr !== "")
        .map((entry) => entry.upstream_addr.split(":")[0]);
}

beforeAll(async () => {
    swarmStarted = await ensureSwarm();
    await ensureLocalImages(Object.values(LOCAL_IMAGES));
    const before = await hubObjects();
    if (before.length > 0) {
        throw new Error(
            `this Docker engine already runs a plumberhub dev stack or its leftovers (${before.join(", ")}): destroy it first (pulumi destroy --stack dev)`,
        );
    }
    work = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-engine-"));
    const passphrase = crypto.randomBytes(24).toString("base64");
    platform = new PulumiProject(copyProject(path.join(work, "project"), { withoutTests: true }), path.join(work, "state"), passphrase);
}, 60 * 60_000);

afterAll(async () => {
    // Whatever a failed test left behind: both stacks destroyed, then the folder; if a destroy fails, the folder (the
    // stacks' state) stays so they can still be destroyed by hand.
    const failed: string[] = [];
    for (const project of [team, platform]) {
        if (project) await project.pulumi(["destroy", "--yes", "--stack", STACK]).catch((error: Error) => failed.push(error.message));
    }
    if (failed.length > 0) {
        console.error(`destroy failed; the state is kept in ${work} (PULUMI_BACKEND_URL=file://${path.join(work, "state")}):\n${failed.join("\n")}`);
        return;
    }
    if (swarmStarted) await docker(["swarm", "leave", "--force"]).catch(() => undefined);
    if (work) fs.rmSync(work, { recursive: true, force: true });
}, 15 * 60_000);

describe("the dev stack under the real engine", () => {
    test("npm run up:dev deploys it from nothing (registry, both models, gateway) and says how to call it", async () => {
        // As a newcomer runs it: no Pulumi CLI on PATH (the script gets the engine) and no image switch set (the
        // script finds out whether the default images can be pulled).
        const env: NodeJS.ProcessEnv = { ...platform.env, PATH: process.env.PATH };
        delete env[LOCAL_IMAGES_ENV];
        const log = path.join(work, "up-events.json");
        const { stderr } = await run("npm", ["run", "up:dev", "--", "--event-log", log], { cwd: platform.dir, env, timeoutMs: 60 * 60_000 });
        // Every later command runs the stack with the images up-dev chose (local ones where nothing can be pulled).
        const local = stderr.includes("up-dev: it runs the local images");
        platform.env[LOCAL_IMAGES_ENV] = local ? "1" : "0";
        const changes = changedResources(readEvents(log));
        const created = Object.entries(changes)
            .filter(([, op]) => op === "create")
            .map(([urn]) => urnName(urn));
        expect(created).toEqual(
            expect.arrayContaining([
                "plumberhub-registry-service",
                "plumberhub-hello-service",
                "plumberhub-bos-rf-service",
                "plumberhub-gateway-service",
            ]),
        );
        expect(Object.values(changes).every((op) => op === "create")).toBe(true);
        expect(stderr).toContain(`up-dev: the dev stack is up: ${GATEWAY}/ (models: bos-rf, hello;`);
        expect(stderr).toContain(`up-dev:   curl --cacert ca.pem -u USER:PASSWORD ${GATEWAY}/bos-rf/__docs__/`);
        ca = await platform.output<string>(STACK, "caCertPem");
        password = (await platform.output<Record<string, string>>(STACK, "passwords", true)).alice;
    });

    test("the state holds no password or private key in plain text", async () => {
        const state = (await platform.pulumi(["stack", "export", "--stack", STACK])).stdout;
        const login = await platform.output<{ password: string }>(STACK, "registryLogin", true);
        expect(state).toContain('"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"'); // Pulumi's secret marker
        expect(state).not.toContain(password);
        expect(state).not.toContain(login.password);
        expect(state).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/);
    });

    test("the gateway refuses a request without credentials", async () => {
        expect((await get(`${GATEWAY}/hello/echo?msg=hi`, false)).status).toBe(401);
    });

    test("hello echoes through the gateway", async () => {
        const reply = await get(`${GATEWAY}/hello/echo?msg=hi`);
        expect(reply.status).toBe(200);
        expect(JSON.parse(reply.body)).toEqual({ msg: ["The message is: 'hi'"] });
    });

    test("bos-rf predicts house prices through the gateway", async () => {
        const rows = fs.readFileSync(path.join(platform.dir, "examples/models/bos-rf/sample-request.json"), "utf8");
        const reply = await post(`${GATEWAY}/bos-rf/score`, rows);
        expect(reply.status).toBe(200);
        const prices = JSON.parse(reply.body) as number[];
        expect(prices).toHaveLength((JSON.parse(rows) as unknown[]).length);
        prices.forEach((price) => expect(price).toBeGreaterThan(5)); // $1000s, Boston 1970s: 5 to 50
        prices.forEach((price) => expect(price).toBeLessThan(50));
    });

    test("hello's API docs load through the gateway", async () => {
        const page = await get(`${GATEWAY}/hello/__docs__/`);
        expect(page.status).toBe(200);
        expect(page.body).toMatch(/swagger/i);
        const spec = JSON.parse((await get(`${GATEWAY}/hello/openapi.json`)).body) as { servers: { url: string }[] };
        expect(spec.servers[0].url).toMatch(/\/hello\/?$/);
    });

    test("a preview right after shows no changes", async () => {
        await platform.pulumi(["preview", "--expect-no-changes", "--stack", STACK]);
    });

    test("a new model version and a new replica count update only those two models, and bos-rf answers throughout", async () => {
        const helloCode = path.join(platform.dir, "examples/models/hello/plumber.R");
        fs.writeFileSync(helloCode, fs.readFileSync(helloCode, "utf8").replace("The message is:", "The new message is:"));
        await platform.pulumi(["config", "set", "--path", "plumberhub:models[1].replicas", "2", "--stack", STACK]);
        const rows = fs.readFileSync(path.join(platform.dir, "examples/models/bos-rf/sample-request.json"), "utf8");

        let updating = true;
        const load = runBoundedLoad(
            async () => {
                const reply = await post(`${GATEWAY}/bos-rf/score`, rows);
                return reply.status === 200 ? null : `HTTP ${reply.status}: ${reply.body.slice(0, 120)}`;
            },
            { concurrency: 4, maxRequests: 50_000, maxMs: 15 * 60_000, stop: () => !updating },
        );
        let events;
        try {
            ({ events } = await platform.pulumiEvents(["up", "--yes", "--stack", STACK]));
        } finally {
            updating = false;
        }
        const result = await load;

        const changed = Object.fromEntries(Object.entries(changedResources(events)).map(([urn, op]) => [urnName(urn), op]));
        // The push is named after the content-hash tag: the new image's push is created, the old one leaves the state.
        const isPush = (name: string) => /^plumberhub-hello-push-[0-9a-f]{16}$/.test(name);
        const pushes = Object.entries(changed).filter(([name]) => isPush(name));
        expect(pushes.map(([, op]) => op).sort()).toEqual(["create", "delete"]);
        expect(Object.fromEntries(Object.entries(changed).filter(([name]) => !isPush(name)))).toEqual({
            "plumberhub-hello-image": "replace",
            "plumberhub-hello-service": "update",
            "plumberhub-bos-rf-service": "update",
        });
        expect(result.failures).toEqual([]);
        expect(result.ok).toBeGreaterThan(50);
        expect(JSON.parse((await get(`${GATEWAY}/hello/echo?msg=hi`)).body)).toEqual({ msg: ["The new message is: 'hi'"] });
        await waitForService("bos-rf", 2); // up waits for running tasks; healthy comes within the start period
        console.log(`targeted update under load: ${result.ok} requests to bos-rf answered, ${result.failed} failed, in ${result.elapsedMs} ms`);
    });

    test("hello scaled to 20 replicas on this 2-core machine: all 20 become ready and serve through the gateway", async () => {
        await platform.pulumi(["config", "set", "--path", "plumberhub:models[0].replicas", "20", "--stack", STACK]);
        await platform.pulumi(["up", "--yes", "--stack", STACK]);
        await waitForService("hello", 20);
        const addresses = await taskAddresses("hello", "plumberhub-dev");
        expect(addresses).toHaveLength(20);
        // Requests until every replica has answered one (nginx round-robins over the DNS answer), bounded.
        const served = new Set<string>();
        const ids: string[] = [];
        for (let i = 0; i < 600 && served.size < addresses.length; i++) {
            const id = `scale20-${i}-${crypto.randomBytes(4).toString("hex")}`;
            ids.push(id);
            const reply = await request(`${GATEWAY}/hello/echo?msg=${i}`, { ca, user: "alice", password, headers: { "x-request-id": id } });
            expect(reply.status).toBe(200);
            if (i % 20 === 19) for (const address of await upstreamsOf(ids)) served.add(address);
        }
        for (const address of await upstreamsOf(ids)) served.add(address);
        expect([...served].sort()).toEqual(addresses);
        const memory = (await docker(["stats", "--no-stream", "--format", "{{.Name}} {{.MemUsage}}"])).stdout
            .split("\n")
            .filter((line) => line.startsWith("hello."))
            .map((line) => line.split(" ")[1]);
        console.log(`20 hello replicas: ${served.size} distinct upstreams over ${ids.length} requests; memory per replica ${memory.join(", ")}`);
    });

    test("a model whose replicas no node can take fails pulumi up, naming it, the replicas placed and the scheduler's reason", async () => {
        const set = (key: string, value: string, type = "string") =>
            platform.pulumi(["config", "set", "--path", `plumberhub:models[2].${key}`, value, "--type", type, "--stack", STACK]);
        await set("name", "greedy");
        await set("image", LOCAL_IMAGES.baseImage);
        await set("cpu.request", "64"); // more than this machine has: reserved on swarm
        try {
            const { stdout, stderr } = await platform.pulumiFailing(["up", "--yes", "--stack", STACK]);
            const output = stdout + stderr;
            expect(output).toMatch(
                /model `greedy`: 0 of 1 replicas placed after \d+ s; 1 wait: no suitable node \(insufficient resources on 1 node\)/,
            );
            expect(output).toContain("Lower or drop the model's `cpu.request` / `memory.request` (reserved on swarm)");
            console.log(
                `pulumi up says: ${output
                    .split("\n")
                    .find((line) => line.includes("replicas placed"))
                    ?.trim()}`,
            );
        } finally {
            await platform.pulumi(["config", "rm", "--path", "plumberhub:models[2]", "--stack", STACK]);
            await platform.pulumi(["up", "--yes", "--stack", STACK]);
        }
        expect((await docker(["service", "ls", "--format", "{{.Name}}"])).stdout.split("\n")).not.toContain("greedy");
    });

    test("a gateway change rolls the gateway behind the edge under load with no failed request, and applies right after", async () => {
        await platform.pulumi(["config", "set", "--path", "plumberhub:gateway.maxBodyMiB", "1", "--stack", STACK]);
        // And the per-model metrics, which need an image with nginx's Lua module: the local one (the same image when
        // up-dev chose the local images, so then only the metrics change).
        await platform.pulumi(["config", "set", "--path", "plumberhub:gateway.metrics", "true", "--stack", STACK]);
        await platform.pulumi(["config", "set", "--path", "plumberhub:swarm.gatewayImage", LOCAL_IMAGES.gatewayImage, "--stack", STACK]);
        let updating = true;
        const load = runBoundedLoad(
            async () => {
                const reply = await get(`${GATEWAY}/hello/echo?msg=roll`);
                return reply.status === 200 ? null : `HTTP ${reply.status}: ${reply.body.slice(0, 120)}`;
            },
            { concurrency: 4, maxRequests: 50_000, maxMs: 15 * 60_000, stop: () => !updating },
        );
        let events;
        try {
            await new Promise((resolve) => setTimeout(resolve, 2000));
            ({ events } = await platform.pulumiEvents(["up", "--yes", "--stack", STACK]));
            await waitForService("gateway", 1);
            await new Promise((resolve) => setTimeout(resolve, 3000));
        } finally {
            updating = false;
        }
        const result = await load;
        const changed = Object.entries(changedResources(events)).map(([urn, op]) => `${urnName(urn)} ${op}`);
        expect(changed).toContain("plumberhub-gateway-service update");
        expect(changed.filter((line) => line.startsWith("plumberhub-gateway-edge"))).toEqual([]); // the edge did not move
        expect(result.failures).toEqual([]);
        expect((await post(`${GATEWAY}/hello/echo`, "x".repeat(2 * 1024 * 1024))).status).toBe(413);
        console.log(`gateway roll under load: ${result.ok} requests answered, ${result.failed} failed, in ${result.elapsedMs} ms`);
    });

    test("the rolled gateway counts each model's requests by status class at /metrics, behind its credentials", async () => {
        // bos-rf had no request since the roll (the load went to hello): its counts are exactly these.
        const rows = fs.readFileSync(path.join(platform.dir, "examples/models/bos-rf/sample-request.json"), "utf8");
        for (let i = 0; i < 3; i++) expect((await post(`${GATEWAY}/bos-rf/score`, rows)).status).toBe(200);
        for (let i = 0; i < 2; i++) expect((await get(`${GATEWAY}/bos-rf/no-such-endpoint`)).status).toBe(404);
        expect((await get(`${GATEWAY}/metrics`, false)).status).toBe(401);
        await new Promise((resolve) => setTimeout(resolve, 1500)); // each nginx worker adds its counts once a second
        const samples = parseExposition((await get(`${GATEWAY}/metrics`)).body);
        const requests = (model: string, code: string) =>
            samples.find((s) => s.name === "plumberhub_requests_total" && s.labels.model === model && s.labels.code === code)?.value;
        expect(requests("bos-rf", "2xx")).toBe(3);
        expect(requests("bos-rf", "4xx")).toBe(2);
        expect(requests("hello", "2xx")).toBeGreaterThan(0); // the load's requests after the roll
        const count = samples.find((s) => s.name === "plumberhub_request_duration_seconds_count" && s.labels.model === "bos-rf")?.value;
        expect(count).toBe(5);
    });

    test("npm run status shows every model's replicas, image, deploy time and live numbers from the stack, the engine and the gateway", async () => {
        const { stdout } = await run("npm", ["run", "--silent", "status", "--", "--stack", STACK, "--json"], {
            cwd: platform.dir,
            env: platform.env,
        });
        const report = JSON.parse(stdout) as StatusReport;
        expect(report.problems).toEqual([]);
        expect(report.metrics).toBe("on");
        expect(report.certificate).toMatchObject({ source: "gateway" });
        const row = (name: string) => report.models.find((model) => model.name === name)!;
        expect(report.models.map((model) => model.name).sort()).toEqual(["bos-rf", "hello"]);
        // bos-rf runs 2 replicas since the targeted update above.
        expect(row("bos-rf")).toMatchObject({ health: "ok", replicas: { ready: 2, desired: 2 }, errorRate: 0 });
        expect(row("bos-rf").image).toMatch(/bos-rf(:[^@]+)?@sha256:[0-9a-f]{64}$/);
        expect(Date.parse(row("bos-rf").deployedAt!)).toBeLessThan(Date.now());
        expect(row("hello").replicas!.ready).toBe(row("hello").replicas!.desired);
        // The table a person reads: a row per model, and no password anywhere.
        const table = await run("npm", ["run", "--silent", "status", "--", "--stack", STACK], { cwd: platform.dir, env: platform.env });
        expect(table.stdout).toMatch(/^bos-rf\s+ok\s+2\/2\s/m);
        expect(table.stdout + table.stderr).not.toContain(password);
    });

    test("npm run logs shows a model's log lines, each named by its task, and names an unknown model with the known ones", async () => {
        const { stdout } = await run("npm", ["run", "--silent", "logs", "--", "--stack", STACK, "bos-rf", "--tail", "20"], {
            cwd: platform.dir,
            env: platform.env,
        });
        const lines = stdout.trim().split("\n");
        expect(lines.length).toBeGreaterThan(0);
        expect(lines.filter((line) => !/^bos-rf\.[12]\.[0-9a-z]{12}@\S+ /.test(line))).toEqual([]);
        const unknown = await run("npm", ["run", "--silent", "logs", "--", "--stack", STACK, "bos-fr"], {
            cwd: platform.dir,
            env: platform.env,
        }).catch((error: RunError) => error);
        expect(unknown).toBeInstanceOf(Error);
        expect((unknown as RunError).stderr).toMatch(/bos-fr/);
        expect((unknown as RunError).stderr).toMatch(/bos-rf/);
    });

    test("the policy pack passes on the dev stack", async () => {
        const { stdout } = await platform.pulumi(["preview", "--policy-pack", "policy", "--stack", STACK]);
        expect(stdout).toMatch(/Policies:\s*\n\s*✅ plumberhub@v[\d.]+ \(local: policy\)/);
    });

    test("a stack config that breaks a policy fails the preview with the rule's message", async () => {
        await platform.pulumi(["config", "set", "--path", "plumberhub:models[2].name", "tagged", "--stack", STACK]);
        await platform.pulumi(["config", "set", "--path", "plumberhub:models[2].image", LOCAL_IMAGES.baseImage, "--stack", STACK]);
        try {
            const { stdout } = await platform.pulumiFailing(["preview", "--policy-pack", "policy", "--stack", STACK]);
            expect(stdout).toContain(
                `swarm service "plumberhub-tagged-service" uses image "${LOCAL_IMAGES.baseImage}", which is not pinned by digest: use "registry/repository@sha256:<64 hex digits>"`,
            );
        } finally {
            await platform.pulumi(["config", "rm", "--path", "plumberhub:models[2]", "--stack", STACK]);
        }
        await platform.pulumi(["preview", "--expect-no-changes", "--stack", STACK]);
    });
});

describe("a team stack next to it", () => {
    beforeAll(async () => {
        await run("npm", ["run", "build"], { cwd: platform.dir, timeoutMs: 5 * 60_000 });
        const teamDir = path.join(platform.dir, "examples/team-stack");
        await run("npm", ["install", "--no-audit", "--no-fund"], { cwd: teamDir, timeoutMs: 10 * 60_000 });
        team = new PulumiProject(teamDir, path.join(work, "state"), platform.env.PULUMI_CONFIG_PASSPHRASE!, {
            [LOCAL_IMAGES_ENV]: platform.env[LOCAL_IMAGES_ENV]!, // the platform's choice of images
        });
        await team.pulumi(["stack", "init", STACK]);
    }, 20 * 60_000);

    test("pulumi up of examples/team-stack reads the platform through a StackReference and deploys iris", async () => {
        const { events } = await team.pulumiEvents(["up", "--yes", "--stack", STACK]);
        expect(readResources(events)).toContain("pulumi:pulumi:StackReference");
        const created = Object.entries(changedResources(events))
            .filter(([, op]) => op === "create")
            .map(([urn]) => urnName(urn));
        expect(created).toEqual(expect.arrayContaining(["iris-image", "iris-service", expect.stringMatching(/^iris-push-[0-9a-f]{16}$/)]));
        expect(await team.output(STACK, "url")).toBe(`${GATEWAY}/iris/`);
    });

    test("iris answers through the platform's gateway", async () => {
        const rows = fs.readFileSync(path.join(team.dir, "models/iris/sample-request.json"), "utf8");
        const reply = await post(`${GATEWAY}/iris/predict`, rows);
        expect(reply.status).toBe(200);
        expect(JSON.parse(reply.body)).toEqual({ species: ["setosa", "versicolor", "virginica"] });
    });

    test("the landing page lists the platform's own models and not the team's", async () => {
        const page = await get(`${GATEWAY}/`);
        expect(page.status).toBe(200);
        expect(page.body).toContain('href="/hello/__docs__/"');
        expect(page.body).toContain('href="/bos-rf/__docs__/"');
        expect(page.body).not.toContain("iris");
    });
});

describe("certificate rotation", () => {
    test("once the rotation time has passed, pulumi up --refresh serves a new certificate from the same CA", async () => {
        const before = await servedCertificate(8443, ca);
        // The shortest rotation period is an hour: move the recorded rotation time into the past instead of waiting.
        const file = path.join(work, "state.json");
        fs.writeFileSync(file, (await platform.pulumi(["stack", "export", "--stack", STACK])).stdout);
        const state = JSON.parse(fs.readFileSync(file, "utf8")) as {
            deployment: { resources: { type: string; outputs?: Record<string, unknown> }[] };
        };
        const rotations = state.deployment.resources.filter((r) => r.type === "time:index/rotating:Rotating");
        expect(rotations.length).toBeGreaterThan(0);
        for (const rotation of rotations) rotation.outputs!.rotationRfc3339 = "2020-01-01T00:00:00Z";
        fs.writeFileSync(file, JSON.stringify(state));
        await platform.pulumi(["stack", "import", "--file", file, "--stack", STACK]);

        const { events } = await platform.pulumiEvents(["up", "--refresh", "--yes", "--stack", STACK]);
        const replaced = Object.entries(changedResources(events))
            .filter(([, op]) => op.includes("replace"))
            .map(([urn]) => urnName(urn));
        expect(replaced).toEqual(expect.arrayContaining(["plumberhub-tls-server-key", "plumberhub-tls-server"]));
        expect(replaced.filter((name) => name.includes("-tls-ca"))).toEqual([]);
        await waitUntil("the gateway to serve the new certificate", async () => (await servedCertificate(8443, ca)) !== before, 120_000, 1000);
        expect((await get(`${GATEWAY}/hello/echo?msg=hi`)).status).toBe(200); // still trusted through the same CA
        expect(await platform.output(STACK, "caCertPem")).toBe(ca);
        const served = await servedX509(8443, "localhost", ca);
        expect(await platform.output(STACK, "certificateNotAfter")).toBe(rfc3339(new Date(served.validTo)));
    });
});

describe("pulumi destroy", () => {
    test("of both stacks leaves no service, network, secret, config or volume of theirs", async () => {
        await team.pulumi(["destroy", "--yes", "--stack", STACK]);
        await platform.pulumi(["destroy", "--yes", "--stack", STACK]);
        await waitUntil("the stacks' tasks to stop", async () => (await hubObjects()).length === 0, 120_000, 1000).catch(() => undefined);
        expect(await hubObjects()).toEqual([]);
    });
});
