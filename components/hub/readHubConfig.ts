import * as pulumi from "@pulumi/pulumi";
import { show } from "../spec/checks";
import { HUB_SECRET_KEYS, HubConfig, HubConfigError, validateHubConfig } from "../spec/environment";

/** The secret config values, each already a `pulumi.secret`. Only the keys that are set are present. */
export interface HubSecrets {
    /** `plumberhub:userPasswords`: passwords chosen by the users (by user name); others are generated. */
    userPasswords?: Record<string, pulumi.Output<string>>;
    /** `plumberhub:registryPassword`: push password of an external registry. */
    registryPassword?: pulumi.Output<string>;
    /** `plumberhub:tlsCertificate`: PEM chain for `tls: provided`. */
    tlsCertificate?: pulumi.Output<string>;
    /** `plumberhub:tlsKey`: PEM key for `tls: provided`. */
    tlsKey?: pulumi.Output<string>;
    /** `plumberhub:kubeconfig`: kubeconfig of an existing cluster (`aks.existingCluster: true`). */
    kubeconfig?: pulumi.Output<string>;
}

const NS = "plumberhub:";

/** The SDK's own check (marked internal, used by `Config.get` to warn) of whether a key was set with `--secret`. */
const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret: (key: string) => boolean }).isConfigSecret;

/**
 * Reads every `plumberhub:*` key of the stack, validates all of them at once and returns the plan and the
 * secrets. Throws a `HubConfigError` naming each bad key before any resource exists. Secret values are
 * never put in a message.
 */
export function readHubConfig(baseDir: string = process.cwd()): { config: HubConfig; secrets: HubSecrets } {
    const raw: Record<string, unknown> = {};
    const secretValues: Record<string, string> = {};
    for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
        if (!fullKey.startsWith(NS)) continue;
        const key = fullKey.slice(NS.length);
        if ((HUB_SECRET_KEYS as readonly string[]).includes(key)) secretValues[key] = value;
        else raw[key] = parseConfigValue(value);
    }

    const problems: string[] = [];
    for (const key of Object.keys(secretValues)) {
        if (!isConfigSecret(NS + key)) {
            problems.push(`\`${NS}${key}\` is stored in plain text; set it again with \`pulumi config set --secret ${NS}${key}\` so it is encrypted`);
        }
    }
    const passwords = parseUserPasswords(secretValues.userPasswords, problems);
    let config: HubConfig | undefined;
    try {
        config = validateHubConfig(raw, new Set(Object.keys(secretValues)), baseDir);
    } catch (error) {
        if (!(error instanceof HubConfigError)) throw error;
        problems.push(...error.problems);
    }
    for (const user of Object.keys(passwords ?? {})) {
        if (config && !config.gateway.users.includes(user)) {
            problems.push(`\`${NS}userPasswords\` has a password for ${show(user)}, who is not in \`${NS}gateway.users\` (${config.gateway.users.join(", ")})`);
        }
    }
    if (problems.length > 0 || !config) throw new HubConfigError(problems);

    const secret = (key: string) => (secretValues[key] === undefined ? {} : { [key]: pulumi.secret(secretValues[key]) });
    const secrets: HubSecrets = {
        ...(passwords
            ? { userPasswords: Object.fromEntries(Object.entries(passwords).map(([user, password]) => [user, pulumi.secret(password)])) }
            : {}),
        ...secret("registryPassword"),
        ...secret("tlsCertificate"),
        ...secret("tlsKey"),
        ...secret("kubeconfig"),
    };
    return { config, secrets };
}

/** Structured config values arrive as JSON text; plain strings as themselves. */
function parseConfigValue(value: string): unknown {
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

/** `{ user: password }`; problems name users and types, never the passwords. */
function parseUserPasswords(value: string | undefined, problems: string[]): Record<string, string> | undefined {
    if (value === undefined) return undefined;
    const parsed = parseConfigValue(value);
    const at = `\`${NS}userPasswords\``;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        problems.push(`${at} must be an object { user: password } (set with \`pulumi config set --secret --path '${NS}userPasswords.alice'\`), got a ${Array.isArray(parsed) ? "list" : typeof parsed}`);
        return undefined;
    }
    const passwords: Record<string, string> = {};
    for (const [user, password] of Object.entries(parsed)) {
        if (typeof password !== "string") problems.push(`${at}.${user} must be a string, got a ${typeof password}`);
        else passwords[user] = password;
    }
    return passwords;
}
