/**
 * The operator commands (`npm run logs`, `npm run status`) against real sources:
 * - swarm: real services on the local single-node swarm, named `phcli-…` and started as a model's service is (a
 *   replicated service named like the model, with the hub's role and model labels): the engine facts (replicas
 *   ready/desired, image, UpdatedAt) and the logs (all replicas named by task, --tail, --since, --follow seeing a
 *   line written after it started, stopped in bounded time);
 * - the stack: a real Pulumi stack (the CLI `scripts/get-engine.sh` provides, a file backend in a temp folder) whose
 *   program only exports outputs in the shape of the hub's, pointing at those services and at a stand-in gateway;
 *   read through the Automation API by `stackStatus`/`modelLogs` and by the commands themselves, run from the
 *   project folder as `npm run status` runs them;
 * - STAND-INS, no real cluster or gateway here: the AKS path (@kubernetes/client-node) against a small fake
 *   Kubernetes API served over HTTPS on 127.0.0.1 (Deployments, pod lists, pod logs, in the shapes the API
 *   answers), and the gateway's `status.json` served by a small HTTPS server with basic auth in the contract's shape.
 * Every Docker object made here starts with `phcli-` and is removed in afterAll.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { LOCAL_IMAGES } from "../../components/config/stackConfig";
import { dockerClient } from "../../components/swarm/waitForReplicas";
import { modelSelector } from "../../components/render/kubernetes/modelObjects";
import { MODEL_LABEL, ROLE_LABEL } from "../../components/render/swarm";
import { readGatewayStatus } from "../../scripts/gatewayStatus";
import { modelLogs } from "../../scripts/logs";
import { LogLine, METRICS_OFF } from "../../scripts/operations";
import { stackStatus } from "../../scripts/status";
import { SwarmModelEngine } from "../../scripts/swarmEngine";
import { getEngine } from "../helpers/engine";
import { makeTls, tempDir, TestTls } from "../helpers/gateway";
import { freePort, run, waitUntil } from "../helpers/processes";
import { docker, ensureLocalImages, ensureSwarm, leftovers, readyContainers, REPO_ROOT, waitForService } from "../helpers/swarm";

jest.setTimeout(5 * 60_000);

const PREFIX = `phcli-${process.pid}`;
/** A model's service: two replicas that write known lines, then wait. */
const MODEL = `${PREFIX}-hello`;
/** A model whose one replica finds no node: desired 1, ready 0. */
const PENDING = `${PREFIX}-pending`;
const IMAGE = LOCAL_IMAGES.gatewayImage; // has a shell; the R image is not needed to write lines
const KNOWN_LINES = ["phcli-line one", "phcli-line two", "phcli-line err"];
const PASSWORD = "phcli-test-password-0123456789";

const engine = new SwarmModelEngine(dockerClient(), "the local Docker engine");
let tls: TestTls;
let workDir: string;
const servers: (http.Server | https.Server)[] = [];

/** Creates a replicated service labelled as a model, as `planModelService` labels one. */
async function createModelService(name: string, replicas: number, extra: string[], command: string): Promise<void> {
    await docker([
        "service",
        "create",
        "--detach",
        "--name",
        name,
        "--replicas",
        String(replicas),
        "--label",
        `${ROLE_LABEL}=model`,
        "--label",
        `${MODEL_LABEL}=${name}`,
        "--limit-memory",
        "64m",
        ...extra,
        IMAGE,
        "sh",
        "-c",
        command,
    ]);
}

/** Writes `text` to the stdout of the first task container of `service` (its PID 1's), as the model would. */
async function writeLine(service: string, text: string): Promise<void> {
    const [container] = await readyContainers(service);
    await docker(["exec", container, "sh", "-c", `echo '${text}' > /proc/1/fd/1`]);
}

async function swarmLogs(request: Parameters<SwarmModelEngine["logs"]>[1]): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    await engine.logs(MODEL, request, (line) => lines.push(line));
    return lines;
}

function listen(server: http.Server | https.Server): Promise<number> {
    servers.push(server);
    return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port)));
}

