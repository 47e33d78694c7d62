/**
 * `npm run render -- --stack <dev|prod> --out DIR`: writes every object of a stack, from the same plan the Pulumi
 * resources come from (`components/render/hubConfigInputs.ts`), without the Pulumi engine: Kubernetes YAML for
 * `target: aks` (review, `kubectl apply -f DIR`), a compose v3.8 stack file with its config and secret files for
 * `target: swarm` (`docker stack deploy -c DIR/docker-stack.yml STACK`). The logic is in small exported functions;
 * `main` does the I/O. Exit code 1 with the message on stderr on any bad argument or config.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { stageModelImageContext } from "../components/image/buildContext";
import { DEFAULT_HUB_NAME } from "../components/config/environment";
import { gatewayAcme, kubernetesManifestsInput, swarmStackInput } from "../components/render/hubConfigInputs";
import { renderHtpasswd } from "../components/render/htpasswd";
import { manifestFileName, REDACTED, renderKubernetesManifests, toKubernetesYaml } from "../components/render/kubernetes";
import { GatewaySecretContents, planSwarmStack, renderSwarmStackFiles, STACK_FILE_NAME } from "../components/render/swarm";
import { parseFlags, PROCESS_IO, CommandIo, reportFailure, UsageError } from "./commandLine";
import { HubConfig } from "../components/config/environment";
import { isPinnedByDigest } from "../components/config/image";
import { swarmRegistryHost } from "../components/config/swarm";
import { checkStackConfig, localImagesRequested } from "../components/config/stackConfig";

export const USAGE =
    "usage: npm run render -- --stack <dev|prod> --out DIR [--image MODEL=REF]... [--registry SERVER]\n" +
    "       [[--tls-cert FILE --tls-key FILE] --htpasswd FILE | --generate-secrets] [--include-secrets]";

/** What the command line asks for. */
export interface RenderOptions {
    /** Stack name: reads `Pulumi.<stack>.yaml`. */
    stack: string;
    /** Output folder. */
    out: string;
    /** `--image MODEL=REF`: the image a model runs, instead of the content-hash tag of its build. */
    images: Record<string, string>;
    /** `--registry SERVER`: registry host of the default image names (e.g. the real ACR login server). */
    registry?: string;
    /** `--tls-cert`, `--tls-key` (not with `tls: acme` over HTTP-01, where the gateway gets its own), `--htpasswd`: the gateway's secret files. */
    secretFiles?: { tlsCert?: string; tlsKey?: string; htpasswd: string };
    /** `--generate-secrets`: a throwaway self-signed certificate and random passwords (local use only). */
    generateSecrets: boolean;
    /** `--include-secrets`: write Kubernetes Secret values instead of `REDACTED` (aks). */
    includeSecrets: boolean;
}

/** A bad command line; `main` prints the usage after it. */
export class RenderUsageError extends UsageError {
    constructor(message: string) {
        super(message);
        this.name = "RenderUsageError";
    }
}

const VALUE_FLAGS = ["--stack", "--out", "--image", "--registry", "--tls-cert", "--tls-key", "--htpasswd"] as const;
const SWITCHES = ["--generate-secrets", "--include-secrets"] as const;
const SECRET_FLAGS = ["--tls-cert", "--tls-key", "--htpasswd"] as const;

