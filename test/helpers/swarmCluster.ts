/**
 * A real multi-node Docker Swarm on this one machine: each node is a Docker engine (`local/swarm-node:bookworm`)
 * in a container of its own, on a private bridge network with fixed addresses, so tests can deploy onto several
 * nodes and kill or drain them. The manager also serves its engine API the two ways a deployment reaches a remote
 * swarm: `tcp://` with mutual TLS and `ssh://` as root with a key; both are made here and checked before `start`
 * returns.
 *
 * Why the nodes look the way they do (measured on these machines):
 * - `--privileged` fails (the capability bounding set lacks CAP_SYS_RESOURCE), so a node gets every capability but
 *   that one, no seccomp/AppArmor/masked paths, and the host's cgroup tree (the inner runc writes to it).
 * - No registry can be reached: every image a node runs is `docker save`d on the host and loaded into the node.
 * - The network is `--internal`: nothing a node runs reaches past the test network, yet the host still reaches
 *   each node's address (host-mode published ports answer there).
 * - No IPVS in this kernel: services need `--endpoint-mode dnsrr` and `--publish mode=host,…`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { makeCertificate, makeEcKey, makeTestCa } from "./pki";
import { run, RunError, Service, startService, waitUntil } from "./processes";
import { docker, ensureLocalImages } from "./swarm";

/** The node image (scripts/build-local-images.sh): Debian's docker.io engine, iproute2, iptables and sshd. */
export const SWARM_NODE_IMAGE = "local/swarm-node:bookworm";

/** The manager's TLS port for the engine API (Docker's convention for `--tlsverify`). */
export const MANAGER_TLS_PORT = 2376;

/** One node of the cluster: its container (whose name is also its hostname, so also its swarm hostname). */
export interface SwarmClusterNode {
    /** Container name = hostname = the node's `Hostname` in `docker node ls`. */
    readonly name: string;
    /** Its fixed IPv4 address on the cluster's network. */
    readonly address: string;
    readonly role: "manager" | "worker";
}

/** A node, or its name. */
export type NodeRef = SwarmClusterNode | string;

/** What `SwarmCluster.start` takes. */
export interface SwarmClusterOptions {
    /** Worker nodes besides the manager; default 2. */
    workers?: number;
    /** Images loaded into every node (nothing can be pulled). */
    images?: string[];
    /** Images loaded into the manager only. */
    managerImages?: string[];
    /**
     * `docker swarm init --dispatcher-heartbeat`: how often agents report to the manager. A node is marked Down a
     * few heartbeats after it stops reporting. Default: Docker's own (5s).
     */
    dispatcherHeartbeat?: string;
}

/** A swarm node as the manager sees it (`docker node ls`). */
export interface SwarmNodeStatus {
    id: string;
    /** The node's hostname, which is its container name. */
    name: string;
    /** "Ready", "Down", "Unknown" or "Disconnected". */
    status: string;
    /** "Active", "Pause" or "Drain". */
    availability: string;
    /** "Leader", "Reachable", "Unreachable" on managers, "" on workers. */
    managerStatus: string;
}

/** A task of a service as the manager sees it (`docker service ps`). */
export interface SwarmTask {
    id: string;
    name: string;
    /** The node's hostname (its container name), "" when not yet assigned. */
    node: string;
    desiredState: string;
    /** E.g. "Running 5 seconds ago", "Shutdown 2 seconds ago". */
    currentState: string;
    error: string;
}

/** Where the manager's TLS and ssh files are copied to inside the manager. */
const NODE_FILES = "/etc/plumberhub-node";
/** Labels every container and network made here, by prefix. */
const LABEL = "org.plumberhub.swarm-cluster";
const ENGINE_TIMEOUT_MS = 60_000;
const NODE_STATUS_TIMEOUT_MS = 90_000;
const IMAGE_TIMEOUT_MS = 10 * 60_000;

/**
 * The flags that make a container able to run a Docker engine here without `--privileged`. The engine's data is
 * an anonymous volume (overlay2 cannot sit on the container's own overlay root); `docker rm -v` removes it.
 */
