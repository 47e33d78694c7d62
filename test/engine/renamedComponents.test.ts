/**
 * A renamed component keeps what stacks deployed before the rename: `ServerCertificate` was `GatewayTls`
 * (type `plumberhub:tls:GatewayTls`). A stack deployed with the former component, under a parent as ModelHub puts it,
 * is previewed and updated with the renamed one under the real engine: nothing is created, replaced or deleted, and
 * the certificate stays the same. The former file comes from git history (the commit that removed it, one before).
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { changedResources, copyProject, PulumiProject, writeProgramProject } from "../helpers/engine";
import { REPO_ROOT } from "../helpers/swarm";

jest.setTimeout(10 * 60_000);

const STACK = "rename";
const FORMER_FILE = "components/tls/gatewayTls.ts";

function git(args: string[]): string {
    const result = spawnSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`git ${args.join(" ")} failed (the test needs the repository's history): ${result.stderr}`);
    return result.stdout;
}

/** The former component's source, as it was just before the rename. */
function formerSource(): string {
    const removedIn = git(["log", "--diff-filter=D", "--format=%H", "-1", "--", FORMER_FILE]).trim();
    if (!removedIn) throw new Error(`no commit removed ${FORMER_FILE}; the history is incomplete`);
    return git(["show", `${removedIn}^:${FORMER_FILE}`]);
}

/** A program with one certificate under a parent component, from `module` exporting `className`. */
function program(module: string, className: string): string {
    return [
        `import * as pulumi from "@pulumi/pulumi";`,
        `import { ${className} } from "../components/tls/${module}";`,
        `const hub = new pulumi.ComponentResource("plumberhub:hub:ModelHub", "hub");`,
        `const tls = new ${className}("hub-tls", { mode: "selfSigned", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }, { parent: hub });`,
        `export const certificatePem = tls.certificatePem;`,
        "",
    ].join("\n");
}

let work: string;
let project: PulumiProject;
let programFile: string;

beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-rename-"));
    const root = copyProject(path.join(work, "project"), { withoutTests: true });
    fs.writeFileSync(path.join(root, FORMER_FILE), formerSource());
    programFile = writeProgramProject(root, "rename-check", program("gatewayTls", "GatewayTls"));
    project = new PulumiProject(path.dirname(programFile), path.join(work, "state"), crypto.randomBytes(24).toString("base64"));
    await project.pulumi(["stack", "init", STACK]);
    await project.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
}, 15 * 60_000);

afterAll(async () => {
    if (project) await project.pulumi(["destroy", "--yes", "--stack", STACK]).catch(() => undefined);
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("the stack deployed with GatewayTls holds its type", async () => {
    const state = JSON.parse((await project.pulumi(["stack", "export", "--stack", STACK])).stdout) as {
        deployment: { resources: { type: string }[] };
    };
    expect(state.deployment.resources.map((r) => r.type)).toContain("plumberhub:tls:GatewayTls");
});

test("ServerCertificate previews no change to it", async () => {
    fs.writeFileSync(programFile, program("serverCertificate", "ServerCertificate"));
    const { events } = await project.pulumiEvents(["preview", "--stack", STACK]);
    expect(changedResources(events)).toEqual({});
});

test("an update with ServerCertificate keeps the certificate", async () => {
    const certificate = await project.output<string>(STACK, "certificatePem");
    await project.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
    expect(await project.output<string>(STACK, "certificatePem")).toBe(certificate);
});

test("after the update the state holds the new type only", async () => {
    const state = JSON.parse((await project.pulumi(["stack", "export", "--stack", STACK])).stdout) as {
        deployment: { resources: { type: string }[] };
    };
    const types = state.deployment.resources.map((r) => r.type);
    expect(types).toContain("plumberhub:tls:ServerCertificate");
    expect(types).not.toContain("plumberhub:tls:GatewayTls");
});