/** The stand-in gateway: `status.json` in the contract's shape behind basic auth, or 404 when `metrics` is false. */
async function startGateway(metrics: boolean): Promise<string> {
    const server = https.createServer({ cert: fs.readFileSync(tls.certificatePath), key: fs.readFileSync(tls.keyPath) }, (req, res) => {
        if (req.headers.authorization !== `Basic ${Buffer.from(`alice:${PASSWORD}`).toString("base64")}`) {
            res.writeHead(401, { "www-authenticate": 'Basic realm="plumberhub"' }).end();
            return;
        }
        if (!metrics || req.url !== "/status.json") {
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, { "content-type": "application/json" }).end(
            JSON.stringify({
                generatedAt: "2026-12-01T03:30:00Z",
                gateway: { connections: { active: 1, reading: 0, writing: 1, waiting: 0 }, certificate: null },
                models: [
                    {
                        name: MODEL,
                        health: "ok",
                        requests: 1234,
                        requestsPerSecond: { "1m": 3.2, "5m": 2.9 },
                        p50Seconds: 0.004,
                        p99Seconds: 0.031,
                        errorRate: 0,
                        upstreamErrors: 0,
                    },
                ],
            }),
        );
    });
    return `https://localhost:${await listen(server)}/`;
}

beforeAll(async () => {
    await ensureSwarm();
    await ensureLocalImages([IMAGE]);
    workDir = tempDir("phcli-");
    tls = await makeTls(workDir);
    // `exec sleep`: PID 1 is then the sleep, whose stdout is the task's log (writeLine writes there).
    await createModelService(MODEL, 2, [], `echo '${KNOWN_LINES[0]}'; echo '${KNOWN_LINES[1]}'; echo '${KNOWN_LINES[2]}' >&2; exec sleep infinity`);
    await createModelService(PENDING, 1, ["--constraint", "node.labels.phcli-never==true"], "exec sleep infinity");
    await waitForService(MODEL, 2);
});

