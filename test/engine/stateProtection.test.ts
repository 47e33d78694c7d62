/**
 * `retainOnDelete` on the swarm registry's data volume, under the real engine and the real swarm: a `SwarmRegistry`
 * (what `plumberhub:protectState` switches on every stack) keeps its volume, with the pushed images in it, through
 * `pulumi destroy`, and lets it go when told to (`retainData: false`, what the throwaway dev stack sets).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCAL_IMAGES } from "../../components/config/stackConfig";
import { renderHtpasswd } from "../../components/render/htpasswd";
import { copyProject, PulumiProject, writeProgramProject } from "../helpers/engine";
import { freePort, run } from "../helpers/processes";
import { docker } from "../helpers/swarm";

jest.setTimeout(10 * 60_000);

const STACK = "state";
/** Unique per run: the test removes it at the end whatever happens. */
const VOLUME = `plumberhub-state-check-${crypto.randomBytes(4).toString("hex")}`;

/** A registry on the local swarm whose volume is kept on delete as the stack config `retainData` says. */
function program(certificate: string, key: string, htpasswd: string, port: number): string {
    return [
        `import * as pulumi from "@pulumi/pulumi";`,
        `import { SwarmRegistry } from "../components/swarm/swarmRegistry";`,
        `const registry = new SwarmRegistry("state-check", {`,
        `    host: "127.0.0.1",`,
        `    port: ${port},`,
        `    tlsCertificate: ${JSON.stringify(certificate)},`,
        `    tlsKey: pulumi.secret(${JSON.stringify(key)}),`,
        `    htpasswd: pulumi.secret(${JSON.stringify(htpasswd)}),`,
        `    username: "pusher",`,
        `    password: pulumi.secret("unused"),`,
        `    image: ${JSON.stringify(LOCAL_IMAGES.registryImage)},`,
        `    volumeName: ${JSON.stringify(VOLUME)},`,
        `    retainData: new pulumi.Config().requireBoolean("retainData"),`,
        `});`,
        `export const serviceId = registry.serviceId;`,
        "",
    ].join("\n");
}

async function volumeExists(): Promise<boolean> {
    const { stdout } = await docker(["volume", "ls", "--quiet", "--filter", `name=^${VOLUME}$`]);
    return stdout.trim() === VOLUME;
}

let work: string;
let project: PulumiProject;

beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-state-"));
    const keyFile = path.join(work, "key.pem");
    const certFile = path.join(work, "cert.pem");
    await run("openssl", [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-days",
        "1",
        "-keyout",
        keyFile,
        "-out",
        certFile,
    ]);
    const htpasswd = renderHtpasswd(
        [{ user: "pusher", password: "unused", scheme: "bcrypt", cost: 5 }],
        crypto.randomBytes(24).toString("base64url"),
    );
    const root = copyProject(path.join(work, "project"), { withoutTests: true });
    const programFile = writeProgramProject(
        root,
        "state-check",
        program(fs.readFileSync(certFile, "utf8"), fs.readFileSync(keyFile, "utf8"), htpasswd, await freePort()),
    );
    project = new PulumiProject(path.dirname(programFile), path.join(work, "state"), crypto.randomBytes(24).toString("base64"));
    await project.pulumi(["stack", "init", STACK]);
}, 5 * 60_000);

afterAll(async () => {
    if (project) await project.pulumi(["destroy", "--yes", "--stack", STACK]).catch(() => undefined);
    await docker(["volume", "rm", "--force", VOLUME]).catch(() => undefined);
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

/** Deploys with `retainData`, checks the volume is there, destroys; resolves whether the volume outlived the stack. */
async function volumeAfterDestroy(retainData: boolean): Promise<boolean> {
    await project.pulumi(["config", "set", "retainData", String(retainData), "--stack", STACK]);
    await project.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
    expect(await volumeExists()).toBe(true);
    await project.pulumi(["destroy", "--yes", "--stack", STACK]);
    return volumeExists();
}

test("with retainData (protectState's default) pulumi destroy removes the registry but keeps its volume", async () => {
    expect(await volumeAfterDestroy(true)).toBe(true);
    await docker(["volume", "rm", VOLUME]);
});

test("with retainData false (a throwaway stack) pulumi destroy removes the volume too", async () => {
    expect(await volumeAfterDestroy(false)).toBe(false);
});
