/**
 * The three-node swarm fixture (test/helpers/swarmCluster.ts) checked for what later multi-node tests rely on:
 * three Ready nodes with their own addresses, the manager's API over tcp:// (mutual TLS) and ssh://, services
 * spread over the nodes and answering on each node's address, overlay traffic between nodes, and a killed worker
 * going Down, its tasks moving, and the worker coming back. Times of start and of each test are printed at the end.
 * Needs: docker (engine running), openssl, openssh-client (ssh, ssh-keygen, ssh-keyscan, ssh-agent), debootstrap
 * (first run builds the local images).
 */
import Docker from "dockerode";
import * as fs from "fs";
import { requireTools, waitUntil } from "../helpers/processes";
import { BASE_IMAGES, docker, ensureLocalImages } from "../helpers/swarm";
import { SwarmCluster, SwarmClusterNode } from "../helpers/swarmCluster";

jest.setTimeout(5 * 60_000);

const PREFIX = "phmulti";
const NGINX = BASE_IMAGES.nginx;
/** Host-mode published port of the spread service, on every node's address. */
const WEB_PORT = 8080;

let cluster: SwarmCluster;
const times: Record<string, number> = {};
let testStarted = 0;

/** The manager's API through dockerode over TLS; `withClientCertificate: false` leaves the client certificate out. */
function tlsClient(withClientCertificate = true): Docker {
    const { caCertificate, certificate, key } = cluster.tls;
    return new Docker({
        protocol: "https",
        host: cluster.manager.address,
        port: 2376,
        ca: caCertificate,
        ...(withClientCertificate ? { cert: certificate, key } : {}),
        timeout: 15_000,
    });
}

/** Creates a service on the swarm (detached) from the manager's own CLI. Images are loaded, so nothing is resolved on a registry. */
async function createService(name: string, args: string[], image: string, command: string[] = []): Promise<void> {
    await cluster.exec(cluster.manager, ["service", "create", "--detach", "--no-resolve-image", "--name", name, ...args, image, ...command]);
}

async function removeService(name: string): Promise<void> {
    if (cluster) await cluster.exec(cluster.manager, ["service", "rm", name]).catch(() => undefined);
}

beforeAll(async () => {
    await requireTools({ docker: "docker.io", openssl: "openssl", ssh: "openssh-client", "ssh-agent": "openssh-client" });
    await ensureLocalImages([NGINX]);
    const started = Date.now();
    cluster = await SwarmCluster.start(PREFIX, { images: [NGINX] });
    times.start = Date.now() - started;
});

afterAll(async () => {
    await cluster?.destroy();
    console.log(`multi-node swarm times (ms): ${JSON.stringify(times)}`);
});

beforeEach(() => {
    testStarted = Date.now();
});

afterEach(() => {
    times[expect.getState().currentTestName ?? "?"] = Date.now() - testStarted;
});

