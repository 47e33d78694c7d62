/**
 * The swarm target end to end, on a real single-node swarm on loopback: both example images built from
 * the rendered Dockerfile and pushed to a registry service (TLS + bcrypt auth) deployed from the rendered
 * registry stack; the hub stack (models + gateway) exported by `renderSwarmStackFiles` and deployed with
 * `docker stack deploy`; then requests through the gateway, scaling, a stopped task and a rolling update
 * under load. This kernel has no IPVS: services use `dnsrr` and host-mode ports.
 * Needs: docker (engine running), openssl, debootstrap (first run builds the local base images).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { renderHtpasswd } from "../../components/render/htpasswd";
import { planSwarmStack, renderSwarmStackFiles, SwarmStackInput } from "../../components/render/swarm";
import { Model, validateModel, validateModels } from "../../components/config";
import { fingerprint, makeTls, request, servedCertificate, tempDir, TestTls } from "../helpers/gateway";
import { runBoundedLoad } from "../helpers/load";
import { freePort, requireTools, waitUntil } from "../helpers/processes";
import {
    BASE_IMAGES,
    buildModelImage,
    deployStack,
    docker,
    ensureLocalImages,
    ensureSwarm,
    leftovers,
    pushImage,
    readyContainers,
    REPO_ROOT,
    removeStack,
    taskAddresses,
    waitForService,
} from "../helpers/swarm";

jest.setTimeout(40 * 60_000);

const PREFIX = "swarm-e2e";
const HUB_STACK = PREFIX;
const REGISTRY_STACK = `${PREFIX}-registry`;
const NETWORK = `${PREFIX}-hub`;
const REGISTRY_VOLUME = `${PREFIX}-registry-data`;
const HELLO = `${HUB_STACK}_hello`;
const GATEWAY = `${HUB_STACK}_gateway`;
/** A service that is not a model, attached to the hub network by hand (a database UI, a metrics endpoint …). */
const BYSTANDER = `${PREFIX}-bystander`;
const ARTIFACTS = path.join(REPO_ROOT, "test-artifacts", "swarm");
const SAMPLE = fs.readFileSync(path.join(REPO_ROOT, "examples/models/bos-rf/sample-request.json"), "utf8");
const USER = "alice";
const PASSWORD = crypto.randomBytes(18).toString("base64url");
const SALT_SEED = crypto.randomBytes(24).toString("base64url");

let initialisedSwarm = false;
let dir: string;
let configDir: string;
let tls: TestTls;
let registry: string;
let certsDir: string;
/** /etc/docker/certs.d, when this test created it (then it goes again in teardown). */
let createdCertsRoot: string | undefined;
let httpsPort: number;
let httpPort: number;
let models: Model[];
const digests: Record<string, string> = {};
/** A second gateway user: the load of the gateway-roll tests calls as bob while alice's password changes. */
const BOB_PASSWORD = crypto.randomBytes(18).toString("base64url");
/** What the gateway-roll tests change between deploys of the hub stack. */
const platform: { alicePassword: string; tls?: TestTls; extraModel: boolean; maxBodyBytes?: number } = {
    alicePassword: PASSWORD,
    extraModel: false,
};
/** The hello deploy last made, which the gateway-roll tests keep. */
let helloNow: { image: string; replicas: number };
const figures: Record<string, unknown> = {};

function gatewayUrl(pathAndQuery: string): string {
    return `https://127.0.0.1:${httpsPort}${pathAndQuery}`;
}

/** The hub stack as the platform would export it: the hello image/replicas and the `platform` settings vary between deploys. */
function hubStack(hello: { image: string; replicas: number }): SwarmStackInput {
    const [helloModel, rfModel] = models;
    const extra = platform.extraModel ? [{ model: validateModel({ name: "extra", image: digests.hello }), image: digests.hello }] : [];
    const served = platform.tls ?? tls;
    return {
        prefix: PREFIX,
        networkName: NETWORK,
        models: [{ model: helloModel, image: hello.image, replicas: hello.replicas }, { model: rfModel, image: digests["bos-rf"] }, ...extra],
        modelOptions: { endpointMode: "dnsrr" },
        gateway: {
            settings: {
                models: [...models, ...extra.map((e) => e.model)].map(({ name }) => ({ name })),
                ...(platform.maxBodyBytes !== undefined ? { limits: { maxBodyBytes: platform.maxBodyBytes } } : {}),
            },
            secrets: {
                tlsCertificate: fs.readFileSync(served.certificatePath, "utf8"),
                tlsKey: fs.readFileSync(served.keyPath, "utf8"),
                htpasswd: renderHtpasswd(
                    [
                        { user: USER, password: platform.alicePassword, scheme: "ssha" },
                        { user: "bob", password: BOB_PASSWORD, scheme: "ssha" },
                    ],
                    SALT_SEED,
                ),
            },
            options: { image: BASE_IMAGES.nginx, endpointMode: "dnsrr", publishMode: "host", httpsPort, httpPort },
        },
    };
}

