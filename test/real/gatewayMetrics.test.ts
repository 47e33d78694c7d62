/**
 * The gateway's per-model metrics for real: Debian nginx with its Lua module running the rendered nginx.conf
 * (`metrics: true`) in front of the hello example model (a real R plumber process), a slow upstream (time-out) and a
 * port with nothing listening; a known number of requests of each kind, then `/metrics` read directly and by a real
 * Prometheus scraping it with the documented scrape config. Everything on 127.0.0.1.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { GatewayConfig, METRICS_FLUSH_SECONDS, METRICS_LATENCY_BUCKETS } from "../../components/render/gateway";
import {
    gatewayPaths,
    makeTls,
    PlumberModel,
    request,
    startExampleModel,
    startNginx,
    startRecordingUpstream,
    RecordingUpstream,
    tempDir,
    TestTls,
    twoPorts,
    writeGateway,
    writeHtpasswd,
} from "../helpers/gateway";
import { freePort, requireTools, run, Service, startService, waitUntil } from "../helpers/processes";
import { parseExposition, Sample } from "../helpers/prometheus";

jest.setTimeout(300_000);

const USERS = { alice: "alice-password-0123456789" };
const dir = tempDir("plumberhub-metrics-");
const paths = gatewayPaths(dir);
let certs: TestTls;
let hello: PlumberModel;
let slow: RecordingUpstream;
let nginx: Service;
let httpsPort: number;
let samples: Sample[];

const url = (p: string) => `https://127.0.0.1:${httpsPort}${p}`;
const alice = () => ({ ca: certs.ca, user: "alice", password: USERS.alice });
const value = (name: string, labels: Record<string, string>) =>
    samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, want]) => sample.labels[key] === want))?.value;

/** Requests of each kind, each a known number of times: what the metrics must count. */
const SENT = {
    helloOk: 7, // GET /hello/echo → 200
    helloNotFound: 3, // GET /hello/no-such-endpoint → plumber's 404
    helloUnauthenticated: 2, // no credentials → the gateway's 401
    downUnreachable: 2, // nothing listens → the gateway's 502
    slowTimedOut: 1, // the upstream answers after 4 s, the read time-out is 1 s → the gateway's 504
};

beforeAll(async () => {
    await requireTools({ nginx: "nginx-light", prometheus: "prometheus", promtool: "prometheus" });
    expect(fs.existsSync("/usr/lib/nginx/modules/ngx_http_lua_module.so")).toBe(true); // apt package libnginx-mod-http-lua
    let httpPort: number;
    [httpsPort, httpPort] = await twoPorts();
    certs = await makeTls(dir);
    writeHtpasswd(paths.htpasswd, USERS);
    hello = await startExampleModel("hello", dir);
    slow = await startRecordingUpstream({ slowMs: 4000 });
    const config: GatewayConfig = {
        models: [
            { name: "hello", upstream: `127.0.0.1:${hello.port}` },
            { name: "slow", upstream: `127.0.0.1:${slow.port}` },
            { name: "down", upstream: `127.0.0.1:${await freePort()}` },
            { name: "idle", upstream: `127.0.0.1:${slow.port}` },
        ],
        routing: { mode: "static" },
        tls: { certificatePath: certs.certificatePath, keyPath: certs.keyPath },
        paths,
        limits: { readTimeoutSeconds: 1 },
        listenAddress: "127.0.0.1",
        httpsPort,
        httpPort,
        workerProcesses: 2,
        metrics: true,
    };
    nginx = await startNginx(dir, writeGateway(dir, config), httpsPort);
    const times = (n: number, send: () => Promise<unknown>) => Promise.all(Array.from({ length: n }, send));
    await times(SENT.helloOk, async () => expect((await request(url("/hello/echo?msg=hi"), alice())).status).toBe(200));
    await times(SENT.helloNotFound, async () => expect((await request(url("/hello/no-such-endpoint"), alice())).status).toBe(404));
    await times(SENT.helloUnauthenticated, async () => expect((await request(url("/hello/echo"), { ca: certs.ca })).status).toBe(401));
    await times(SENT.downUnreachable, async () => expect((await request(url("/down/x"), alice())).status).toBe(502));
    await times(SENT.slowTimedOut, async () => expect((await request(url("/slow/slow"), alice())).status).toBe(504));
    // Not a model: counted nowhere.
    expect((await request(url("/"), alice())).status).toBe(200);
    expect((await request(url("/healthz"), { ca: certs.ca })).status).toBe(200);
    // Each worker adds its counts once a second: after that, every request is in.
    await new Promise((resolve) => setTimeout(resolve, (METRICS_FLUSH_SECONDS + 0.5) * 1000));
    const reply = await request(url("/metrics"), alice());
    expect(reply.status).toBe(200);
    samples = parseExposition(reply.body);
});

