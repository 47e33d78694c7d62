/**
 * The gateway for real in `dns` routing and HTTP-only mode: nginx resolves `{model}.models.test`
 * per request through dnsmasq on a loopback port. Every model listens on the same port on its own
 * loopback address (127.0.0.2, .3, .4), as services do on Kubernetes or a swarm network; the two
 * example models are real R plumber processes behind recording relays, `extra` is a model the
 * gateway config does not list (deployed "from another stack"), `gone` resolves but nothing listens.
 */
import * as fs from "fs";
import * as path from "path";
import { GatewayConfig } from "../../components/render/gateway";
import {
    basicAuth,
    gatewayPaths,
    HOSTILE,
    HOSTILE_TRACES,
    PlumberModel,
    rawRequest,
    RecordingUpstream,
    request,
    startDnsmasq,
    startExampleModel,
    startNginx,
    startRecordingUpstream,
    tempDir,
    twoPorts,
    writeGateway,
    writeHtpasswd,
} from "../helpers/gateway";
import { freePort, Service } from "../helpers/processes";

jest.setTimeout(300_000);

const USERS = { alice: "alice-password-0123456789", bob: "bob-password-0123456789" };
const SAMPLE = fs.readFileSync(path.join(__dirname, "../../examples/models/bos-rf/sample-request.json"), "utf8");
const EXPECTED_NAMES = ["hello.models.test", "bos-rf.models.test", "extra.models.test", "gone.models.test", "nope.models.test"];

const dir = tempDir("plumberhub-gateway-dns-");
const paths = gatewayPaths(dir);
let hello: PlumberModel;
let bos: PlumberModel;
let helloRelay: RecordingUpstream;
let bosRelay: RecordingUpstream;
let extra: RecordingUpstream;
let dns: Service & { queried: () => string[] };
let nginx: Service;
let port: number;
let conf: string;

const upstreams = () => [helloRelay, bosRelay, extra];
const seenCount = () => upstreams().reduce((n, u) => n + u.seen.length, 0);
const url = (p: string) => `http://127.0.0.1:${port}${p}`;
const as = (user: keyof typeof USERS) => ({ user, password: USERS[user] });
const basic = (user: keyof typeof USERS) => basicAuth(user, USERS[user]);

beforeAll(async () => {
    let dnsPort: number;
    [port, dnsPort] = await twoPorts();
    const modelPort = await freePort();
    writeHtpasswd(paths.htpasswd, USERS);
    [hello, bos] = await Promise.all([startExampleModel("hello", dir), startExampleModel("bos-rf", dir)]);
    helloRelay = await startRecordingUpstream({ host: "127.0.0.2", port: modelPort, forwardTo: hello.port });
    bosRelay = await startRecordingUpstream({ host: "127.0.0.3", port: modelPort, forwardTo: bos.port });
    extra = await startRecordingUpstream({ host: "127.0.0.4", port: modelPort });
    dns = await startDnsmasq(
        dnsPort,
        {
            "hello.models.test": "127.0.0.2",
            "bos-rf.models.test": "127.0.0.3",
            "extra.models.test": "127.0.0.4",
            "gone.models.test": "127.0.0.5",
        },
        "models.test",
    );
    const config: GatewayConfig = {
        models: [
            { name: "hello", description: "Echo, plot and sum" },
            { name: "bos-rf", users: ["alice"], endpoints: [{ method: "POST", path: "/score" }] },
        ],
        routing: { mode: "dns", resolver: [`127.0.0.1:${dnsPort}`], nameTemplate: "{model}.models.test", port: modelPort, validSeconds: 1 },
        tls: "http-only",
        paths,
        listenAddress: "127.0.0.1",
        httpsPort: port,
        workerProcesses: 1,
    };
    conf = writeGateway(dir, config);
    nginx = await startNginx(dir, conf, port);
});