describe("a three-node swarm on this machine", () => {
    test("three nodes are Ready, one manager and two workers, each with its own address on the test network", async () => {
        const rows = await cluster.swarmNodes();
        expect(rows.map((row) => [row.name, row.status]).sort()).toEqual(cluster.nodes.map((node) => [node.name, "Ready"]).sort());
        expect(rows.filter((row) => row.managerStatus === "Leader").map((row) => row.name)).toEqual([cluster.manager.name]);
        expect(cluster.workers.map((node) => node.role)).toEqual(["worker", "worker"]);
        expect(
            rows
                .filter((row) => row.managerStatus === "")
                .map((row) => row.name)
                .sort(),
        ).toEqual(cluster.workers.map((node) => node.name).sort());

        const addresses = cluster.nodes.map((node) => node.address);
        expect(new Set(addresses).size).toBe(3);
        for (const node of cluster.nodes) {
            const [ip] = (
                await docker(["inspect", "--format", `{{(index .NetworkSettings.Networks "${cluster.network}").IPAddress}}`, node.name])
            ).stdout
                .trim()
                .split("\n");
            expect(ip).toBe(node.address);
            // The swarm knows each node by that address too (what it advertised).
            const advertised = (
                await cluster.exec(cluster.manager, ["node", "inspect", "--format", "{{.Status.Addr}}", await cluster.nodeId(node)])
            ).trim();
            expect(advertised).toBe(node.address);
        }
    });

    test("the manager's API answers over tcp:// with the client certificate and refuses a client without one", async () => {
        expect((await cluster.remoteDocker("tcp", ["info", "--format", "{{.Name}} {{.Swarm.ControlAvailable}}"])).trim()).toBe(
            `${cluster.manager.name} true`,
        );
        const info = await tlsClient().info();
        expect(info.Name).toBe(cluster.manager.name);
        expect(info.Swarm.LocalNodeState).toBe("active");

        const caPath = `${cluster.certPath}/ca.pem`;
        await expect(docker(["--tlsverify", "--tlscacert", caPath, "-H", cluster.tcpHost, "info"], { timeoutMs: 15_000 })).rejects.toThrow(
            /bad certificate/,
        );
        // The server asks for a client certificate and, getting none, ends the handshake (TLS alert 42, bad certificate).
        await expect(tlsClient(false).info()).rejects.toThrow(/bad certificate/);
    });

    test("the manager's API answers over ssh:// with the test's key, the host key checked", async () => {
        expect((await cluster.remoteDocker("ssh", ["info", "--format", "{{.Name}}"])).trim()).toBe(cluster.manager.name);

        // dockerode speaks ssh itself (ssh2): the key from the agent, the host key compared with known_hosts.
        const hostKey = Buffer.from(fs.readFileSync(cluster.sshKnownHosts, "utf8").trim().split(/\s+/)[2], "base64");
        let hostKeyChecked = false;
        const client = new Docker({
            protocol: "ssh",
            host: cluster.manager.address,
            port: 22,
            username: "root",
            sshOptions: {
                agent: cluster.sshAuthSock,
                hostVerifier: (key: Buffer) => (hostKeyChecked = key.equals(hostKey)),
                readyTimeout: 15_000,
            },
        });
        expect((await client.info()).Name).toBe(cluster.manager.name);
        expect(hostKeyChecked).toBe(true);
    });

    describe("a service spread over the nodes", () => {
        const WEB = `${PREFIX}-web`;
        const OVERLAY = `${PREFIX}-overlay`;

        beforeAll(async () => {
            await cluster.exec(cluster.manager, ["network", "create", "--driver", "overlay", "--attachable", OVERLAY]);
            // Each task writes its node's hostname as the page, so an answer tells which node served it.
            await createService(
                WEB,
                ["--replicas", "3", "--placement-pref", "spread=node.id", "--endpoint-mode", "dnsrr", "--network", OVERLAY].concat([
                    "--publish",
                    `mode=host,target=80,published=${WEB_PORT}`,
                    "--env",
                    "NODE={{.Node.Hostname}}",
                ]),
                NGINX,
                ["sh", "-c", 'echo "$NODE" > /var/www/html/index.html && exec nginx -g "daemon off;"'],
            );
            await waitUntil(`3 running tasks of ${WEB}`, async () => (await cluster.runningTaskNodes(WEB)).length === 3, 90_000, 500);
        });

        afterAll(async () => {
            await removeService(WEB);
            await waitUntil(
                `${WEB} gone`,
                async () => !(await cluster.exec(cluster.manager, ["service", "ls", "-q", "--filter", `name=${WEB}`])).trim(),
                30_000,
            )
                .then(() => cluster.exec(cluster.manager, ["network", "rm", OVERLAY]))
                .catch(() => undefined);
        });

        test("runs one task per node and answers from each node's address on a host-mode published port", async () => {
            expect(await cluster.runningTaskNodes(WEB)).toEqual(cluster.nodes.map((node) => node.name).sort());
            for (const node of cluster.nodes) {
                const url = `http://${node.address}:${WEB_PORT}/`;
                let body = "";
                await waitUntil(
                    url,
                    async () => {
                        const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
                        body = (await response.text()).trim();
                        return response.status === 200;
                    },
                    30_000,
                );
                expect(body).toBe(node.name);
            }
        });

        test("its tasks reach each other across nodes over an overlay network", async () => {
            // From a container on the manager: every task's overlay address (tasks.<service>), each one fetched.
            const script = `getent ahostsv4 tasks.${WEB} | awk '{print $1}' | sort -u | while read ip; do curl -fsS -m 5 "http://$ip/"; done`;
            const output = await cluster.exec(cluster.manager, ["run", "--rm", "--network", OVERLAY, NGINX, "sh", "-c", script]);
            expect(output.trim().split("\n").sort()).toEqual(cluster.nodes.map((node) => node.name).sort());
        });
    });

    describe("a worker that dies", () => {
        const MOVED = `${PREFIX}-moved`;
        let victim: SwarmClusterNode;
        let victimId: string;

        beforeAll(async () => {
            victim = cluster.workers[cluster.workers.length - 1];
            victimId = await cluster.nodeId(victim);
            await createService(MOVED, ["--replicas", "3", "--placement-pref", "spread=node.id", "--endpoint-mode", "dnsrr"], NGINX);
            await waitUntil(`3 running tasks of ${MOVED}`, async () => (await cluster.runningTaskNodes(MOVED)).length === 3, 90_000, 500);
        });

        afterAll(() => removeService(MOVED));

        test("a killed worker shows Down on the manager and its tasks are rescheduled onto the other nodes", async () => {
            expect(await cluster.runningTaskNodes(MOVED)).toContain(victim.name);
            const killed = Date.now();
            await cluster.kill(victim);
            await cluster.waitForStatus(victim, "Down", 90_000);
            times["killed worker seen Down"] = Date.now() - killed;
            await waitUntil(
                `3 running tasks of ${MOVED} off ${victim.name}`,
                async () => {
                    const nodes = await cluster.runningTaskNodes(MOVED);
                    return nodes.length === 3 && !nodes.includes(victim.name);
                },
                90_000,
                500,
            );
            times["tasks running again elsewhere"] = Date.now() - killed;
            const others = cluster.nodes.filter((node) => node.name !== victim.name).map((node) => node.name);
            expect((await cluster.runningTaskNodes(MOVED)).every((name) => others.includes(name))).toBe(true);
        });

        test("a restarted worker rejoins the swarm by itself as the same node and is Ready again", async () => {
            const restarted = Date.now();
            await cluster.restart(victim);
            times["restarted worker Ready"] = Date.now() - restarted;
            expect(await cluster.nodeId(victim)).toBe(victimId);
            const rows = await cluster.swarmNodes();
            expect(rows.map((row) => [row.name, row.status]).sort()).toEqual(cluster.nodes.map((node) => [node.name, "Ready"]).sort());
        });
    });
});