const NODE_RUN_FLAGS = [
    "--cap-add",
    "ALL",
    "--cap-drop",
    "SYS_RESOURCE",
    "--security-opt",
    "seccomp=unconfined",
    "--security-opt",
    "apparmor=unconfined",
    "--security-opt",
    "systempaths=unconfined",
    "--cgroupns",
    "host",
    "-v",
    "/sys/fs/cgroup:/sys/fs/cgroup",
    "--mount",
    "type=volume,dst=/var/lib/docker",
];

/** The node container's command: a shell script that ends by exec'ing dockerd (and, on the manager, starts sshd). */
function nodeScript(role: "manager" | "worker"): string {
    const lines = [
        "set -e",
        // A killed node keeps its filesystem: dockerd refuses to start over the pid file of the engine that died.
        "rm -rf /run/docker /run/docker.pid /run/docker.sock /run/sshd.pid",
        // Images are loaded, never pulled, yet the engine tries a pull before starting each task; with no DNS
        // server that try fails at once instead of after a 20 s DNS timeout (and nothing is asked outside).
        "echo 'nameserver 127.0.0.1' > /etc/resolv.conf",
        // The node's containers go under the node's own cgroup: they are accounted to the node, and the host's
        // runtime removes their cgroups with the node's when it is killed or removed (else they leak).
        'cg=$(sed -n -e "s/^[0-9]*:memory://p" -e "s/^0:://p" /proc/self/cgroup | head -n 1)',
    ];
    let api = "-H unix:///var/run/docker.sock";
    if (role === "manager") {
        lines.push(
            "mkdir -p /run/sshd /root/.ssh",
            "chmod 700 /root/.ssh",
            `install -m 600 ${NODE_FILES}/authorized_keys /root/.ssh/authorized_keys`,
            // Host keys are made once: a restarted manager keeps them, so known_hosts stays valid.
            "ssh-keygen -A",
            "/usr/sbin/sshd -o PasswordAuthentication=no",
        );
        api +=
            ` -H tcp://0.0.0.0:${MANAGER_TLS_PORT} --tlsverify --tlscacert ${NODE_FILES}/ca.pem` +
            ` --tlscert ${NODE_FILES}/server.pem --tlskey ${NODE_FILES}/server.key`;
    }
    lines.push(`exec dockerd --cgroup-parent "$cg/nested" ${api}`);
    return lines.join("\n");
}

interface Cidr {
    base: number;
    bits: number;
}

function parseCidr(cidr: string): Cidr | undefined {
    const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr.trim());
    if (!match) return undefined;
    const [a, b, c, d] = match.slice(1, 5).map(Number);
    return { base: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0, bits: Number(match[5]) };
}

function overlaps(x: Cidr, y: Cidr): boolean {
    const bits = Math.min(x.bits, y.bits);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    return (x.base & mask) >>> 0 === (y.base & mask) >>> 0;
}

/** The IPv4 routes of this network namespace (/proc/net/route: little-endian hex), without the default route. */
function hostRoutes(): Cidr[] {
    const toInt = (hex: string) => {
        const n = parseInt(hex, 16);
        return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0;
    };
    return fs
        .readFileSync("/proc/net/route", "utf8")
        .split("\n")
        .slice(1)
        .map((line) => line.trim().split(/\s+/))
        .filter((fields) => fields.length >= 8)
        .map((fields) => {
            const mask = toInt(fields[7]);
            return { base: toInt(fields[1]), bits: mask.toString(2).replace(/0/g, "").length };
        })
        .filter((route) => route.bits > 0);
}

/** Subnets of every Docker network the host engine knows (bridges and its swarm's overlays). */
async function dockerSubnets(): Promise<Cidr[]> {
    const ids = (await docker(["network", "ls", "-q"])).stdout.split("\n").filter((id) => id.trim() !== "");
    if (ids.length === 0) return [];
    const { stdout } = await docker(["network", "inspect", "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}", ...ids]);
    return stdout
        .split(/\s+/)
        .map(parseCidr)
        .filter((cidr): cidr is Cidr => cidr !== undefined);
}