/** Parses `argv` (without `node script`); `--flag value` and `--flag=value` both work. Throws `RenderUsageError`. */
export function parseRenderArgs(argv: string[]): RenderOptions {
    const { values, repeated, switches } = parseFlags(
        argv,
        { values: VALUE_FLAGS, repeatable: ["--image"], switches: SWITCHES, exampleFlag: "--out" },
        (message) => new RenderUsageError(message),
    );
    const images: Record<string, string> = {};
    for (const value of repeated["--image"] ?? []) {
        const match = /^([^=]+)=(.+)$/.exec(value);
        if (!match)
            throw new RenderUsageError(`\`--image\` must be MODEL=REF, e.g. \`--image hello=registry.example.com/hello@sha256:…\`, got "${value}"`);
        if (images[match[1]] !== undefined) throw new RenderUsageError(`\`--image\` is given twice for model \`${match[1]}\``);
        images[match[1]] = match[2];
    }
    if (values["--stack"] === undefined)
        throw new RenderUsageError("`--stack` is required: the stack whose `Pulumi.<stack>.yaml` to render, e.g. `--stack dev`");
    if (values["--out"] === undefined) throw new RenderUsageError("`--out` is required: the folder to write the files to, e.g. `--out rendered/dev`");
    const given = SECRET_FLAGS.filter((flag) => values[flag] !== undefined);
    if (given.length > 0 && switches.has("--generate-secrets")) {
        throw new RenderUsageError(`\`--generate-secrets\` and \`${given[0]}\` exclude each other: give the secret files or generate them, not both`);
    }
    const certificateFlags = given.filter((flag) => flag !== "--htpasswd");
    if (given.length > 0 && given.length < SECRET_FLAGS.length && !(given.length === 1 && given[0] === "--htpasswd")) {
        const missing = SECRET_FLAGS.filter((flag) => values[flag] === undefined);
        throw new RenderUsageError(
            `\`--tls-cert\`, \`--tls-key\` and \`--htpasswd\` go together (\`--htpasswd\` alone with \`tls: acme\`); missing ${missing.map((f) => `\`${f}\``).join(" and ")}`,
        );
    }
    return {
        stack: values["--stack"],
        out: values["--out"],
        images,
        ...(values["--registry"] ? { registry: values["--registry"] } : {}),
        ...(given.length > 0
            ? {
                  secretFiles: {
                      htpasswd: values["--htpasswd"],
                      ...(certificateFlags.length > 0 ? { tlsCert: values["--tls-cert"], tlsKey: values["--tls-key"] } : {}),
                  },
              }
            : {}),
        generateSecrets: switches.has("--generate-secrets"),
        includeSecrets: switches.has("--include-secrets"),
    };
}

// ---------------------------------------------------------------------------------------------
// The stack file

/** Whether a value of `Pulumi.<stack>.yaml` is (or holds) a `secure:` value, i.e. was set with `--secret`. */
function holdsSecret(value: unknown): boolean {
    if (Array.isArray(value)) return value.some(holdsSecret);
    if (value !== null && typeof value === "object") {
        const entries = Object.entries(value);
        if (entries.length === 1 && entries[0][0] === "secure") return true;
        return entries.some(([, v]) => holdsSecret(v));
    }
    return false;
}

/**
 * The `config:` map of a `Pulumi.<stack>.yaml` document as the Pulumi CLI hands it to a program: strings as they
 * are, other values as JSON text. Encrypted (`secure:`) values cannot be read here: they count as set, value unknown.
 */
export function stackConfigEntries(doc: unknown, file: string): { entries: Record<string, string>; secretKeys: Set<string> } {
    const config = doc && typeof doc === "object" && "config" in doc ? doc.config : undefined;
    if (config === undefined || config === null) return { entries: {}, secretKeys: new Set() };
    if (typeof config !== "object" || Array.isArray(config)) throw new Error(`${file}: \`config\` must be a map of keys to values`);
    const entries: Record<string, string> = {};
    const secretKeys = new Set<string>();
    for (const [key, value] of Object.entries(config)) {
        if (holdsSecret(value)) {
            secretKeys.add(key);
            entries[key] = "";
        } else {
            entries[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { entries, secretKeys };
}

/** Stacks of a project: the `Pulumi.<stack>.yaml` files in its folder. */
export function listStacks(projectDir: string): string[] {
    return fs
        .readdirSync(projectDir)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => stack !== undefined)
        .sort();
}

/** Reads and validates `Pulumi.<stack>.yaml` the way `readHubConfig` does in a program (`PLUMBERHUB_LOCAL_IMAGES` included); throws its messages. */
export function loadStackConfig(projectDir: string, stack: string): { config: HubConfig; secretKeys: Set<string> } {
    const file = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) {
        const stacks = listStacks(projectDir);
        throw new RenderUsageError(
            `\`--stack\` "${stack}": there is no Pulumi.${stack}.yaml in ${projectDir}; ${stacks.length > 0 ? `stacks here: ${stacks.join(", ")}` : "no stack files here"}`,
        );
    }
    const { entries, secretKeys } = stackConfigEntries(parse(fs.readFileSync(file, "utf8")), file);
    const { config } = checkStackConfig(entries, (key) => secretKeys.has(key), projectDir, {
        secretValuesKnown: false,
        localImages: localImagesRequested(process.env),
    });
    return { config, secretKeys };
}

// ---------------------------------------------------------------------------------------------
// Images