async function deployHub(hello: { image: string; replicas: number }): Promise<void> {
    helloNow = hello;
    await deployStack(HUB_STACK, renderSwarmStackFiles(planSwarmStack(hubStack(hello))), path.join(dir, "hub"), configDir);
}

/** The CAs clients trust: the test CA, and the one of a replacement certificate once there is one. */
let trustedCa = "";

/** GET /hello/echo through the gateway with credentials (alice's by default): null when it answered as hello does. */
async function echo(message: string, headers: Record<string, string> = {}, as = { user: USER, password: PASSWORD }): Promise<string | null> {
    const reply = await request(gatewayUrl(`/hello/echo?msg=${message}`), { ca: trustedCa || tls.ca, ...as, headers });
    const expected = JSON.stringify({ msg: [`The message is: '${message}'`] });
    return reply.status === 200 && reply.body === expected ? null : `${reply.status} ${reply.body.slice(0, 120)}`;
}

/** Bounded GET load on /hello/echo (as `as`, alice by default) while `during` runs; the load stops 5 s after it. */
async function loadDuring(during: () => Promise<void>, as = { user: USER, password: PASSWORD }) {
    let done = false;
    let n = 0;
    const load = runBoundedLoad(() => echo(`load-${n++}`, {}, as), { concurrency: 4, maxRequests: 50_000, maxMs: 10 * 60_000, stop: () => done });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    try {
        await during();
        await new Promise((resolve) => setTimeout(resolve, 5000));
    } finally {
        done = true;
    }
    return load;
}

