/**
 * `npm run bench:gateway`: what the gateway costs. wrk (keep-alive) against one real plumber process
 * directly and through the gateway (nginx, TLS + basic auth, one worker), same connections and
 * duration, interleaved rounds; then the gateway's own ceiling with a static upstream (a tiny nginx
 * `return 200`) and with its landing page (a file), both through TLS + auth.
 * Loopback only. Prints a table and, last, `gateway_throughput_ratio=<via gateway / direct>`.
 *
 * Environment: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 4), BENCH_ROUNDS (default 3),
 * BENCH_CEILING_CONNECTIONS (default 32).
 */
import * as fs from "fs";
import * as path from "path";
import {
    basicAuth, gatewayPaths, makeTls, nginxTest, startExampleModel, startNginx, tempDir, twoPorts, writeGateway, writeHtpasswd,
} from "../test/helpers/gateway";
import { freePort, nginxWorkerCpuSeconds, run, Service } from "../test/helpers/processes";

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CEILING_CONNECTIONS = Number(process.env.BENCH_CEILING_CONNECTIONS ?? 32);
const USER = "bench";
const PASSWORD = "bench-password-0123456789abcdef";
const AUTH = `Authorization: ${basicAuth(USER, PASSWORD)}`;

interface WrkResult {
    requests: number;
    requestsPerSecond: number;
    p50Ms: number;
    p99Ms: number;
    errors: number;
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** Runs wrk (1 thread, keep-alive) and parses throughput, p50/p99 latency and error counts. */
async function wrk(url: string, connections: number, headers: string[] = []): Promise<WrkResult> {
    const args = ["-t1", `-c${connections}`, `-d${DURATION}s`, "--latency", ...headers.flatMap((h) => ["-H", h]), url];
    const { stdout } = await run("wrk", args, { timeoutMs: (DURATION + 30) * 1000 });
    const number = (re: RegExp) => {
        const match = re.exec(stdout);
        if (!match) throw new Error(`cannot parse wrk output for ${re}:\n${stdout}`);
        return match;
    };
    const latency = (p: string) => {
        const [, value, unit] = number(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)\\b`));
        return Number(value) * UNIT_MS[unit];
    };
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
    return {
        requests: Number(number(/(\d+) requests in /)[1]),
        requestsPerSecond: Number(number(/Requests\/sec:\s+([\d.]+)/)[1]),
        p50Ms: latency("50"),
        p99Ms: latency("99"),
        errors: (socketErrors ? socketErrors.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0),
    };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (r: WrkResult) => `${r.requestsPerSecond.toFixed(1).padStart(9)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(7)} ms  p99 ${r.p99Ms.toFixed(2).padStart(7)} ms  errors ${r.errors}`;

/** wrk plus the gateway worker's CPU time over the run: requests per worker CPU second. */
async function wrkWithCpu(masterPid: number, url: string, connections: number, headers: string[]): Promise<WrkResult & { perCpuSecond: number }> {
    const before = nginxWorkerCpuSeconds(masterPid);
    const result = await wrk(url, connections, headers);
    const cpu = nginxWorkerCpuSeconds(masterPid) - before;
    return { ...result, perCpuSecond: result.requests / cpu };
}

/** A tiny nginx answering `return 200` on loopback: the static upstream for the ceiling. */
async function startStaticUpstream(dir: string): Promise<{ port: number; nginx: Service }> {
    const port = await freePort();
    const upDir = path.join(dir, "static-upstream");
    fs.mkdirSync(upDir, { recursive: true });
    const conf = path.join(upDir, "nginx.conf");
    fs.writeFileSync(conf, [
        "worker_processes 1;", `pid ${upDir}/nginx.pid;`, `error_log ${upDir}/error.log warn;`,
        "events { worker_connections 1024; }",
        "http {",
        ...["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((kind) => `  ${kind}_temp_path ${upDir}/tmp/${kind};`),
        "  access_log off; keepalive_requests 100000;",
        `  server { listen 127.0.0.1:${port}; location / { default_type application/json; return 200 '{"ok":true}'; } }`,
        "}", "",
    ].join("\n"));
    await nginxTest(upDir, conf);
    return { port, nginx: await startNginx(upDir, conf, port) };
}

async function main(): Promise<void> {
    const dir = tempDir("plumberhub-bench-gateway-");
    const services: Service[] = [];
    try {
        const [httpsPort, httpPort] = await twoPorts();
        const certs = await makeTls(dir);
        const paths = gatewayPaths(dir); // JSON access log to a file, as in production
        writeHtpasswd(paths.htpasswd, { [USER]: PASSWORD });
        const hello = await startExampleModel("hello", dir);
        services.push(hello.service);
        const upstream = await startStaticUpstream(dir);
        services.push(upstream.nginx);
        const conf = writeGateway(dir, {
            models: [
                { name: "hello", upstream: `127.0.0.1:${hello.port}` },
                { name: "fixed", upstream: `127.0.0.1:${upstream.port}` },
            ],
            routing: { mode: "static" },
            tls: { certificatePath: certs.certificatePath, keyPath: certs.keyPath },
            paths,
            listenAddress: "127.0.0.1",
            httpsPort,
            httpPort,
            workerProcesses: 1,
        });
        const gateway = await startNginx(dir, conf, httpsPort);
        services.push(gateway);
        const gatewayPid = gateway.process.pid!;

        const direct = `http://127.0.0.1:${hello.port}/echo?msg=bench`;
        const via = `https://127.0.0.1:${httpsPort}/hello/echo?msg=bench`;
        console.log(`plumber (one R process) direct vs through the gateway (TLS + basic auth {SSHA}, 1 nginx worker)`);
        console.log(`wrk -t1 -c${CONNECTIONS} -d${DURATION}s, keep-alive, ${ROUNDS} interleaved rounds; machine: ${require("os").cpus().length} cores, shared`);
        const directRuns: WrkResult[] = [];
        const viaRuns: WrkResult[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
            const d = await wrk(direct, CONNECTIONS);
            const g = await wrk(via, CONNECTIONS, [AUTH]);
            directRuns.push(d);
            viaRuns.push(g);
            console.log(`round ${round}  direct  ${fmt(d)}`);
            console.log(`round ${round}  gateway ${fmt(g)}`);
        }
        const errors = [...directRuns, ...viaRuns].reduce((n, r) => n + r.errors, 0);
        if (errors > 0) throw new Error(`${errors} failed requests during the benchmark; figures are not valid`);
        const rps = (runs: WrkResult[]) => median(runs.map((r) => r.requestsPerSecond));
        const p50 = (runs: WrkResult[]) => median(runs.map((r) => r.p50Ms));
        const spread = (runs: WrkResult[]) => {
            const xs = runs.map((r) => r.requestsPerSecond);
            return `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
        };
        console.log(`direct_rps_median=${rps(directRuns).toFixed(1)} (range ${spread(directRuns)}) direct_p50_ms=${p50(directRuns).toFixed(2)}`);
        console.log(`gateway_rps_median=${rps(viaRuns).toFixed(1)} (range ${spread(viaRuns)}) gateway_p50_ms=${p50(viaRuns).toFixed(2)}`);
        console.log(`gateway_p50_added_ms=${(p50(viaRuns) - p50(directRuns)).toFixed(2)} (target <= 1)`);

        console.log(`\ngateway ceiling, 1 nginx worker, TLS + basic auth, wrk -t1 -c${CEILING_CONNECTIONS} -d${DURATION}s keep-alive`);
        const proxied = await wrkWithCpu(gatewayPid, `https://127.0.0.1:${httpsPort}/fixed/`, CEILING_CONNECTIONS, [AUTH]);
        console.log(`proxy to a static upstream (nginx return 200)  ${fmt(proxied)}  ${proxied.perCpuSecond.toFixed(0)} req per worker CPU-s`);
        const file = await wrkWithCpu(gatewayPid, `https://127.0.0.1:${httpsPort}/`, CEILING_CONNECTIONS, [AUTH]);
        console.log(`landing page (a file)                           ${fmt(file)}  ${file.perCpuSecond.toFixed(0)} req per worker CPU-s`);
        if (proxied.errors + file.errors > 0) throw new Error("failed requests in the ceiling runs; figures are not valid");
        console.log(`gateway_ceiling_static_upstream_rps=${proxied.requestsPerSecond.toFixed(0)} (wall clock, shared cores)`);
        console.log(`gateway_ceiling_static_upstream_rps_per_worker_cpu=${proxied.perCpuSecond.toFixed(0)} (target >= 10000 per worker)`);
        console.log(`gateway_ceiling_file_rps=${file.requestsPerSecond.toFixed(0)} per_worker_cpu=${file.perCpuSecond.toFixed(0)}`);
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
