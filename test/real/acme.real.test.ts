/**
 * `tls: acme` with the HTTP-01 challenge on a real single-node swarm, against Debian's `pebble` (Let's Encrypt's test
 * ACME server) and its `pebble-challtestsrv` as the DNS server pebble asks. Everything runs on a network the test
 * creates: pebble in a container on the hub's overlay network (its binaries from the Debian package, in the local
 * nginx image), the gateway and edge deployed from the stack file the platform renders (`planSwarmStack`), and the
 * test's requests go to the edge's published port on 127.0.0.1. The gateway starts on a temporary self-signed
 * certificate, pebble validates the challenge through the edge's port 80, a forced renewal runs under a bounded load,
 * a challenge that cannot succeed leaves the certificate in place, and a redeploy keeps account and certificate.
 * Needs: docker (engine running), openssl, pebble, debootstrap (first run builds the local images).
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import { renderHtpasswd } from "../../components/render/htpasswd";
import { planSwarmStack, renderSwarmStackFiles, swarmGatewayAcmeVolume, SwarmStackInput } from "../../components/render/swarm";
import { ACME_PATHS } from "../../components/render/gateway";
import { request, servedX509, tempDir } from "../helpers/gateway";
import { runBoundedLoad } from "../helpers/load";
import { Pebble } from "../helpers/pebble";
import { freePort, requireTools, waitUntil } from "../helpers/processes";
import {
    BASE_IMAGES,
    deployStack,
    docker,
    ensureLocalImages,
    ensureSwarm,
    leftovers,
    readyContainers,
    REPO_ROOT,
    removeStack,
    taskAddresses,
    waitForService,
} from "../helpers/swarm";

jest.setTimeout(15 * 60_000);

const PREFIX = "acme-e2e";
const STACK = PREFIX;
const NETWORK = `${PREFIX}-hub`;
const GATEWAY = `${STACK}_gateway`;
const EDGE = `${STACK}_gateway-edge`;
const PEBBLE = `${PREFIX}-pebble`;
const FILE_PREFIX = `${PREFIX}-gw`;
const VOLUME = swarmGatewayAcmeVolume(FILE_PREFIX);
/** The gateway's public name: only pebble's DNS server (challtestsrv) knows it. */
const DOMAIN = "models.plumberhub.test";
const USER = "alice";
const PASSWORD = crypto.randomBytes(18).toString("base64url");
const ARTIFACTS = path.join(REPO_ROOT, "test-artifacts", "acme");

let initialisedSwarm = false;
let dir: string;
let httpsPort: number;
let httpPort: number;
let pebble: Pebble;
/** Pebble's issuing root (random per run): what clients of the issued certificate trust. */
let issuerRoot: string;
let title = "ACME models";
const figures: Record<string, unknown> = {};

function hubStack(): SwarmStackInput {
    return {
        prefix: FILE_PREFIX,
        networkName: NETWORK,
        externalNetwork: true,
        models: [],
        gateway: {
            settings: { models: [], title },
            secrets: { htpasswd: renderHtpasswd([{ user: USER, password: PASSWORD, scheme: "ssha" }], crypto.randomBytes(24).toString("base64url")) },
            acme: {
                renewal: { dnsNames: [DOMAIN], email: "ops@plumberhub.test", directoryUrl: pebble.directoryUrl },
                caBundlePem: pebble.caPem,
            },
            options: {
                image: BASE_IMAGES.nginx,
                endpointMode: "dnsrr",
                publishMode: "host",
                httpsPort,
                httpPort,
                acmeVolume: VOLUME,
            },
        },
    };
}

async function deploy(): Promise<void> {
    await deployStack(STACK, renderSwarmStackFiles(planSwarmStack(hubStack())), path.join(dir, "hub"), path.join(dir, "docker-config"));
}

/** The certificate the gateway serves for DOMAIN, unverified (the temporary one is self-signed). */
const servedCertificate = () => servedX509(httpsPort, DOMAIN);

/** `plumberhub-acme renew` in the gateway's container: the exit status, the time it took and what it printed. */
async function forceRenewal(): Promise<{ ok: boolean; ms: number; output: string }> {
    const [container] = await readyContainers(GATEWAY);
    const started = Date.now();
    const result = await docker(["exec", container, ACME_PATHS.script, "renew"]).then(
        ({ stdout }) => ({ ok: true, output: stdout }),
        (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: `${error.stdout ?? ""}${error.stderr ?? ""}` }),
    );
    return { ...result, ms: Date.now() - started };
}

async function gatewayLog(timestamps = false): Promise<string> {
    const { stdout, stderr } = await docker(["service", "logs", "--raw", ...(timestamps ? ["--timestamps"] : []), GATEWAY]);
    return stdout + stderr;
}

