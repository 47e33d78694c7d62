import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { startService } from "./processes";

/** One resource registration seen by the mocks. */
export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    id: string;
    /** The reference (`urn::id`) of the provider the resource was registered with; absent for the default provider. */
    provider?: string;
}

/** The inputs of the one recorded resource of `type` named `name`; throws listing what was recorded. */
export function recordedInputs(recorded: RecordedResource[], type: string, name: string): Record<string, any> {
    const found = recorded.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} ${name} among:\n${recorded.map((r) => `${r.type} ${r.name}`).join("\n")}`);
    return found.inputs;
}

/** The names of the recorded resources of `type`, sorted. */
export function recordedNames(recorded: RecordedResource[], type: string): string[] {
    return recorded
        .filter((r) => r.type === type)
        .map((r) => r.name)
        .sort();
}

/** Extra outputs a mocked provider returns for a resource type (what real providers compute). */
export type OutputsFor = (args: pulumi.runtime.MockResourceArgs) => Record<string, any>;

/**
 * Installs recording Pulumi mocks. `newResource` echoes the inputs plus whatever `outputs[type]`
 * adds; `call` answers the invokes in `calls`. Returns the list that fills as resources register.
 * Import the components under test only after this ran.
 */
export function installRecordingMocks(
    outputs: Record<string, OutputsFor> = {},
    calls: Record<string, (args: pulumi.runtime.MockCallArgs) => Record<string, any>> = {},
    stack = "test",
): RecordedResource[] {
    const recorded: RecordedResource[] = [];
    // Async only by signature: the mocks are in place when it returns.
    void pulumi.runtime.setMocks(
        {
            newResource(args) {
                const id = `${args.name}-id`;
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs, id, ...(args.provider ? { provider: args.provider } : {}) });
                const extra = outputs[args.type]?.(args) ?? {};
                return { id, state: { ...args.inputs, ...extra } };
            },
            call(args) {
                const answer = calls[args.token];
                if (!answer) throw new Error(`unmocked invoke ${args.token}`);
                return answer(args);
            },
        },
        "plumberhub",
        stack,
        false,
    );
    return recorded;
}

/** The value of an Output (or plain value), for assertions. */
export function promiseOf<T>(output: pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(output).apply((value) => resolve(value as T)));
}

/** Whether an Output is marked secret. */
export function isSecret(output: pulumi.Output<unknown>): Promise<boolean> {
    return pulumi.isSecret(output);
}

/** Waits until every registration started so far has been recorded. */
export async function settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Signature the Pulumi runtime puts on a secret value it serialises (what a mock sees for a secret input). */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

/** Whether a recorded resource input arrived at the engine marked secret. */
export function isSecretInput(value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE;
}

/** How a secret input with `value` reaches a mock, for `toEqual` on recorded inputs. */
export function secretInputOf(value: unknown): Record<string, unknown> {
    return { [SECRET_SIGNATURE_KEY]: SECRET_SIGNATURE, value };
}

/** One child registration seen by `parentRecorder`: its type, name and parent's URN. */
export interface ParentLink {
    type: string;
    name: string;
    parent?: pulumi.Resource;
    /** All the options the child was registered with (e.g. `replacementTrigger`, which mocks never see). */
    opts: pulumi.ResourceOptions;
}

/**
 * A transformation to pass in a component's `opts.transformations`: components hand it down to their children,
 * so it sees every descendant's `parent` option. Returns the transformation and the list it fills.
 */
export function parentRecorder(): { transformation: pulumi.ResourceTransformation; links: ParentLink[] } {
    const links: ParentLink[] = [];
    const transformation: pulumi.ResourceTransformation = (args) => {
        links.push({ type: args.type, name: args.name, parent: args.opts.parent, opts: args.opts });
        return undefined;
    };
    return { transformation, links };
}

/**
 * Runs one component under recording mocks in its own node process (test/helpers/mockedProgram.ts),
 * the way `pulumi preview` runs a program: an output that fails validation ends the process with a
 * non-zero code and the message on stderr. (Inside Jest the runtime's deliberate unhandled
 * rejection would be pinned on whichever test is running, so failing programs run out of process.)
 */
export function runMockedProgram(
    component: "Credentials" | "ServerCertificate",
    args: Record<string, unknown>,
    secrets: string[] = [],
    timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
    const helpers = path.join(__dirname);
    const service = startService(
        process.execPath,
        ["-r", path.join(helpers, "..", "..", "scripts", "register-ts.js"), path.join(helpers, "mockedProgram.ts")],
        {
            env: { ...process.env, PLUMBERHUB_PROGRAM: JSON.stringify({ component, args, secrets }) },
        },
    );
    return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
            void service.stop();
            reject(new Error(`mocked ${component} program still running after ${timeoutMs} ms:\n${service.output()}`));
        }, timeoutMs);
        // "close" comes after the exit and the end of stdout/stderr.
        service.process.once("close", (code) => {
            clearTimeout(timer);
            resolve({ code, output: service.output() });
        });
    });
}