/**
 * Creates the cluster's network on the first free /24 from 10.213.0.0 upward: candidates that overlap a Docker
 * network or a host route are skipped, and `docker network create` (which refuses an overlapping pool) decides
 * among the rest, so two fixtures starting at once still get different subnets. Returns the subnet.
 */
async function createNetwork(name: string, prefix: string): Promise<string> {
    const taken = [...(await dockerSubnets()), ...hostRoutes()];
    let attempts = 0;
    for (let second = 213; second <= 254; second++) {
        for (let third = 0; third <= 255; third++) {
            const subnet = `10.${second}.${third}.0/24`;
            const cidr = parseCidr(subnet) as Cidr;
            if (taken.some((other) => overlaps(cidr, other))) continue;
            try {
                await docker(["network", "create", "--driver", "bridge", "--internal", "--subnet", subnet, "--label", `${LABEL}=${prefix}`, name]);
                return subnet;
            } catch (error) {
                // Someone else took it since we looked: try the next one, a bounded number of times.
                if (!/overlap/i.test(errorText(error)) || ++attempts >= 32) throw error;
            }
        }
    }
    throw new Error("no free /24 between 10.213.0.0 and 10.254.255.0");
}

function errorText(error: unknown): string {
    if (error instanceof Error) return `${error.message}\n${(error as Partial<RunError>).stderr ?? ""}`;
    return String(error);
}

/** Whether a docker error only says the object is already gone. */
function alreadyGone(error: unknown): boolean {
    const lines = ((error as Partial<RunError>).stderr ?? errorText(error))
        .split("\n")
        .filter((line) => line.trim() !== "" && !/^exit status \d+$/.test(line.trim()));
    return lines.length > 0 && lines.every((line) => /no such (container|network)|not found/i.test(line));
}