/** Milliseconds from each `requesting` line of the gateway's log to the `issued` line that follows it. */
async function issuanceTimes(): Promise<number[]> {
    const times: number[] = [];
    let requested: number | undefined;
    for (const line of (await gatewayLog(true)).split("\n")) {
        const at = Date.parse(line.split(" ")[0]);
        if (/plumberhub-acme: requesting/.test(line)) requested = at;
        if (/plumberhub-acme: issued/.test(line) && requested !== undefined) times.push(at - requested);
    }
    return times;
}

/** GET / through the gateway as alice, trusting pebble's root: null when the landing page came back. */
async function landingPage(): Promise<string | null> {
    const reply = await request(`https://127.0.0.1:${httpsPort}/`, { ca: issuerRoot, servername: DOMAIN, user: USER, password: PASSWORD });
    return reply.status === 200 && reply.body.includes(title) ? null : `${reply.status} ${reply.body.slice(0, 80)}`;
}

const isPebbleIssued = (certificate: crypto.X509Certificate) => /Pebble Intermediate/.test(certificate.issuer);

async function teardown(): Promise<void> {
    if (dir) {
        fs.mkdirSync(ARTIFACTS, { recursive: true });
        await gatewayLog(true).then(
            (log) => fs.writeFileSync(path.join(ARTIFACTS, "gateway.log"), log),
            () => undefined,
        );
        await docker(["logs", PEBBLE]).then(
            ({ stdout, stderr }) => fs.writeFileSync(path.join(ARTIFACTS, "pebble.log"), stdout + stderr),
            () => undefined,
        );
    }
    await Pebble.remove(PEBBLE);
    await removeStack(STACK);
    await waitUntil(
        `volume ${VOLUME} removed`,
        async () => {
            const { stdout } = await docker(["volume", "ls", "-q", "--filter", `name=^${VOLUME}$`]);
            if (stdout.trim() === "") return true;
            await docker(["volume", "rm", VOLUME]).catch(() => undefined);
            return false;
        },
        60_000,
        1000,
    );
    await docker(["network", "rm", NETWORK]).catch(() => undefined);
}

beforeAll(async () => {
    await requireTools({ docker: "docker.io", openssl: "openssl", pebble: "pebble", "pebble-challtestsrv": "pebble", debootstrap: "debootstrap" });
    await docker(["info", "--format", "{{.ServerVersion}}"]);
    initialisedSwarm = await ensureSwarm();
    await ensureLocalImages([BASE_IMAGES.nginx]);
    await teardown(); // a run that was killed may have left its objects
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    dir = tempDir("acme-e2e-");
    fs.mkdirSync(path.join(dir, "docker-config"), { mode: 0o700 });
    [httpsPort, httpPort] = [await freePort(), await freePort()];

    await docker(["network", "create", "--driver", "overlay", "--attachable", NETWORK]);
    pebble = await Pebble.start(PEBBLE, NETWORK, dir);
    figures.deployedAt = Date.now();
    await deploy();
    await Promise.all([waitForService(GATEWAY, 1), waitForService(EDGE, 1)]);
});

afterAll(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, "figures.json"), JSON.stringify(figures, null, 2));
    await teardown();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
    if (initialisedSwarm) await docker(["swarm", "leave", "--force"]);
});

