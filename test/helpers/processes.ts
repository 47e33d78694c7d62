import { ChildProcess, execFile, spawn, SpawnOptions } from "child_process";
import * as fs from "fs";
import * as net from "net";

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as net.AddressInfo;
            server.close(() => resolve(port));
        });
    });
}

/** What `run` rejects with: the message has stderr; the full `stdout` and `stderr` ride along. */
export type RunError = Error & { stdout: string; stderr: string };

/** Runs a command to completion; rejects with its stderr (a {@link RunError}) when it exits non-zero. */
export function run(
    command: string,
    args: string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        const child = execFile(
            command,
            args,
            { cwd: options.cwd, env: options.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 << 20 },
            (error, stdout, stderr) => {
                if (error) reject(Object.assign(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`), { stdout, stderr }));
                else resolve({ stdout, stderr });
            },
        );
        if (options.input !== undefined) child.stdin?.end(options.input);
    });
}

/** A long-running process started by a test; `stop()` ends it and waits. Output is kept for failures. */
export interface Service {
    process: ChildProcess;
    output: () => string;
    stop: () => Promise<void>;
}

export function startService(command: string, args: string[], options: SpawnOptions = {}): Service {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    return {
        process: child,
        output: () => output,
        stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        },
    };
}

/**
 * Polls `check` until it returns true, at most `timeoutMs` (bounded loop); throws with `what` and the
 * last error otherwise.
 */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000, everyMs = 250): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError: unknown;
    while (Date.now() < deadline) {
        try {
            if (await check()) return;
        } catch (error) {
            lastError = error;
        }
        await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
    throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError === undefined ? "" : `: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)}`}`,
    );
}

/** Waits until a loopback URL answers with any HTTP status. */
export function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
    return waitUntil(
        url,
        async () => {
            await fetch(url, { signal: AbortSignal.timeout(2000) });
            return true;
        },
        timeoutMs,
    );
}

/**
 * Fails loudly unless every `tools` binary is on PATH (real tests never skip). `tools` maps the
 * binary to the Debian package that provides it, for the message.
 */
export async function requireTools(tools: Record<string, string>): Promise<void> {
    const missing: string[] = [];
    for (const [binary, pkg] of Object.entries(tools)) {
        await run("sh", ["-c", 'command -v "$1"', "sh", binary]).catch(() => missing.push(`${binary} (apt package ${pkg})`));
    }
    if (missing.length > 0) throw new Error(`required tools are not installed: ${missing.join(", ")}`);
}

/** Pids of the worker processes under the nginx master `masterPid`. */
export function nginxWorkerPids(masterPid: number): number[] {
    return fs.readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Clock ticks per second of /proc's CPU times (getconf CLK_TCK on Linux x86-64). */
const CLOCK_TICKS = 100;

/**
 * CPU seconds (user + system) used so far by the workers of the nginx master `masterPid`, from /proc. On a shared
 * machine wall-clock req/s measures the neighbours too; requests per worker CPU second is what a worker does with
 * a core to itself.
 */
export function nginxWorkerCpuSeconds(masterPid: number): number {
    return nginxWorkerPids(masterPid).reduce((sum, pid) => {
        const fields = fs
            .readFileSync(`/proc/${pid}/stat`, "utf8")
            .replace(/^.*\) /, "")
            .split(" ");
        return sum + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14, 15 of stat)
    }, 0);
}
