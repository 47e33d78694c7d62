/**
 * The gateway for real, static routing with TLS: Debian nginx running the rendered nginx.conf in
 * front of the two example models as real R plumber processes (through recording relays, so the
 * tests can prove what reached a model), plus a recording echo upstream (WebSocket, slow answers)
 * and a model whose port has nothing listening. Everything on 127.0.0.1.
 */
import * as fs from "fs";
import * as path from "path";
import * as tls from "tls";
import { GatewayConfig } from "../../components/render/gateway";
import {
    basicAuth,
    gatewayPaths,
    HOSTILE,
    HOSTILE_TRACES,
    makeTls,
    PlumberModel,
    rawRequest,
    RecordingUpstream,
    request,
    startExampleModel,
    startNginx,
    startRecordingUpstream,
    tempDir,
    TestTls,
    twoPorts,
    writeGateway,
    writeHtpasswd,
} from "../helpers/gateway";
import { freePort, Service, waitUntil } from "../helpers/processes";

jest.setTimeout(300_000);

const USERS = { alice: "alice-password-0123456789", bob: "bob-password-0123456789", ALICE: "another-password-0123456789" };
const SAMPLE = fs.readFileSync(path.join(__dirname, "../../examples/models/bos-rf/sample-request.json"), "utf8");

const dir = tempDir("plumberhub-gateway-");
const paths = gatewayPaths(dir);
let certs: TestTls;
let hello: PlumberModel;
let bos: PlumberModel;
let helloRelay: RecordingUpstream;
let bosRelay: RecordingUpstream;
let echo: RecordingUpstream;
let nginx: Service;
let httpsPort: number;
let httpPort: number;

const upstreams = () => [helloRelay, bosRelay, echo];
const seenCount = () => upstreams().reduce((n, u) => n + u.seen.length, 0);
const url = (p: string) => `https://127.0.0.1:${httpsPort}${p}`;
const as = (user: keyof typeof USERS) => ({ ca: certs.ca, user, password: USERS[user] });
const basic = (user: keyof typeof USERS) => basicAuth(user, USERS[user]);
const accessLog = () =>
    fs
        .readFileSync(paths.accessLog!, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line));

beforeAll(async () => {
    [httpsPort, httpPort] = await twoPorts();
    certs = await makeTls(dir);
    writeHtpasswd(paths.htpasswd, USERS);
    [hello, bos] = await Promise.all([startExampleModel("hello", dir), startExampleModel("bos-rf", dir)]);
    helloRelay = await startRecordingUpstream({ forwardTo: hello.port });
    bosRelay = await startRecordingUpstream({ forwardTo: bos.port });
    echo = await startRecordingUpstream({ slowMs: 5000 });
    const config: GatewayConfig = {
        models: [
            {
                name: "hello",
                upstream: `127.0.0.1:${helloRelay.port}`,
                description: "Echo, plot & sum",
                endpoints: [{ method: "GET", path: "/echo" }],
            },
            {
                name: "bos-rf",
                upstream: `127.0.0.1:${bosRelay.port}`,
                users: ["alice"],
                endpoints: [{ method: "POST", path: "/score", summary: "medv per row" }],
            },
            { name: "echo", upstream: `127.0.0.1:${echo.port}` },
            { name: "down", upstream: `127.0.0.1:${await freePort()}` },
        ],
        routing: { mode: "static" },
        tls: { certificatePath: certs.certificatePath, keyPath: certs.keyPath },
        paths,
        limits: { maxBodyBytes: 64 * 1024, readTimeoutSeconds: 2 },
        listenAddress: "127.0.0.1",
        httpsPort,
        httpPort,
        workerProcesses: 1,
    };
    nginx = await startNginx(dir, writeGateway(dir, config), httpsPort);
});

