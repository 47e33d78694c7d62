import * as path from "path";
import { run } from "./processes";

/** Schema verdict on one object: `errors` is empty when it is valid. */
export interface SchemaResult {
    kind: string;
    name: string;
    errors: string[];
}

const SCRIPT = path.join(__dirname, "kubernetesSchemaCheck.mjs");

/**
 * Validates objects against the Kubernetes OpenAPI schemas of the `kubernetes-models` package (Kubernetes ≥ 1.34
 * API), in a child Node process because that package is ESM-only. One result per object, in order.
 */
export async function validateKubernetesObjects(objects: unknown[]): Promise<SchemaResult[]> {
    const { stdout } = await run(process.execPath, [SCRIPT], { input: JSON.stringify(objects), timeoutMs: 60_000 });
    return JSON.parse(stdout) as SchemaResult[];
}

/** The schema errors of all objects as `Kind/name: error` lines (empty when all are valid). */
export async function kubernetesSchemaErrors(objects: unknown[]): Promise<string[]> {
    const results = await validateKubernetesObjects(objects);
    return results.flatMap((r) => r.errors.map((e) => `${r.kind}/${r.name}: ${e}`));
}

/** The object of `kind` named `name`; throws listing what there is otherwise. */
export function findObject<T extends { kind: string; metadata: { name: string } }>(objects: T[], kind: string, name: string): T {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
    return found;
}
