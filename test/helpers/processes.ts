import { ChildProcess, execFile, spawn, SpawnOptions } from "child_process";
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

/** Runs a command to completion; rejects with its stderr when it exits non-zero. */
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
                if (error) reject(new Error(`${command} ${args.join(" ")} failed: ${error.message}\n${stderr}`));
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
            await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
        },
    };
}

/**
 * Polls `check` until it returns true, at most `timeoutMs` (bounded loop); throws with `what` and the
 * last error otherwise.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000, everyMs = 250): Promise<void> {
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
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ""}`);
}

/** Waits until a loopback URL answers with any HTTP status. */
export function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
    return waitUntil(url, async () => {
        await fetch(url, { signal: AbortSignal.timeout(2000) });
        return true;
    }, timeoutMs);
}
