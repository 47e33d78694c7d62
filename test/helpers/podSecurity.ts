import * as path from "path";
import { run } from "./processes";

/** Verdict of the Kubernetes Pod Security admission library on one object. */
export interface PodSecurityVerdict {
    kind: string;
    name: string;
    /** Whether the object runs pods (Pod, Deployment, StatefulSet, DaemonSet, Job); others are always allowed. */
    hasPod: boolean;
    allowed: boolean;
    /** `reason: detail` per failed check. */
    forbidden: string[];
}

const REPO = path.resolve(__dirname, "../..");
let checker: Promise<string> | undefined;

/** The checker binary (scripts/get-podsecurity.sh builds it once per source and Go version; it fails loudly without Go). */
function podSecurityChecker(): Promise<string> {
    checker ??= run("bash", [path.join(REPO, "scripts/get-podsecurity.sh")], { timeoutMs: 600_000 }).then(({ stdout }) => stdout.trim());
    return checker;
}

/**
 * Evaluates the pod templates of `objects` against a Pod Security Standard level (`restricted` by default) at its
 * latest version, with k8s.io/pod-security-admission: the checks the API server runs for a namespace labelled
 * `pod-security.kubernetes.io/enforce`. One verdict per object, in order.
 */
export async function podSecurityVerdicts(objects: unknown[], level: "restricted" | "baseline" = "restricted"): Promise<PodSecurityVerdict[]> {
    const { stdout } = await run(await podSecurityChecker(), [level, "latest"], { input: JSON.stringify(objects), timeoutMs: 60_000 });
    return JSON.parse(stdout) as PodSecurityVerdict[];
}