async function teardown(): Promise<void> {
    // First: it holds the hub network, which the stack's removal waits for.
    await docker(["service", "rm", BYSTANDER]).catch(() => undefined);
    await removeStack(HUB_STACK);
    await removeStack(REGISTRY_STACK);
    await waitUntil(
        `volume ${REGISTRY_VOLUME} removed`,
        async () => {
            const { stdout } = await docker(["volume", "ls", "-q", "--filter", `name=^${REGISTRY_VOLUME}$`]);
            if (stdout.trim() === "") return true;
            await docker(["volume", "rm", REGISTRY_VOLUME]);
            return true;
        },
        60_000,
        1000,
    );
    if (registry) {
        const { stdout } = await docker(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"]);
        const images = stdout.split("\n").filter((line) => line.startsWith(`${registry}/`));
        if (images.length > 0) await docker(["image", "rm", "--force", ...images]);
    }
    if (certsDir) fs.rmSync(certsDir, { recursive: true, force: true });
    if (createdCertsRoot && fs.existsSync(createdCertsRoot) && fs.readdirSync(createdCertsRoot).length === 0) fs.rmdirSync(createdCertsRoot);
}

beforeAll(async () => {
    await requireTools({ docker: "docker.io", openssl: "openssl", debootstrap: "debootstrap" });
    await docker(["info", "--format", "{{.ServerVersion}}"]); // fails loudly without a running engine
    initialisedSwarm = await ensureSwarm();
    await ensureLocalImages(Object.values(BASE_IMAGES));
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dir = tempDir("swarm-e2e-");
    configDir = path.join(dir, "docker-config");
    fs.mkdirSync(configDir, { mode: 0o700 });
    tls = await makeTls(dir);
    [httpsPort, httpPort] = [await freePort(), await freePort()];
    const registryPort = await freePort();
    registry = `127.0.0.1:${registryPort}`;

    // The registry: its own stack, rendered by the same plan functions SwarmRegistry uses.
    const pushPassword = crypto.randomBytes(18).toString("base64url");
    const registryPlan = planSwarmStack({
        prefix: PREFIX,
        networkName: `${PREFIX}-registry-net`,
        models: [],
        registry: {
            secrets: {
                tlsCertificate: fs.readFileSync(tls.certificatePath, "utf8"),
                tlsKey: fs.readFileSync(tls.keyPath, "utf8"),
                htpasswd: renderHtpasswd([{ user: "pusher", password: pushPassword, scheme: "bcrypt", cost: 5 }], SALT_SEED),
            },
            options: { image: BASE_IMAGES.registry, volume: REGISTRY_VOLUME, port: registryPort, endpointMode: "dnsrr", publishMode: "host" },
        },
    });
    certsDir = path.join("/etc/docker/certs.d", registry);
    if (!fs.existsSync(path.dirname(certsDir))) createdCertsRoot = path.dirname(certsDir);
    fs.mkdirSync(certsDir, { recursive: true });
    fs.copyFileSync(tls.caPath, path.join(certsDir, "ca.crt"));
    await deployStack(REGISTRY_STACK, renderSwarmStackFiles(registryPlan), path.join(dir, "registry"), configDir);
    await waitForService(`${REGISTRY_STACK}_registry`, 1);
    await waitUntil("registry answers 401 on /v2/", async () => (await request(`https://${registry}/v2/`, { ca: tls.ca })).status === 401, 60_000);
    await docker(["login", registry, "--username", "pusher", "--password-stdin"], { configDir, input: pushPassword });

    // Both example images, and a second hello image (one more line in plumber.R) to roll to.
    const specs = ["hello", "bos-rf"].map((name) => ({
        ...JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "examples/models", name, "model.json"), "utf8")),
        path: path.join("examples/models", name),
    }));
    models = validateModels(specs, { baseDir: REPO_ROOT });
    const buildAndPush = async (model: Model, sourceDir: string, outRoot: string) =>
        pushImage(await buildModelImage(model, sourceDir, path.join(dir, outRoot), `${registry}/swarm-${model.name}`), configDir);
    for (const model of models) digests[model.name] = await buildAndPush(model, model.path!, "contexts");
    const helloV2 = path.join(dir, "hello-v2");
    fs.cpSync(models[0].path!, helloV2, { recursive: true });
    fs.appendFileSync(path.join(helloV2, "plumber.R"), "\n# v2: same API, new image\n");
    digests["hello-v2"] = await buildAndPush(models[0], helloV2, "contexts-v2");

    await deployHub({ image: digests.hello, replicas: 1 });
    await Promise.all([waitForService(GATEWAY, 1), waitForService(HELLO, 1), waitForService(`${HUB_STACK}_bos-rf`, 1)]);
    await waitUntil("gateway /healthz", async () => (await request(gatewayUrl("/healthz"), { ca: tls.ca })).status === 200, 60_000);
});

afterAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, "e2e-figures.json"), JSON.stringify(figures, null, 2));
    await docker(["service", "logs", "--raw", GATEWAY]).then(
        ({ stdout, stderr }) => fs.writeFileSync(path.join(ARTIFACTS, "gateway.log"), stdout + stderr),
        () => undefined,
    );
    await teardown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (initialisedSwarm) await docker(["swarm", "leave", "--force"]);
});

