/**
 * `npm run bench:gateway`: what the gateway costs. wrk against one real plumber process directly and
 * through the gateway (nginx, TLS + basic auth, one worker), same connections and duration,
 * interleaved rounds; then the gateway's own ceiling with a static upstream (a tiny nginx
 * `return 200`) through a keep-alive pool and, as deployed, with a connection per request, and with its
 * landing page (a file), all through TLS + auth.
 *
 * The direct arm sends `Connection: close`, a fresh connection per request, because that is what the
 * gateway does upstream: plumber's server (httpuv) leaves Nagle on and writes headers and body apart,
 * so on a reused connection every response waits ~40 ms for the client's delayed ACK (one
 * connection: 22 req/s keep-alive vs 354 req/s closing). Direct keep-alive would be a baseline nobody
 * gets; it is still run each round and printed, outside the ratio, so the stall stays visible.
 * Client → gateway is keep-alive (nginx sets TCP_NODELAY).
 * A third arm goes through the edge as the swarm deploys it (nginx stream, L4, PROXY protocol) in front of a
 * gateway that expects the PROXY protocol: `edge_p50_added_ms` and `edge_throughput_ratio` (edge + gateway over
 * gateway alone).
 * The ceiling is also run with the per-model metrics on (nginx's Lua module) beside the same gateway without them,
 * interleaved: `metrics_ceiling_ratio` (on / off, requests per worker CPU-second; goal >= 0.95).
 * Loopback only. Prints a table and, last,
 * `gateway_throughput_ratio=<via gateway / direct (Connection: close)>`.
 *
 * Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 4), BENCH_ROUNDS (default 3),
 * BENCH_CEILING_CONNECTIONS (default 32).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { GatewayLimits, GatewayModel, renderEdgeConf } from "../components/render/gateway";
import {
    basicAuth,
    gatewayPaths,
    makeTls,
    nginxTest,
    startExampleModel,
    startNginx,
    tempDir,
    TestTls,
    twoPorts,
    writeGateway,
    writeHtpasswd,
} from "../test/helpers/gateway";
import { freePort, Service } from "../test/helpers/processes";
import { wrk, WrkCpuResult, WrkOptions, wrkPerWorkerCpu, WrkResult } from "../test/helpers/wrk";
import { median } from "./median";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CEILING_CONNECTIONS = Number(process.env.BENCH_CEILING_CONNECTIONS ?? 32);
const USER = "bench";
const PASSWORD = "bench-password-0123456789abcdef";
const AUTH = { Authorization: basicAuth(USER, PASSWORD) };
/** wrk load for the direct/gateway rounds; failures are counted and checked once all rounds ran. */
const LOAD: WrkOptions = { connections: CONNECTIONS, seconds: DURATION, failures: "count" };

const fmt = (r: WrkResult) =>
    `${r.requestsPerSecond.toFixed(1).padStart(9)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(7)} ms  p99 ${r.p99Ms.toFixed(2).padStart(7)} ms  errors ${r.errors}`;

