import * as pulumi from "@pulumi/pulumi";

/** One resource registration seen by the mocks. */
export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>;
    id: string;
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
    pulumi.runtime.setMocks(
        {
            newResource(args) {
                const id = `${args.name}-id`;
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs, id });
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
