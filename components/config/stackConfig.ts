/**
 * The pure part of reading a stack's config, shared by `readHubConfig` (inside a Pulumi program) and `npm run render`
 * (which reads `Pulumi.<stack>.yaml` without the engine): the `plumberhub:*` entries as the Pulumi CLI hands them
 * to a program (plain strings; structured values as JSON text) in, a validated `HubConfig` out. Secret values are
 * never put in a message.
 */
import { isObject, show } from "./checks";
import { HUB_SECRET_KEYS, HubConfig, HubConfigError, HubSecretKey, SWARM_TLS_SECRET_KEYS } from "./environment";
import { validateHubConfig } from "./validateHubConfig";

const NS = "plumberhub:";

/** What `checkStackConfig` found: the plan, the secret values by key and the parsed `userPasswords`. */
export interface StackConfigCheck {
    config: HubConfig;
    /** Secret values by key (without the namespace); only the keys that are set. */
    secretValues: Partial<Record<HubSecretKey, string>>;
    /** `plumberhub:userPasswords` parsed (user → password); undefined when not set or when values are unknown. */
    userPasswords?: Record<string, string>;
}

export interface CheckStackConfigOptions {
    /**
     * Whether secret values are known (a Pulumi program) or only their presence (a reader of the encrypted
     * `Pulumi.<stack>.yaml`). When false, `userPasswords` is not parsed. Default true.
     */
    secretValuesKnown?: boolean;
    /**
     * Use `LOCAL_IMAGES` where the stack sets no image of its own (`localImagesRequested(process.env)`). Default false.
     */
    localImages?: boolean;
}

/**
 * The images `scripts/build-local-images.sh` builds from Debian packages, for machines that cannot pull from
 * Docker Hub: the model base image, the swarm gateway's nginx and the swarm registry.
 */
export const LOCAL_IMAGES = {
    baseImage: "local/r-plumber:bookworm",
    gatewayImage: "local/nginx:bookworm",
    registryImage: "local/registry:bookworm",
} as const;

/** The environment switch of `LOCAL_IMAGES`: `PLUMBERHUB_LOCAL_IMAGES=1` (`npm run up:dev` sets it where nothing can be pulled). */
export const LOCAL_IMAGES_ENV = "PLUMBERHUB_LOCAL_IMAGES";

/** Whether the environment asks for `LOCAL_IMAGES`; throws naming the variable when its value is neither on nor off. */
export function localImagesRequested(env: Record<string, string | undefined>): boolean {
    const value = env[LOCAL_IMAGES_ENV];
    if (value === undefined || value === "" || value === "0" || value === "false") return false;
    if (value === "1" || value === "true") return true;
    throw new HubConfigError([
        `environment variable \`${LOCAL_IMAGES_ENV}\` must be 1 or true (use the local images) or 0, false or empty (do not), got ${show(value)}`,
    ]);
}

/** `raw` with `LOCAL_IMAGES` filled in where it sets no image; the swarm images only matter on swarm. */
function withLocalImages(raw: Record<string, unknown>): Record<string, unknown> {
    const swarm = isObject(raw.swarm) ? raw.swarm : raw.swarm === undefined ? {} : raw.swarm;
    return {
        ...raw,
        baseImage: raw.baseImage ?? LOCAL_IMAGES.baseImage,
        swarm: isObject(swarm)
            ? {
                  ...swarm,
                  gatewayImage: swarm.gatewayImage ?? LOCAL_IMAGES.gatewayImage,
                  registryImage: swarm.registryImage ?? LOCAL_IMAGES.registryImage,
              }
            : swarm,
    };
}

/**
 * Validates every `plumberhub:*` entry at once. `entries` maps full keys (`plumberhub:gateway`) to the values the
 * Pulumi CLI gives programs; `isSecret(fullKey)` says whether a key was set with `--secret`. Throws a
 * `HubConfigError` naming each bad key.
 */
export function checkStackConfig(
    entries: Record<string, string>,
    isSecret: (fullKey: string) => boolean,
    baseDir: string,
    options: CheckStackConfigOptions = {},
): StackConfigCheck {
    const raw: Record<string, unknown> = {};
    const secretValues: Partial<Record<HubSecretKey, string>> = {};
    for (const [fullKey, value] of Object.entries(entries)) {
        if (!fullKey.startsWith(NS)) continue;
        const key = fullKey.slice(NS.length);
        if ((HUB_SECRET_KEYS as readonly string[]).includes(key)) secretValues[key as HubSecretKey] = value;
        else raw[key] = parseConfigValue(value);
    }

    const problems: string[] = [];
    for (const key of Object.keys(secretValues)) {
        if (!isSecret(NS + key)) {
            problems.push(`\`${NS}${key}\` is stored in plain text; set it again with \`pulumi config set --secret ${NS}${key}\` so it is encrypted`);
        }
    }
    const userPasswords = options.secretValuesKnown === false ? undefined : parseUserPasswords(secretValues.userPasswords, problems);
    let config: HubConfig | undefined;
    try {
        config = validateHubConfig(options.localImages ? withLocalImages(raw) : raw, new Set(Object.keys(secretValues)), baseDir);
    } catch (error) {
        if (!(error instanceof HubConfigError)) throw error;
        problems.push(...error.problems);
    }
    for (const user of Object.keys(userPasswords ?? {})) {
        if (config && !config.gateway.users.includes(user)) {
            problems.push(
                `\`${NS}userPasswords\` has a password for ${show(user)}, who is not in \`${NS}gateway.users\` (${config.gateway.users.join(", ")})`,
            );
        }
    }
    if (problems.length > 0 || !config) throw new HubConfigError(problems);
    return { config, secretValues, ...(userPasswords ? { userPasswords } : {}) };
}

/**
 * The mutual TLS of a `tcp://` swarm manager as PEM texts, from the secret values of `checkStackConfig`; undefined
 * when none is set (`checkStackConfig` refuses a part of the three). Secret: never put in a message.
 */
export function swarmTlsSecrets(
    secretValues: StackConfigCheck["secretValues"],
): { caCertificate: string; certificate: string; key: string } | undefined {
    const caCertificate = secretValues[SWARM_TLS_SECRET_KEYS.caCertificate];
    const certificate = secretValues[SWARM_TLS_SECRET_KEYS.certificate];
    const key = secretValues[SWARM_TLS_SECRET_KEYS.key];
    return caCertificate !== undefined && certificate !== undefined && key !== undefined ? { caCertificate, certificate, key } : undefined;
}

/** Structured config values arrive as JSON text; plain strings as themselves. */
export function parseConfigValue(value: string): unknown {
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
        problems.push(
            `${at} must be an object { user: password } (set with \`pulumi config set --secret --path '${NS}userPasswords.alice'\`), got a ${Array.isArray(parsed) ? "list" : typeof parsed}`,
        );
        return undefined;
    }
    const passwords: Record<string, string> = {};
    for (const [user, password] of Object.entries(parsed)) {
        if (typeof password !== "string") problems.push(`${at}.${user} must be a string, got a ${typeof password}`);
        else passwords[user] = password;
    }
    return passwords;
}
