/**
 * `nginx -t` (Debian nginx 1.22) on every rendered variant of the gateway config: routing static/dns
 * × TLS/HTTP-only × with/without per-model users × default/custom limits, plus the odd cases.
 */
import * as fs from "fs";
import { GatewayConfig, GatewayModel, renderNginxConf } from "../../components/render/gateway";
import { gatewayPaths, makeTls, nginxTest, tempDir, TestTls } from "../helpers/gateway";

jest.setTimeout(120_000);

const dir = tempDir("plumberhub-gateway-conf-");
let certs: TestTls;

beforeAll(async () => {
    certs = await makeTls(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function variant(routing: "static" | "dns", tls: boolean, users: boolean, limits: boolean): GatewayConfig {
    const models: GatewayModel[] = [
        { name: "hello", endpoints: [{ method: "GET", path: "/echo" }] },
        { name: "bos-rf", ...(users ? { users: ["alice", "bob.smith@example.org", `a${"b".repeat(63)}`] } : {}) },
        { name: "a-model-name-of-exactly-forty-characters", ...(users ? { users: ["carol"] } : {}) },
    ];
    return {
        models: routing === "static" ? models.map((m, i) => ({ ...m, upstream: ["localhost:8000", "127.0.0.1:8001", "[::1]:8002"][i] })) : models,
        routing:
            routing === "static"
                ? { mode: "static" }
                : { mode: "dns", resolver: ["127.0.0.11", "[::1]:53"], nameTemplate: "{model}.models.svc.cluster.local", port: 8000 },
        tls: tls ? { certificatePath: certs.certificatePath, keyPath: certs.keyPath } : "http-only",
        paths: gatewayPaths(dir),
        ...(limits
            ? { limits: { maxBodyBytes: 1, connectTimeoutSeconds: 75, readTimeoutSeconds: 3600, sendTimeoutSeconds: 1, upstreamKeepalive: 1 } }
            : {}),
    };
}

const VARIANTS: [string, GatewayConfig | (() => GatewayConfig)][] = [];
for (const routing of ["static", "dns"] as const) {
    for (const tls of [true, false]) {
        for (const users of [true, false]) {
            for (const limits of [true, false]) {
                const name = `${routing}, ${tls ? "TLS" : "HTTP-only"}, ${users ? "per-model users" : "all users"}, ${limits ? "custom" : "default"} limits`;
                VARIANTS.push([name, () => variant(routing, tls, users, limits)]);
            }
        }
    }
}
VARIANTS.push(
    ["behind an edge with a healthcheck listener, TLS", () => ({ ...variant("dns", true, true, false), proxyProtocol: true, healthcheckPort: 8443 })],
    [
        "behind an edge with a healthcheck listener, HTTP-only",
        () => ({ ...variant("dns", false, false, false), proxyProtocol: true, healthcheckPort: 8443 }),
    ],
    ["no models at all, static", () => ({ ...variant("static", true, false, false), models: [] })],
    ["no models at all, dns", () => ({ ...variant("dns", true, false, false), models: [] })],
    [
        "every optional setting",
        () => ({
            ...variant("dns", true, true, true),
            listenAddress: "127.0.0.1",
            httpsPort: 8443,
            httpPort: 8080,
            publicHttpsPort: 443,
            user: "nobody nogroup",
            workerProcesses: 2,
            workerConnections: 4096,
            hstsMaxAgeSeconds: 0,
            realm: "Model APIs",
            title: "Models <dev>",
        }),
    ],
);

test.each(VARIANTS)("nginx -t accepts: %s", async (_, make) => {
    const config = typeof make === "function" ? make() : make;
    const conf = `${dir}/nginx-${Math.random().toString(36).slice(2)}.conf`;
    fs.writeFileSync(conf, renderNginxConf(config));
    const stderr = await nginxTest(dir, conf);
    expect(stderr).toContain("test is successful");
    expect(stderr).not.toMatch(/\[warn\]|\[emerg\]/);
});

test("nginx -t really checks: a config with a broken directive is refused", async () => {
    const conf = `${dir}/broken.conf`;
    fs.writeFileSync(conf, renderNginxConf(variant("static", true, true, false)).replace("proxy_http_version 1.1;", "proxy_http_version 1.1"));
    await expect(nginxTest(dir, conf)).rejects.toThrow(/\[emerg\]/);
});
