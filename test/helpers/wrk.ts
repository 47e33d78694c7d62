import { run } from "./processes";

export interface WrkResult {
    requestsPerSecond: number;
    /** wrk's latency line, e.g. "Latency 88.12ms 10.01ms 200.00ms 70.00%". */
    latency: string;
    stdout: string;
}

/**
 * One wrk run (keep-alive connections) against a loopback URL. Rejects if any response was not 2xx/3xx
 * or any socket error happened: a storm of 401s or resets would look fast.
 */
export async function wrk(
    url: string,
    options: { threads?: number; connections?: number; seconds: number; headers?: Record<string, string> },
): Promise<WrkResult> {
    const headers = Object.entries(options.headers ?? {}).flatMap(([name, value]) => ["-H", `${name}: ${value}`]);
    const args = [`-t${options.threads ?? 1}`, `-c${options.connections ?? 8}`, `-d${options.seconds}s`, "--timeout", "10s", "--latency", ...headers, url];
    const { stdout } = await run("wrk", args, { timeoutMs: (options.seconds + 30) * 1000 });
    if (/Non-2xx or 3xx responses/.test(stdout) || /Socket errors/.test(stdout)) throw new Error(`wrk saw failures on ${url}:\n${stdout}`);
    const rate = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
    if (!rate) throw new Error(`no Requests/sec in wrk output:\n${stdout}`);
    return { requestsPerSecond: Number(rate[1]), latency: (/Latency.*$/m.exec(stdout)?.[0] ?? "").replace(/\s+/g, " "), stdout };
}
