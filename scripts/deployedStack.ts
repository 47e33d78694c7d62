/**
 * A deployed stack as the operator commands read it, through the Pulumi Automation API with the user's environment
 * (`PULUMI_BACKEND_URL`, `PULUMI_CONFIG_PASSPHRASE`, the `pulumi` on PATH): its config, validated by the same rules
 * as `pulumi up` (`checkStackConfig`), and its outputs. Secrets (passwords, kubeconfig, TLS keys) stay in memory.
 */
import { LocalWorkspace, LocalWorkspaceOptions, StackNotFoundError } from "@pulumi/pulumi/automation";
import { HubConfig, HubConfigError } from "../components/config/environment";
import { checkStackConfig, localImagesRequested, swarmTlsSecrets } from "../components/config/stackConfig";
import type { DockerTlsPem } from "../components/swarm/waitForReplicas";
import { StackFacts } from "./operations";

/** Which stack to read, and how to run the Pulumi CLI. */
export interface StackSelection {
    /** Stack name: `dev`, or `org/project/dev` on a backend with organisations. */
    stack: string;
    /** The Pulumi project folder (`Pulumi.yaml`, `Pulumi.<stack>.yaml`). Default the current folder. */
    projectDir?: string;
    /**
     * The Automation API's `envVars` (e.g. the backend and passphrase) and `pulumiCommand` (a CLI not on PATH, e.g.
     * `PulumiCommand.get({ root })` for the engine `scripts/get-engine.sh` builds). Default the process's environment
     * and the `pulumi` on PATH.
     */
    workspace?: Pick<LocalWorkspaceOptions, "envVars" | "pulumiCommand">;
}

/** What the commands need of a deployed stack. Every field but `facts` and `config` is secret or may be. */
export interface DeployedStack {
    facts: StackFacts;
    config: HubConfig;
    /** Gateway passwords by user (secret output `passwords`). */
    passwords: Record<string, string>;
    /** The gateway's CA (PEM); empty where the gateway has a publicly trusted certificate. */
    caCertPem: string;
    /** AKS: the kubeconfig (secret output `kubeconfig`). */
    kubeconfig?: string;
    /** Swarm over `tcp://`: the client TLS of the `plumberhub:swarmTls*` secrets. */
    swarmTls?: DockerTlsPem;
}

/** The CLI's own words from a failed Automation API command (its stderr), else the error's message. */
export function pulumiMessage(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    const stderr = /\n stderr: ([\s\S]*?)\n err\?: /.exec(text)?.[1].trim();
    return stderr || text.trim();
}

/** Reads stack `selection.stack`; throws a message naming the stack (unknown, never deployed, bad config, no CLI). */
export async function readDeployedStack(selection: StackSelection): Promise<DeployedStack> {
    const workDir = selection.projectDir ?? process.cwd();
    const name = selection.stack;
    const options: LocalWorkspaceOptions = { workDir, ...selection.workspace };
    let stack;
    try {
        stack = await LocalWorkspace.selectStack({ stackName: name, workDir }, options);
    } catch (error) {
        if (error instanceof StackNotFoundError) throw new Error(await unknownStackMessage(name, options), { cause: error });
        if (/spawn \S*pulumi ENOENT/.test(pulumiMessage(error)))
            throw new Error(
                'the Pulumi CLI is not on PATH: export PATH="$(bash scripts/get-engine.sh):$PATH" (README "The Pulumi engine without downloads")',
                {
                    cause: error,
                },
            );
        throw new Error(`cannot select stack ${name} in ${workDir}: ${pulumiMessage(error)}`, { cause: error });
    }
    const read = async <T>(what: string, action: () => Promise<T>): Promise<T> => {
        try {
            return await action();
        } catch (error) {
            throw new Error(`cannot read the ${what} of stack ${name}: ${pulumiMessage(error)}`, { cause: error });
        }
    };
    const outputs = await read("outputs", () => stack.outputs());
    if (Object.keys(outputs).length === 0) {
        throw new Error(
            `stack ${name} has never been deployed (it has no outputs): run \`pulumi up --stack ${name}\`${name === "dev" ? " or `npm run up:dev`" : ""} first`,
        );
    }
    const config = await read("config", () => stack.getAllConfig());
    const entries = Object.fromEntries(Object.entries(config).map(([key, { value }]) => [key, value]));
    let checked;
    try {
        checked = checkStackConfig(entries, (key) => config[key]?.secret === true, workDir, {
            // The same images as `pulumi up` was run with: some settings are required only without them.
            localImages: localImagesRequested({ ...process.env, ...selection.workspace?.envVars }),
        });
    } catch (error) {
        if (error instanceof HubConfigError) throw new Error(`the config of stack ${name} (Pulumi.${name}.yaml): ${error.message}`, { cause: error });
        throw error;
    }
    const value = (key: string): unknown => outputs[key]?.value;
    const text = (key: string, required: boolean): string | undefined => {
        const found = value(key);
        if (typeof found === "string") return found;
        if (required) throw new Error(`stack ${name} has no \`${key}\` output: was it deployed by this project's program (index.ts)?`);
        return undefined;
    };
    const models = value("models");
    const passwords = value("passwords");
    const certificateNotAfter = text("certificateNotAfter", false);
    const kubeconfig = text("kubeconfig", false);
    const swarmTls = swarmTlsSecrets(checked.secretValues);
    return {
        facts: {
            stack: name,
            target: checked.config.target,
            url: text("url", true)!,
            models: typeof models === "object" && models !== null ? Object.keys(models) : [],
            ...(certificateNotAfter ? { certificateNotAfter } : {}),
        },
        config: checked.config,
        passwords: typeof passwords === "object" && passwords !== null ? (passwords as Record<string, string>) : {},
        caCertPem: text("caCertPem", false) ?? "",
        ...(kubeconfig ? { kubeconfig } : {}),
        ...(swarmTls ? { swarmTls } : {}),
    };
}

/** "no stack X": with the project's stacks, so a typo is seen. */
async function unknownStackMessage(name: string, options: LocalWorkspaceOptions): Promise<string> {
    let known: string[] = [];
    try {
        const workspace = await LocalWorkspace.create(options);
        known = (await workspace.listStacks()).map((summary) => summary.name);
    } catch {
        // Listing is only a hint: the message stands without it.
    }
    return `there is no stack ${name} in this backend${
        known.length > 0 ? `; this project's stacks: ${known.join(", ")}` : "; this project has no stacks here"
    } (check PULUMI_BACKEND_URL or \`pulumi login\`)`;
}
