/**
 * `npm run bench:auth` — what basic auth costs the gateway, per password scheme.
 *
 * One nginx worker serves a 6-byte file over keep-alive on 127.0.0.1; wrk (1 thread, 8 connections)
 * loads it with no auth, the generated-password scheme ({SSHA}, from the htpasswd renderer), apr1
 * (openssl passwd) and bcrypt cost 10 (the renderer's supplied-password default). Rounds are
 * interleaved (alternate rounds reversed) so drift on this shared machine hits every scheme alike.
 * Prints one line per scheme: requests per CPU-second of the worker (its capacity on a free core)
 * and requests per wall-clock second, each as median (min–max) over the rounds; then
 * `auth_throughput_ratio=<{SSHA} / no auth>`, the median of the per-round CPU-normalised ratios.
 * Exits 1 if that ratio is below the 0.75 target.
 *
 * Environment: BENCH_ROUNDS (default 5), BENCH_SECONDS per wrk run (default 3).
 */
import * as fs from "fs";
import * as path from "path";
import { renderHtpasswd } from "../components/render/htpasswd";
import { basicAuth, startNginx, tempDir } from "../test/helpers/gateway";
import { writeMinimalNginxConf } from "../test/helpers/nginxConf";
import { freePort, nginxWorkerPids, requireTools, run } from "../test/helpers/processes";
import { WrkCpuResult, WrkOptions, wrkPerWorkerCpu } from "../test/helpers/wrk";
import { median } from "./median";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const TARGET = 0.75;
const USER = "bench";
// Generated-style password: 32 letters and digits.
const PASSWORD = "Q7fTz2mLp9XcV4bN8sKd3HwR6yJe1UaG";
const SEED = "bench-salt-seed-0123456789abcdefghij";

interface Scheme {
    name: string;
    /** htpasswd line for USER, or undefined for no auth. */
    line?: () => string | Promise<string>;
}

const SCHEMES: Scheme[] = [
    { name: "none" },
    { name: "ssha", line: () => renderHtpasswd([{ user: USER, password: PASSWORD, scheme: "ssha" }], SEED).trim() },
    { name: "apr1", line: async () => `${USER}:${(await run("openssl", ["passwd", "-apr1", "-salt", "plumbhub", PASSWORD])).stdout.trim()}` },
    { name: "bcrypt10", line: () => renderHtpasswd([{ user: USER, password: PASSWORD, scheme: "bcrypt", cost: 10 }], SEED).trim() },
];

/** Checks that nginx runs the one worker this bench is about (its CPU time is the measure). */
function requireOneWorker(masterPid: number): void {
    const workers = nginxWorkerPids(masterPid);
    if (workers.length !== 1) throw new Error(`expected one nginx worker under ${masterPid}, found ${workers.length}`);
}

/** Load on one scheme's location: the credentials header when the scheme has a password file. */
const loadOf = (auth: boolean): WrkOptions => ({
    connections: 8,
    seconds: SECONDS,
    headers: auth ? { Authorization: basicAuth(USER, PASSWORD) } : {},
});

// Requests wrk abandoned at the deadline are still being hashed (bcrypt: ~60 ms each): let the worker
// finish them so their CPU counts for this run, not the next.
const SETTLE_MS = 1500;

async function main(): Promise<void> {
    await requireTools({ nginx: "nginx-light", wrk: "wrk", openssl: "openssl" });
    const dir = tempDir("plumberhub-bench-auth-");
    fs.writeFileSync(path.join(dir, "hello.txt"), "hello\n", { mode: 0o644 });
    const locations: string[] = [];
    for (const scheme of SCHEMES) {
        fs.mkdirSync(path.join(dir, scheme.name), { mode: 0o755 });
        fs.copyFileSync(path.join(dir, "hello.txt"), path.join(dir, scheme.name, "hello.txt"));
        fs.chmodSync(path.join(dir, scheme.name, "hello.txt"), 0o644);
        if (!scheme.line) continue;
        const file = path.join(dir, `${scheme.name}.htpasswd`);
        fs.writeFileSync(file, `${await scheme.line()}\n`, { mode: 0o644 });
        locations.push(`        location /${scheme.name}/ { auth_basic "bench"; auth_basic_user_file ${file}; }`);
    }
    const port = await freePort();
    const conf = writeMinimalNginxConf(dir, `    server {\n        listen 127.0.0.1:${port};\n        root ${dir};\n${locations.join("\n")}\n    }`, {
        workers: 1,
    });
    const nginx = await startNginx(dir, conf, port);
    try {
        const urlOf = (scheme: Scheme) => `http://127.0.0.1:${port}/${scheme.name}/hello.txt`;
        // Sanity: each protected location refuses no credentials and accepts the right ones.
        for (const scheme of SCHEMES.filter((s) => s.line)) {
            const anonymous = await fetch(urlOf(scheme));
            const authed = await fetch(urlOf(scheme), { headers: { authorization: basicAuth(USER, PASSWORD) } });
            if (anonymous.status !== 401 || authed.status !== 200) {
                throw new Error(`${scheme.name}: expected 401 without and 200 with credentials, got ${anonymous.status} and ${authed.status}`);
            }
        }
        const masterPid = nginx.process.pid!;
        requireOneWorker(masterPid);
        const results: Record<string, WrkCpuResult[]> = Object.fromEntries(SCHEMES.map((s) => [s.name, []]));
        for (let round = 0; round < ROUNDS; round++) {
            // Odd rounds run in reverse order, so no scheme always goes first or follows bcrypt.
            const order = round % 2 ? [...SCHEMES].reverse() : SCHEMES;
            for (const scheme of order)
                results[scheme.name].push(await wrkPerWorkerCpu(masterPid, urlOf(scheme), loadOf(scheme.line !== undefined), SETTLE_MS));
        }
        const spread = (values: number[]) => `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})`;
        for (const scheme of SCHEMES) {
            const runs = results[scheme.name];
            console.log(
                `scheme=${scheme.name} req_per_worker_cpu_s=${spread(runs.map((r) => r.perCpuSecond))} req_per_s_wall=${spread(runs.map((r) => r.requestsPerSecond))} ` +
                    `runs=${runs.length} seconds_each=${SECONDS} worker_processes=1 connections=8`,
            );
        }
        // The ratio compares what the worker can serve per CPU-second: on a shared 2-core machine the
        // wall-clock rate mostly measures how much CPU the worker was given; the wall ratio is shown too.
        const ratios = results.ssha.map((run, i) => run.perCpuSecond / results.none[i].perCpuSecond);
        const wallRatios = results.ssha.map((run, i) => run.requestsPerSecond / results.none[i].requestsPerSecond);
        const ratio = median(ratios);
        console.log(
            `per_round_ratios=${ratios.map((r) => r.toFixed(3)).join(",")} wall_clock_ratio=${median(wallRatios).toFixed(3)} ` +
                `(${wallRatios.map((r) => r.toFixed(3)).join(",")}) target=${TARGET} met=${ratio >= TARGET ? "yes" : "no"}`,
        );
        console.log(`auth_throughput_ratio=${ratio.toFixed(3)}`);
        if (ratio < TARGET) process.exitCode = 1;
    } finally {
        await nginx.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
});