describe("ACME HTTP-01 in the swarm gateway, against pebble", () => {
    test("nginx starts on a temporary self-signed certificate for the gateway's name before the first issuance", async () => {
        const certificate = await servedCertificate();
        expect(certificate.subject).toBe(`CN=${DOMAIN}`);
        expect(certificate.issuer).toBe(certificate.subject);
        expect(certificate.subjectAltName).toBe(`DNS:${DOMAIN}`);
        const status = await request(`https://127.0.0.1:${httpsPort}/healthz/certificate`, { ca: certificate.toString(), servername: DOMAIN });
        expect(status.status).toBe(200);
        expect(JSON.parse(status.body)).toMatchObject({ temporary: true });
    });

    test("once its name resolves to the edge, the gateway gets a certificate from pebble and serves it, with no deploy", async () => {
        const [edgeAddress] = await taskAddresses(EDGE, NETWORK);
        expect(edgeAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
        await pebble.resolve(DOMAIN, edgeAddress);
        const resolvedAt = Date.now();
        await waitUntil("a pebble certificate served", async () => isPebbleIssued(await servedCertificate()), 3 * 60_000, 500);
        figures.firstIssuance = { msAfterNameResolves: Date.now() - resolvedAt, msAfterDeploy: Date.now() - (figures.deployedAt as number) };
        figures.issuanceMs = await issuanceTimes();
        const log = await gatewayLog();
        expect(log).toMatch(/plumberhub-acme: issued: certificate for models\.plumberhub\.test valid until \d{4}-/);
    });

    test("the served chain verifies against pebble's root for the gateway's name", async () => {
        issuerRoot = await pebble.issuerRoot();
        expect(issuerRoot).toContain("-----BEGIN CERTIFICATE-----");
        expect(await landingPage()).toBeNull();
    });

    test("the challenge path answers without credentials over HTTP, while every other HTTP path redirects to HTTPS", async () => {
        const [container] = await readyContainers(GATEWAY);
        await docker([
            "exec",
            container,
            "sh",
            "-c",
            `mkdir -p ${ACME_PATHS.webroot}/.well-known/acme-challenge && echo probe-token > ${ACME_PATHS.webroot}/.well-known/acme-challenge/probe`,
        ]);
        try {
            const challenge = await request(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/probe`);
            expect([challenge.status, challenge.body.trim()]).toEqual([200, "probe-token"]);
            const missing = await request(`http://127.0.0.1:${httpPort}/.well-known/acme-challenge/unknown`);
            expect(missing.status).toBe(404);
            const other = await request(`http://127.0.0.1:${httpPort}/.well-known/other`);
            expect(other.status).toBe(301);
        } finally {
            await docker(["exec", container, "rm", "-f", `${ACME_PATHS.webroot}/.well-known/acme-challenge/probe`]);
        }
    });

    test("/healthz/certificate gives the served certificate's expiry, days left and the renewal time at two-thirds of its life", async () => {
        const certificate = await servedCertificate();
        const reply = await request(`https://127.0.0.1:${httpsPort}/healthz/certificate`, { ca: issuerRoot, servername: DOMAIN });
        expect(reply.status).toBe(200);
        expect(reply.headers["cache-control"]).toBe("no-store");
        const status = JSON.parse(reply.body) as { notAfter: string; daysLeft: number; renewAfter: string; temporary: boolean };
        const notBefore = Date.parse(certificate.validFrom);
        const notAfter = Date.parse(certificate.validTo);
        expect(status.temporary).toBe(false);
        expect(Date.parse(status.notAfter)).toBe(notAfter);
        expect(status.daysLeft).toBe(Math.floor((notAfter - Date.now()) / 86_400_000));
        expect(Math.abs(Date.parse(status.renewAfter) - (notBefore + ((notAfter - notBefore) * 2) / 3))).toBeLessThanOrEqual(1000);
        figures.status = status;
    });

    test("a forced renewal under load fails no request and the new certificate is served", async () => {
        const before = await servedCertificate();
        let done = false;
        const load = runBoundedLoad(landingPage, { concurrency: 4, maxRequests: 50_000, maxMs: 5 * 60_000, stop: () => done });
        await new Promise((resolve) => setTimeout(resolve, 2000));
        let renewal: Awaited<ReturnType<typeof forceRenewal>>;
        try {
            renewal = await forceRenewal();
            await new Promise((resolve) => setTimeout(resolve, 3000));
        } finally {
            done = true;
        }
        const result = await load;
        figures.renewalUnderLoad = {
            renewMs: renewal.ms,
            issuanceMs: (await issuanceTimes()).at(-1),
            ok: result.ok,
            failed: result.failed,
            elapsedMs: result.elapsedMs,
        };
        expect(renewal.ok).toBe(true);
        expect(result.failures).toEqual([]);
        expect(result.ok).toBeGreaterThan(50);
        const after = await servedCertificate();
        expect(isPebbleIssued(after)).toBe(true);
        expect(after.serialNumber).not.toBe(before.serialNumber);
    });

    test("a challenge that cannot succeed leaves the served certificate in place and the log says why", async () => {
        const before = await servedCertificate();
        // Nothing listens on port 80 of the pebble container: the validation's connection is refused.
        await pebble.resolve(DOMAIN, await pebble.address(NETWORK));
        try {
            const renewal = await forceRenewal();
            expect(renewal.ok).toBe(false);
            expect(renewal.output).toContain("plumberhub-acme: failed");
        } finally {
            await pebble.resolve(DOMAIN, (await taskAddresses(EDGE, NETWORK))[0]);
        }
        expect((await servedCertificate()).serialNumber).toBe(before.serialNumber);
        const log = await gatewayLog();
        expect(log).toMatch(/plumberhub-acme: renewal failed \(lego said what follows\): keeping the current certificate; next attempt in 30 s/);
        expect(log).toMatch(/plumberhub-acme: {3}lego: .*urn:ietf:params:acme:error:connection.*connection refused/);
        expect(await landingPage()).toBeNull();
    });

    test("a redeploy of the gateway keeps the account and the certificate: the new task serves it without a new order", async () => {
        const before = await servedCertificate();
        const ordersBefore = await pebble.orders();
        title = "ACME models, redeployed";
        await deploy();
        await waitUntil("the gateway serves the new title", async () => (await landingPage()) === null, 2 * 60_000, 500);
        await waitForService(GATEWAY, 1);
        expect((await servedCertificate()).serialNumber).toBe(before.serialNumber);
        expect(await pebble.orders()).toBe(ordersBefore);
    });
});

test("teardown leaves no services, networks, configs, secrets or volumes", async () => {
    await teardown();
    expect(await leftovers(PREFIX)).toEqual([]);
});