describe("swarm hub deployed from the exported stack file", () => {
    test("the gateway answers 401 without credentials", async () => {
        const reply = await request(gatewayUrl("/hello/echo?msg=hi"), { ca: tls.ca });
        expect(reply.status).toBe(401);
    });

    test("POST /bos-rf/score returns one prediction per row", async () => {
        const reply = await request(gatewayUrl("/bos-rf/score"), {
            method: "POST",
            ca: tls.ca,
            user: USER,
            password: PASSWORD,
            headers: { "content-type": "application/json" },
            body: SAMPLE,
        });
        expect(reply.status).toBe(200);
        const predictions = JSON.parse(reply.body) as number[];
        expect(predictions).toHaveLength(JSON.parse(SAMPLE).length);
        for (const value of predictions) expect(value).toBeGreaterThan(5); // medv, $1000s: 5–50 in the data
        for (const value of predictions) expect(value).toBeLessThan(50);
    });

    test("GET /hello/echo answers through the gateway", async () => {
        expect(await echo("hi")).toBeNull();
    });

    test("a service on the hub network without the model alias answers 404 through the gateway, though its name resolves there", async () => {
        // The hello image under a name of its own, attached by hand: reachable on the network, but no model.
        await docker(
            ["service", "create", "--detach", "--with-registry-auth", "--name", BYSTANDER, "--network", NETWORK, "--endpoint-mode", "dnsrr"].concat([
                "--env",
                "PORT=8000",
                digests.hello,
            ]),
            { configDir },
        );
        await waitForService(BYSTANDER, 1);
        const [gateway] = await readyContainers(GATEWAY);
        await waitUntil(`${BYSTANDER} resolves in the gateway's container`, async () => {
            const { stdout } = await docker(["exec", gateway, "getent", "hosts", BYSTANDER]).catch(() => ({ stdout: "" }));
            return stdout.trim() !== "";
        });
        const reply = await request(gatewayUrl(`/${BYSTANDER}/echo?msg=hi`), { ca: tls.ca, user: USER, password: PASSWORD });
        expect([reply.status, JSON.parse(reply.body).error]).toEqual([404, "unknown model"]);
    });

    test("the same service given the model alias (as a TeamModel joins) is routed with no gateway change", async () => {
        const alias = `${BYSTANDER}.models.plumberhub.internal`;
        await docker(["service", "update", "--detach", "--network-rm", NETWORK, "--network-add", `name=${NETWORK},alias=${alias}`, BYSTANDER]);
        await waitForService(BYSTANDER, 1);
        const expected = JSON.stringify({ msg: ["The message is: 'hi'"] });
        await waitUntil(`/${BYSTANDER}/ routed through the gateway`, async () => {
            const reply = await request(gatewayUrl(`/${BYSTANDER}/echo?msg=hi`), { ca: tls.ca, user: USER, password: PASSWORD });
            return reply.status === 200 && reply.body === expected;
        });
    });

    test("model tasks run the image's /healthz probe on the service's 5 s interval", async () => {
        const [container] = await readyContainers(HELLO);
        const health = JSON.parse((await docker(["inspect", "--format", "{{json .Config.Healthcheck}}", container])).stdout);
        expect(health.Test.join(" ")).toContain("/healthz");
        expect(health.Interval).toBe(5e9);
    });

    test("hello scaled to 4 replicas: all 4 tasks serve requests", async () => {
        await deployHub({ image: digests.hello, replicas: 4 });
        await waitForService(HELLO, 4);
        const addresses = await taskAddresses(HELLO, NETWORK);
        expect(addresses).toHaveLength(4);
        await new Promise((resolve) => setTimeout(resolve, 3000)); // the gateway's DNS cache (1 s) sees all four
        const ids = Array.from({ length: 60 }, (_, i) => `swarm-scale-${i}-${crypto.randomBytes(4).toString("hex")}`);
        for (const id of ids) expect(await echo(`scale-${id.slice(-8)}`, { "x-request-id": id })).toBeNull();
        const served = new Set<string>();
        await waitUntil(
            "the gateway's access log lines of the 60 requests",
            async () => {
                const { stdout } = await docker(["service", "logs", "--raw", GATEWAY]);
                const entries = stdout
                    .split("\n")
                    .filter((line) => line.startsWith("{"))
                    .map((line) => JSON.parse(line));
                const ours = entries.filter((entry) => ids.includes(entry.request_id));
                served.clear();
                for (const entry of ours) served.add(String(entry.upstream_addr).split(":")[0]);
                return ours.length === ids.length;
            },
            30_000,
            1000,
        );
        figures.scaleUpstreams = [...served].sort();
        expect([...served].sort()).toEqual(addresses);
    });

    test("stopping one hello task under GET load fails no request", async () => {
        const [victim] = await readyContainers(HELLO);
        const result = await loadDuring(async () => {
            await docker(["stop", victim]);
            await waitUntil("the stopped task's container exits", async () => !(await readyContainers(HELLO)).includes(victim), 60_000);
            await waitForService(HELLO, 4); // swarm replaces the task
        });
        figures.stopTask = result;
        console.log(`stop one hello task under load: ${result.ok} ok, ${result.failed} failed in ${result.elapsedMs} ms`);
        expect(result.failures).toEqual([]);
        expect(result.ok).toBeGreaterThan(100);
    });

    test("rolling hello to a new image under GET load fails no request", async () => {
        expect(digests["hello-v2"]).not.toBe(digests.hello);
        const result = await loadDuring(async () => {
            await deployHub({ image: digests["hello-v2"], replicas: 4 });
            await waitUntil(
                "the rolling update of hello started",
                async () => {
                    const { stdout } = await docker(["service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", HELLO]);
                    return stdout.trim() === digests["hello-v2"];
                },
                60_000,
            );
            await waitForService(HELLO, 4, 10 * 60_000);
        });
        figures.rollingUpdate = result;
        console.log(`roll hello to a new image under load: ${result.ok} ok, ${result.failed} failed in ${result.elapsedMs} ms`);
        const images = await Promise.all(
            (await readyContainers(HELLO)).map(async (id) => (await docker(["inspect", "--format", "{{.Config.Image}}", id])).stdout.trim()),
        );
        expect(images).toEqual(Array(4).fill(digests["hello-v2"]));
        expect(result.failures).toEqual([]);
        expect(result.ok).toBeGreaterThan(100);
    });

    describe("platform changes roll the gateway behind the edge with no failed request (connect errors count)", () => {
        /** Redeploys the hub stack after `change` under bounded GET load as bob; returns the load and the roll's seconds. */
        async function rollUnderLoad(what: string, change: () => void) {
            const started = Date.now();
            const load = await loadDuring(
                async () => {
                    change();
                    await deployHub(helloNow);
                    await waitForService(GATEWAY, 1);
                },
                { user: "bob", password: BOB_PASSWORD },
            );
            const rollSeconds = (Date.now() - started) / 1000;
            figures.gatewayRolls ??= {} as Record<string, unknown>;
            (figures.gatewayRolls as Record<string, unknown>)[what] = { ok: load.ok, failed: load.failed, rollSeconds };
            return load;
        }

        test("adding a model: the new model answers right after", async () => {
            const load = await rollUnderLoad("add a model", () => (platform.extraModel = true));
            expect(load.failures).toEqual([]);
            expect(load.ok).toBeGreaterThan(50);
            // A stack deploy starts the model and the gateway together (the Pulumi hub orders them): once the model runs, it answers.
            await waitForService(`${HUB_STACK}_extra`, 1);
            const reply = await request(gatewayUrl("/extra/echo?msg=hi"), { ca: tls.ca, user: USER, password: PASSWORD });
            expect([reply.status, reply.body]).toEqual([200, JSON.stringify({ msg: ["The message is: 'hi'"] })]);
        });

        test("rotating a user's password: the old one is refused right after, the new one works", async () => {
            const newPassword = crypto.randomBytes(18).toString("base64url");
            const load = await rollUnderLoad("rotate a password", () => (platform.alicePassword = newPassword));
            expect(load.failures).toEqual([]);
            expect((await request(gatewayUrl("/hello/echo?msg=a"), { ca: tls.ca, user: USER, password: PASSWORD })).status).toBe(401);
            expect((await request(gatewayUrl("/hello/echo?msg=a"), { ca: tls.ca, user: USER, password: newPassword })).status).toBe(200);
        });

        test("replacing the TLS certificate: the new one is served right after", async () => {
            const next = await makeTls(tempDir("swarm-e2e-tls2-"));
            trustedCa = `${tls.ca}${next.ca}`; // clients trust both CAs before the switch, as a CA rollover does
            const load = await rollUnderLoad("replace the certificate", () => (platform.tls = next));
            expect(load.failures).toEqual([]);
            expect(await servedCertificate(httpsPort, trustedCa)).toBe(fingerprint(fs.readFileSync(next.certificatePath, "utf8")));
        });

        test("changing a gateway limit: a body over the new limit gets 413 right after", async () => {
            const load = await rollUnderLoad("change a limit", () => (platform.maxBodyBytes = 1024));
            expect(load.failures).toEqual([]);
            const reply = await request(gatewayUrl("/hello/echo"), {
                method: "POST",
                ca: trustedCa,
                user: "bob",
                password: BOB_PASSWORD,
                body: "x".repeat(4096),
            });
            expect(reply.status).toBe(413);
        });
    });

    test("teardown leaves no services, networks, configs, secrets or volumes", async () => {
        await teardown();
        expect(await leftovers(PREFIX)).toEqual([]);
    });
});