/** A tiny nginx answering `return 200` on loopback: the static upstream for the ceiling. */
async function startStaticUpstream(dir: string): Promise<{ port: number; nginx: Service }> {
    const port = await freePort();
    const upDir = path.join(dir, "static-upstream");
    fs.mkdirSync(upDir, { recursive: true });
    const conf = path.join(upDir, "nginx.conf");
    fs.writeFileSync(
        conf,
        [
            "worker_processes 1;",
            `pid ${upDir}/nginx.pid;`,
            `error_log ${upDir}/error.log warn;`,
            "events { worker_connections 1024; }",
            "http {",
            ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${upDir}/tmp/${kind};`),
            "  access_log off; keepalive_requests 100000;",
            `  server { listen 127.0.0.1:${port}; location / { default_type application/json; return 200 '{"ok":true}'; } }`,
            "}",
            "",
        ].join("\n"),
    );
    await nginxTest(upDir, conf);
    return { port, nginx: await startNginx(upDir, conf, port) };
}

/** One gateway (1 worker, TLS + basic auth, JSON access log to a file as in production) in its own folder. */
async function startGateway(
    dir: string,
    certs: TestTls,
    models: GatewayModel[],
    options: { limits?: GatewayLimits; proxyProtocol?: boolean; metrics?: boolean } = {},
): Promise<{ httpsPort: number; nginx: Service }> {
    fs.mkdirSync(dir, { recursive: true });
    const [httpsPort, httpPort] = await twoPorts();
    const paths = gatewayPaths(dir);
    writeHtpasswd(paths.htpasswd, { [USER]: PASSWORD });
    const conf = writeGateway(dir, {
        models,
        routing: { mode: "static" },
        tls: { certificatePath: certs.certificatePath, keyPath: certs.keyPath },
        paths,
        listenAddress: "127.0.0.1",
        httpsPort,
        httpPort,
        workerProcesses: 1,
        ...options,
    });
    return { httpsPort, nginx: await startNginx(dir, conf, httpsPort) };
}

/** The edge (nginx stream, as `renderSwarmEdgeConf` but on loopback) in front of a gateway that expects the PROXY protocol. */
async function startEdge(dir: string, gatewayPort: number): Promise<{ port: number; nginx: Service }> {
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    const conf = path.join(dir, "edge.conf");
    const text = renderEdgeConf({
        ports: [{ listen: port, target: gatewayPort }],
        gatewayHost: "127.0.0.1",
        resolver: ["127.0.0.1"], // never asked: the gateway's address is an IP
        listenAddress: "127.0.0.1",
        pidFile: path.join(dir, "edge.pid"),
    });
    fs.writeFileSync(conf, text);
    await nginxTest(dir, conf);
    return { port, nginx: await startNginx(dir, conf, port) };
}

async function main(): Promise<void> {
    const dir = tempDir("plumberhub-bench-gateway-");
    const services: Service[] = [];
    try {
        const certs = await makeTls(dir);
        const hello = await startExampleModel("hello", dir);
        services.push(hello.service);
        const upstream = await startStaticUpstream(dir);
        services.push(upstream.nginx);
        const fixed = { name: "fixed", upstream: `127.0.0.1:${upstream.port}` };
        // As deployed: a new upstream connection per request. The pooled one shows the proxy's own ceiling.
        const gateway = await startGateway(path.join(dir, "gateway"), certs, [{ name: "hello", upstream: `127.0.0.1:${hello.port}` }, fixed]);
        const pooled = await startGateway(path.join(dir, "gateway-pooled"), certs, [fixed], { limits: { upstreamKeepalive: 64 } });
        // The same with the per-model metrics counted (nginx's Lua module): their cost at the ceiling.
        const pooledMetrics = await startGateway(path.join(dir, "gateway-pooled-metrics"), certs, [fixed], {
            limits: { upstreamKeepalive: 64 },
            metrics: true,
        });
        services.push(gateway.nginx, pooled.nginx, pooledMetrics.nginx);
        const httpsPort = gateway.httpsPort;
        const behindEdge = await startGateway(
            path.join(dir, "gateway-behind-edge"),
            certs,
            [{ name: "hello", upstream: `127.0.0.1:${hello.port}` }],
            { proxyProtocol: true },
        );
        services.push(behindEdge.nginx);
        const edge = await startEdge(path.join(dir, "edge"), behindEdge.httpsPort);
        services.push(edge.nginx);
        const viaEdge = `https://127.0.0.1:${edge.port}/hello/echo?msg=bench`;

        const direct = `http://127.0.0.1:${hello.port}/echo?msg=bench`;
        const via = `https://127.0.0.1:${httpsPort}/hello/echo?msg=bench`;
        console.log(`plumber (one R process) direct vs through the gateway (TLS + basic auth {SSHA}, 1 nginx worker)`);
        console.log(
            `wrk -t1 -c${CONNECTIONS} -d${DURATION}s, ${ROUNDS} interleaved rounds; direct with Connection: close (a connection per request, ` +
                `as the gateway does upstream), client to gateway keep-alive; machine: ${os.cpus().length} cores, shared`,
        );
        const directRuns: WrkResult[] = [];
        const keepAliveRuns: WrkResult[] = [];
        const viaRuns: WrkResult[] = [];
        const edgeRuns: WrkResult[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
            const d = await wrk(direct, { ...LOAD, headers: { Connection: "close" } });
            const k = await wrk(direct, LOAD);
            const g = await wrk(via, { ...LOAD, headers: AUTH });
            const e = await wrk(viaEdge, { ...LOAD, headers: AUTH });
            directRuns.push(d);
            keepAliveRuns.push(k);
            viaRuns.push(g);
            edgeRuns.push(e);
            console.log(`round ${round}  direct  ${fmt(d)}`);
            console.log(
                `round ${round}  direct, keep-alive ${fmt(k)}  (informational: ~40 ms delayed-ACK stall per reused connection; not in the ratio)`,
            );
            console.log(`round ${round}  gateway ${fmt(g)}`);
            console.log(`round ${round}  edge + gateway ${fmt(e)}`);
        }
        const errors = [...directRuns, ...keepAliveRuns, ...viaRuns, ...edgeRuns].reduce((n, r) => n + r.errors, 0);
        if (errors > 0) throw new Error(`${errors} failed requests during the benchmark; figures are not valid`);
        const rps = (runs: WrkResult[]) => median(runs.map((r) => r.requestsPerSecond));
        const p50 = (runs: WrkResult[]) => median(runs.map((r) => r.p50Ms));
        const spread = (runs: WrkResult[]) => {
            const xs = runs.map((r) => r.requestsPerSecond);
            return `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
        };
        console.log(`direct_rps_median=${rps(directRuns).toFixed(1)} (range ${spread(directRuns)}) direct_p50_ms=${p50(directRuns).toFixed(2)}`);
        console.log(
            `direct_keepalive_rps_median=${rps(keepAliveRuns).toFixed(1)} (range ${spread(keepAliveRuns)}) direct_keepalive_p50_ms=${p50(keepAliveRuns).toFixed(2)} (informational)`,
        );
        console.log(`gateway_rps_median=${rps(viaRuns).toFixed(1)} (range ${spread(viaRuns)}) gateway_p50_ms=${p50(viaRuns).toFixed(2)}`);
        console.log(`gateway_p50_added_ms=${(p50(viaRuns) - p50(directRuns)).toFixed(2)} (target <= 1)`);
        const p99 = (runs: WrkResult[]) => median(runs.map((r) => r.p99Ms));
        console.log(`edge_rps_median=${rps(edgeRuns).toFixed(1)} (range ${spread(edgeRuns)}) edge_p50_ms=${p50(edgeRuns).toFixed(2)}`);
        console.log(
            `edge_p50_added_ms=${(p50(edgeRuns) - p50(viaRuns)).toFixed(2)} (goal <= 0.3) edge_p99_added_ms=${(p99(edgeRuns) - p99(viaRuns)).toFixed(2)} ` +
                `edge_throughput_ratio=${(rps(edgeRuns) / rps(viaRuns)).toFixed(3)} (goal >= 0.97)`,
        );

        console.log(`\ngateway ceiling, 1 nginx worker, TLS + basic auth, wrk -t1 -c${CEILING_CONNECTIONS} -d${DURATION}s keep-alive`);
        const ceiling: WrkOptions = { connections: CEILING_CONNECTIONS, seconds: DURATION, headers: AUTH, failures: "count" };
        const proxied = await wrkPerWorkerCpu(pooled.nginx.process.pid!, `https://127.0.0.1:${pooled.httpsPort}/fixed/`, ceiling);
        console.log(`proxy to a static upstream, keep-alive pool     ${fmt(proxied)}  ${proxied.perCpuSecond.toFixed(0)} req per worker CPU-s`);
        const perRequest = await wrkPerWorkerCpu(gateway.nginx.process.pid!, `https://127.0.0.1:${httpsPort}/fixed/`, ceiling);
        console.log(`same, a connection per request (as deployed)   ${fmt(perRequest)}  ${perRequest.perCpuSecond.toFixed(0)} req per worker CPU-s`);
        const file = await wrkPerWorkerCpu(gateway.nginx.process.pid!, `https://127.0.0.1:${httpsPort}/`, ceiling);
        console.log(`landing page (a file)                           ${fmt(file)}  ${file.perCpuSecond.toFixed(0)} req per worker CPU-s`);
        if (proxied.errors + perRequest.errors + file.errors > 0) throw new Error("failed requests in the ceiling runs; figures are not valid");
        console.log(`gateway_ceiling_static_upstream_rps=${proxied.requestsPerSecond.toFixed(0)} (wall clock, shared cores)`);
        console.log(`gateway_ceiling_static_upstream_rps_per_worker_cpu=${proxied.perCpuSecond.toFixed(0)} (target >= 10000 per worker)`);
        console.log(`gateway_ceiling_connection_per_request_rps_per_worker_cpu=${perRequest.perCpuSecond.toFixed(0)} (what plumber models get)`);
        console.log(`gateway_ceiling_file_rps=${file.requestsPerSecond.toFixed(0)} per_worker_cpu=${file.perCpuSecond.toFixed(0)}`);

        console.log(`\nmetrics on vs off at the ceiling (keep-alive pool to the static upstream), ${ROUNDS} interleaved rounds`);
        const metricsOff: WrkCpuResult[] = [];
        const metricsOn: WrkCpuResult[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
            const off = await wrkPerWorkerCpu(pooled.nginx.process.pid!, `https://127.0.0.1:${pooled.httpsPort}/fixed/`, ceiling);
            const on = await wrkPerWorkerCpu(pooledMetrics.nginx.process.pid!, `https://127.0.0.1:${pooledMetrics.httpsPort}/fixed/`, ceiling);
            metricsOff.push(off);
            metricsOn.push(on);
            console.log(`round ${round}  metrics off ${fmt(off)}  ${off.perCpuSecond.toFixed(0)} req per worker CPU-s`);
            console.log(`round ${round}  metrics on  ${fmt(on)}  ${on.perCpuSecond.toFixed(0)} req per worker CPU-s`);
        }
        if ([...metricsOff, ...metricsOn].some((r) => r.errors > 0)) throw new Error("failed requests in the metrics runs; figures are not valid");
        const perCpu = (runs: { perCpuSecond: number }[]) => median(runs.map((r) => r.perCpuSecond));
        console.log(
            `metrics_ceiling_ratio=${(perCpu(metricsOn) / perCpu(metricsOff)).toFixed(3)} (req per worker CPU-s, on / off; goal >= 0.95) ` +
                `metrics_ceiling_wall_ratio=${(rps(metricsOn) / rps(metricsOff)).toFixed(3)} (req/s, shared cores)`,
        );
        console.log(`gateway_throughput_ratio=${(rps(viaRuns) / rps(directRuns)).toFixed(3)}`);
    } finally {
        for (const service of services.reverse()) await service.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
