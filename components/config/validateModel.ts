/**
 * Validation of the model spec: `ModelSpec` (what the user wrote, untrusted) in, `Model` (every
 * default filled in) out. Pure and synchronous; the only I/O is checking that the R folder exists.
 * Every problem names the field path in backticks, the bad value and what is valid; all problems of
 * a spec (or of a whole list of specs) are reported together, one per line, so a user fixes
 * everything in one go.
 */
import * as fs from "fs";
import * as path from "path";
import { checkEntries, checkInteger, checkKeys, isObject, MAX_PORT, show } from "./checks";
import { validateImageReference } from "./image";
import { validateUserName } from "./credentials";
import {
    AutoscalingSpec,
    hasModelNameShape,
    MAX_MODEL_NAME_LENGTH,
    MAX_REPLICAS,
    MIN_MODEL_PORT,
    Model,
    MODEL_DEFAULTS,
    MODEL_EGRESS_MEANINGS,
    MODEL_EGRESS_MODES,
    MODEL_NAME,
    ModelEgress,
    R_PACKAGE_NAME,
    RESERVED_ENV_NAMES,
    RESERVED_MODEL_NAMES,
} from "./model";
import { isQuantity, parseQuantity } from "./quantities";
import type { HubTarget } from "./target";

/** Smallest memory request/limit: Docker refuses memory limits below 6 MiB. */
const MIN_MEMORY_BYTES = 6 * 1024 * 1024;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const MODEL_KEYS = [
    "name",
    "path",
    "image",
    "packages",
    "replicas",
    "cpu",
    "memory",
    "port",
    "env",
    "users",
    "autoscaling",
    "egress",
    "maxReplicasPerNode",
];
const RANGE_KEYS = ["request", "limit"];
const AUTOSCALING_KEYS = ["minReplicas", "maxReplicas", "targetCpuUtilization"];

// ---------------------------------------------------------------------------------------------
// Errors

/** Thrown by `validateModel(s)`: `problems` holds one line per problem, `message` all of them. */
export class ModelSpecError extends Error {
    constructor(public readonly problems: string[]) {
        super(problems.length === 1 ? problems[0] : `${problems.length} problems in the model spec:\n- ${problems.join("\n- ")}`);
        this.name = "ModelSpecError";
    }
}

/** Options of `validateModel(s)`. */
export interface ValidateModelOptions {
    /** Folder relative `path`s are resolved against. Default `process.cwd()`. */
    baseDir?: string;
    /** Field path used in messages. Default `model` for one spec, `models` for a list. */
    field?: string;
}

/**
 * Validates one model spec and fills in its defaults. Throws a `ModelSpecError` listing every
 * problem (field path in backticks, the bad value, what is valid).
 */
export function validateModel(spec: unknown, options: ValidateModelOptions = {}): Model {
    const problems: string[] = [];
    const model = checkModel(spec, options.field ?? "model", options.baseDir ?? process.cwd(), problems);
    if (problems.length > 0 || !model) throw new ModelSpecError(problems);
    return model;
}

/**
 * Validates a list of model specs (names must be unique) and fills in their defaults. Throws one
 * `ModelSpecError` listing the problems of all models together.
 */
export function validateModels(specs: unknown, options: ValidateModelOptions = {}): Model[] {
    const field = options.field ?? "models";
    if (!Array.isArray(specs)) {
        throw new ModelSpecError([`\`${field}\` must be a list of models, got ${show(specs)}`]);
    }
    const problems: string[] = [];
    const models: Model[] = [];
    const firstByName = new Map<string, string>();
    specs.forEach((spec, i) => {
        const at = `${field}[${i}]`;
        const model = checkModel(spec, at, options.baseDir ?? process.cwd(), problems);
        if (model) models.push(model);
        const name = isObject(spec) ? spec.name : undefined;
        if (!hasModelNameShape(name)) return; // a bad name is reported already
        const first = firstByName.get(name);
        if (first) {
            problems.push(`\`${at}.name\` ${show(name)} is already used by \`${first}\`; model names must be unique`);
        } else {
            firstByName.set(name, `${at}.name`);
        }
    });
    if (problems.length > 0) throw new ModelSpecError(problems);
    return models;
}

