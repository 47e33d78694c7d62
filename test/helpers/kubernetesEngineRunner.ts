/**
 * Runs `KubernetesModelEngine` in a plain Node process for the real tests: @kubernetes/client-node is an ES module,
 * which jest's CommonJS runtime cannot load on Node < 24.9, while Node ≥ 20.19 requires it natively. Reads one JSON
 * request on stdin (`{ kubeconfig, namespace, action: "facts", models }` or `{ …, action: "logs", model, request,
 * abortAfterMs? }`) and prints one JSON answer on stdout: `{ facts }`, `{ lines }`, or `{ error }`.
 */
import { KubernetesModelEngine } from "../../scripts/kubernetesEngine";
import { LogLine } from "../../scripts/operations";

interface RunnerRequest {
    kubeconfig: string;
    namespace: string;
    action: "facts" | "logs";
    models?: string[];
    model?: string;
    request?: { follow: boolean; since?: string; tail?: number };
    /** Follow: abort this long after the first line. */
    abortAfterMs?: number;
}

async function answer(input: RunnerRequest): Promise<unknown> {
    const engine = new KubernetesModelEngine(input.kubeconfig, input.namespace);
    if (input.action === "facts") return { facts: await engine.facts(input.models ?? []) };
    const lines: LogLine[] = [];
    const controller = new AbortController();
    const { request } = input;
    await engine.logs(
        input.model!,
        {
            follow: request!.follow,
            ...(request!.since ? { since: new Date(request!.since) } : {}),
            ...(request!.tail ? { tail: request!.tail } : {}),
        },
        (line) => {
            if (lines.length === 0 && input.abortAfterMs !== undefined) setTimeout(() => controller.abort(), input.abortAfterMs);
            lines.push(line);
        },
        controller.signal,
    );
    return { lines };
}

let text = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => (text += chunk));
process.stdin.on("end", () => {
    answer(JSON.parse(text) as RunnerRequest)
        .then((result) => process.stdout.write(JSON.stringify(result)))
        .catch((error: Error) => process.stdout.write(JSON.stringify({ error: error.message })))
        // Sockets of an aborted follow may linger; the answer is out.
        .finally(() => process.exit(0));
});