afterAll(async () => {
    await nginx?.stop();
    await Promise.all([hello?.service.stop(), bos?.service.stop(), ...upstreams().map((u) => u?.close())]);
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("TLS and the HTTP port", () => {
    test("plain HTTP redirects with 301 to the same path on HTTPS", async () => {
        const reply = await request(`http://127.0.0.1:${httpPort}/hello/echo?msg=a`);
        expect(reply.status).toBe(301);
        expect(reply.headers.location).toBe(`https://127.0.0.1:${httpsPort}/hello/echo?msg=a`);
    });

    test("/healthz answers without credentials on both ports", async () => {
        for (const address of [url("/healthz"), `http://127.0.0.1:${httpPort}/healthz`]) {
            const reply = await request(address, { ca: certs.ca });
            expect([reply.status, reply.body]).toEqual([200, '{"status":"ok"}\n']);
        }
    });

    test("HTTPS responses carry HSTS and the security headers, errors included", async () => {
        for (const reply of [await request(url("/hello/echo"), as("alice")), await request(url("/nope/"), as("alice"))]) {
            expect(reply.headers["strict-transport-security"]).toBe("max-age=31536000");
            expect(reply.headers["x-content-type-options"]).toBe("nosniff");
            expect(reply.headers["x-frame-options"]).toBe("SAMEORIGIN");
            expect(reply.headers["referrer-policy"]).toBe("same-origin");
        }
    });

    test("the certificate is the one rendered into the config and verifies against the test CA", async () => {
        const socket = tls.connect({ host: "127.0.0.1", port: httpsPort, ca: certs.ca, servername: "localhost" });
        await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
        expect(socket.authorized).toBe(true);
        expect(socket.getPeerCertificate().subject.CN).toBe("localhost");
        socket.destroy();
    });
});

describe("basic auth and per-model users", () => {
    test("no credentials gets 401 JSON with a Basic challenge", async () => {
        const reply = await request(url("/hello/echo"), { ca: certs.ca });
        expect(reply.status).toBe(401);
        expect(reply.headers["www-authenticate"]).toBe('Basic realm="plumberhub"');
        expect(JSON.parse(reply.body)).toMatchObject({ error: "authentication required", status: 401 });
    });

    test("a wrong password gets 401", async () => {
        const reply = await request(url("/hello/echo"), { ca: certs.ca, user: "alice", password: "wrong" });
        expect(reply.status).toBe(401);
    });

    test("a user not on the model's list gets 403 JSON and the model never sees the request", async () => {
        const before = bosRelay.seen.length;
        const reply = await request(url("/bos-rf/score"), {
            ...as("bob"),
            method: "POST",
            body: SAMPLE,
            headers: { "content-type": "application/json" },
        });
        expect(reply.status).toBe(403);
        expect(JSON.parse(reply.body)).toMatchObject({ error: "forbidden", status: 403 });
        expect(bosRelay.seen.length).toBe(before);
    });

    test("user names on the list match exactly: ALICE is not alice", async () => {
        const reply = await request(url("/bos-rf/score"), { ...as("ALICE"), method: "POST", body: SAMPLE });
        expect(reply.status).toBe(403);
        expect((await request(url("/hello/echo"), as("ALICE"))).status).toBe(200);
    });

    test("the same user may call a model without a user list", async () => {
        const reply = await request(url("/hello/echo?msg=bob"), as("bob"));
        expect(reply.status).toBe(200);
    });

    test("a model with a user list still answers 401, not 403, to anonymous clients", async () => {
        expect((await request(url("/bos-rf/score"), { ca: certs.ca, method: "POST", body: "[]" })).status).toBe(401);
    });

    test("unknown models are 401 before authentication, so anonymous clients learn no model names", async () => {
        expect((await request(url("/nope/x"), { ca: certs.ca })).status).toBe(401);
        expect((await request(url("/hello"), { ca: certs.ca })).status).toBe(401);
    });
});

describe("routing to the models", () => {
    test("POST /bos-rf/score returns one prediction per row through TLS and auth", async () => {
        const rows = JSON.parse(SAMPLE).length;
        const reply = await request(url("/bos-rf/score"), {
            ...as("alice"),
            method: "POST",
            body: SAMPLE,
            headers: { "content-type": "application/json" },
        });
        expect(reply.status).toBe(200);
        const predictions = JSON.parse(reply.body);
        expect(predictions).toHaveLength(rows);
        for (const p of predictions) expect(p).toBeGreaterThan(5); // medv is in $1000s, 5–50 in Boston
        for (const p of predictions) expect(p).toBeLessThan(50);
    });

    test("GET /hello/echo reaches plumber with the prefix stripped", async () => {
        const reply = await request(url("/hello/echo?msg=hi%20there"), as("alice"));
        expect(reply.status).toBe(200);
        expect(JSON.parse(reply.body)).toEqual({ msg: ["The message is: 'hi there'"] });
        expect(helloRelay.seen.at(-1)!.url).toBe("/echo?msg=hi%20there");
    });

    test("the model gets X-Forwarded-* and X-Forwarded-Prefix, and not the gateway's credentials", async () => {
        await request(url("/echo/headers?a=1"), as("alice"));
        const { url: seenUrl, headers } = echo.seen.at(-1)!;
        expect(seenUrl).toBe("/headers?a=1");
        expect(headers).toMatchObject({
            "x-forwarded-prefix": "/echo",
            "x-forwarded-proto": "https",
            "x-forwarded-host": "127.0.0.1",
            "x-forwarded-port": String(httpsPort),
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-user": "alice",
        });
        expect(headers.authorization).toBeUndefined();
    });

    test("/{model} redirects to /{model}/ keeping the query", async () => {
        const reply = await request(url("/hello?x=1"), as("alice"));
        expect(reply.status).toBe(301);
        expect(reply.headers.location).toBe("/hello/?x=1");
    });

    test("an unknown model is a 404 JSON", async () => {
        const reply = await request(url("/nope/x"), as("alice"));
        expect(reply.status).toBe(404);
        expect(reply.headers["content-type"]).toBe("application/json");
        expect(JSON.parse(reply.body)).toMatchObject({ error: "unknown model or path", status: 404 });
    });

    test("a model's own errors pass through unchanged", async () => {
        const reply = await request(url("/hello/no-such-endpoint"), as("alice"));
        expect(reply.status).toBe(404);
        expect(JSON.parse(reply.body)).toEqual({ error: "404 - Resource Not Found" });
    });

    test("the OpenAPI spec through the prefix names the prefix as its server", async () => {
        const reply = await request(url("/bos-rf/openapi.json"), as("alice"));
        expect(reply.status).toBe(200);
        const spec = JSON.parse(reply.body);
        expect(spec.servers[0].url).toBe("/bos-rf");
        expect(Object.keys(spec.paths)).toContain("/score");
    });

    test("/{model}/__docs__/ serves Swagger UI through the prefix", async () => {
        const reply = await request(url("/bos-rf/__docs__/"), as("alice"));
        expect(reply.status).toBe(200);
        expect(reply.body).toContain("swagger-ui");
    });

    test("each request reaches the model on a connection of its own, asked to close it", async () => {
        const before = echo.connections();
        for (let i = 0; i < 5; i++) expect((await request(url(`/echo/ping-${i}`), as("alice"))).status).toBe(200);
        expect(echo.connections() - before).toBe(5);
        expect(echo.seen.at(-1)!.headers.connection).toBe("close");
    });

    test("a WebSocket upgrade is passed through both ways", async () => {
        const socket = tls.connect({ host: "127.0.0.1", port: httpsPort, ca: certs.ca, servername: "localhost" });
        let received = "";
        socket.on("data", (chunk) => (received += chunk));
        await new Promise((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
        socket.write(
            `GET /echo/socket HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${basic("alice")}\r\nUpgrade: websocket\r\n` +
                `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
        await waitUntil("the 101 answer", () => received.includes("\r\n\r\n"), 5000, 20);
        expect(received).toMatch(/^HTTP\/1\.1 101 /);
        socket.write("ping over the tunnel");
        await waitUntil("the echo", () => received.endsWith("ping over the tunnel"), 5000, 20);
        socket.destroy();
        expect(echo.seen.at(-1)!.headers).toMatchObject({ upgrade: "websocket", connection: "upgrade" });
    });
});

describe("limits and failures", () => {
    test("a body over the limit gets 413 JSON and never reaches the model", async () => {
        const before = echo.seen.length;
        const reply = await request(url("/echo/upload"), { ...as("alice"), method: "POST", body: Buffer.alloc(100 * 1024, 97) });
        expect(reply.status).toBe(413);
        expect(JSON.parse(reply.body)).toMatchObject({ error: "request body too large", status: 413 });
        expect(echo.seen.length).toBe(before);
    });

    test("a body under the limit is passed on", async () => {
        const reply = await request(url("/echo/upload"), { ...as("alice"), method: "POST", body: Buffer.alloc(60 * 1024, 97) });
        expect(reply.status).toBe(200);
    });

    test("a model that is down gets 502 JSON", async () => {
        const reply = await request(url("/down/x"), as("alice"));
        expect(reply.status).toBe(502);
        expect(JSON.parse(reply.body)).toMatchObject({ error: "model unavailable", status: 502 });
    });

    test("a model slower than the read timeout gets 504 JSON after the timeout", async () => {
        const started = Date.now();
        const reply = await request(url("/echo/slow"), as("alice"));
        expect(reply.status).toBe(504);
        expect(JSON.parse(reply.body)).toMatchObject({ error: "model timed out", status: 504 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
        expect(Date.now() - started).toBeLessThan(4500);
    });
});

describe("request ids and the access log", () => {
    test("every response carries X-Request-ID, errors and redirects included", async () => {
        const replies = [
            await request(url("/hello/echo"), as("alice")),
            await request(url("/hello/echo"), { ca: certs.ca }),
            await request(url("/nope/"), as("alice")),
            await request(url("/hello"), as("alice")),
            await request(`http://127.0.0.1:${httpPort}/`),
            await request(url("/down/x"), as("alice")),
            await request(url("/hello/a%2fb"), as("alice")),
        ];
        expect(replies.map((r) => r.status)).toEqual([200, 401, 404, 301, 301, 502, 400]);
        for (const reply of replies) expect(reply.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    });

    test("a generated request id is forwarded to the model and is the only one the client sees", async () => {
        const reply = await request(url("/echo/id"), as("alice"));
        expect(echo.seen.at(-1)!.headers["x-request-id"]).toBe(reply.headers["x-request-id"]);
    });

    test("a client's plain request id is kept and forwarded; an unsafe one is replaced", async () => {
        const kept = await request(url("/echo/id"), { ...as("alice"), headers: { "x-request-id": "trace-42.a_b:c" } });
        expect(kept.headers["x-request-id"]).toBe("trace-42.a_b:c");
        expect(echo.seen.at(-1)!.headers["x-request-id"]).toBe("trace-42.a_b:c");
        const replaced = await request(url("/echo/id"), { ...as("alice"), headers: { "x-request-id": 'x"},"status":1' } });
        expect(replaced.headers["x-request-id"]).toMatch(/^[0-9a-f]{32}$/);
    });

    test("the access log is one JSON object per request with the request id, user and model, and no credentials", async () => {
        const reply = await request(url("/hello/echo?msg=log"), as("alice"));
        const id = reply.headers["x-request-id"];
        // The log is buffered (flushed every second).
        await waitUntil(`access log line ${String(id)}`, () => accessLog().some((entry) => entry.request_id === id), 5000, 100);
        const line = accessLog().find((entry) => entry.request_id === id);
        expect(line).toMatchObject({ user: "alice", method: "GET", uri: "/hello/echo?msg=log", status: 200, model: "hello", upstream_status: "200" });
        const text = fs.readFileSync(paths.accessLog!, "utf8");
        expect(text).not.toContain(USERS.alice);
        expect(text).not.toContain(basic("alice").slice(6));
    });
});

describe("the landing page", () => {
    test("needs credentials", async () => {
        expect((await request(url("/"), { ca: certs.ca })).status).toBe(401);
    });

    test("lists every model with links to its docs and spec, under a strict CSP", async () => {
        const reply = await request(url("/"), as("alice"));
        expect(reply.status).toBe(200);
        expect(reply.headers["content-type"]).toBe("text/html; charset=utf-8");
        expect(reply.headers["content-security-policy"]).toContain("default-src 'none'");
        expect(reply.headers["strict-transport-security"]).toBe("max-age=31536000");
        for (const name of ["hello", "bos-rf", "echo", "down"]) {
            expect(reply.body).toContain(`href="/${name}/__docs__/"`);
            expect(reply.body).toContain(`href="/${name}/openapi.json"`);
        }
        expect(reply.body).toContain("Echo, plot &amp; sum");
        expect(reply.body).toContain("/bos-rf/score");
    });
});

describe("hostile paths", () => {
    test.each(HOSTILE)("%s is refused and reaches no model", async (hostile, status) => {
        const before = seenCount();
        const reply = await rawRequest(httpsPort, `GET ${hostile} HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${basic("alice")}`, certs.ca);
        expect(reply.status).toBe(status);
        expect(reply.response).toMatch(/\r\ncontent-type: application\/json\r\n/i);
        expect(seenCount()).toBe(before);
    });

    test("an absolute-form request line for another host is not proxied there", async () => {
        const before = seenCount();
        const reply = await rawRequest(
            httpsPort,
            `GET http://evil.com/evil.com/ HTTP/1.1\r\nHost: evil.com\r\nAuthorization: ${basic("alice")}`,
            certs.ca,
        );
        expect(reply.status).toBe(404);
        expect(seenCount()).toBe(before);
    });

    test("no model saw any of the hostile requests", () => {
        for (const seen of upstreams().flatMap((u) => u.seen.map((s) => s.url))) expect(seen).not.toMatch(HOSTILE_TRACES);
    });
});