afterAll(async () => {
    await nginx?.stop();
    await dns?.stop();
    await Promise.all([hello?.service.stop(), bos?.service.stop(), ...upstreams().map((u) => u?.close())]);
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("HTTP-only mode", () => {
    test("the config says so and sends no HSTS", async () => {
        expect(fs.readFileSync(conf, "utf8")).toContain("# HTTP-ONLY MODE, for local use: no TLS, passwords cross the network in clear text.");
        const reply = await request(url("/hello/echo"), as("alice"));
        expect(reply.status).toBe(200);
        expect(reply.headers["strict-transport-security"]).toBeUndefined();
        expect(reply.headers["x-content-type-options"]).toBe("nosniff");
    });

    test("/healthz answers without credentials, everything else needs them", async () => {
        expect((await request(url("/healthz"))).status).toBe(200);
        expect((await request(url("/hello/echo"))).status).toBe(401);
        expect((await request(url("/"))).status).toBe(401);
    });
});

describe("dns routing", () => {
    test("a listed model is found by its DNS name and served by plumber", async () => {
        const reply = await request(url("/hello/echo?msg=dns"), as("alice"));
        expect(JSON.parse(reply.body)).toEqual({ msg: ["The message is: 'dns'"] });
        expect(helloRelay.seen.at(-1)!.url).toBe("/echo?msg=dns");
        expect(helloRelay.seen.at(-1)!.headers["x-forwarded-proto"]).toBe("http");
        expect(dns.queried()).toContain("hello.models.test");
    });

    test("POST /bos-rf/score returns predictions for its allowed user", async () => {
        const reply = await request(url("/bos-rf/score"), {
            ...as("alice"),
            method: "POST",
            body: SAMPLE,
            headers: { "content-type": "application/json" },
        });
        expect(reply.status).toBe(200);
        expect(JSON.parse(reply.body)).toHaveLength(JSON.parse(SAMPLE).length);
    });

    test("per-model users hold in dns mode: another user gets 403 and the model sees nothing", async () => {
        const before = bosRelay.seen.length;
        const reply = await request(url("/bos-rf/score"), { ...as("bob"), method: "POST", body: SAMPLE });
        expect(reply.status).toBe(403);
        expect(bosRelay.seen.length).toBe(before);
    });

    test("a model the config does not list is routed by name, prefix stripped", async () => {
        const reply = await request(url("/extra/ping?x=1"), as("bob"));
        expect(reply.status).toBe(200);
        const seen = extra.seen.at(-1)!;
        expect(seen.url).toBe("/ping?x=1");
        expect(seen.headers["x-forwarded-prefix"]).toBe("/extra");
    });

    test("/{model} of an unlisted model redirects to /{model}/", async () => {
        const reply = await request(url("/extra"), as("bob"));
        expect([reply.status, reply.headers.location]).toEqual([301, "/extra/"]);
    });

    test("a name that does not resolve is a 404 unknown model", async () => {
        const reply = await request(url("/nope/x"), as("alice"));
        expect(reply.status).toBe(404);
        expect(JSON.parse(reply.body)).toMatchObject({ error: "unknown model", status: 404 });
    });

    test("a model that resolves but does not answer is a 502", async () => {
        const reply = await request(url("/gone/x"), as("alice"));
        expect(reply.status).toBe(502);
        expect(JSON.parse(reply.body)).toMatchObject({ error: "model unavailable", status: 502 });
    });

    test("reserved names are never looked up", async () => {
        for (const name of ["kubernetes", "registry", "gateway", "localhost", "healthz"]) {
            const reply = await request(url(`/${name}/x`), as("alice"));
            expect(reply.status).toBe(404);
        }
        expect(dns.queried().filter((name) => !EXPECTED_NAMES.includes(name))).toEqual([]);
    });

    test("the landing page lists the listed models", async () => {
        const reply = await request(url("/"), as("alice"));
        expect(reply.body).toContain('href="/hello/__docs__/"');
        expect(reply.body).toContain('href="/bos-rf/__docs__/"');
    });
});

describe("hostile paths in dns mode", () => {
    test.each(HOSTILE)("%s is refused, looked up nowhere and reaches no model", async (hostile, status) => {
        const before = seenCount();
        const reply = await rawRequest(port, `GET ${hostile} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${basic("alice")}`);
        expect(reply.status).toBe(status);
        expect(seenCount()).toBe(before);
    });

    test("only model names were ever asked of DNS, and no model saw a hostile path", () => {
        expect(dns.queried().filter((name) => !EXPECTED_NAMES.includes(name))).toEqual([]);
        for (const seen of upstreams().flatMap((u) => u.seen.map((s) => s.url))) expect(seen).not.toMatch(HOSTILE_TRACES);
    });
});