/** Stands for the random suffix `AcrRegistry` adds to the ACR name (known only after `pulumi up`). */
export const ACR_SUFFIX_PLACEHOLDER = "xxxxxxxx";

/** Registry host the default image names use: `--registry`, else where `ModelHub` pushes for this config. */
export function registryServer(config: HubConfig, override?: string): string {
    if (override) return override;
    const { registry } = config;
    if (registry.kind === "swarm") return `${swarmRegistryHost(registry)}:${registry.port}`; // where every node pulls from
    if (registry.kind === "external") return registry.server!;
    return `${registry.namePrefix}${ACR_SUFFIX_PLACEHOLDER}.azurecr.io`;
}

/**
 * The image of every model: an `--image` override, else the model's own prebuilt `image`, else
 * `{registry}/{model}:{content-hash tag}` as `ModelImage` names it (`tagOf` computes the tag). Notes say which.
 */
export function planImages(
    config: HubConfig,
    overrides: Record<string, string>,
    tagOf: (model: HubConfig["models"][number]) => string,
    options: { registry?: string; projectDir?: string } = {},
): { images: Record<string, string>; notes: string[] } {
    const { registry } = options;
    const names = config.models.map((model) => model.name);
    for (const [name, image] of Object.entries(overrides)) {
        if (!names.includes(name)) throw new RenderUsageError(`\`--image ${name}=…\` names no model of the stack; models: ${names.join(", ")}`);
        if (config.target === "aks" && !isPinnedByDigest(image)) {
            throw new RenderUsageError(`\`--image ${name}=${image}\` must be pinned by digest (\`…@sha256:<64 hex>\`) on AKS`);
        }
    }
    const images: Record<string, string> = {};
    const notes: string[] = [];
    for (const model of config.models) {
        if (overrides[model.name]) {
            images[model.name] = overrides[model.name];
            notes.push(`${model.name}: ${images[model.name]} (from --image)`);
        } else if (model.image) {
            images[model.name] = model.image;
            notes.push(`${model.name}: ${model.image} (the model's prebuilt image)`);
        } else {
            images[model.name] = `${registryServer(config, registry)}/${model.name}:${tagOf(model)}`;
            notes.push(
                `${model.name}: ${images[model.name]} — the content-hash tag ModelImage gives a build of ${options.projectDir ? path.relative(options.projectDir, model.path!) : model.path}; ` +
                    `pulumi up deploys the pushed digest (…@sha256:…) of that image`,
            );
        }
    }
    if (config.target === "aks" && config.registry.kind === "acr" && !registry && notes.some((n) => n.includes(ACR_SUFFIX_PLACEHOLDER))) {
        notes.push(
            `"${ACR_SUFFIX_PLACEHOLDER}" stands for the random suffix of the ACR name; pass --registry with the login server (pulumi stack output join)`,
        );
    }
    return { images, notes };
}

/** The content-hash tag `ModelImage` gives a model's image: its context staged in a temporary folder, then removed. */
export function contentHashTag(config: HubConfig): (model: HubConfig["models"][number]) => string {
    return (model) => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-render-"));
        try {
            return stageModelImageContext(model, { baseImage: config.baseImage, contextRoot: root }).tag;
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    };
}

// ---------------------------------------------------------------------------------------------
// Secrets

/**
 * The gateway's secret files: given with `--tls-cert/--tls-key/--htpasswd`; certificate and key are required unless
 * the gateway gets its certificate from ACME itself (HTTP-01), and refused then.
 */
export function readSecretFiles(files: NonNullable<RenderOptions["secretFiles"]>, config: HubConfig): GatewaySecretContents {
    const read = (file: string, flag: string) => {
        if (!fs.existsSync(file)) throw new RenderUsageError(`\`${flag}\` ${file}: no such file`);
        return fs.readFileSync(file, "utf8");
    };
    const acme = gatewayAcme(config.gateway) !== undefined;
    if (acme && files.tlsCert !== undefined) {
        throw new RenderUsageError(
            "`--tls-cert` and `--tls-key` are not used with `tls: acme` (the gateway gets its certificate itself); give `--htpasswd` alone",
        );
    }
    if (!acme && (files.tlsCert === undefined || files.tlsKey === undefined)) {
        throw new RenderUsageError(
            `\`--tls-cert\` and \`--tls-key\` are required with \`tls: ${config.gateway.tls}\` (\`--htpasswd\` alone is for \`tls: acme\`)`,
        );
    }
    return {
        ...(files.tlsCert !== undefined && files.tlsKey !== undefined
            ? { tlsCertificate: read(files.tlsCert, "--tls-cert"), tlsKey: read(files.tlsKey, "--tls-key") }
            : {}),
        htpasswd: read(files.htpasswd, "--htpasswd"),
    };
}

