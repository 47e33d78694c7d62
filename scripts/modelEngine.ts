/**
 * Where a stack's models run, asked the same way on both targets: the swarm manager's Docker engine (dockerode) or
 * the AKS cluster's Kubernetes API (@kubernetes/client-node, loaded only for an AKS stack). Never the docker or
 * kubectl commands.
 */
import type { EngineFacts, LogLine, LogRequest } from "./operations";

/** The engine that runs a stack's models. */
export interface ModelEngine {
    /** The engine in words, for messages: `the Docker engine at unix:///var/run/docker.sock`. */
    readonly where: string;
    /** Replicas, image and deployment time of each model; undefined for a model the engine does not run. */
    facts(models: string[]): Promise<Record<string, EngineFacts | undefined>>;
    /**
     * Every replica's log lines, in the order the engine hands them; with `follow`, new lines until `signal` aborts.
     * Throws when the engine does not run the model.
     */
    logs(model: string, request: LogRequest, onLine: (line: LogLine) => void, signal?: AbortSignal): Promise<void>;
}

/** Error codes of a connection that never got an answer: the engine is not reachable at that address. */
const UNREACHABLE =
    /^(ECONNREFUSED|ENOENT|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EAI_AGAIN|ENOTFOUND|EACCES|EPIPE|ERR_TLS_CERT_ALTNAME_INVALID|UNABLE_TO_VERIFY_LEAF_SIGNATURE|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_HAS_EXPIRED)$/;

/** `error` of a call to the engine at `where`, said as "cannot reach" when no answer came, else as the engine's answer. */
export function engineError(where: string, error: unknown): Error {
    const { code, message } = error as { code?: unknown; message?: string };
    const cause = (error as { cause?: { code?: unknown } }).cause;
    const unreachable = [code, cause?.code].some((c) => typeof c === "string" && UNREACHABLE.test(c));
    return new Error(`${unreachable ? "cannot reach" : "error from"} ${where}: ${message ?? String(error)}`, { cause: error });
}
