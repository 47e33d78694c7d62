/**
 * `SwarmGateway` with ACME (HTTP-01) under the real engine: `pulumi up` deploys the gateway whose command is the
 * renewal script (the Docker provider's `args`, as the stack file's `command`), the state volume and the edge; once
 * pebble can reach the edge, the gateway serves pebble's certificate without another `up`; a preview right after
 * shows no change (the renewal lives inside the gateway, not in the stack); `pulumi destroy` removes everything,
 * the volume too when `retainAcmeData` is false. Pebble runs as in test/real/acme.real.test.ts.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LOCAL_IMAGES } from "../../components/config/stackConfig";
import { renderHtpasswd } from "../../components/render/htpasswd";
import { swarmGatewayAcmeVolume } from "../../components/render/swarm";
import { copyProject, PulumiProject, writeProgramProject } from "../helpers/engine";
import { servedX509 } from "../helpers/gateway";
import { Pebble } from "../helpers/pebble";
import { freePort, requireTools, waitUntil } from "../helpers/processes";
import { docker, ensureLocalImages, ensureSwarm, taskAddresses, waitForService } from "../helpers/swarm";

jest.setTimeout(10 * 60_000);

const STACK = "acme";
const RUN = crypto.randomBytes(3).toString("hex");
const NETWORK = `plumberhub-acme-engine-${RUN}`;
const PEBBLE = `plumberhub-acme-pebble-${RUN}`;
const PREFIX = `acme-engine-${RUN}`;
const VOLUME = swarmGatewayAcmeVolume(PREFIX);
const DOMAIN = "engine.plumberhub.test";

function program(directoryUrl: string, caBundlePem: string, htpasswd: string, httpsPort: number, httpPort: number): string {
    return [
        `import * as docker from "@pulumi/docker";`,
        `import * as pulumi from "@pulumi/pulumi";`,
        `import { SwarmGateway } from "../components/swarm/swarmGateway";`,
        `const network = docker.getNetworkOutput({ name: ${JSON.stringify(NETWORK)} });`,
        `const gateway = new SwarmGateway("acme-gw", {`,
        `    networkId: network.id,`,
        `    settings: { models: [] },`,
        `    htpasswd: pulumi.secret(${JSON.stringify(htpasswd)}),`,
        `    acme: {`,
        `        renewal: { dnsNames: [${JSON.stringify(DOMAIN)}], email: "ops@plumberhub.test", directoryUrl: ${JSON.stringify(directoryUrl)} },`,
        `        caBundlePem: ${JSON.stringify(caBundlePem)},`,
        `    },`,
        `    retainAcmeData: false,`,
        `    image: ${JSON.stringify(LOCAL_IMAGES.gatewayImage)},`,
        `    endpointMode: "dnsrr",`,
        `    publishMode: "host",`,
        `    httpsPort: ${httpsPort},`,
        `    httpPort: ${httpPort},`,
        `    filePrefix: ${JSON.stringify(PREFIX)},`,
        `});`,
        `export const serviceName = gateway.serviceName;`,
        `export const edgeServiceName = gateway.edgeServiceName;`,
        "",
    ].join("\n");
}

let work: string;
let project: PulumiProject;
let pebble: Pebble;
let httpsPort: number;

async function volumeExists(): Promise<boolean> {
    const { stdout } = await docker(["volume", "ls", "--quiet", "--filter", `name=^${VOLUME}$`]);
    return stdout.trim() === VOLUME;
}

beforeAll(async () => {
    await requireTools({ docker: "docker.io", openssl: "openssl", pebble: "pebble" });
    await ensureSwarm();
    await ensureLocalImages([LOCAL_IMAGES.gatewayImage]);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-acme-engine-"));
    await docker(["network", "create", "--driver", "overlay", "--attachable", NETWORK]);
    pebble = await Pebble.start(PEBBLE, NETWORK, work);
    httpsPort = await freePort();
    const htpasswd = renderHtpasswd([{ user: "alice", password: "unused", scheme: "ssha" }], crypto.randomBytes(24).toString("base64url"));
    const root = copyProject(path.join(work, "project"), { withoutTests: true });
    const programFile = writeProgramProject(root, "acme-gateway", program(pebble.directoryUrl, pebble.caPem, htpasswd, httpsPort, await freePort()));
    project = new PulumiProject(path.dirname(programFile), path.join(work, "state"), crypto.randomBytes(24).toString("base64"));
    await project.pulumi(["stack", "init", STACK]);
}, 5 * 60_000);

afterAll(async () => {
    if (project) await project.pulumi(["destroy", "--yes", "--stack", STACK]).catch(() => undefined);
    await Pebble.remove(PEBBLE);
    await docker(["volume", "rm", "--force", VOLUME]).catch(() => undefined);
    await docker(["network", "rm", NETWORK]).catch(() => undefined);
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

test("pulumi up deploys a gateway that gets its certificate from the ACME server by itself", async () => {
    await project.pulumi(["up", "--yes", "--skip-preview", "--stack", STACK]);
    const gateway = await project.output<string>(STACK, "serviceName");
    const edge = await project.output<string>(STACK, "edgeServiceName");
    await Promise.all([waitForService(gateway, 1), waitForService(edge, 1)]);
    expect(await volumeExists()).toBe(true);
    expect((await servedX509(httpsPort, DOMAIN)).issuer).toBe(`CN=${DOMAIN}`); // the temporary one
    await pebble.resolve(DOMAIN, (await taskAddresses(edge, NETWORK))[0]);
    await waitUntil(
        "pebble's certificate served",
        async () => /Pebble Intermediate/.test((await servedX509(httpsPort, DOMAIN)).issuer),
        3 * 60_000,
        1000,
    );
});

test("a preview right after shows no change: the renewal happened inside the gateway, not in the stack", async () => {
    await project.pulumi(["preview", "--expect-no-changes", "--stack", STACK]);
});

test("pulumi destroy removes the gateway and, with retainAcmeData false, its ACME volume", async () => {
    await project.pulumi(["destroy", "--yes", "--stack", STACK]);
    await waitUntil("the volume to go", async () => !(await volumeExists()), 60_000, 1000);
    const { stdout } = await docker(["service", "ls", "--format", "{{.Name}}"]);
    expect(stdout.split("\n").filter((name) => name.includes("acme-gw"))).toEqual([]);
});
