/**
 * The stack config under the real engine: a secret key set in plain text is refused before anything is created
 * (readHubConfig asks the SDK which keys the engine marked secret), and the same key set with `--secret` passes.
 * Previews only, of the dev program in a copy of the project with a stack of its own.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { copyProject, PulumiProject } from "../helpers/engine";
import { ensureLocalImages, ensureSwarm } from "../helpers/swarm";
import { LOCAL_IMAGES } from "../../components/config/stackConfig";

jest.setTimeout(10 * 60_000);

const STACK = "config-check";
const PASSWORD_KEY = "plumberhub:userPasswords.alice";
const PASSWORD = "chosen-by-alice-1234";

let work: string;
let project: PulumiProject;

beforeAll(async () => {
    await ensureSwarm();
    await ensureLocalImages(Object.values(LOCAL_IMAGES));
    work = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-config-"));
    const root = copyProject(path.join(work, "project"), { withoutTests: true });
    fs.copyFileSync(path.join(root, "Pulumi.dev.yaml"), path.join(root, `Pulumi.${STACK}.yaml`));
    project = new PulumiProject(root, path.join(work, "state"), crypto.randomBytes(24).toString("base64"));
    await project.pulumi(["stack", "init", STACK]);
}, 15 * 60_000);

afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("a password set in plain text is refused with the command that encrypts it, and not shown", async () => {
    await project.pulumi(["config", "set", "--path", PASSWORD_KEY, PASSWORD, "--plaintext", "--stack", STACK]);
    const { stdout, stderr } = await project.pulumiFailing(["preview", "--stack", STACK]);
    const output = stdout + stderr;
    expect(output).toContain(
        "`plumberhub:userPasswords` is stored in plain text; set it again with `pulumi config set --secret plumberhub:userPasswords` so it is encrypted",
    );
    expect(output).not.toContain(PASSWORD);
    expect(output).not.toContain("plumberhub:hub:ModelHub"); // refused before the hub was declared
});

test("the same password set with --secret passes", async () => {
    await project.pulumi(["config", "rm", "plumberhub:userPasswords", "--stack", STACK]);
    await project.pulumi(["config", "set", "--path", PASSWORD_KEY, PASSWORD, "--secret", "--stack", STACK]);
    const { stdout } = await project.pulumi(["preview", "--stack", STACK]);
    expect(stdout).not.toContain("stored in plain text");
    expect(stdout).toContain("plumberhub:hub:ModelHub");
    expect(stdout).not.toContain(PASSWORD);
});
