import * as pulumi from "@pulumi/pulumi";
import type { RegistryLogin } from "../image/modelImage";
import { isObject, MAX_PORT, show } from "../config/checks";
import { MODEL_PLACEHOLDER } from "../config/routing";
import { HUB_TARGETS } from "../config/target";
import { HubJoinInfo, REGISTRY_AUTHS } from "./hubParts";

/** A platform stack's registry login output: a `RegistryLogin` as read back, plain values. */
export type PlatformRegistryLogin = pulumi.Unwrap<RegistryLogin>;

/** What a team stack reads from the platform stack (a `ModelHub` program's outputs). */
export interface PlatformStack {
    /** Fully qualified name of the platform stack, e.g. `organization/plumberhub/dev`. */
    stackName: string;
    /** The platform's `join` output, resolved: target, network or namespace, registry, gateway name template, URL. */
    join: HubJoinInfo;
    /** Names of the models the platform stack deploys itself (a team model must not take one). */
    modelNames: string[];
    /** The platform's `registryLogin` output (secret): what a team pushes with unless `join.registryAuth` is `entra`. */
    registryLogin: pulumi.Output<PlatformRegistryLogin>;
    /** The platform's `kubeconfig` output (secret); only on AKS. */
    kubeconfig?: pulumi.Output<string>;
}

/**
 * Checks a platform stack's `join` output (as read through a StackReference) and returns it typed. Pure; throws naming
 * the output field, the bad value and what is valid. `stackName` is only used in messages.
 */
export function validatePlatformJoin(join: unknown, stackName: string): HubJoinInfo {
    const at = (field: string) => `\`join.${field}\` of platform stack \`${stackName}\``;
    if (!isObject(join))
        throw new Error(`\`join\` of platform stack \`${stackName}\` must be an object (a ModelHub's \`join\` output), got ${show(join)}`);
    const problems: string[] = [];
    const text = (field: string) => {
        const value = join[field];
        if (typeof value !== "string" || value === "") problems.push(`${at(field)} must be a non-empty string, got ${show(value)}`);
    };
    if (!(HUB_TARGETS as readonly unknown[]).includes(join.target)) {
        problems.push(`${at("target")} must be one of ${HUB_TARGETS.map((t) => `"${t}"`).join(", ")}, got ${show(join.target)}`);
    }
    if (join.target === "swarm") text("network");
    if (join.target === "aks") text("namespace");
    text("registryServer");
    // Absent on a platform deployed with an older plumberhub: its `registryLogin` is used, as then.
    if (join.registryAuth !== undefined && !(REGISTRY_AUTHS as readonly unknown[]).includes(join.registryAuth)) {
        problems.push(
            `${at("registryAuth")} must be one of ${REGISTRY_AUTHS.map((a) => `"${a}"`).join(", ")} or absent, got ${show(join.registryAuth)}`,
        );
    }
    text("gatewayUrl");
    text("gatewayNameTemplate");
    if (typeof join.gatewayNameTemplate === "string" && !join.gatewayNameTemplate.includes(MODEL_PLACEHOLDER)) {
        problems.push(`${at("gatewayNameTemplate")} must contain \`${MODEL_PLACEHOLDER}\`, got ${show(join.gatewayNameTemplate)}`);
    }
    if (!Number.isInteger(join.modelPort) || (join.modelPort as number) < 1 || (join.modelPort as number) > MAX_PORT) {
        problems.push(
            `${at("modelPort")} must be a port (1–${MAX_PORT}), got ${show(join.modelPort)}; a platform deployed with an older plumberhub has none: run \`pulumi up\` on it`,
        );
    }
    if (problems.length > 0) throw new Error(problems.join("\n"));
    return join as unknown as HubJoinInfo;
}

/** Options of `readPlatformStack`. */
export interface ReadPlatformStackOptions {
    /** Name of the `StackReference` resource. Default `platform`. */
    resourceName?: string;
    /** Options of the `StackReference` (e.g. `parent`). */
    opts?: pulumi.CustomResourceOptions;
}

/**
 * Reads a platform stack's outputs with a `StackReference` and checks them: `join` (plain), `models` (plain),
 * `registryLogin` (secret) and, on AKS, `kubeconfig` (secret). Resolves once the outputs are read, so a program
 * can decide which resources to declare from the platform's target; rejects with a message naming the stack and
 * the missing or bad output.
 */
export async function readPlatformStack(stackName: string, options: ReadPlatformStackOptions = {}): Promise<PlatformStack> {
    if (typeof stackName !== "string" || !/^[^/\s]+(\/[^/\s]+){0,2}$/.test(stackName)) {
        throw new Error(`the platform stack name must be \`stack\`, \`project/stack\` or \`organization/project/stack\`, got ${show(stackName)}`);
    }
    const reference = new pulumi.StackReference(options.resourceName ?? "platform", { name: stackName }, options.opts);
    const details = async (output: string, required: boolean) => {
        const found = await reference.getOutputDetails(output);
        const value: unknown = found.value ?? found.secretValue;
        if (required && (value === undefined || value === null)) {
            throw new Error(
                `platform stack \`${stackName}\` has no output \`${output}\`: deploy it (\`pulumi up\`) with a plumberhub ModelHub program, ` +
                    "or fix `team:platformStack`",
            );
        }
        return value;
    };
    const join = validatePlatformJoin(await details("join", true), stackName);
    const models = await details("models", false);
    await details("registryLogin", true);
    if (join.target === "aks") await details("kubeconfig", true);
    return {
        stackName,
        join,
        modelNames: isObject(models) ? Object.keys(models).sort() : [],
        // Read as Outputs (not the awaited values) so the SDK keeps them secret; `pulumi.secret` in case the platform did not mark them.
        registryLogin: pulumi.secret(reference.requireOutput("registryLogin") as pulumi.Output<PlatformRegistryLogin>),
        ...(join.target === "aks" ? { kubeconfig: pulumi.secret(reference.requireOutput("kubeconfig") as pulumi.Output<string>) } : {}),
    };
}
