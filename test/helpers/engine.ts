/**
 * The real Pulumi engine for the engine tests and `npm run bench:engine`: the CLI, language host and provider plugins
 * from scripts/get-engine.sh (built once into the cache, or a Pulumi CLI already on PATH), a copy of the project in
 * a temporary folder (the stack's config, model code and build contexts change there, never in the checkout), a
 * file backend in that folder and a passphrase from the environment.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCAL_IMAGES_ENV } from "../../components/config/stackConfig";
import { run, RunError } from "./processes";
import { ROLE_LABEL } from "../../components/render/swarm";
import { docker, REPO_ROOT } from "./swarm";

let engineBin: string | undefined;

/**
 * The folder with the `pulumi` to run (built by scripts/get-engine.sh the first time, several minutes, or the one
 * already on PATH). Throws with the script's output when it cannot get one.
 */
export function getEngine(): string {
    if (engineBin !== undefined) return engineBin;
    const result = spawnSync("bash", [path.join(REPO_ROOT, "scripts/get-engine.sh")], { encoding: "utf8", timeout: 60 * 60_000 });
    const bin = result.stdout?.trim().split("\n").pop();
    if (result.status !== 0 || !bin) {
        throw new Error(`scripts/get-engine.sh failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
    }
    engineBin = bin;
    return engineBin;
}

/** Whether the engine is the one scripts/get-engine.sh built (bridged provider plugins), not an official CLI's. */
export function isBuiltEngine(): boolean {
    return fs.existsSync(path.join(getEngine(), "..", "complete"));
}

/**
 * The checkout's files (tracked, and new ones git does not ignore) copied to `dest`; node_modules is linked. A stack
 * file's secrets-provider lines (`encryptionsalt:` that `npm run up:dev` leaves in Pulumi.dev.yaml) are left out:
 * they belong to the checkout's passphrase, and the copy gets its own.
 */
export function copyProject(dest: string, options: { withoutTests?: boolean } = {}): string {
    const listed = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" });
    if (listed.status !== 0) throw new Error(`git ls-files failed in ${REPO_ROOT}: ${listed.stderr}`);
    const files = listed.stdout.split("\0").filter((file) => file !== "" && !(options.withoutTests && /^(test|bench)\//.test(file)));
    for (const file of files) {
        const from = path.join(REPO_ROOT, file);
        if (!fs.existsSync(from)) continue; // deleted in the working tree
        fs.mkdirSync(path.dirname(path.join(dest, file)), { recursive: true });
        if (/(^|\/)Pulumi\.[^/]+\.yaml$/.test(file)) {
            const config = fs.readFileSync(from, "utf8").replace(/^(encryptionsalt|secretsprovider|encryptedkey):.*\n/gm, "");
            fs.writeFileSync(path.join(dest, file), config);
        } else {
            fs.copyFileSync(from, path.join(dest, file));
        }
        // Same times as the checkout: `npm run up:dev` compares package-lock.json with node_modules by age.
        const { atime, mtime } = fs.statSync(from);
        fs.utimesSync(path.join(dest, file), atime, mtime);
    }
    fs.symlinkSync(path.join(REPO_ROOT, "node_modules"), path.join(dest, "node_modules"));
    return dest;
}

export interface PulumiResult {
    stdout: string;
    stderr: string;
}

/** One engine event of `--event-log` (the fields the tests read). */
export interface EngineEvent {
    resourcePreEvent?: { metadata: { op: string; urn: string; type: string; diffs?: string[] } };
    diagnosticEvent?: { severity: string; message: string; urn?: string };
    policyEvent?: { policyPackName: string; policyName: string; message: string; enforcementLevel: string; resourceUrn?: string };
    summaryEvent?: { resourceChanges: Record<string, number> };
}

/**
 * A Pulumi project (a folder with Pulumi.yaml) run with the real CLI against a file backend in `stateDir`. Every
 * command gets the same environment: engine first on PATH, the backend, the passphrase, no update check, and the
 * local images switch (no image can be pulled on the CI machines).
 */
export class PulumiProject {
    readonly env: NodeJS.ProcessEnv;

    constructor(
        readonly dir: string,
        stateDir: string,
        passphrase: string,
        extraEnv: Record<string, string> = {},
    ) {
        const bin = getEngine();
        fs.mkdirSync(stateDir, { recursive: true });
        this.env = {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            PULUMI_BACKEND_URL: `file://${stateDir}`,
            PULUMI_CONFIG_PASSPHRASE: passphrase,
            PULUMI_SKIP_UPDATE_CHECK: "1",
            // The built engine has its plugins installed and nowhere to download others from: fail at once, not after
            // a download attempt. An official CLI downloads its plugins as usual.
            ...(isBuiltEngine() ? { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" } : {}),
            // `--event-log` (the engine's events as JSON lines) is one of the debug commands, as for the automation API.
            PULUMI_DEBUG_COMMANDS: "true",
            [LOCAL_IMAGES_ENV]: "1",
            ...extraEnv,
        };
    }

    /** Runs `pulumi ARGS` in the project; rejects with its output when it exits non-zero. */
    pulumi(args: string[], timeoutMs = 20 * 60_000): Promise<PulumiResult> {
        return run("pulumi", args, { cwd: this.dir, env: this.env, timeoutMs }).catch((error: RunError) => {
            throw new Error(`pulumi ${args.join(" ")} failed:\n${tail(error.stdout, 60)}\n${tail(error.stderr, 30)}`);
        });
    }

    /** Runs `pulumi ARGS` expecting it to fail; resolves with its output, rejects when it succeeds. */
    async pulumiFailing(args: string[], timeoutMs = 20 * 60_000): Promise<PulumiResult> {
        try {
            const result = await run("pulumi", args, { cwd: this.dir, env: this.env, timeoutMs });
            throw Object.assign(new Error(`pulumi ${args.join(" ")} succeeded, but it should have failed:\n${tail(result.stdout, 40)}`), {
                unexpected: true,
            });
        } catch (error) {
            if ((error as { unexpected?: boolean }).unexpected) throw error;
            const { stdout, stderr } = error as RunError;
            return { stdout, stderr };
        }
    }

    /** Runs `pulumi ARGS --event-log FILE` and returns the engine's events. */
    async pulumiEvents(args: string[], timeoutMs = 20 * 60_000): Promise<{ result: PulumiResult; events: EngineEvent[] }> {
        const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-events-")), "events.json");
        try {
            const result = await this.pulumi([...args, "--event-log", log], timeoutMs);
            return { result, events: readEvents(log) };
        } finally {
            fs.rmSync(path.dirname(log), { recursive: true, force: true });
        }
    }

    /** A stack output (`--show-secrets` for secret ones), parsed from JSON. */
    async output<T = unknown>(stack: string, name: string, showSecrets = false): Promise<T> {
        const args = ["stack", "output", name, "--json", "--stack", stack, ...(showSecrets ? ["--show-secrets"] : [])];
        return JSON.parse((await this.pulumi(args)).stdout) as T;
    }
}

/**
 * A one-file TypeScript Pulumi project `name` in `root/name` (a copy of this repository from `copyProject`, so the
 * program imports the components as `../components/…`); returns the path of its `index.ts`, holding `program`.
 */
export function writeProgramProject(root: string, name: string, program: string): string {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${name}\nruntime:\n  name: nodejs\n  options:\n    typescript: true\nmain: index.ts\n`);
    fs.writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({
            compilerOptions: {
                strict: true,
                target: "es2022",
                module: "commonjs",
                moduleResolution: "node",
                esModuleInterop: true,
                skipLibCheck: true,
            },
            files: ["index.ts"],
        }),
    );
    const programFile = path.join(dir, "index.ts");
    fs.writeFileSync(programFile, program);
    return programFile;
}

/** Service names of the dev stack's models and platform, and of the team stack's model. */
const HUB_SERVICES = ["hello", "bos-rf", "gateway", "registry", "iris"];
const HUB_NETWORK = "plumberhub-dev";

/** The label `docker stack deploy` puts on what it creates. */
const STACK_NAMESPACE_LABEL = "com.docker.stack.namespace";

/**
 * What this Docker engine holds of a plumberhub stack deployed by Pulumi: the dev and team stacks' services and
 * network, and any service, network, config, secret or volume with plumberhub's role label. Objects of an exported
 * stack file (`docker stack deploy`, as the real tests deploy one under a prefix of their own) are not the engine's and
 * are left out. Empty before a test deploys and after it destroys.
 */
export async function hubObjects(): Promise<string[]> {
    const found: string[] = [];
    const names = async (args: string[]) =>
        (await docker(args)).stdout
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean);
    for (const service of await names(["service", "ls", "--format", "{{.Name}}"]))
        if (HUB_SERVICES.includes(service)) found.push(`service ${service}`);
    for (const network of await names(["network", "ls", "--format", "{{.Name}}"])) if (network === HUB_NETWORK) found.push(`network ${network}`);
    for (const kind of ["service", "network", "config", "secret", "volume"]) {
        const ofStackFiles = new Set(await names([kind, "ls", "--filter", `label=${STACK_NAMESPACE_LABEL}`, "--format", "{{.Name}}"]));
        for (const name of await names([kind, "ls", "--filter", `label=${ROLE_LABEL}`, "--format", "{{.Name}}"]))
            if (!ofStackFiles.has(name)) found.push(`${kind} ${name}`);
    }
    return [...new Set(found)].sort();
}

/** Engine events from an `--event-log` file (one JSON object per line). */
export function readEvents(file: string): EngineEvent[] {
    return fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => JSON.parse(line) as EngineEvent);
}

/**
 * What happened to each resource that changed, by URN: `create`, `update`, `delete` or `replace` (the engine's
 * create-replacement, replace and delete-replaced steps of one replacement). Unchanged resources, reads and the
 * stack itself are left out.
 */
export function changedResources(events: EngineEvent[]): Record<string, string> {
    const changed: Record<string, string> = {};
    for (const event of events) {
        const step = event.resourcePreEvent?.metadata;
        if (!step || step.op === "same" || step.op === "read" || step.type === "pulumi:pulumi:Stack") continue;
        changed[step.urn] = step.op.includes("replace") || changed[step.urn] === "replace" ? "replace" : step.op;
    }
    return changed;
}

/** The resources the engine read (`StackReference`s, `get` functions), by type. */
export function readResources(events: EngineEvent[]): string[] {
    return events
        .map((event) => event.resourcePreEvent?.metadata)
        .filter((step) => step?.op === "read")
        .map((step) => step!.type);
}

/** The last part of a URN: the resource's name. */
export function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

function tail(text: string, lines: number): string {
    return text.split("\n").slice(-lines).join("\n");
}
