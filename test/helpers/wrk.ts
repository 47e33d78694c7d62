import { nginxWorkerCpuSeconds, run } from "./processes";

export interface WrkOptions {
    /** wrk threads. Default 1 (one thread drives a few thousand req/s and leaves the cores to the server). */
    threads?: number;
    /** Open connections, shared by the threads. Default 8. */
    connections?: number;
    /** Duration of the run, seconds. */
    seconds: number;
    /** Request headers, name → value. */
    headers?: Record<string, string>;
    /**
     * What a non-2xx/3xx response or a socket error does: `throw` (default: a storm of 401s or resets would
     * look fast) or `count` them in `errors` and let the caller decide.
     */
    failures?: "throw" | "count";
}

export interface WrkResult {
    /** Requests completed in the run. */
    requests: number;
    requestsPerSecond: number;
    /** Median and 99th-percentile latency, milliseconds. */
    p50Ms: number;
    p99Ms: number;
    /** Non-2xx/3xx responses plus socket errors (connect, read, write, timeout); 0 when `failures` is `throw`. */
    errors: number;
    /** wrk's latency line, e.g. "Latency 88.12ms 10.01ms 200.00ms 70.00%". */
    latency: string;
    stdout: string;
}

/** A wrk run plus `perCpuSecond`: requests per CPU-second of the nginx workers over the run. */
export type WrkCpuResult = WrkResult & { perCpuSecond: number };

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

/** One wrk run (keep-alive unless a `Connection: close` header asks otherwise) against a loopback URL. */
export async function wrk(url: string, options: WrkOptions): Promise<WrkResult> {
    const headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
    const args = [
        `-t${options.threads ?? 1}`,
        `-c${options.connections ?? 8}`,
        `-d${options.seconds}s`,
        "--timeout",
        "10s",
        "--latency",
        ...headers,
        url,
    ];
    const { stdout } = await run("wrk", args, { timeoutMs: (options.seconds + 30) * 1000 });
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
    const errors = (socketErrors ? socketErrors.slice(1).reduce((n, x) => n + Number(x), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
    if (errors > 0 && (options.failures ?? "throw") === "throw") throw new Error(`wrk saw failures on ${url}:\n${stdout}`);
    const match = (re: RegExp) => {
        const found = re.exec(stdout);
        if (!found) throw new Error(`cannot parse wrk output for ${re}:\n${stdout}`);
        return found;
    };
    const percentileMs = (p: string) => {
        const [, value, unit] = match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)\\b`));
        return Number(value) * UNIT_MS[unit];
    };
    return {
        requests: Number(match(/(\d+) requests in /)[1]),
        requestsPerSecond: Number(match(/Requests\/sec:\s+([\d.]+)/)[1]),
        p50Ms: percentileMs("50"),
        p99Ms: percentileMs("99"),
        errors,
        latency: (/Latency.*$/m.exec(stdout)?.[0] ?? "").replace(/\s+/g, " "),
        stdout,
    };
}

/**
 * wrk plus the CPU time the workers of nginx master `masterPid` used over the run: `perCpuSecond` is requests
 * per worker CPU-second, what a worker does with a core to itself (wall-clock req/s on a shared machine measures
 * the neighbours too). `settleMs` waits before the CPU is read, for requests wrk abandoned at its deadline that
 * the worker is still serving (bcrypt: ~60 ms each), so their CPU counts for this run, not the next.
 */
export async function wrkPerWorkerCpu(masterPid: number, url: string, options: WrkOptions, settleMs = 0): Promise<WrkCpuResult> {
    const before = nginxWorkerCpuSeconds(masterPid);
    const result = await wrk(url, options);
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
    const cpu = nginxWorkerCpuSeconds(masterPid) - before;
    return { ...result, perCpuSecond: result.requests / Math.max(cpu, 0.01) };
}