afterAll(async () => {
    await nginx?.stop();
    await Promise.all([hello?.service.stop(), slow?.close()]);
    fs.rmSync(dir, { recursive: true, force: true });
});

describe("/metrics", () => {
    test("asks for the gateway's credentials", async () => {
        const reply = await request(url("/metrics"), { ca: certs.ca });
        expect(reply.status).toBe(401);
        expect(reply.body).not.toContain("plumberhub_requests_total");
    });

    test("answers in the Prometheus text format, never cached", async () => {
        const reply = await request(url("/metrics"), alice());
        expect(reply.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
        expect(reply.headers["cache-control"]).toBe("no-store");
        expect(reply.body).toMatch(/^# HELP plumberhub_requests_total /m);
        expect(reply.body).toMatch(/^# TYPE plumberhub_request_duration_seconds histogram$/m);
    });

    test("passes promtool's lint of the exposition format", async () => {
        const reply = await request(url("/metrics"), alice());
        const lint = await run("promtool", ["check", "metrics"], { input: reply.body });
        expect(lint.stdout + lint.stderr).toBe("");
    });

    test("counts each model's requests by status class, the gateway's own answers included", () => {
        expect(value("plumberhub_requests_total", { model: "hello", code: "2xx" })).toBe(SENT.helloOk);
        expect(value("plumberhub_requests_total", { model: "hello", code: "4xx" })).toBe(SENT.helloNotFound + SENT.helloUnauthenticated);
        expect(value("plumberhub_requests_total", { model: "hello", code: "5xx" })).toBeUndefined();
        expect(value("plumberhub_requests_total", { model: "down", code: "5xx" })).toBe(SENT.downUnreachable);
        expect(value("plumberhub_requests_total", { model: "slow", code: "5xx" })).toBe(SENT.slowTimedOut);
    });

    test("tells a model that cannot be reached from one that timed out", () => {
        expect(value("plumberhub_upstream_errors_total", { model: "down", kind: "unreachable" })).toBe(SENT.downUnreachable);
        expect(value("plumberhub_upstream_errors_total", { model: "down", kind: "timeout" })).toBe(0);
        expect(value("plumberhub_upstream_errors_total", { model: "slow", kind: "timeout" })).toBe(SENT.slowTimedOut);
        expect(value("plumberhub_upstream_errors_total", { model: "hello", kind: "unreachable" })).toBe(0);
    });

    test("has a latency histogram per model: cumulative buckets, count equal to the requests, the time-out in its bucket", () => {
        const helloTotal = SENT.helloOk + SENT.helloNotFound + SENT.helloUnauthenticated;
        const buckets = samples.filter((sample) => sample.name === "plumberhub_request_duration_seconds_bucket" && sample.labels.model === "hello");
        expect(buckets.map((bucket) => bucket.labels.le)).toEqual([...METRICS_LATENCY_BUCKETS.map(String), "+Inf"]);
        const counts = buckets.map((bucket) => bucket.value);
        expect(counts).toEqual([...counts].sort((a, b) => a - b));
        expect(counts[counts.length - 1]).toBe(helloTotal);
        expect(value("plumberhub_request_duration_seconds_count", { model: "hello" })).toBe(helloTotal);
        // The 504 came after the 1 s read time-out (nginx's timers may fire a few milliseconds early): within 0.5–2.5 s.
        expect(value("plumberhub_request_duration_seconds_bucket", { model: "slow", le: "0.5" })).toBe(0);
        expect(value("plumberhub_request_duration_seconds_bucket", { model: "slow", le: "2.5" })).toBe(1);
        const slowSum = value("plumberhub_request_duration_seconds_sum", { model: "slow" })!;
        expect(slowSum).toBeGreaterThan(0.9);
        expect(slowSum).toBeLessThan(2.5);
    });

    test("counts the bytes each way per model", () => {
        // Each 200 of /hello/echo carries at least its JSON body and a status line; each request its request line.
        expect(value("plumberhub_response_bytes_total", { model: "hello" })).toBeGreaterThan(SENT.helloOk * 100);
        expect(value("plumberhub_request_bytes_total", { model: "hello" })).toBeGreaterThan(SENT.helloOk * "GET /hello/echo?msg=hi HTTP/1.1".length);
    });

    test("lists a model of the stack nobody called with zero counts, and has no series for the landing page or /healthz", () => {
        const models = new Set(samples.map((sample) => sample.labels.model).filter((model) => model !== undefined));
        expect([...models].sort()).toEqual(["down", "hello", "idle", "slow"]);
        expect(value("plumberhub_request_duration_seconds_count", { model: "idle" })).toBe(0);
        expect(value("plumberhub_requests_total", { model: "idle", code: "2xx" })).toBeUndefined();
    });

    test("gives the served certificate's expiry, read from its file", () => {
        const notAfter = new Date(new crypto.X509Certificate(fs.readFileSync(certs.certificatePath)).validTo).getTime() / 1000;
        expect(value("plumberhub_certificate_expiry_timestamp_seconds", {})).toBe(notAfter);
    });

    test("gives the gateway's connections by state", () => {
        expect(value("plumberhub_gateway_connections", { state: "active" })).toBeGreaterThanOrEqual(1);
    });

    test("keeps the counts across a reload of nginx: the exiting workers add what they had not yet added", async () => {
        const helloOk = async () => value2xx(parseExposition((await request(url("/metrics"), alice())).body));
        const value2xx = (list: Sample[]) =>
            list.find((s) => s.name === "plumberhub_requests_total" && s.labels.model === "hello" && s.labels.code === "2xx")!.value;
        const counted = await helloOk();
        // Sent and reloaded at once: the workers leave within their flush second.
        await Promise.all(Array.from({ length: 4 }, async () => expect((await request(url("/hello/echo?msg=reload"), alice())).status).toBe(200)));
        await run("nginx", ["-p", dir, "-c", path.join(dir, "nginx.conf"), "-s", "reload"]);
        await waitUntil("the reloaded gateway to report the 4 requests", async () => (await helloOk()) === counted + 4, 10_000, 200);
    });
});

describe("/status.json", () => {
    interface StatusRow {
        name: string;
        health: string;
        requests: number;
        requestsPerSecond: { "1m": number | null; "5m": number | null };
        p50Seconds: number | null;
        p99Seconds: number | null;
        errorRate: number | null;
        upstreamErrors: number;
    }
    let status: { generatedAt: string; gateway: { certificate: { notAfter: string; daysLeft: number } | null }; models: StatusRow[] };
    const row = (name: string) => status.models.find((model) => model.name === name)!;

    beforeAll(async () => {
        const reply = await request(url("/status.json"), alice());
        expect(reply.status).toBe(200);
        expect(reply.headers["content-type"]).toBe("application/json");
        status = JSON.parse(reply.body);
    });

    test("asks for the gateway's credentials", async () => {
        expect((await request(url("/status.json"), { ca: certs.ca })).status).toBe(401);
    });

    test("lists every model of the stack and every model called, in name order", () => {
        expect(status.models.map((model) => model.name)).toEqual(["down", "hello", "idle", "slow"]);
    });

    test("calls a model ok, failing (unreachable or timed out) or idle from its last minute", () => {
        expect(row("hello").health).toBe("ok");
        expect(row("down").health).toBe("failing");
        expect(row("slow").health).toBe("failing");
        expect(row("idle").health).toBe("idle");
    });

    test("counts the requests and derives rates, quantiles and the error rate from them", () => {
        const hello = row("hello");
        expect(hello.requests).toBeGreaterThanOrEqual(SENT.helloOk + SENT.helloNotFound + SENT.helloUnauthenticated);
        expect(hello.requestsPerSecond["1m"]).toBeGreaterThan(0);
        expect(hello.errorRate).toBe(0);
        expect(hello.p50Seconds).toBeLessThan(0.5);
        expect(row("down").errorRate).toBe(1);
        expect(row("down").upstreamErrors).toBe(SENT.downUnreachable);
        expect(row("slow").p99Seconds).toBeGreaterThan(0.5);
        expect(row("slow").p99Seconds).toBeLessThanOrEqual(2.5);
        expect(row("idle")).toMatchObject({ requests: 0, p50Seconds: null, p99Seconds: null, errorRate: null, upstreamErrors: 0 });
    });

    test("gives the certificate's expiry and the days left", () => {
        const notAfter = new Date(new crypto.X509Certificate(fs.readFileSync(certs.certificatePath)).validTo);
        expect(status.gateway.certificate).toEqual({
            notAfter: notAfter.toISOString().replace(/\.000Z$/, "Z"),
            daysLeft: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000),
        });
    });
});

describe("a real Prometheus", () => {
    test("scrapes the gateway with the README's scrape config (basic auth, the gateway's CA) and has each model's requests", async () => {
        const promDir = path.join(dir, "prometheus");
        fs.mkdirSync(promDir, { recursive: true });
        fs.writeFileSync(path.join(promDir, "password"), USERS.alice, { mode: 0o600 });
        fs.writeFileSync(path.join(promDir, "ca.crt"), certs.ca);
        fs.writeFileSync(
            path.join(promDir, "prometheus.yml"),
            [
                "global:",
                "  scrape_interval: 1s",
                "scrape_configs:",
                "  - job_name: plumberhub",
                "    scheme: https",
                "    metrics_path: /metrics",
                "    basic_auth:",
                "      username: alice",
                `      password_file: ${path.join(promDir, "password")}`,
                "    tls_config:",
                `      ca_file: ${path.join(promDir, "ca.crt")}`,
                "      server_name: localhost",
                "    static_configs:",
                `      - targets: ["127.0.0.1:${httpsPort}"]`,
                "",
            ].join("\n"),
        );
        const port = await freePort();
        const prometheus = startService("prometheus", [
            `--config.file=${path.join(promDir, "prometheus.yml")}`,
            `--storage.tsdb.path=${path.join(promDir, "data")}`,
            `--web.listen-address=127.0.0.1:${port}`,
        ]);
        try {
            const query = async (expr: string) => {
                const reply = await request(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(expr)}`);
                return reply.status === 200
                    ? (JSON.parse(reply.body).data.result as { metric: Record<string, string>; value: [number, string] }[])
                    : [];
            };
            await waitUntil(
                "Prometheus to have scraped the gateway",
                async () => (await query('up{job="plumberhub"} == 1')).length === 1,
                60_000,
                500,
            );
            const ok = await query('plumberhub_requests_total{model="hello",code="2xx"}');
            expect(Number(ok[0].value[1])).toBeGreaterThanOrEqual(SENT.helloOk);
            const p99 = await query('histogram_quantile(0.99, sum by (le) (plumberhub_request_duration_seconds_bucket{model="slow"}))');
            expect(Number(p99[0].value[1])).toBeGreaterThan(0.5);
        } finally {
            await prometheus.stop();
        }
    });
});