/** Quotes one word for sh. */
function shellQuote(word: string): string {
    return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** What teardown removes; filled in as `start` makes things, so a failed start removes what it made. */
interface Parts {
    containers: string[];
    network?: string;
    agent?: Service;
    dir?: string;
}

async function teardown(parts: Parts): Promise<void> {
    const problems: string[] = [];
    if (parts.containers.length > 0) {
        // `-v`: the node's engine data is an anonymous volume, which would otherwise stay behind.
        await docker(["rm", "-f", "-v", ...parts.containers]).catch((error) => {
            if (!alreadyGone(error)) problems.push(errorText(error));
        });
    }
    if (parts.network) {
        await docker(["network", "rm", parts.network]).catch((error) => {
            if (!alreadyGone(error)) problems.push(errorText(error));
        });
    }
    await parts.agent?.stop();
    if (parts.dir) fs.rmSync(parts.dir, { recursive: true, force: true });
    if (problems.length > 0) throw new Error(`swarm cluster teardown: ${problems.join("\n")}`);
}

/** Waits until the engine inside `name` answers; fails at once (with the node's log) if its container stopped. */
async function waitForEngine(name: string, timeoutMs = ENGINE_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        const ok = await docker(["exec", name, "docker", "info", "--format", "{{.ID}}"], { timeoutMs: 10_000 }).then(
            () => true,
            () => false,
        );
        if (ok) return;
        const running = (await docker(["inspect", "--format", "{{.State.Running}}", name])).stdout.trim();
        if (running !== "true") {
            const logs = await docker(["logs", "--tail", "20", name]).then(
                (result) => result.stdout + result.stderr,
                (error) => errorText(error),
            );
            throw new Error(`node ${name} stopped while its engine was starting:\n${logs}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the engine in node ${name} did not answer within ${timeoutMs} ms`);
}

/** Saves `images` once into a tar in `dir` and loads it into every node in `names` at the same time. */
async function loadImagesInto(dir: string, images: string[], names: string[]): Promise<void> {
    const unique = [...new Set(images)];
    if (unique.length === 0 || names.length === 0) return;
    const tar = fs.mkdtempSync(path.join(dir, "images-")) + "/images.tar";
    try {
        await docker(["save", "-o", tar, ...unique], { timeoutMs: IMAGE_TIMEOUT_MS });
        await Promise.all(
            names.map((name) => run("sh", ["-c", 'docker exec -i "$1" docker load < "$2"', "sh", name, tar], { timeoutMs: IMAGE_TIMEOUT_MS })),
        );
    } finally {
        fs.rmSync(path.dirname(tar), { recursive: true, force: true });
    }
}

const HOUR_MS = 3_600_000;

/** CA, manager server certificate (SAN = its address and name) and client certificate, with openssl (test/helpers/pki). */
async function makeTls(dir: string, manager: SwarmClusterNode) {
    const pki = path.join(dir, "pki");
    fs.mkdirSync(pki, { recursive: true });
    // A minute back: tolerates clocks that differ a little (here they are the same clock).
    const notBefore = new Date(Date.now() - 60_000);
    const notAfter = new Date(Date.now() + 24 * HOUR_MS);
    const issuer = await makeTestCa(pki, "ca", "plumberhub test swarm CA", notBefore, notAfter);
    const caCert = issuer.certPath;
    const [serverKey, clientKey] = await Promise.all([makeEcKey(pki, "server"), makeEcKey(pki, "client")]);
    const serverCert = await makeCertificate(pki, {
        name: "server",
        keyPath: serverKey,
        commonName: manager.name,
        isCa: false,
        allowedUses: ["digital_signature", "server_auth"],
        dnsNames: [manager.name],
        ipAddresses: [manager.address],
        notBefore,
        notAfter,
        issuer,
    });
    const clientCert = await makeCertificate(pki, {
        name: "client",
        keyPath: clientKey,
        commonName: "plumberhub test client",
        isCa: false,
        allowedUses: ["digital_signature", "client_auth"],
        notBefore,
        notAfter,
        issuer,
    });
    // The client side in the docker CLI's layout (DOCKER_CERT_PATH): ca.pem, cert.pem, key.pem.
    const certPath = path.join(dir, "client-tls");
    fs.mkdirSync(certPath, { recursive: true });
    fs.copyFileSync(caCert, path.join(certPath, "ca.pem"));
    fs.copyFileSync(clientCert, path.join(certPath, "cert.pem"));
    fs.copyFileSync(clientKey, path.join(certPath, "key.pem"));
    fs.chmodSync(path.join(certPath, "key.pem"), 0o600);
    return { caCert, serverCert, serverKey, certPath };
}

/** Everything the constructor takes: what `start` made. */
interface ClusterParts {
    prefix: string;
    network: string;
    subnet: string;
    manager: SwarmClusterNode;
    workers: SwarmClusterNode[];
    certPath: string;
    sshKeyPath: string;
    sshKnownHosts: string;
    sshOpts: string[];
    sshAuthSock: string;
    sshEnv: Record<string, string>;
    agent: Service;
    dir: string;
}

/**
 * A running multi-node swarm made by {@link SwarmCluster.start}; {@link SwarmCluster.destroy} removes every part.
 * Only the cluster's own containers and network are ever contacted.
 */
export class SwarmCluster {
    /** The name prefix of every container and of the network. */
    readonly prefix: string;
    /** The cluster's bridge network: `${prefix}-net`. */
    readonly network: string;
    /** Its IPv4 subnet, e.g. "10.213.0.0/24"; the manager is .10, the workers .11, .12, … */
    readonly subnet: string;
    readonly manager: SwarmClusterNode;
    readonly workers: readonly SwarmClusterNode[];
    /** The manager, then the workers. */
    readonly nodes: readonly SwarmClusterNode[];
    /** The manager's engine API with mutual TLS: `tcp://MANAGER:2376`. */
    readonly tcpHost: string;
    /** The client's PEM files for {@link SwarmCluster.tcpHost}: the CA that signed the server, the client certificate and key. */
    readonly tls: { readonly caCertificate: string; readonly certificate: string; readonly key: string };
    /** The same files in the docker CLI's layout (ca.pem, cert.pem, key.pem): `DOCKER_CERT_PATH` or `--tlscacert …`. */
    readonly certPath: string;
    /** The manager's engine API over ssh: `ssh://root@MANAGER`. */
    readonly sshHost: string;
    /**
     * Options for the `ssh` binary (the Docker Pulumi provider's `sshOpts`): no user or system ssh config, the
     * test's key, and the manager's host key checked strictly against {@link SwarmCluster.sshKnownHosts}.
     */
    readonly sshOpts: string[];
    /** The ssh-agent socket holding the test's key (dockerode's `sshOptions.agent`, or `SSH_AUTH_SOCK`). */
    readonly sshAuthSock: string;
    /** The private key (ed25519, no passphrase) root's authorized_keys on the manager accepts. */
    readonly sshKeyPath: string;
    /** A known_hosts file with the manager's ed25519 host key. */
    readonly sshKnownHosts: string;
    /**
     * Environment for the docker CLI with `-H ssh://…`: the CLI takes no ssh options (it honours only ~/.ssh/config),
     * so PATH starts with an `ssh` wrapper that adds {@link SwarmCluster.sshOpts}; plus `SSH_AUTH_SOCK`.
     */
    readonly sshEnv: Readonly<Record<string, string>>;
    /** The temp dir holding keys, certificates, known_hosts and the agent socket; removed by `destroy`. */
    readonly dir: string;
    private readonly agent: Service;
    private destroyed = false;

    private constructor(parts: ClusterParts) {
        this.prefix = parts.prefix;
        this.network = parts.network;
        this.subnet = parts.subnet;
        this.manager = parts.manager;
        this.workers = parts.workers;
        this.nodes = [parts.manager, ...parts.workers];
        this.tcpHost = `tcp://${parts.manager.address}:${MANAGER_TLS_PORT}`;
        this.certPath = parts.certPath;
        this.tls = {
            caCertificate: fs.readFileSync(path.join(parts.certPath, "ca.pem"), "utf8"),
            certificate: fs.readFileSync(path.join(parts.certPath, "cert.pem"), "utf8"),
            key: fs.readFileSync(path.join(parts.certPath, "key.pem"), "utf8"),
        };
        this.sshHost = `ssh://root@${parts.manager.address}`;
        this.sshOpts = parts.sshOpts;
        this.sshAuthSock = parts.sshAuthSock;
        this.sshKeyPath = parts.sshKeyPath;
        this.sshKnownHosts = parts.sshKnownHosts;
        this.sshEnv = parts.sshEnv;
        this.dir = parts.dir;
        this.agent = parts.agent;
    }

    /**
     * Starts a swarm of one manager and `options.workers` workers (default 2) named `${prefix}-manager`,
     * `${prefix}-worker1`, …, loads the images, and returns once every node is Ready and the manager's API answers
     * over tcp:// (mutual TLS) and ssh://. Leftovers of an earlier run with the same prefix are removed first. On any
     * failure it removes what it made and throws with the reason.
     */
    static async start(prefix: string, options: SwarmClusterOptions = {}): Promise<SwarmCluster> {
        const workerCount = options.workers ?? 2;
        if (!Number.isInteger(workerCount) || workerCount < 0 || workerCount > 40) throw new Error(`workers must be 0…40, got ${workerCount}`);
        await ensureLocalImages([SWARM_NODE_IMAGE]);
        const network = `${prefix}-net`;
        const names = [`${prefix}-manager`, ...Array.from({ length: workerCount }, (_, i) => `${prefix}-worker${i + 1}`)];
        // A crashed earlier run leaves containers and a network under these very names.
        await teardown({ containers: names, network });

        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
        const parts: Parts = { containers: [], dir };
        try {
            const subnet = await createNetwork(network, prefix);
            parts.network = network;
            const base = subnet.replace(/\.0\/24$/, "");
            const nodes: SwarmClusterNode[] = names.map((name, i) => ({ name, address: `${base}.${10 + i}`, role: i === 0 ? "manager" : "worker" }));
            const [manager, ...workers] = nodes;

            const tls = await makeTls(dir, manager);
            const sshDir = path.join(dir, "ssh");
            fs.mkdirSync(sshDir, { recursive: true, mode: 0o700 });
            const sshKeyPath = path.join(sshDir, "id_ed25519");
            await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `${prefix}-test`, "-f", sshKeyPath]);
            const managerFiles = path.join(dir, "manager-files");
            fs.mkdirSync(managerFiles);
            fs.copyFileSync(tls.caCert, path.join(managerFiles, "ca.pem"));
            fs.copyFileSync(tls.serverCert, path.join(managerFiles, "server.pem"));
            fs.copyFileSync(tls.serverKey, path.join(managerFiles, "server.key"));
            fs.copyFileSync(`${sshKeyPath}.pub`, path.join(managerFiles, "authorized_keys"));

            for (const node of nodes) {
                await docker([
                    "create",
                    ...NODE_RUN_FLAGS,
                    "--name",
                    node.name,
                    "--hostname",
                    node.name,
                    "--label",
                    `${LABEL}=${prefix}`,
                    "--network",
                    network,
                    "--ip",
                    node.address,
                    SWARM_NODE_IMAGE,
                    "sh",
                    "-c",
                    nodeScript(node.role),
                ]);
                parts.containers.push(node.name);
            }
            // Files go in before the first start (no bind mount: works whatever the daemon sees of this filesystem).
            await docker(["cp", `${managerFiles}/.`, `${manager.name}:${NODE_FILES}`]);
            await docker(["start", ...names]);
            await Promise.all(names.map((name) => waitForEngine(name)));

            await Promise.all([loadImagesInto(dir, options.images ?? [], names), loadImagesInto(dir, options.managerImages ?? [], [manager.name])]);

            const init = ["swarm", "init", "--advertise-addr", manager.address];
            if (options.dispatcherHeartbeat) init.push("--dispatcher-heartbeat", options.dispatcherHeartbeat);
            await docker(["exec", manager.name, "docker", ...init]);
            const token = (await docker(["exec", manager.name, "docker", "swarm", "join-token", "-q", "worker"])).stdout.trim();
            await Promise.all(
                workers.map((worker) =>
                    docker([
                        "exec",
                        worker.name,
                        "docker",
                        "swarm",
                        "join",
                        "--token",
                        token,
                        "--advertise-addr",
                        worker.address,
                        `${manager.address}:2377`,
                    ]),
                ),
            );

            // ssh: known_hosts from the manager itself (sshd started before dockerd, so it is up by now, but bounded).
            const sshKnownHosts = path.join(sshDir, "known_hosts");
            await waitUntil(
                `the ssh host key of ${manager.address}`,
                async () => {
                    const { stdout } = await run("ssh-keyscan", ["-T", "5", "-t", "ed25519", manager.address], { timeoutMs: 10_000 });
                    if (!stdout.includes("ssh-ed25519")) return false;
                    fs.writeFileSync(sshKnownHosts, stdout);
                    return true;
                },
                30_000,
                250,
            );
            const sshAuthSock = path.join(sshDir, "agent.sock");
            // -D: in the foreground, so it is this process's child and stops with `destroy`.
            parts.agent = startService("ssh-agent", ["-D", "-a", sshAuthSock]);
            await waitUntil("the ssh-agent socket", () => fs.existsSync(sshAuthSock), 10_000, 50);
            await run("ssh-add", ["-q", sshKeyPath], { env: { ...process.env, SSH_AUTH_SOCK: sshAuthSock }, timeoutMs: 10_000 });
            const sshOpts = [
                "-F",
                "none",
                "-o",
                `UserKnownHostsFile=${sshKnownHosts}`,
                "-o",
                "StrictHostKeyChecking=yes",
                "-o",
                "BatchMode=yes",
                "-o",
                "IdentitiesOnly=yes",
                "-i",
                sshKeyPath,
            ];
            const realSsh = (await run("sh", ["-c", "command -v ssh"])).stdout.trim();
            if (!realSsh) throw new Error("ssh is not installed (apt package openssh-client)");
            const binDir = path.join(sshDir, "bin");
            fs.mkdirSync(binDir);
            fs.writeFileSync(path.join(binDir, "ssh"), `#!/bin/sh\nexec ${[realSsh, ...sshOpts].map(shellQuote).join(" ")} "$@"\n`, { mode: 0o755 });
            const sshEnv = { PATH: `${binDir}:${process.env.PATH ?? ""}`, SSH_AUTH_SOCK: sshAuthSock };

            const cluster = new SwarmCluster({
                prefix,
                network,
                subnet,
                manager,
                workers,
                certPath: tls.certPath,
                sshKeyPath,
                sshKnownHosts,
                sshOpts,
                sshAuthSock,
                sshEnv,
                agent: parts.agent,
                dir,
            });
            await Promise.all(nodes.map((node) => cluster.waitForStatus(node, "Ready")));
            // Both remote ways in must work before anyone relies on them.
            await cluster.remoteDocker("tcp", ["version", "--format", "{{.Server.Version}}"]);
            await cluster.remoteDocker("ssh", ["version", "--format", "{{.Server.Version}}"]);
            return cluster;
        } catch (error) {
            await teardown(parts).catch(() => undefined);
            throw new Error(`SwarmCluster.start(${prefix}) failed: ${errorText(error)}`, { cause: error });
        }
    }

    /** The node `ref` names; throws for a name that is not one of the cluster's. */
    node(ref: NodeRef): SwarmClusterNode {
        const name = typeof ref === "string" ? ref : ref.name;
        const node = this.nodes.find((candidate) => candidate.name === name);
        if (!node) throw new Error(`${name} is not a node of ${this.prefix} (${this.nodes.map((n) => n.name).join(", ")})`);
        return node;
    }

    /** Runs `docker …args` inside `node` (its own engine, through `docker exec`); returns stdout. */
    async exec(node: NodeRef, args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<string> {
        const execArgs = ["exec", ...(options.input === undefined ? [] : ["-i"]), this.node(node).name, "docker", ...args];
        return (await docker(execArgs, { input: options.input, timeoutMs: options.timeoutMs ?? 60_000 })).stdout;
    }

    /**
     * Runs the host's docker CLI against the manager's API from outside, `tcp` (mutual TLS with the client
     * certificate) or `ssh` (the test's key and known_hosts); returns stdout.
     */
    async remoteDocker(via: "tcp" | "ssh", args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
        const file = (name: string) => path.join(this.certPath, name);
        const viaArgs =
            via === "tcp"
                ? ["--tlsverify", "--tlscacert", file("ca.pem"), "--tlscert", file("cert.pem"), "--tlskey", file("key.pem"), "-H", this.tcpHost]
                : ["-H", this.sshHost];
        const env = via === "ssh" ? { ...process.env, ...this.sshEnv } : process.env;
        return (await run("docker", [...viaArgs, ...args], { env, timeoutMs: options.timeoutMs ?? 60_000 })).stdout;
    }

    /** Saves `images` once and loads them into `nodes` (default: all) in parallel. */
    async loadImages(images: string[], nodes: readonly NodeRef[] = this.nodes): Promise<void> {
        await loadImagesInto(
            this.dir,
            images,
            nodes.map((node) => this.node(node).name),
        );
    }

    /**
     * Kills the node's container: its engine and everything it runs die at once, like a power cut. Its swarm
     * state and images stay (the engine's data is a volume); `restart` brings it back.
     */
    async kill(node: NodeRef): Promise<void> {
        const { name } = this.node(node);
        await docker(["kill", name]);
        await waitUntil(
            `node ${name} stopped`,
            async () => (await docker(["inspect", "--format", "{{.State.Running}}", name])).stdout.trim() === "false",
            30_000,
        );
    }

    /**
     * Starts a killed node again (same address, same swarm identity) and waits until its engine answers and the
     * manager shows it Ready: it rejoins the swarm by itself. For the manager, also waits until every other node
     * whose container runs is Ready again (a restarted manager lists them as Unknown until they reconnect).
     */
    async restart(node: NodeRef, timeoutMs = NODE_STATUS_TIMEOUT_MS): Promise<void> {
        const restarted = this.node(node);
        await docker(["start", restarted.name]);
        await waitForEngine(restarted.name);
        const waitFor = [restarted];
        if (restarted.role === "manager") {
            for (const other of this.workers) {
                if ((await docker(["inspect", "--format", "{{.State.Running}}", other.name])).stdout.trim() === "true") waitFor.push(other);
            }
        }
        await Promise.all(waitFor.map((each) => this.waitForStatus(each, "Ready", timeoutMs)));
    }

    /** The swarm's nodes as the manager lists them. */
    async swarmNodes(): Promise<SwarmNodeStatus[]> {
        const stdout = await this.exec(this.manager, ["node", "ls", "--format", "{{json .}}"], { timeoutMs: 15_000 });
        return stdout
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => {
                const row = JSON.parse(line) as Record<string, string>;
                return { id: row.ID, name: row.Hostname, status: row.Status, availability: row.Availability, managerStatus: row.ManagerStatus ?? "" };
            });
    }

    /** The swarm node id of `node`, as the manager knows it. */
    async nodeId(node: NodeRef): Promise<string> {
        const { name } = this.node(node);
        const matches = (await this.swarmNodes()).filter((row) => row.name === name);
        if (matches.length !== 1) throw new Error(`expected one swarm node named ${name}, the manager lists ${matches.length}`);
        return matches[0].id;
    }

    /** Waits (bounded) until the manager shows `node` with `status` ("Ready", "Down", …). */
    async waitForStatus(node: NodeRef, status: string, timeoutMs = NODE_STATUS_TIMEOUT_MS): Promise<void> {
        const { name } = this.node(node);
        await waitUntil(
            `swarm node ${name} ${status}`,
            async () => (await this.swarmNodes()).some((row) => row.name === name && row.status === status),
            timeoutMs,
            250,
        );
    }

    /** Tasks of `service` (all, or only those the swarm wants running), as the manager lists them. */
    async tasks(service: string, options: { desiredRunning?: boolean } = {}): Promise<SwarmTask[]> {
        const filter = options.desiredRunning ? ["--filter", "desired-state=running"] : [];
        const stdout = await this.exec(this.manager, ["service", "ps", "--no-trunc", ...filter, "--format", "{{json .}}", service], {
            timeoutMs: 15_000,
        });
        return stdout
            .split("\n")
            .filter((line) => line.trim() !== "")
            .map((line) => {
                const row = JSON.parse(line) as Record<string, string>;
                return {
                    id: row.ID,
                    name: row.Name,
                    node: row.Node,
                    desiredState: row.DesiredState,
                    currentState: row.CurrentState,
                    error: row.Error,
                };
            });
    }

    /** Node names of the tasks of `service` that are running now (one entry per task). */
    async runningTaskNodes(service: string): Promise<string[]> {
        return (await this.tasks(service, { desiredRunning: true }))
            .filter((task) => task.currentState.startsWith("Running"))
            .map((task) => task.node)
            .sort();
    }

    /**
     * Removes the node containers with their engine data, the network, the ssh-agent and the temp dir. Idempotent;
     * parts already gone are no error.
     */
    async destroy(): Promise<void> {
        if (this.destroyed) return;
        await teardown({ containers: this.nodes.map((node) => node.name), network: this.network, agent: this.agent, dir: this.dir });
        this.destroyed = true;
    }
}