/**
 * What a validated model asks for that `target` cannot do, one message per problem (empty when it fits). `subject`
 * names the model in the messages, e.g. "`plumberhub:models` model `hello`".
 */
export function modelTargetProblems(model: Model, target: HubTarget, subject: string): string[] {
    if (target !== "swarm") {
        return model.maxReplicasPerNode === undefined
            ? []
            : [
                  `${subject} sets \`maxReplicasPerNode\`, a Docker Swarm setting: leave it out on AKS, which spreads a model's pods over its nodes already`,
              ];
    }
    const problems: string[] = [];
    if (model.autoscaling) {
        problems.push(
            `${subject} sets \`autoscaling\`, which a swarm cannot do (Docker Swarm has no autoscaler): set a fixed \`replicas\` instead; ` +
                `autoscaling works on AKS (Kubernetes HPA)`,
        );
    }
    if (model.egress !== undefined) {
        problems.push(
            `${subject} sets \`egress\`, which a swarm cannot enforce (Docker Swarm has no network policies): leave \`egress\` out; ` +
                `it works on AKS (Kubernetes NetworkPolicy)`,
        );
    }
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Field checks: each pushes its problems and returns the cleaned value (or undefined)

function checkModel(spec: unknown, at: string, baseDir: string, problems: string[]): Model | undefined {
    if (!isObject(spec)) {
        problems.push(`\`${at}\` must be an object with at least \`name\` and \`path\` or \`image\`, got ${show(spec)}`);
        return undefined;
    }
    const before = problems.length;
    checkKeys(spec, MODEL_KEYS, at, problems);
    const name = checkName(spec.name, `${at}.name`, problems);
    const source = checkSource(spec, at, baseDir, problems);
    const packages = checkPackages(spec.packages, spec.image !== undefined, `${at}.packages`, problems);
    const replicas = checkInteger(spec.replicas, `${at}.replicas`, 1, MAX_REPLICAS, MODEL_DEFAULTS.replicas, problems);
    const cpu = checkRange(spec.cpu, `${at}.cpu`, "cpu", problems);
    const memory = checkRange(spec.memory, `${at}.memory`, "memory", problems);
    // The model runs as a non-root user, which Kubernetes does not let bind ports below 1024.
    const port = checkInteger(spec.port, `${at}.port`, MIN_MODEL_PORT, MAX_PORT, MODEL_DEFAULTS.port, problems);
    const env = checkEnv(spec.env, `${at}.env`, problems);
    const users = checkUsers(spec.users, `${at}.users`, problems);
    const autoscaling = checkAutoscaling(spec.autoscaling, replicas, `${at}.autoscaling`, problems);
    const egress = checkEgress(spec.egress, `${at}.egress`, problems);
    const maxReplicasPerNode =
        spec.maxReplicasPerNode === undefined
            ? undefined
            : checkInteger(spec.maxReplicasPerNode, `${at}.maxReplicasPerNode`, 1, MAX_REPLICAS, 1, problems);
    if (problems.length > before) return undefined;
    return {
        name: name!,
        ...source,
        packages,
        replicas,
        cpu: cpu!,
        memory: memory!,
        port,
        env,
        ...(users ? { users } : {}),
        ...(autoscaling ? { autoscaling } : {}),
        ...(egress ? { egress } : {}),
        ...(maxReplicasPerNode !== undefined ? { maxReplicasPerNode } : {}),
    };
}

function checkName(name: unknown, at: string, problems: string[]): string | undefined {
    const valid = `a DNS-1035 label: lower-case letters, digits and \`-\`, starting with a letter and ending with a letter or digit`;
    if (name === undefined) {
        problems.push(`\`${at}\` is required: ${valid}`);
    } else if (typeof name !== "string") {
        problems.push(`\`${at}\` must be a string, ${valid}, got ${show(name)}`);
    } else if (!MODEL_NAME.test(name)) {
        const suggestion = name
            .toLowerCase()
            .replace(/[^a-z0-9-]+/g, "-")
            .replace(/^[^a-z]+/, "")
            .replace(/-+$/, "");
        const hint = hasModelNameShape(suggestion) ? `; try ${show(suggestion)}` : "";
        problems.push(`\`${at}\` must be ${valid}, got ${show(name)}${hint}`);
    } else if (name.length > MAX_MODEL_NAME_LENGTH) {
        problems.push(
            `\`${at}\` must be at most ${MAX_MODEL_NAME_LENGTH} characters (Kubernetes pod and swarm service names ` +
                `add suffixes to it and must stay within 63), got ${show(name)} (${name.length} characters)`,
        );
    } else if (RESERVED_MODEL_NAMES.includes(name)) {
        problems.push(`\`${at}\` ${show(name)} is reserved by the gateway (reserved: ${RESERVED_MODEL_NAMES.join(", ")}); choose another name`);
    } else {
        return name;
    }
    return undefined;
}

/** `path` (resolved, checked on disk) xor `image` (reference syntax). */
function checkSource(
    spec: Record<string, unknown>,
    at: string,
    baseDir: string,
    problems: string[],
): { path: string } | { image: string } | Record<never, never> {
    const hasPath = spec.path !== undefined;
    const hasImage = spec.image !== undefined;
    if (hasPath === hasImage) {
        problems.push(
            `\`${at}\` must have exactly one of \`path\` (a folder with plumber.R) and \`image\` (a prebuilt image), ` +
                `got ${hasPath ? "both" : "neither"}`,
        );
        return {};
    }
    if (hasImage) {
        const image = spec.image;
        try {
            validateImageReference(image, `${at}.image`, "myregistry.azurecr.io/team/model:1.0");
        } catch (error) {
            problems.push((error as Error).message);
            return {};
        }
        return { image };
    }
    const rel = spec.path;
    if (typeof rel !== "string" || rel.trim() === "") {
        problems.push(`\`${at}.path\` must be a folder path (relative to ${show(baseDir)}) containing plumber.R, got ${show(rel)}`);
        return {};
    }
    const dir = path.resolve(baseDir, rel);
    const stat = fs.statSync(dir, { throwIfNoEntry: false });
    if (!stat) {
        problems.push(`\`${at}.path\` ${show(rel)} does not exist (looked for ${show(dir)})`);
    } else if (!stat.isDirectory()) {
        problems.push(`\`${at}.path\` ${show(rel)} is not a folder (${show(dir)}); give the folder that contains plumber.R`);
    } else if (!fs.statSync(path.join(dir, "plumber.R"), { throwIfNoEntry: false })?.isFile()) {
        problems.push(`\`${at}.path\` ${show(rel)} has no plumber.R (looked for ${show(path.join(dir, "plumber.R"))})`);
    } else {
        return { path: dir };
    }
    return {};
}

/** Throws unless `packages` is a list (of anything; `validateRPackageName` checks the entries). */
export function validateRPackageList(packages: unknown, field: string): asserts packages is unknown[] {
    if (!Array.isArray(packages)) throw new Error(`\`${field}\` must be a list of R package names, got ${show(packages)}`);
}

/** Throws unless `pkg` is an R package name (`R_PACKAGE_NAME`); `field` names the entry. */
export function validateRPackageName(pkg: unknown, field: string): asserts pkg is string {
    if (typeof pkg !== "string" || !R_PACKAGE_NAME.test(pkg)) {
        throw new Error(
            `\`${field}\` must be an R package name (letters, digits and \`.\`, starting with a letter, ` +
                `at least 2 characters, not ending in \`.\`), got ${show(pkg)}`,
        );
    }
}

function checkPackages(packages: unknown, hasImage: boolean, at: string, problems: string[]): string[] {
    if (packages === undefined) return [];
    if (hasImage) {
        problems.push(`\`${at}\` only applies when building from \`path\`; a prebuilt \`image\` must already contain its packages`);
        return [];
    }
    try {
        validateRPackageList(packages, at);
    } catch (error) {
        problems.push((error as Error).message);
        return [];
    }
    // plumber is always installed (the entrypoint needs it): listing it is harmless, drop it.
    return checkEntries(packages, at, validateRPackageName, problems).filter((pkg) => pkg !== "plumber");
}

/**
 * cpu / memory `{ request, limit }`: quantities, positive, sane minimums, limit ≥ request. A missing limit is the
 * default one, raised to the request; a missing request stays missing (each target has its default, `modelRequest`).
 */
function checkRange(range: unknown, at: string, kind: "cpu" | "memory", problems: string[]): Model["cpu"] | undefined {
    const defaults = MODEL_DEFAULTS[kind];
    if (range === undefined) return { ...defaults };
    if (!isObject(range)) {
        const hint = typeof range === "string" ? `; write { request: ${show(range)}, limit: ${show(range)} }` : "";
        problems.push(`\`${at}\` must be an object { request, limit }, got ${show(range)}${hint}`);
        return undefined;
    }
    const before = problems.length;
    checkKeys(range, RANGE_KEYS, at, problems);
    const request = checkQuantity(range.request, `${at}.request`, kind, problems);
    const limit = checkQuantity(range.limit, `${at}.limit`, kind, problems);
    if (problems.length > before) return undefined;
    const req = range.request as string | undefined;
    const lim = range.limit as string | undefined;
    if (req !== undefined && lim !== undefined) {
        if (limit! < request!) {
            problems.push(`\`${at}.limit\` ${show(lim)} is below \`${at}.request\` ${show(req)}; the limit must be at least the request`);
            return undefined;
        }
        return { request: req, limit: lim };
    }
    if (req !== undefined) return { request: req, limit: request! > parseQuantity(defaults.limit) ? req : defaults.limit };
    return { limit: lim ?? defaults.limit };
}

function checkQuantity(value: unknown, at: string, kind: "cpu" | "memory", problems: string[]): number | undefined {
    if (value === undefined) return undefined;
    const examples = kind === "cpu" ? `"250m", "0.5" or "2"` : `"512Mi", "1Gi" or "1G"`;
    if (typeof value !== "string" || !isQuantity(value)) {
        const unit = typeof value === "string" ? /^[\d.]+(([kKMGTPE])i?B)$/.exec(value) : null;
        const [, written, letter] = unit ?? [];
        const hint = unit
            ? `; "${written}" is not a unit: use "${letter.toUpperCase()}" (powers of 10) or "${letter.toUpperCase()}i" (powers of 2)`
            : "";
        problems.push(`\`${at}\` must be a Kubernetes quantity such as ${examples}, got ${show(value)}${hint}`);
        return undefined;
    }
    const n = parseQuantity(value);
    if (n <= 0) {
        problems.push(`\`${at}\` must be greater than zero, got ${show(value)}`);
    } else if (kind === "cpu" && (n < 0.001 || Math.abs(n * 1000 - Math.round(n * 1000)) > 1e-6)) {
        problems.push(`\`${at}\` must be a whole number of millicores (1m = 0.001 cores), got ${show(value)}`);
    } else if (kind === "memory" && n < MIN_MEMORY_BYTES) {
        problems.push(`\`${at}\` must be at least "6Mi" (Docker's minimum), got ${show(value)} (${n} bytes); did you forget a unit such as "Mi"?`);
    } else {
        return n;
    }
    return undefined;
}

function checkEnv(env: unknown, at: string, problems: string[]): Record<string, string> {
    if (env === undefined) return {};
    if (!isObject(env)) {
        problems.push(`\`${at}\` must be an object of NAME: "value" strings, got ${show(env)}`);
        return {};
    }
    const result: Record<string, string> = {};
    for (const [key, value] of Object.entries(env)) {
        if (!ENV_NAME.test(key)) {
            problems.push(
                `\`${at}\` key ${show(key)} is not a valid environment variable name (letters, digits and \`_\`, not starting with a digit)`,
            );
        } else if (RESERVED_ENV_NAMES.includes(key)) {
            problems.push(`\`${at}.${key}\` is set by the platform and cannot be overridden (reserved: ${RESERVED_ENV_NAMES.join(", ")})`);
        } else if (typeof value !== "string") {
            const hint = typeof value === "number" || typeof value === "boolean" ? `; quote it: "${value}"` : "";
            problems.push(`\`${at}.${key}\` must be a string, got ${show(value)}${hint}`);
        } else {
            result[key] = value;
        }
    }
    return result;
}

function checkUsers(users: unknown, at: string, problems: string[]): string[] | undefined {
    if (users === undefined) return undefined;
    if (!Array.isArray(users)) {
        problems.push(`\`${at}\` must be a list of user names, got ${show(users)}`);
        return undefined;
    }
    if (users.length === 0) {
        problems.push(`\`${at}\` is empty, so nobody could call the model; leave \`users\` out to allow every gateway user`);
        return undefined;
    }
    return checkEntries(users, at, validateUserName, problems);
}

function checkAutoscaling(spec: unknown, replicas: number, at: string, problems: string[]): Required<AutoscalingSpec> | undefined {
    if (spec === undefined) return undefined;
    if (!isObject(spec)) {
        problems.push(`\`${at}\` must be an object { maxReplicas, minReplicas?, targetCpuUtilization? }, got ${show(spec)}`);
        return undefined;
    }
    const before = problems.length;
    checkKeys(spec, AUTOSCALING_KEYS, at, problems);
    const minReplicas = checkInteger(spec.minReplicas, `${at}.minReplicas`, 1, MAX_REPLICAS, replicas, problems);
    const targetCpuUtilization = checkInteger(
        spec.targetCpuUtilization,
        `${at}.targetCpuUtilization`,
        1,
        100,
        MODEL_DEFAULTS.targetCpuUtilization,
        problems,
    );
    if (spec.maxReplicas === undefined) {
        problems.push(`\`${at}.maxReplicas\` is required: an integer from ${minReplicas} to ${MAX_REPLICAS}`);
    } else {
        checkInteger(spec.maxReplicas, `${at}.maxReplicas`, 1, MAX_REPLICAS, 0, problems);
    }
    if (problems.length > before) return undefined;
    const maxReplicas = spec.maxReplicas as number;
    if (maxReplicas < minReplicas) {
        const source = spec.minReplicas === undefined ? ` (the model's \`replicas\`)` : "";
        problems.push(`\`${at}.maxReplicas\` ${maxReplicas} is below \`${at}.minReplicas\` ${minReplicas}${source}; it must be at least the minimum`);
        return undefined;
    }
    return { minReplicas, maxReplicas, targetCpuUtilization };
}

/** `egress`: one of `MODEL_EGRESS_MODES`; left unset when not given (a swarm target refuses it when set). */
function checkEgress(egress: unknown, at: string, problems: string[]): ModelEgress | undefined {
    if (egress === undefined || MODEL_EGRESS_MODES.includes(egress as ModelEgress)) return egress as ModelEgress | undefined;
    const modes = MODEL_EGRESS_MODES.map((mode) => `"${mode}" (${MODEL_EGRESS_MEANINGS[mode]})`);
    problems.push(`\`${at}\` must be ${modes.slice(0, -1).join(", ")} or ${modes[modes.length - 1]}, got ${show(egress)}`);
    return undefined;
}
