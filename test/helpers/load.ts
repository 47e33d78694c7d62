/** A bounded request loop: `concurrency` workers, at most `maxRequests` requests and `maxMs` milliseconds. */
export interface LoadResult {
    ok: number;
    failed: number;
    /** First failures (status or error text), for the assertion message. */
    failures: string[];
    elapsedMs: number;
}

/**
 * Runs `send` in `concurrency` loops until `stop()` is true, `maxRequests` were sent or `maxMs` passed
 * (all three bound the loop). `send` resolves to null on success or a short failure text.
 */
export async function runBoundedLoad(
    send: () => Promise<string | null>,
    options: { concurrency: number; maxRequests: number; maxMs: number; stop?: () => boolean },
): Promise<LoadResult> {
    const started = Date.now();
    const result: LoadResult = { ok: 0, failed: 0, failures: [], elapsedMs: 0 };
    let sent = 0;
    const more = () => sent < options.maxRequests && Date.now() - started < options.maxMs && !(options.stop?.() ?? false);
    const worker = async () => {
        while (more()) {
            sent++;
            const failure = await send().catch((error: Error) => error.message);
            if (failure === null) result.ok++;
            else {
                result.failed++;
                if (result.failures.length < 20) result.failures.push(failure);
            }
        }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    result.elapsedMs = Date.now() - started;
    return result;
}
