/**
 * The registry trust service's task (`planRegistryTrustService`), run for real in a plain container the way swarm runs
 * it on each node: the planned command on the registry's local image, a temporary folder where the node's /etc/docker
 * is bind-mounted and the CA file where its config is mounted. It must write `certs.d/{host:port}/ca.crt` with the CA's
 * exact content (by rename: no `.new` file left), keep running, and end at once on `docker stop` (its TERM trap) rather
 * than at the end of the grace period. Needs docker and the local registry image (scripts/build-local-images.sh).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCAL_IMAGES } from "../../components/config/stackConfig";
import { planRegistryCaFile, planRegistryTrustService, SwarmServicePlan } from "../../components/render/swarm";
import { waitUntil } from "../helpers/processes";
import { docker, ensureLocalImages } from "../helpers/swarm";

jest.setTimeout(5 * 60_000);

// Everything this file creates in docker starts with this, plus the pid so parallel runs never collide.
const PREFIX = `plumberhub-registrytrust-${process.pid}`;
const IMAGE = LOCAL_IMAGES.registryImage;
const SERVER = "10.0.0.5:5000";
const FIRST_CA = "-----BEGIN CERTIFICATE-----\nMIIBfirstCA0123456789\nabcdefghijklmnop\n-----END CERTIFICATE-----\n";
const SECOND_CA = "-----BEGIN CERTIFICATE-----\nMIIBsecondCA9876543210\n-----END CERTIFICATE-----\n";

let workDir: string;
/** Where the node's /etc/docker is in these tests. */
let nodeEtcDocker: string;
const started: string[] = [];

/** The planned service for `ca`, as `SwarmRegistry` plans it on the local registry image. */
function trustPlan(ca: string): SwarmServicePlan {
    return planRegistryTrustService(planRegistryCaFile("test", ca), { server: SERVER, image: IMAGE });
}

/** Runs the plan's task as swarm would on one node: its bind, its config file, its stop signal and command. Returns the container name. */
async function runTask(name: string, ca: string): Promise<string> {
    const plan = trustPlan(ca);
    const [bind] = plan.binds!;
    const [config] = plan.configs;
    const caPath = path.join(workDir, `${name}-ca.crt`);
    fs.writeFileSync(caPath, ca, { mode: config.mode });
    const container = `${PREFIX}-${name}`;
    started.push(container);
    await docker([
        "run",
        "-d",
        "--name",
        container,
        "--stop-signal",
        plan.stopSignal!,
        "-v",
        `${nodeEtcDocker}:${bind.target}`,
        "-v",
        `${caPath}:${config.target}:ro`,
        plan.image,
        ...plan.command!,
    ]);
    return container;
}

const caFile = () => path.join(nodeEtcDocker, "certs.d", SERVER, "ca.crt");

async function waitForCa(content: string): Promise<void> {
    await waitUntil(`${caFile()} with the expected CA`, () => fs.existsSync(caFile()) && fs.readFileSync(caFile(), "utf8") === content, 30_000, 100);
}

async function state(container: string): Promise<{ running: boolean; exitCode: number }> {
    const [running, exitCode] = (await docker(["inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", container])).stdout.trim().split(" ");
    return { running: running === "true", exitCode: Number(exitCode) };
}

beforeAll(async () => {
    await ensureLocalImages([IMAGE]);
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-registrytrust-"));
    nodeEtcDocker = path.join(workDir, "etc-docker");
    fs.mkdirSync(nodeEtcDocker);
});

afterAll(async () => {
    for (const container of started) await docker(["rm", "-f", container]).catch(() => undefined);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

describe("the registry trust task", () => {
    let container: string;
    beforeAll(async () => {
        container = await runTask("first", FIRST_CA);
        await waitForCa(FIRST_CA);
    });

    test("writes the CA to certs.d/HOST:PORT/ca.crt with its exact content, leaving no half-written file", () => {
        expect(fs.readFileSync(caFile(), "utf8")).toBe(FIRST_CA);
        expect(fs.readdirSync(path.dirname(caFile()))).toEqual(["ca.crt"]);
        expect(fs.readdirSync(path.join(nodeEtcDocker, "certs.d"))).toEqual([SERVER]);
    });

    test("says which registry the node now trusts, and keeps running", async () => {
        const { stdout } = await docker(["logs", container]);
        expect(stdout).toContain(`this node trusts the registry ${SERVER}`);
        expect(await state(container)).toEqual({ running: true, exitCode: 0 });
    });

    test("ends at docker stop well within its grace period, with exit code 0", async () => {
        const grace = trustPlan(FIRST_CA).stopGracePeriod;
        expect(grace).toBe("10s");
        const before = Date.now();
        await docker(["stop", "-t", "10", container], { timeoutMs: 30_000 });
        const took = Date.now() - before;
        expect(took).toBeLessThan(3000);
        expect(await state(container)).toEqual({ running: false, exitCode: 0 });
    });

    test("a task with a new CA replaces the file", async () => {
        const next = await runTask("second", SECOND_CA);
        await waitForCa(SECOND_CA);
        expect(fs.readdirSync(path.dirname(caFile()))).toEqual(["ca.crt"]);
        await docker(["stop", "-t", "10", next], { timeoutMs: 30_000 });
        expect((await state(next)).exitCode).toBe(0);
    });
});