afterAll(async () => {
    for (const server of servers) server.close();
    for (const service of [MODEL, PENDING]) await docker(["service", "rm", service]).catch(() => undefined);
    await waitUntil("the phcli services removed", async () => (await leftovers(PREFIX)).length === 0, 60_000, 500);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe("swarm: the engine facts", () => {
    test("replicas ready/desired, the image and UpdatedAt come from the service and its tasks", async () => {
        const updatedAt = JSON.parse((await docker(["service", "inspect", "--format", "{{json .UpdatedAt}}", MODEL])).stdout) as string;
        const facts = await engine.facts([MODEL, PENDING, `${PREFIX}-absent`]);
        expect(facts[MODEL]).toEqual({
            desired: 2,
            ready: 2,
            image: expect.stringMatching(/^local\/nginx:bookworm(@sha256:[0-9a-f]{64})?$/),
            deployedAt: updatedAt,
        });
        expect(facts[PENDING]).toMatchObject({ desired: 1, ready: 0 });
        expect(facts[`${PREFIX}-absent`]).toBeUndefined();
    });

    test("an engine that cannot be reached is named", async () => {
        const nowhere = new SwarmModelEngine(dockerClient("unix:///nonexistent/docker.sock"), "the Docker engine at unix:///nonexistent/docker.sock");
        await expect(nowhere.facts([MODEL])).rejects.toThrow(/^cannot reach the Docker engine at unix:\/\/\/nonexistent\/docker\.sock: .*ENOENT/);
    });
});

describe("swarm: the logs", () => {
    test("every replica's lines, each named by its task as docker service logs names it", async () => {
        await waitUntil("both replicas' lines", async () => (await swarmLogs({ follow: false })).length >= 6, 30_000, 500);
        const lines = await swarmLogs({ follow: false });
        expect(lines).toHaveLength(6);
        const sources = [...new Set(lines.map((line) => line.source))].sort();
        expect(sources).toEqual([
            expect.stringMatching(new RegExp(`^${MODEL}\\.1\\.[a-z0-9]{12}@`)),
            expect.stringMatching(new RegExp(`^${MODEL}\\.2\\.[a-z0-9]{12}@`)),
        ]);
        for (const source of sources)
            expect(
                lines
                    .filter((line) => line.source === source)
                    .map((line) => line.text)
                    .sort(),
            ).toEqual([...KNOWN_LINES].sort());
    });

    test("--tail N gives the last N lines of each replica", async () => {
        const lines = await swarmLogs({ follow: false, tail: 1 });
        expect(lines).toHaveLength(2);
        expect(new Set(lines.map((line) => line.source)).size).toBe(2);
        expect((await swarmLogs({ follow: false, tail: 2 })).length).toBe(4);
    });

    test("--since leaves out the lines written before it", async () => {
        // The engine counts `since` in whole seconds: the start lines are over a second old by now.
        await new Promise((resolve) => setTimeout(resolve, 2100));
        const since = new Date();
        expect(await swarmLogs({ follow: false, since })).toEqual([]);
        await writeLine(MODEL, "phcli-line since");
        await waitUntil("the line written after --since", async () => (await swarmLogs({ follow: false, since })).length === 1, 20_000, 250);
        expect((await swarmLogs({ follow: false, since }))[0].text).toBe("phcli-line since");
    });

    test("--follow sees a line written after it started, and ends when asked", async () => {
        const seen: LogLine[] = [];
        const controller = new AbortController();
        const following = engine.logs(MODEL, { follow: true, tail: 1 }, (line) => seen.push(line), controller.signal);
        await waitUntil("the follow started (the tail of both replicas)", () => seen.length >= 2, 20_000, 100);
        await writeLine(MODEL, "phcli-line followed");
        await waitUntil("the followed line", () => seen.some((line) => line.text === "phcli-line followed"), 20_000, 100);
        const stopped = Date.now();
        controller.abort();
        await following;
        expect(Date.now() - stopped).toBeLessThan(5000);
    });

    test("a model the engine does not run is named", async () => {
        await expect(engine.logs(`${PREFIX}-absent`, { follow: false }, () => undefined)).rejects.toThrow(
            `the local Docker engine has no service ${PREFIX}-absent: is the stack deployed there?`,
        );
    });
});

describe("the gateway's status.json (stand-in server)", () => {
    test("metrics on: the live view and the certificate the gateway served", async () => {
        const answer = await readGatewayStatus(await startGateway(true), tls.ca, { user: "alice", password: PASSWORD });
        expect(answer.live).toMatchObject({ state: "on", status: { models: [{ name: MODEL, health: "ok" }] } });
        const notAfter = (await run("openssl", ["x509", "-noout", "-enddate", "-in", tls.certificatePath])).stdout.trim().replace("notAfter=", "");
        expect(answer.servedNotAfter).toBe(new Date(notAfter).toISOString());
    });

    test("a 404 means the metrics are off", async () => {
        expect((await readGatewayStatus(await startGateway(false), tls.ca, { user: "alice", password: PASSWORD })).live).toEqual({ state: "off" });
    });

    test("a refused password, an untrusted certificate and a closed port are reasons, not crashes", async () => {
        const url = await startGateway(true);
        expect((await readGatewayStatus(url, tls.ca, { user: "alice", password: "wrong" })).live).toEqual({
            state: "unavailable",
            reason: "it refused user alice (HTTP 401)",
        });
        const other = await makeTls(tempDir("phcli-other-ca-"));
        expect((await readGatewayStatus(url, other.ca, { user: "alice", password: PASSWORD })).live).toMatchObject({ state: "unavailable" });
        const closed = `https://localhost:${await freePort()}/`;
        expect((await readGatewayStatus(closed, tls.ca, undefined)).live).toEqual({
            state: "unavailable",
            reason: expect.stringMatching(/^ECONNREFUSED/),
        });
    });
});

describe("a stack read through the Automation API", () => {
    let project: string;
    let env: Record<string, string>;
    let pulumiCommand: PulumiCommand;
    let gatewayUrl: string;

    beforeAll(async () => {
        project = path.join(workDir, "project");
        fs.mkdirSync(project);
        fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(project, "node_modules"));
        fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: phcli-ops\nruntime: nodejs\nmain: index.js\n");
        fs.writeFileSync(
            path.join(project, "Pulumi.phcli.yaml"),
            [
                "config:",
                "  plumberhub:target: swarm",
                "  plumberhub:protectState: false",
                "  plumberhub:models:",
                `    - { name: ${MODEL}, image: "${IMAGE}" }`,
                "  plumberhub:gateway: { users: [alice] }",
                "",
            ].join("\n"),
        );
        gatewayUrl = await startGateway(true);
        // The hub program's outputs, in their shapes: the models' services above, a stand-in gateway (`phcli:url`:
        // each stack its own), its CA.
        fs.writeFileSync(
            path.join(project, "index.js"),
            [
                'const pulumi = require("@pulumi/pulumi");',
                'const url = new pulumi.Config("phcli").require("url");',
                "module.exports = {",
                "    url,",
                `    models: { ${JSON.stringify(MODEL)}: { url: \`\${url}${MODEL}/\`, docsUrl: \`\${url}${MODEL}/__docs__/\` } },`,
                `    caCertPem: ${JSON.stringify(tls.ca)},`,
                '    certificateNotAfter: "2027-02-28T10:00:00Z",',
                `    passwords: pulumi.secret({ alice: ${JSON.stringify(PASSWORD)} }),`,
                "};",
                "",
            ].join("\n"),
        );
        const bin = getEngine();
        env = {
            PULUMI_BACKEND_URL: `file://${path.join(workDir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "phcli-passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "1",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        };
        fs.mkdirSync(path.join(workDir, "state"));
        // get-engine.sh's folder is `…/bin`: the Automation API takes the folder above it.
        pulumiCommand = await PulumiCommand.get({ root: path.dirname(bin) });
        const pulumi = (args: string[]) =>
            run(path.join(bin, "pulumi"), args, { cwd: project, env: { ...process.env, ...env, PATH: `${bin}:${process.env.PATH}` } });
        fs.copyFileSync(path.join(project, "Pulumi.phcli.yaml"), path.join(project, "Pulumi.phcli-off.yaml"));
        for (const [stack, url] of [
            ["phcli", gatewayUrl],
            ["phcli-off", await startGateway(false)],
        ]) {
            await pulumi(["stack", "init", stack]);
            await pulumi(["config", "set", "--stack", stack, "phcli:url", url]);
            await pulumi(["up", "--yes", "--skip-preview", "--stack", stack]);
        }
        await pulumi(["stack", "init", "phcli-empty"]);
    });

    const selection = (stack: string) => ({ stack, projectDir: project, workspace: { envVars: env, pulumiCommand } });

    test("stackStatus merges the stack's outputs, the swarm and the gateway", async () => {
        const report = await stackStatus(selection("phcli"));
        expect(report).toMatchObject({ stack: "phcli", target: "swarm", url: gatewayUrl, metrics: "on", problems: [] });
        expect(report.models).toEqual([
            expect.objectContaining({ name: MODEL, health: "ok", replicas: { ready: 2, desired: 2 }, requestsPerSecond: { "1m": 3.2, "5m": 2.9 } }),
        ]);
        // status.json has no certificate here: the one served in the handshake is reported.
        expect(report.certificate?.source).toBe("served");
    });

    test("modelLogs reads the stack's model from the engine", async () => {
        const lines: LogLine[] = [];
        await modelLogs({ ...selection("phcli"), model: MODEL, follow: false, tail: 1 }, (line) => lines.push(line));
        expect(lines).toHaveLength(2);
    });

    test("an unknown model lists the stack's models and suggests the closest", async () => {
        await expect(modelLogs({ ...selection("phcli"), model: `${MODEL}x`, follow: false }, () => undefined)).rejects.toThrow(
            `stack phcli has no model "${MODEL}x"; did you mean "${MODEL}"? Its models: ${MODEL}`,
        );
    });

    test("an unknown stack lists the project's stacks", async () => {
        await expect(stackStatus(selection("phcli-nope"))).rejects.toThrow(
            "there is no stack phcli-nope in this backend; this project's stacks: phcli, phcli-empty, phcli-off (check PULUMI_BACKEND_URL or `pulumi login`)",
        );
    });

    test("a stack that was never deployed says so", async () => {
        await expect(stackStatus(selection("phcli-empty"))).rejects.toThrow(
            "stack phcli-empty has never been deployed (it has no outputs): run `pulumi up --stack phcli-empty` first",
        );
    });

    /** `npm run X -- ARGS` as a user runs it in the project folder, with the engine on PATH. */
    const command = (script: "status" | "logs", args: string[]) =>
        run("node", ["-r", path.join(REPO_ROOT, "scripts/register-ts.js"), path.join(REPO_ROOT, `scripts/${script}.ts`), ...args], {
            cwd: project,
            env: { ...process.env, ...env, PATH: `${path.dirname(pulumiCommand.command)}:${process.env.PATH}` },
        });

    test("npm run status prints the table and no secret", async () => {
        const { stdout, stderr } = await command("status", ["--stack", "phcli"]);
        expect(stdout).toContain(`stack phcli (swarm): ${gatewayUrl}`);
        expect(stdout).toMatch(new RegExp(`${MODEL}\\s+ok\\s+2/2\\s+3\\.2\\s+2\\.9\\s+4 ms\\s+31 ms\\s+0\\.0%\\s+local/nginx:bookworm`));
        expect(stdout + stderr).not.toContain(PASSWORD);
        const json = JSON.parse((await command("status", ["--stack", "phcli", "--json"])).stdout) as { models: { name: string }[] };
        expect(json.models.map((model) => model.name)).toEqual([MODEL]);
    });

    test("npm run status without --stack prints the usage and exits 1", async () => {
        const failed = (await command("status", []).catch((error: { stderr: string; message: string }) => error)) as {
            stderr: string;
            message: string;
        };
        expect(failed.message).toMatch(/failed/);
        expect(failed.stderr).toBe(
            "`--stack` is required: the Pulumi stack to read, e.g. `--stack dev`\nusage: npm run status -- --stack STACK [--json]\n",
        );
    });

    test("npm run logs prints each replica's lines with its task", async () => {
        const { stdout } = await command("logs", ["--stack", "phcli", MODEL, "--tail", "1"]);
        const lines = stdout.trimEnd().split("\n");
        expect(lines).toHaveLength(2);
        for (const line of lines) expect(line).toMatch(new RegExp(`^${MODEL}\\.[12]\\.[a-z0-9]{12}@\\S+\\s*\\| `));
    });

    test("a gateway without metrics leaves the engine's columns and says how to turn them on", async () => {
        const report = await stackStatus(selection("phcli-off"));
        expect(report).toMatchObject({ metrics: "off", problems: [] });
        expect(report.models).toEqual([expect.objectContaining({ name: MODEL, health: null, replicas: { ready: 2, desired: 2 } })]);
        const { stdout } = await command("status", ["--stack", "phcli-off"]);
        expect(stdout).toContain(`\n${METRICS_OFF}\n`);
        expect(stdout).toMatch(new RegExp(`${MODEL}\\s+2/2\\s+local/nginx:bookworm`));
    });
});

describe("AKS: the Kubernetes API (STAND-IN: a fake API server, no cluster here)", () => {
    const NAMESPACE = "models";
    const TOKEN = "phcli-fake-token";
    const seen: { path: string; query: Record<string, string> }[] = [];
    let kubeconfig: string;
    const digest = `sha256:${"b".repeat(64)}`;

    const pod = (name: string, phase: string) => ({
        metadata: { name, namespace: NAMESPACE, labels: modelSelector("hello") },
        status: {
            phase,
            startTime: "2026-12-01T01:00:00Z",
            containerStatuses: [{ name: "model", image: "acr.io/hello:1", imageID: `acr.io/hello@${digest}`, ready: true, restartCount: 0 }],
        },
    });

    beforeAll(async () => {
        const server = https.createServer({ cert: fs.readFileSync(tls.certificatePath), key: fs.readFileSync(tls.keyPath) }, (req, res) => {
            const url = new URL(req.url!, "https://localhost");
            seen.push({ path: url.pathname, query: Object.fromEntries(url.searchParams) });
            const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
            if (req.headers.authorization !== `Bearer ${TOKEN}`)
                return json(401, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Unauthorized", code: 401 });
            const base = `/api/v1/namespaces/${NAMESPACE}/pods`;
            if (url.pathname === `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/hello`) {
                return json(200, {
                    apiVersion: "apps/v1",
                    kind: "Deployment",
                    metadata: { name: "hello", namespace: NAMESPACE, creationTimestamp: "2026-11-01T00:00:00Z" },
                    spec: {
                        replicas: 3,
                        selector: { matchLabels: modelSelector("hello") },
                        template: {
                            metadata: { labels: modelSelector("hello") },
                            spec: { containers: [{ name: "model", image: "acr.io/hello:1" }] },
                        },
                    },
                    status: {
                        replicas: 3,
                        readyReplicas: 2,
                        conditions: [
                            { type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", lastUpdateTime: "2026-12-01T01:00:00Z" },
                        ],
                    },
                });
            }
            if (url.pathname.startsWith(`/apis/apps/v1/namespaces/${NAMESPACE}/deployments/`)) {
                return json(404, { kind: "Status", apiVersion: "v1", status: "Failure", reason: "NotFound", code: 404 });
            }
            if (url.pathname === base) {
                return json(200, {
                    kind: "PodList",
                    apiVersion: "v1",
                    metadata: {},
                    items: [pod("hello-7d9f-b", "Running"), pod("hello-7d9f-a", "Running"), pod("hello-7d9f-c", "Pending")],
                });
            }
            const log = new RegExp(`^${base}/([^/]+)/log$`).exec(url.pathname);
            if (log) {
                res.writeHead(200, { "content-type": "text/plain" });
                res.write(`${log[1]} first\n${log[1]} second\n`);
                if (url.searchParams.get("follow") !== "true") return res.end();
                // Following: a new line every 100 ms until the client goes away.
                let n = 0;
                const timer = setInterval(() => res.write(`${log[1]} later ${++n}\n`), 100);
                res.on("close", () => clearInterval(timer));
                return;
            }
            json(404, { kind: "Status", code: 404 });
        });
        const port = await listen(server);
        kubeconfig = [
            "apiVersion: v1",
            "kind: Config",
            "clusters:",
            `- name: fake\n  cluster:\n    server: https://localhost:${port}\n    certificate-authority-data: ${Buffer.from(tls.ca).toString("base64")}`,
            "users:",
            `- name: fake\n  user:\n    token: ${TOKEN}`,
            "contexts:",
            "- name: fake\n  context:\n    cluster: fake\n    user: fake",
            "current-context: fake",
            "",
        ].join("\n");
    });

    /** The engine in a plain Node process (test/helpers/kubernetesEngineRunner.ts says why). */
    async function kubernetes(input: object): Promise<{ facts?: unknown; lines?: LogLine[]; error?: string }> {
        const { stdout } = await run(
            "node",
            ["-r", path.join(REPO_ROOT, "scripts/register-ts.js"), path.join(REPO_ROOT, "test/helpers/kubernetesEngineRunner.ts")],
            {
                input: JSON.stringify({ kubeconfig, namespace: NAMESPACE, ...input }),
                timeoutMs: 60_000,
            },
        );
        return JSON.parse(stdout) as { facts?: unknown; lines?: LogLine[]; error?: string };
    }

    test("facts: the Deployment's replicas and rollout, the digest the pods pulled", async () => {
        expect(await kubernetes({ action: "facts", models: ["hello", "gone"] })).toEqual({
            facts: { hello: { desired: 3, ready: 2, image: `acr.io/hello:1@${digest}`, deployedAt: "2026-12-01T01:00:00.000Z" } },
        });
        expect(seen.some((request) => request.query.labelSelector === "app.kubernetes.io/name=hello,app.kubernetes.io/part-of=plumberhub")).toBe(
            true,
        );
    });

    test("logs: each running pod's lines, pod by pod, with the tail and since asked for", async () => {
        seen.length = 0;
        const { lines } = await kubernetes({
            action: "logs",
            model: "hello",
            request: { follow: false, tail: 5, since: new Date(Date.now() - 600_000).toISOString() },
        });
        expect(lines).toEqual([
            { source: "hello-7d9f-a", text: "hello-7d9f-a first" },
            { source: "hello-7d9f-a", text: "hello-7d9f-a second" },
            { source: "hello-7d9f-b", text: "hello-7d9f-b first" },
            { source: "hello-7d9f-b", text: "hello-7d9f-b second" },
        ]);
        const logRequests = seen.filter((request) => request.path.endsWith("/log"));
        expect(logRequests.map((request) => request.path).sort()).toEqual([
            `/api/v1/namespaces/${NAMESPACE}/pods/hello-7d9f-a/log`,
            `/api/v1/namespaces/${NAMESPACE}/pods/hello-7d9f-b/log`,
        ]);
        expect(logRequests[0].query).toMatchObject({
            container: "model",
            follow: "false",
            tailLines: "5",
        });
        // 10 minutes before the runner started, in whole seconds; the runner's own start-up adds a few.
        expect(Number(logRequests[0].query.sinceSeconds)).toBeGreaterThanOrEqual(600);
        expect(Number(logRequests[0].query.sinceSeconds)).toBeLessThan(660);
    });

    test("logs --follow: new lines as they come, until stopped", async () => {
        const { lines, error } = await kubernetes({ action: "logs", model: "hello", request: { follow: true }, abortAfterMs: 700 });
        expect(error).toBeUndefined();
        expect(lines!.some((line) => line.text === "hello-7d9f-a later 2")).toBe(true);
        expect(lines!.some((line) => line.text === "hello-7d9f-b later 2")).toBe(true);
    });

    test("an API that cannot be reached is named", async () => {
        const closed = kubeconfig.replace(/server: https:\/\/localhost:\d+/, `server: https://localhost:${await freePort()}`);
        const { stdout } = await run(
            "node",
            ["-r", path.join(REPO_ROOT, "scripts/register-ts.js"), path.join(REPO_ROOT, "test/helpers/kubernetesEngineRunner.ts")],
            {
                input: JSON.stringify({ kubeconfig: closed, namespace: NAMESPACE, action: "facts", models: ["hello"] }),
            },
        );
        expect((JSON.parse(stdout) as { error: string }).error).toMatch(
            /^(cannot reach|error from) the Kubernetes API at https:\/\/localhost:\d+ \(namespace models\): /,
        );
    });
});