/**
 * Throwaway secrets for local use: a self-signed certificate (openssl CLI) for the gateway host and IP addresses,
 * and an htpasswd line per gateway user with a random 128-bit password (`{SSHA}`, as `Credentials` hashes
 * generated passwords). The passwords are returned for the caller to show once; they are written nowhere.
 */
export function generateSecrets(config: HubConfig): { secrets: GatewaySecretContents; passwords: Record<string, string> } {
    const { gateway } = config;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-render-tls-"));
    try {
        const keyFile = path.join(dir, "tls.key");
        const certFile = path.join(dir, "tls.crt");
        // With ACME over HTTP-01 the gateway makes its own (a temporary one until the first issuance).
        const acme = gatewayAcme(gateway) !== undefined;
        const sans = [`DNS:${gateway.host}`, ...gateway.ipAddresses.map((ip) => `IP:${ip}`)].join(",");
        // prettier-ignore
        if (!acme) execFileSync("openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
            "-keyout", keyFile, "-out", certFile, "-subj", `/CN=${gateway.host}`, "-addext", `subjectAltName=${sans}`,
        ], { stdio: ["ignore", "ignore", "pipe"] });
        const passwords = Object.fromEntries(gateway.users.map((user) => [user, crypto.randomBytes(16).toString("base64url")]));
        const htpasswd = renderHtpasswd(
            gateway.users.map((user) => ({ user, password: passwords[user], scheme: "ssha" as const })),
            crypto.randomBytes(32).toString("base64url"),
        );
        const certificate = acme ? {} : { tlsCertificate: fs.readFileSync(certFile, "utf8"), tlsKey: fs.readFileSync(keyFile, "utf8") };
        return { secrets: { ...certificate, htpasswd }, passwords };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

// ---------------------------------------------------------------------------------------------
// The files

/** One output file: contents and mode (0600 for anything secret). */
export interface OutputFile {
    contents: string;
    mode: number;
}

/** Marks a folder as written by this command, so a re-run may empty it. */
export const MARKER_FILE = ".plumberhub-render";
export const NOTES_FILE = "README.txt";

/**
 * Every file of the export by path relative to the output folder. aks: one YAML file per object
 * (`manifestFileName`), Secret values `REDACTED` unless `includeSecrets`; swarm: `docker-stack.yml`,
 * `configs/…`, `secrets/…` (0600). Both with a `README.txt` saying what was rendered and how to use it.
 */
export function renderStackFiles(
    config: HubConfig,
    stack: string,
    images: Record<string, string>,
    secrets: GatewaySecretContents | undefined,
    options: { includeSecrets: boolean; imageNotes: string[] },
): Record<string, OutputFile> {
    const files: Record<string, OutputFile> = {};
    const notes = [
        `plumberhub render of stack "${stack}" (target ${config.target}), from Pulumi.${stack}.yaml and the same plan as the Pulumi resources.`,
        "",
    ];
    if (config.target === "aks") {
        if (options.includeSecrets && !secrets)
            throw new RenderUsageError(
                "`--include-secrets` needs the secrets: give `--tls-cert`, `--tls-key` and `--htpasswd`, or `--generate-secrets`",
            );
        const {
            tlsCertificate: tlsCert,
            tlsKey,
            htpasswd,
        } = secrets ?? { htpasswd: "", ...(gatewayAcme(config.gateway) ? {} : { tlsCertificate: "", tlsKey: "" }) };
        const objects = renderKubernetesManifests(kubernetesManifestsInput(config, images, { tlsCert, tlsKey, htpasswd }));
        objects.forEach((object, i) => {
            const secret = object.kind === "Secret" && options.includeSecrets;
            files[manifestFileName(object, i)] = {
                contents: toKubernetesYaml([object], { includeSecrets: options.includeSecrets }),
                mode: secret ? 0o600 : 0o644,
            };
        });
        notes.push(
            `${objects.length} Kubernetes objects, one per file, in apply order: kubectl apply -f <this folder>.`,
            options.includeSecrets
                ? "Secret values are INCLUDED (--include-secrets): those files are mode 0600; do not commit or share them."
                : `Secret values are replaced by "${REDACTED}" (pass --include-secrets with secret files to write them).`,
            secrets
                ? "The gateway Deployment's checksum annotation covers the given secret files."
                : "No secret files were given, so the gateway Deployment's checksum annotation differs from the deployed one.",
        );
    } else {
        const acme = gatewayAcme(config.gateway) !== undefined;
        if (!secrets) {
            throw new RenderUsageError(
                `a swarm stack needs the gateway's secrets: give ${acme ? "`--htpasswd FILE`" : "`--tls-cert FILE --tls-key FILE --htpasswd FILE`"}, or \`--generate-secrets\` for throwaway ones (local use)`,
            );
        }
        const rendered = renderSwarmStackFiles(planSwarmStack(swarmStackInput(config, images, secrets, DEFAULT_HUB_NAME)));
        for (const [file, contents] of Object.entries(rendered)) files[file] = { contents, mode: file.startsWith("secrets/") ? 0o600 : 0o644 };
        notes.push(
            `Deploy: docker stack deploy --with-registry-auth -c <this folder>/${STACK_FILE_NAME} <stack name>`,
            acme
                ? "secrets/ holds the htpasswd file (mode 0600): do not commit or share it. The gateway gets its certificate from the ACME server itself."
                : "secrets/ holds the TLS key and the htpasswd file (mode 0600): do not commit or share them.",
            config.registry.kind === "swarm"
                ? `The registry service (${registryServer(config)}) is not in this stack: images must be pushed before the models can start.`
                : "Images must be pushed to the registry before the models can start.",
        );
    }
    notes.push("", "Images:", ...options.imageNotes.map((note) => `- ${note}`), "");
    files[NOTES_FILE] = { contents: notes.join("\n"), mode: 0o644 };
    return files;
}

/**
 * Writes the files under `dir` (created if missing). A folder that is not empty must carry `MARKER_FILE` from an
 * earlier run; its contents are then replaced, so files of removed objects do not linger.
 */
export function writeOutput(dir: string, files: Record<string, OutputFile>): void {
    if (fs.existsSync(dir)) {
        const entries = fs.readdirSync(dir);
        if (entries.length > 0 && !entries.includes(MARKER_FILE)) {
            throw new RenderUsageError(`\`--out\` ${dir} is not empty and was not written by \`npm run render\`; choose a new or empty folder`);
        }
        for (const entry of entries) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, MARKER_FILE), "written by npm run render; the next run replaces this folder's contents\n");
    for (const [file, { contents, mode }] of Object.entries(files)) {
        const target = path.join(dir, file);
        fs.mkdirSync(path.dirname(target), { recursive: true, mode: mode === 0o600 ? 0o700 : 0o755 });
        fs.writeFileSync(target, contents, { mode });
        fs.chmodSync(target, mode); // the umask may have cleared bits; 0600 must be exact
    }
}

/** Runs the command; returns the exit code. Messages go to `stderr`, the list of written files to `stdout`. */
export function main(argv: string[], projectDir = process.cwd(), io: CommandIo = PROCESS_IO): number {
    try {
        const options = parseRenderArgs(argv);
        const { config } = loadStackConfig(projectDir, options.stack);
        const { images, notes } = planImages(config, options.images, contentHashTag(config), { registry: options.registry, projectDir });
        let secrets: GatewaySecretContents | undefined;
        if (options.secretFiles) secrets = readSecretFiles(options.secretFiles, config);
        if (options.generateSecrets) {
            const generated = generateSecrets(config);
            secrets = generated.secrets;
            // Shown once, here; written nowhere.
            io.stderr(
                `generated gateway passwords (shown once, not saved):\n${Object.entries(generated.passwords)
                    .map(([u, p]) => `  ${u}: ${p}\n`)
                    .join("")}`,
            );
        }
        const files = renderStackFiles(config, options.stack, images, secrets, { includeSecrets: options.includeSecrets, imageNotes: notes });
        const out = path.resolve(projectDir, options.out);
        writeOutput(out, files);
        io.stdout(
            `wrote ${Object.keys(files).length} files to ${out}:\n${Object.keys(files)
                .sort()
                .map((f) => `  ${f}\n`)
                .join("")}`,
        );
        return 0;
    } catch (error) {
        return reportFailure(error, USAGE, io);
    }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
