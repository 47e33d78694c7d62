/**
 * The work toward a swarm of several nodes, one behaviour per test: how the manager is reached (tcp:// only with TLS
 * unless opted out), where the registry is reached (`registry.host`) and how every node comes to trust it (a global
 * service writing its CA), where the gateway runs (managers) and how a model's replicas spread over the nodes
 * (`spread=node.id`, `maxReplicasPerNode`), from the config through the plans and the stack file to the Pulumi resources.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
    isSecretInput,
    parentRecorder,
    promiseOf,
    RecordedResource,
    recordedInputs,
    recordedNames,
    secretInputOf,
    settle,
} from "../helpers/pulumiMocks";
import { problemsOf } from "../helpers/configProblems";
import { configMap, installProgramMocks, PROJECT_DIR, runStackProgram, stackConfig } from "../helpers/stackProgram";

const recorded = installProgramMocks();
jest.setTimeout(60_000);

// Required after the mocks are installed.
import { checkStackConfig, HubConfig, Model, modelTargetProblems, SWARM_DEFAULTS, validateModel } from "../../components/config";
import { ModelImage } from "../../components/image";
import { swarmGatewayOptions } from "../../components/render/hubConfigInputs";
import {
    planEdgeService,
    planGatewayFiles,
    planGatewayService,
    planModelService,
    planRegistryCaFile,
    planRegistryTrustService,
    planSwarmStack,
    renderComposeStack,
    renderSwarmStackFiles,
    SwarmServicePlan,
} from "../../components/render/swarm";
import { byTimestamp, judgeConvergence, NodeReport, nodesWithoutTask, TaskReport } from "../../components/swarm/convergence";
import { serviceArgsFromPlan } from "../../components/swarm/serviceArgs";
import { SwarmModel, SwarmRegistry, swarmProvider } from "../../components/swarm";
import { checkSshAgent } from "../../components/swarm/waitForReplicas";
import { PlatformStack, TeamModel, validateTeamModelArgs } from "../../components/hub";

const SERVICE = "docker:index/service:Service";
const CONFIG = "docker:index/serviceConfig:ServiceConfig";
const PROVIDER = "pulumi:providers:docker";
const PUSH = "docker:index/registryImage:RegistryImage";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";

const dev = stackConfig("dev");
const prod = stackConfig("prod");

const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBmanagerCA\n-----END CERTIFICATE-----\n";
const CLIENT_CERT = "-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n";
const CLIENT_KEY = "-----BEGIN PRIVATE KEY-----\nMIIEclientkeymaterial\n-----END PRIVATE KEY-----\n";
/** The three swarm TLS secrets as `pulumi config set --secret` leaves them. */
const SWARM_TLS_ENTRIES = {
    "plumberhub:swarmTlsCaCertificate": CA_PEM,
    "plumberhub:swarmTlsCertificate": CLIENT_CERT,
    "plumberhub:swarmTlsKey": CLIENT_KEY,
};
const withoutKey = (entries: Record<string, string>, key: string) => Object.fromEntries(Object.entries(entries).filter(([k]) => k !== key));
/** The registry at the manager's address, which a remote (ssh://, tcp://) `swarm.host` needs: loopback is this machine, not the manager. */
const REGISTRY_AT_MANAGER = configMap({ "plumberhub:registry": { kind: "swarm", port: 5000, host: "10.0.0.5" } });

/**
 * `Pulumi.dev.yaml` with `swarm` replaced (its network kept) and `more` entries added, checked as a program does (secrets are secret).
 * With a remote `host` the registry is at the manager's address (`REGISTRY_AT_MANAGER`).
 */
function devWithSwarm(swarm: Record<string, unknown>, more: Record<string, string> = {}): HubConfig {
    const remote = typeof swarm.host === "string" && /^(ssh|tcp):\/\//.test(swarm.host);
    const entries = {
        ...dev,
        ...(remote ? REGISTRY_AT_MANAGER : {}),
        ...configMap({ "plumberhub:swarm": { network: "plumberhub-dev", ...swarm } }),
        ...more,
    };
    return checkStackConfig(entries, () => true, PROJECT_DIR).config;
}

describe("how the stack config reaches the swarm manager", () => {
    test("a tcp:// host without TLS is refused, naming the key, the host and the three ways out", () => {
        expect(problemsOf(() => devWithSwarm({ host: "tcp://10.0.0.5:2375" }))).toEqual([
            '`plumberhub:swarm.host` "tcp://10.0.0.5:2375" has no TLS: anyone who reaches that port controls every node of the swarm (the Docker API is root). ' +
                "Give the manager's CA and a client certificate and key (`plumberhub:swarmTls*`), use ssh://user@host, " +
                "or set `plumberhub:swarm.allowInsecureTcp: true` on a network you trust",
        ]);
    });

    test("a tcp:// host with all three TLS secrets is accepted", () => {
        const config = devWithSwarm({ host: "tcp://10.0.0.5:2376" }, SWARM_TLS_ENTRIES);
        expect(config.swarm.host).toBe("tcp://10.0.0.5:2376");
        expect(config.swarm.allowInsecureTcp).toBeUndefined();
    });

    test("one TLS secret alone is refused, naming the two missing", () => {
        const entries = { "plumberhub:swarmTlsCaCertificate": CA_PEM };
        expect(problemsOf(() => devWithSwarm({ host: "tcp://10.0.0.5:2376" }, entries))).toEqual([
            "the swarm manager's TLS needs all three secrets `plumberhub:swarmTlsCaCertificate`, `plumberhub:swarmTlsCertificate`, `plumberhub:swarmTlsKey`; " +
                "missing `plumberhub:swarmTlsCertificate`, `plumberhub:swarmTlsKey`",
        ]);
    });

    test("two TLS secrets without the key are refused, naming the key", () => {
        const entries = withoutKey(SWARM_TLS_ENTRIES, "plumberhub:swarmTlsKey");
        expect(problemsOf(() => devWithSwarm({ host: "tcp://10.0.0.5:2376" }, entries))).toEqual([
            "the swarm manager's TLS needs all three secrets `plumberhub:swarmTlsCaCertificate`, `plumberhub:swarmTlsCertificate`, `plumberhub:swarmTlsKey`; " +
                "missing `plumberhub:swarmTlsKey`",
        ]);
    });

    test("allowInsecureTcp true accepts a tcp:// host without TLS", () => {
        const config = devWithSwarm({ host: "tcp://10.0.0.5:2375", allowInsecureTcp: true });
        expect([config.swarm.host, config.swarm.allowInsecureTcp]).toEqual(["tcp://10.0.0.5:2375", true]);
    });

    test("allowInsecureTcp with an ssh:// host is refused", () => {
        expect(problemsOf(() => devWithSwarm({ host: "ssh://deploy@manager.example.com", allowInsecureTcp: true }))).toEqual([
            '`plumberhub:swarm.allowInsecureTcp` only applies to a tcp:// host without `plumberhub:swarmTls*`, got `plumberhub:swarm.host` "ssh://deploy@manager.example.com"',
        ]);
    });

    test("allowInsecureTcp next to the TLS secrets is refused", () => {
        expect(problemsOf(() => devWithSwarm({ host: "tcp://10.0.0.5:2376", allowInsecureTcp: true }, SWARM_TLS_ENTRIES))).toEqual([
            '`plumberhub:swarm.allowInsecureTcp` only applies to a tcp:// host without `plumberhub:swarmTls*`, got `plumberhub:swarm.host` "tcp://10.0.0.5:2376" with TLS',
        ]);
    });

    test("allowInsecureTcp that is not true or false is refused", () => {
        expect(problemsOf(() => devWithSwarm({ host: "tcp://10.0.0.5:2375", allowInsecureTcp: "yes" }))).toEqual([
            '`plumberhub:swarm.allowInsecureTcp` must be true or false, got "yes"',
        ]);
    });

    test("the TLS secrets with an ssh:// host are refused", () => {
        expect(problemsOf(() => devWithSwarm({ host: "ssh://deploy@manager.example.com" }, SWARM_TLS_ENTRIES))).toEqual([
            '`plumberhub:swarmTls*` only applies to a tcp:// host (ssh:// and unix:// bring their own security), got `plumberhub:swarm.host` "ssh://deploy@manager.example.com"',
        ]);
    });
});

describe("the registry's address (registry.host)", () => {
    test("defaults to loopback", () => {
        expect(devWithSwarm({}).registry.host).toBe("127.0.0.1");
        expect(SWARM_DEFAULTS.registryHost).toBe("127.0.0.1");
    });

    test("takes an IPv4 address or a DNS name", () => {
        const at = (host: string) =>
            checkStackConfig({ ...dev, ...configMap({ "plumberhub:registry": { kind: "swarm", host } }) }, () => true, PROJECT_DIR).config.registry
                .host;
        expect([at("10.0.0.5"), at("manager.swarm.internal")]).toEqual(["10.0.0.5", "manager.swarm.internal"]);
    });

    test("refuses an address with a port in it", () => {
        const entries = { ...dev, ...configMap({ "plumberhub:registry": { kind: "swarm", host: "10.0.0.5:5000" } }) };
        expect(problemsOf(() => checkStackConfig(entries, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:registry.host` must be an IPv4 address or DNS name every swarm node reaches the registry\'s manager at, got "10.0.0.5:5000"',
        ]);
    });

    test("is refused with an external registry", () => {
        const entries = {
            ...dev,
            ...configMap({ "plumberhub:registry": { kind: "external", server: "ghcr.io", username: "ci", host: "10.0.0.5" } }),
            "plumberhub:registryPassword": "ghcr-token",
        };
        expect(problemsOf(() => checkStackConfig(entries, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:registry.host` only applies to a "swarm" registry; `plumberhub:registry.kind` is "external"',
        ]);
    });
});

describe("where the registry runs (registry.constraints)", () => {
    const withRegistry = (registry: Record<string, unknown>, more: Record<string, string> = {}) => ({
        ...dev,
        ...configMap({ "plumberhub:registry": registry }),
        ...more,
    });

    test("defaults to none", () => {
        expect(devWithSwarm({}).registry.constraints).toEqual([]);
    });

    test("a list of placement constraints is accepted and kept", () => {
        const entries = withRegistry({ kind: "swarm", port: 5000, constraints: ["node.hostname == manager1", "node.labels.registry == true"] });
        expect(checkStackConfig(entries, () => true, PROJECT_DIR).config.registry.constraints).toEqual([
            "node.hostname == manager1",
            "node.labels.registry == true",
        ]);
    });

    test("a malformed entry is refused, naming it", () => {
        const entries = withRegistry({ kind: "swarm", constraints: ["node.hostname == manager1", "node.hostname manager1"] });
        expect(problemsOf(() => checkStackConfig(entries, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:registry.constraints[1]` must be one of placement constraints such as `node.hostname == manager1`, got "node.hostname manager1"',
        ]);
    });

    test("a value that is not a list is refused, naming the field", () => {
        const entries = withRegistry({ kind: "swarm", constraints: "node.hostname == manager1" });
        expect(problemsOf(() => checkStackConfig(entries, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:registry.constraints` must be a list of placement constraints such as `node.hostname == manager1`, got "node.hostname == manager1"',
        ]);
    });

    test("is refused with an external registry", () => {
        const entries = withRegistry(
            { kind: "external", server: "ghcr.io", username: "ci", constraints: ["node.hostname == manager1"] },
            { "plumberhub:registryPassword": "ghcr-token" },
        );
        expect(problemsOf(() => checkStackConfig(entries, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:registry.constraints` only applies to a "swarm" registry; `plumberhub:registry.kind` is "external"',
        ]);
    });

    test("is left out of an external registry's config", () => {
        const entries = withRegistry({ kind: "external", server: "ghcr.io", username: "ci" }, { "plumberhub:registryPassword": "ghcr-token" });
        expect(checkStackConfig(entries, () => true, PROJECT_DIR).config.registry).not.toHaveProperty("constraints");
    });
});

describe("the swarm TLS secrets on an AKS stack", () => {
    test("one of them is refused, named, as being for a swarm manager", () => {
        const entries = { ...prod, "plumberhub:swarmTlsCaCertificate": CA_PEM };
        expect(problemsOf(() => checkStackConfig(entries, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:swarmTlsCaCertificate` set, but they are for a swarm manager and `plumberhub:target` is "aks"; remove them',
        ]);
    });

    test("all three are refused in one problem naming each", () => {
        expect(problemsOf(() => checkStackConfig({ ...prod, ...SWARM_TLS_ENTRIES }, () => true, PROJECT_DIR))).toEqual([
            "`plumberhub:swarmTlsCaCertificate`, `plumberhub:swarmTlsCertificate`, `plumberhub:swarmTlsKey` set, " +
                'but they are for a swarm manager and `plumberhub:target` is "aks"; remove them',
        ]);
    });

    test("the key alone is refused, naming only the key", () => {
        const entries = { ...prod, "plumberhub:swarmTlsKey": CLIENT_KEY };
        expect(problemsOf(() => checkStackConfig(entries, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:swarmTlsKey` set, but they are for a swarm manager and `plumberhub:target` is "aks"; remove them',
        ]);
    });

    test("without them the AKS stack is accepted", () => {
        expect(checkStackConfig(prod, () => true, PROJECT_DIR).config.target).toBe("aks");
    });
});

describe("where the gateway runs (swarm.gatewayConstraints)", () => {
    test("defaults to the managers, while the models stay unconstrained", () => {
        const config = devWithSwarm({});
        expect(config.swarm.gatewayConstraints).toEqual(["node.role == manager"]);
        expect(config.swarm.constraints).toEqual([]);
    });

    test("models' constraints no longer move the gateway", () => {
        const config = devWithSwarm({ constraints: ["node.role == worker"] });
        expect(swarmGatewayOptions(config).constraints).toEqual(["node.role == manager"]);
    });

    test("the gateway's own constraints reach its options", () => {
        const config = devWithSwarm({ gatewayConstraints: ["node.labels.edge == true"] });
        expect(swarmGatewayOptions(config).constraints).toEqual(["node.labels.edge == true"]);
    });

    test("a malformed entry is refused, naming it", () => {
        expect(problemsOf(() => devWithSwarm({ gatewayConstraints: ["node.role manager"] }))).toEqual([
            '`plumberhub:swarm.gatewayConstraints[0]` must be one of placement constraints such as `node.role == manager`, got "node.role manager"',
        ]);
    });
});

describe("maxReplicasPerNode", () => {
    const hello = { name: "hello", path: "examples/models/hello" };
    const withModel = (base: Record<string, string>, model: Record<string, unknown>) => ({
        ...base,
        ...configMap({ "plumberhub:models": [{ ...hello, ...model }] }),
    });

    test.each([
        [0, "0"],
        [1.5, "1.5"],
    ])("%p is refused", (value, shown) => {
        expect(() => validateModel({ name: "hello", image: "registry.test:5000/hello:1", maxReplicasPerNode: value })).toThrow(
            `\`model.maxReplicasPerNode\` must be an integer from 1 to 100, got ${shown}`,
        );
    });

    test("is accepted on a swarm and kept on the model", () => {
        const { config } = checkStackConfig(withModel(dev, { maxReplicasPerNode: 2 }), () => true, PROJECT_DIR);
        expect(config.models[0].maxReplicasPerNode).toBe(2);
    });

    test("is left out of a model that does not set it", () => {
        expect("maxReplicasPerNode" in validateModel({ name: "hello", image: "registry.test:5000/hello:1" })).toBe(false);
    });

    test("is refused on AKS, which spreads pods itself", () => {
        const problems = problemsOf(() => checkStackConfig(withModel(prod, { maxReplicasPerNode: 2 }), () => true, PROJECT_DIR));
        expect(problems).toEqual([
            "`plumberhub:models` model `hello` sets `maxReplicasPerNode`, a Docker Swarm setting: leave it out on AKS, which spreads a model's pods over its nodes already",
        ]);
    });

    test("is no problem for the swarm target", () => {
        const model = validateModel({ name: "hello", image: "registry.test:5000/hello:1", maxReplicasPerNode: 3 });
        expect(modelTargetProblems(model, "swarm", "model `hello`")).toEqual([]);
        expect(modelTargetProblems(model, "aks", "model `hello`")).toHaveLength(1);
    });
});

// ---------------------------------------------------------------------------------------------
// Plans
// ---------------------------------------------------------------------------------------------

const spreadModel: Model = validateModel({ name: "hello", image: "registry.test:5000/hello:1", replicas: 4, maxReplicasPerNode: 2 });
const plainModel: Model = validateModel({ name: "bos-rf", image: "registry.test:5000/bos-rf:1" });
const gatewayConfigs = { nginxConf: "events {}\n", staticFiles: { "index.html": "<h1>models</h1>\n" }, edgeConf: "events {}\nstream {}\n" };
const gatewaySecrets = {
    tlsCertificate: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    tlsKey: "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    htpasswd: "alice:{SSHA}abc\n",
};
const REGISTRY_SERVER = "10.0.0.5:5000";
const caFile = planRegistryCaFile("dev", CA_PEM);
const trust = planRegistryTrustService(caFile, { server: REGISTRY_SERVER });

describe("model service placement", () => {
    test("spreads a model's replicas over the nodes", () => {
        expect(planModelService(plainModel, { image: "x" }).spread).toEqual(["node.id"]);
    });

    test("carries the model's maxReplicasPerNode", () => {
        expect(planModelService(spreadModel, { image: "x" }).maxReplicasPerNode).toBe(2);
    });

    test("sets no per-node limit when the model gives none", () => {
        expect(planModelService(plainModel, { image: "x" }).maxReplicasPerNode).toBeUndefined();
    });
});

describe("gateway placement", () => {
    const files = planGatewayFiles("dev", gatewayConfigs, gatewaySecrets);

    test("the gateway runs on managers by default", () => {
        expect(planGatewayService(files).constraints).toEqual(["node.role == manager"]);
    });

    test("the edge runs on managers by default", () => {
        expect(planEdgeService(files).constraints).toEqual(["node.role == manager"]);
    });

    test("both take the constraints they are given instead", () => {
        const options = { constraints: ["node.labels.edge == true"] };
        expect([planGatewayService(files, options).constraints, planEdgeService(files, options).constraints]).toEqual([
            ["node.labels.edge == true"],
            ["node.labels.edge == true"],
        ]);
    });
});

describe("the registry trust service", () => {
    test("runs one task on every node (global)", () => {
        expect(trust.global).toBe(true);
        expect(trust.name).toBe("registry-trust");
    });

    test("bind-mounts the node's /etc/docker", () => {
        expect(trust.binds).toEqual([{ source: "/etc/docker", target: "/host-etc-docker" }]);
        expect(trust.volumes).toEqual([]);
    });

    test("mounts the CA as a read-only config", () => {
        expect(caFile).toMatchObject({ key: "registry-ca.crt", fileName: "configs/registry-ca.crt", contents: CA_PEM });
        expect(caFile.name).toMatch(/^dev-registry-ca\.crt-[0-9a-f]{12}$/);
        expect(trust.configs).toEqual([{ source: "registry-ca.crt", name: caFile.name, target: "/run/registry-ca.crt", mode: 0o444 }]);
        expect(trust.secrets).toEqual([]);
    });

    test("writes the CA to certs.d/HOST:PORT/ca.crt by rename, then idles until TERM", () => {
        const [shell, flag, script] = trust.command!;
        expect([shell, flag]).toEqual(["sh", "-c"]);
        expect(script.split("\n")).toEqual([
            "set -eu",
            "mkdir -p '/host-etc-docker/certs.d/10.0.0.5:5000'",
            "cp /run/registry-ca.crt '/host-etc-docker/certs.d/10.0.0.5:5000/ca.crt.new'",
            "mv '/host-etc-docker/certs.d/10.0.0.5:5000/ca.crt.new' '/host-etc-docker/certs.d/10.0.0.5:5000/ca.crt'",
            'echo "this node trusts the registry 10.0.0.5:5000"',
            "trap 'exit 0' TERM INT",
            "while :; do sleep 3600 & wait $!; done",
        ]);
        expect([trust.stopSignal, trust.stopGracePeriod]).toEqual(["SIGTERM", "10s"]);
    });

    test("runs the registry's image unless given another, and publishes nothing", () => {
        expect(trust.image).toBe("registry:2.8.3");
        expect(planRegistryTrustService(caFile, { server: REGISTRY_SERVER, image: "local/registry:bookworm" }).image).toBe("local/registry:bookworm");
        expect(trust.ports).toEqual([]);
        expect(trust.labels).toEqual({ "org.plumberhub.role": "registry-trust" });
    });

    test.each(["10.0.0.5", "https://10.0.0.5:5000", "10.0.0.5:5000/path", "host:5000'; rm -rf /"])("refuses the server %p", (server) => {
        expect(() => planRegistryTrustService(caFile, { server })).toThrow(
            `\`server\` must be the registry's host:port, got ${JSON.stringify(server)}`,
        );
    });
});

describe("the stack file", () => {
    const doc = (services: SwarmServicePlan[]) =>
        renderComposeStack({ network: { name: "dev-hub", external: false }, services, configs: [caFile], secrets: [], volumes: [] }) as any;

    test("a global service has mode global and no replica count", () => {
        const deploy = doc([trust]).services["registry-trust"].deploy;
        expect(deploy.mode).toBe("global");
        expect(deploy).not.toHaveProperty("replicas");
    });

    test("a replicated service keeps mode replicated with its replicas", () => {
        expect(doc([planModelService(plainModel, { image: "x", replicas: 3 })]).services["bos-rf"].deploy).toMatchObject({
            mode: "replicated",
            replicas: 3,
        });
    });

    test("writes the spread as a placement preference and the per-node limit", () => {
        const placement = doc([planModelService(spreadModel, { image: "x", constraints: ["node.role == worker"] })]).services.hello.deploy.placement;
        expect(placement).toEqual({ constraints: ["node.role == worker"], preferences: [{ spread: "node.id" }], max_replicas_per_node: 2 });
    });

    test("writes no placement for a service with neither constraints nor preferences", () => {
        expect(doc([trust]).services["registry-trust"].deploy).not.toHaveProperty("placement");
    });

    test("writes a bind as a bind volume", () => {
        expect(doc([trust]).services["registry-trust"].volumes).toEqual([{ type: "bind", source: "/etc/docker", target: "/host-etc-docker" }]);
    });

    test("keeps the trust script's $ from the deploying shell", () => {
        const command = doc([trust]).services["registry-trust"].command as string[];
        expect(command[2]).toContain("wait $$!");
        expect(command[2]).not.toMatch(/[^$]\$![^$]/);
    });
});

describe("planSwarmStack with registry.trust", () => {
    const registry = {
        secrets: { tlsCertificate: "cert", tlsKey: "key", htpasswd: "pusher:$2y$05$abc" },
        options: { volume: "dev-registry-data", image: "local/registry:bookworm" },
    };
    const withTrust = planSwarmStack({
        prefix: "dev",
        models: [],
        registry: { ...registry, trust: { caCertificate: CA_PEM, server: REGISTRY_SERVER } },
    });

    test("adds the trust service after the registry, on the registry's image", () => {
        expect(withTrust.services.map((s) => s.name)).toEqual(["registry", "registry-trust"]);
        expect(withTrust.services[1]).toMatchObject({ global: true, image: "local/registry:bookworm" });
    });

    test("adds the CA as a config of the stack, with its file", () => {
        expect(withTrust.configs.map((c) => c.name)).toEqual([planRegistryCaFile("dev", CA_PEM).name]);
        expect(renderSwarmStackFiles(withTrust)["configs/registry-ca.crt"]).toBe(CA_PEM);
    });

    test("without trust there is neither service nor config", () => {
        const plain = planSwarmStack({ prefix: "dev", models: [], registry });
        expect(plain.services.map((s) => s.name)).toEqual(["registry"]);
        expect(plain.configs).toEqual([]);
    });
});

// ---------------------------------------------------------------------------------------------
// nodesWithoutTask
// ---------------------------------------------------------------------------------------------

describe("nodesWithoutTask", () => {
    const node = (id: string, state = "ready", availability = "active"): NodeReport => ({
        ID: id,
        Description: { Hostname: `host-${id}` },
        Status: { State: state },
        Spec: { Availability: availability },
    });
    const task = (nodeId: string, state: string, at: string, err?: string): TaskReport => ({
        NodeID: nodeId,
        DesiredState: state === "running" ? "running" : "shutdown",
        Status: { State: state, Timestamp: at, ...(err ? { Err: err } : {}) },
    });

    test("every ready, active node running a task leaves nothing to wait for", () => {
        expect(nodesWithoutTask([node("a"), node("b")], [task("a", "running", "t1"), task("b", "running", "t1")])).toEqual([]);
    });

    test("a drained node and a down node are not waited for", () => {
        const nodes = [node("a"), node("b", "ready", "drain"), node("c", "down"), node("d", "ready", "pause")];
        expect(nodesWithoutTask(nodes, [task("a", "running", "t1")])).toEqual([]);
    });

    test("a node whose latest task failed is named with the error", () => {
        const tasks = [
            task("a", "running", "2026-11-30T10:00:00Z"),
            task("b", "failed", "2026-11-30T10:00:01Z", "old error"),
            task("b", "rejected", "2026-11-30T10:00:05Z", 'invalid mount config for type "bind": bind source path does not exist: /etc/docker'),
        ];
        expect(nodesWithoutTask([node("a"), node("b")], tasks)).toEqual([
            { node: "host-b", state: 'rejected: invalid mount config for type "bind": bind source path does not exist: /etc/docker' },
        ]);
    });

    test("a node with no task yet is named so, by its id when it has no hostname", () => {
        expect(nodesWithoutTask([{ ID: "n1", Status: { State: "ready" }, Spec: { Availability: "active" } }], [])).toEqual([
            { node: "n1", state: "no task yet" },
        ]);
    });

    test("within one second, the task with the longer fraction is still the later one (the engine trims trailing zeros)", () => {
        const tasks = [
            task("a", "failed", "2026-11-30T10:00:01.123Z", "the newer error"),
            task("a", "failed", "2026-11-30T10:00:01.12Z", "the older error"),
            task("a", "failed", "2026-11-30T10:00:01Z", "the oldest error"),
        ];
        expect(nodesWithoutTask([node("a")], tasks)).toEqual([{ node: "host-a", state: "failed: the newer error" }]);
    });

    test("a task on its way out does not count as running", () => {
        const leaving: TaskReport = { NodeID: "a", DesiredState: "shutdown", Status: { State: "running", Timestamp: "t1" } };
        expect(nodesWithoutTask([node("a")], [leaving])).toEqual([{ node: "host-a", state: "running" }]);
    });
});

describe("task timestamps", () => {
    const at = (timestamp?: string): TaskReport => ({ Status: timestamp === undefined ? {} : { Timestamp: timestamp } });

    test("sort oldest first across trimmed fractions of one second", () => {
        const order = ["2026-11-30T10:00:01.5Z", "2026-11-30T10:00:01Z", "2026-11-30T10:00:01.123456789Z", "2026-11-30T10:00:01.12Z"]
            .map(at)
            .sort(byTimestamp)
            .map((task) => task.Status!.Timestamp);
        expect(order).toEqual(["2026-11-30T10:00:01Z", "2026-11-30T10:00:01.12Z", "2026-11-30T10:00:01.123456789Z", "2026-11-30T10:00:01.5Z"]);
    });

    test("a task without a timestamp is the oldest", () => {
        expect([at("2026-11-30T10:00:00Z"), at()].sort(byTimestamp)[0].Status).toEqual({});
    });

    test("the model's last task error is the newest one within the same second", () => {
        const failed = (timestamp: string, err: string): TaskReport => ({
            DesiredState: "shutdown",
            Status: { State: "failed", Err: err, Timestamp: timestamp },
        });
        const verdict = judgeConvergence("hello", 1, {}, [failed("2026-11-30T10:00:01.123Z", "exit 2"), failed("2026-11-30T10:00:01.12Z", "exit 1")]);
        expect(verdict).toMatchObject({ state: "waiting", lastTaskError: "exit 2" });
    });
});

// ---------------------------------------------------------------------------------------------
// Pulumi resources
// ---------------------------------------------------------------------------------------------

/** The inputs of the one recorded resource of `type` named `name`. */
const inputsOf = (type: string, name: string) => recordedInputs(recorded, type, name);
const namesOf = (type: string) => recordedNames(recorded, type);
/** The value of a mock input, whether or not it arrived marked secret. */
const unwrap = (value: any): any => (isSecretInput(value) ? value.value : value);

describe("service arguments from a plan", () => {
    const args = (plan: SwarmServicePlan, options: Parameters<typeof serviceArgsFromPlan>[3] = {}) =>
        serviceArgsFromPlan(pulumi.output(plan), "net", { "registry-ca.crt": "ca-config-id" }, options);

    test("a global plan becomes mode global", async () => {
        expect(await promiseOf(args(trust).mode)).toEqual({ global: true });
    });

    test("a replicated plan keeps its replicas", async () => {
        expect(await promiseOf(args(planModelService(plainModel, { image: "x", replicas: 3 })).mode)).toEqual({ replicated: { replicas: 3 } });
    });

    test("spread and the per-node limit become placement prefs and maxReplicas", async () => {
        const taskSpec: any = await promiseOf(args(planModelService(spreadModel, { image: "x" })).taskSpec);
        expect(taskSpec.placement).toEqual({ constraints: [], prefs: ["node.id"], maxReplicas: 2 });
    });

    test("binds become bind mounts", async () => {
        const taskSpec: any = await promiseOf(args(trust).taskSpec);
        expect(taskSpec.containerSpec.mounts).toEqual([{ type: "bind", source: "/etc/docker", target: "/host-etc-docker" }]);
        expect(taskSpec.containerSpec.configs).toEqual([
            { configId: "ca-config-id", configName: caFile.name, fileName: "/run/registry-ca.crt", fileMode: 0o444 },
        ]);
    });

    test("a registry login becomes the service's auth, the password secret", async () => {
        const auth = args(planModelService(plainModel, { image: "x" }), {
            registryAuth: { server: REGISTRY_SERVER, username: "plumberhub", password: "registry-password" },
        }).auth as pulumi.Input<any>;
        const resolved = pulumi.output(auth);
        expect(await promiseOf(resolved)).toEqual({ serverAddress: REGISTRY_SERVER, username: "plumberhub", password: "registry-password" });
        expect(await pulumi.isSecret(resolved.apply((a: any) => a.password))).toBe(true);
    });

    test("no login, no auth", () => {
        expect(args(planModelService(plainModel, { image: "x" })).auth).toBeUndefined();
    });
});

describe("swarmProvider", () => {
    const tls = { caCertificate: CA_PEM, certificate: CLIENT_CERT, key: CLIENT_KEY };

    test("with TLS gives the provider the CA, certificate and key as secrets", async () => {
        recorded.length = 0;
        swarmProvider("tls-provider", { host: "tcp://10.0.0.5:2376", tls });
        await settle();
        const inputs = inputsOf(PROVIDER, "tls-provider");
        expect(inputs.host).toBe("tcp://10.0.0.5:2376");
        expect([inputs.caMaterial, inputs.certMaterial, inputs.keyMaterial].map(isSecretInput)).toEqual([true, true, true]);
        expect([inputs.caMaterial, inputs.certMaterial, inputs.keyMaterial].map(unwrap)).toEqual([CA_PEM, CLIENT_CERT, CLIENT_KEY]);
    });

    test("without TLS sets no TLS material", async () => {
        recorded.length = 0;
        swarmProvider("ssh-provider", { host: "ssh://deploy@manager.example.com" });
        await settle();
        const inputs = inputsOf(PROVIDER, "ssh-provider");
        expect([inputs.caMaterial, inputs.certMaterial, inputs.keyMaterial]).toEqual([undefined, undefined, undefined]);
    });

    test("a tcp:// host without TLS throws before any resource", async () => {
        recorded.length = 0;
        expect(() => swarmProvider("plain-tcp", { host: "tcp://10.0.0.5:2375" })).toThrow(
            '`host` "tcp://10.0.0.5:2375" has no TLS: anyone who reaches that port controls every node of the swarm',
        );
        await settle();
        expect(recorded).toEqual([]);
    });

    test("a tcp:// host without TLS is created with allowInsecureTcp", async () => {
        recorded.length = 0;
        swarmProvider("trusted-tcp", { host: "tcp://10.0.0.5:2375", allowInsecureTcp: true });
        await settle();
        expect(inputsOf(PROVIDER, "trusted-tcp").host).toBe("tcp://10.0.0.5:2375");
    });

    test("TLS with an ssh:// host throws", () => {
        expect(() => swarmProvider("ssh-tls", { host: "ssh://deploy@manager.example.com", tls })).toThrow(
            '`tls` only applies to a tcp:// host (ssh:// and unix:// bring their own security), got `host` "ssh://deploy@manager.example.com"',
        );
    });

    test("TLS without its key throws naming the part", () => {
        expect(() => swarmProvider("tls-no-key", { host: "tcp://10.0.0.5:2376", tls: { ...tls, key: "" } })).toThrow(
            "`tls.key` is required with `tls` (PEM text)",
        );
    });
});

describe("SwarmModel", () => {
    const login = { server: REGISTRY_SERVER, username: "plumberhub", password: "registry-password" };

    test("sends the registry login with the service, the whole auth kept secret", async () => {
        recorded.length = 0;
        const { transformation, links } = parentRecorder();
        const model = new SwarmModel(
            "auth-model",
            { model: plainModel, image: "x", networkId: "n", registryAuth: login },
            { transformations: [transformation] },
        );
        await promiseOf(model.serviceId);
        await settle();
        expect(inputsOf(SERVICE, "auth-model-service").auth).toEqual(
            secretInputOf({ serverAddress: REGISTRY_SERVER, username: "plumberhub", password: "registry-password" }),
        );
        const serviceOpts = links.find((link) => link.name === "auth-model-service")!.opts as pulumi.CustomResourceOptions;
        expect(serviceOpts.additionalSecretOutputs).toEqual(["auth"]);
    });

    test("without a login sends no auth", async () => {
        recorded.length = 0;
        await promiseOf(new SwarmModel("public-model", { model: plainModel, image: "x", networkId: "n" }).serviceId);
        await settle();
        expect(inputsOf(SERVICE, "public-model-service").auth).toBeUndefined();
    });

    test("refuses TLS for a dockerHost that is not tcp://", () => {
        const dockerTls = { caCertificate: CA_PEM, certificate: CLIENT_CERT, key: CLIENT_KEY };
        expect(
            () => new SwarmModel("ssh-tls-model", { model: plainModel, image: "x", networkId: "n", dockerHost: "ssh://deploy@manager", dockerTls }),
        ).toThrow('`dockerTls` only applies to a tcp:// host (ssh:// and unix:// bring their own security), got `dockerHost` "ssh://deploy@manager"');
    });
});

describe("SwarmRegistry with a CA for every node", () => {
    const bcryptLine = "pusher:$2b$05$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa\n";
    async function deployRegistry(name: string, caCertificate?: string): Promise<SwarmRegistry> {
        recorded.length = 0;
        const registry = new SwarmRegistry(name, {
            host: "10.0.0.5",
            port: 5000,
            tlsCertificate: "CERT",
            tlsKey: pulumi.secret("KEY"),
            htpasswd: pulumi.secret(bcryptLine),
            username: "pusher",
            password: pulumi.secret("registry-password"),
            ...(caCertificate ? { caCertificate } : {}),
        });
        await promiseOf(registry.server);
        await settle();
        return registry;
    }

    test("creates the trust service, global, with the CA as a config", async () => {
        await deployRegistry("reg", CA_PEM);
        const service = inputsOf(SERVICE, "reg-trust");
        expect([service.name, service.mode]).toEqual(["registry-trust", { global: true }]);
        const config = inputsOf(CONFIG, "reg-registry-ca.crt");
        expect(Buffer.from(config.data, "base64").toString("utf8")).toBe(CA_PEM);
        expect(service.taskSpec.containerSpec.configs[0]).toMatchObject({ configId: "reg-registry-ca.crt-id", fileName: "/run/registry-ca.crt" });
    });

    test("hands the CA on in its login", async () => {
        const registry = await deployRegistry("reg-login", CA_PEM);
        expect(await promiseOf(registry.login.caCertificate)).toBe(CA_PEM);
        expect(await promiseOf(registry.login.server)).toBe("10.0.0.5:5000");
    });

    test("without a CA creates neither service nor config, and its login has none", async () => {
        const registry = await deployRegistry("reg-plain");
        expect(namesOf(SERVICE)).toEqual(["reg-plain-service"]);
        expect(namesOf(CONFIG)).toEqual([]);
        expect(registry.login).not.toHaveProperty("caCertificate");
    });
});

describe("TeamModel on a swarm platform whose registry has a CA", () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-team-"));
    fs.mkdirSync(path.join(workDir, "iris"));
    fs.writeFileSync(path.join(workDir, "iris", "plumber.R"), "#* @post /predict\nfunction() 1\n");
    afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));
    const platform = (target: "swarm" | "aks"): PlatformStack => ({
        stackName: "organization/plumberhub/multi",
        join: {
            target,
            ...(target === "swarm" ? { network: "plumberhub-multi" } : { namespace: "models" }),
            registryServer: REGISTRY_SERVER,
            registryAuth: "password",
            gatewayNameTemplate: target === "swarm" ? "{model}.models.plumberhub.internal" : "model-{model}.models.svc.cluster.local",
            modelPort: 8000,
            gatewayUrl: "https://models.example.com/",
        },
        modelNames: ["hello"],
        registryLogin: pulumi.secret({ server: REGISTRY_SERVER, username: "plumberhub", password: "platform-password", caCertificate: CA_PEM }),
        ...(target === "aks" ? { kubeconfig: pulumi.secret("apiVersion: v1\n") } : {}),
    });

    test("pushes skipping verification of the digest lookup, and gives the service the platform's login", async () => {
        recorded.length = 0;
        new TeamModel("iris", {
            platform: platform("swarm"),
            model: { name: "iris", path: "iris" },
            baseDir: workDir,
            contextRoot: path.join(workDir, "contexts"),
        });
        await settle();
        const push = inputsOf(
            PUSH,
            namesOf(PUSH).find((name) => name.startsWith("iris-push-"))!,
        );
        expect(push.insecureSkipVerify).toBe(true);
        expect(inputsOf(SERVICE, "iris-service").auth).toEqual(
            secretInputOf({ serverAddress: REGISTRY_SERVER, username: "plumberhub", password: "platform-password" }),
        );
    });

    test("gives its provider the TLS of a tcp:// manager as secrets", async () => {
        recorded.length = 0;
        new TeamModel("iris-tls", {
            platform: platform("swarm"),
            model: { name: "iris-tls", image: "registry.test:5000/iris:1" },
            dockerHost: "tcp://10.0.0.5:2376",
            dockerTls: { caCertificate: CA_PEM, certificate: CLIENT_CERT, key: CLIENT_KEY },
        });
        await settle();
        const provider = inputsOf(PROVIDER, "iris-tls-docker");
        expect([provider.caMaterial, provider.certMaterial, provider.keyMaterial].map(isSecretInput)).toEqual([true, true, true]);
        // A prebuilt image: no login is sent with the service.
        expect(inputsOf(SERVICE, "iris-tls-service").auth).toBeUndefined();
    });

    test("refuses a tcp:// manager without TLS unless allowInsecureTcp", () => {
        const args = { platform: platform("swarm"), model: { name: "iris", image: "registry.test:5000/iris:1" }, dockerHost: "tcp://10.0.0.5:2375" };
        // The whole message, naming TeamModel's own fields, is pinned in the tests below.
        expect(() => new TeamModel("iris-plain", args)).toThrow('"tcp://10.0.0.5:2375" has no TLS: anyone who reaches that port controls every node');
        expect(() => new TeamModel("iris-trusted", { ...args, allowInsecureTcp: true })).not.toThrow();
    });

    const TEAM_NO_TLS =
        '`dockerHost` "tcp://10.0.0.5:2375" has no TLS: anyone who reaches that port controls every node of the swarm (the Docker API is root). ' +
        "Give the manager's CA and a client certificate and key (`dockerTls`), use ssh://user@host, or set `allowInsecureTcp: true` on a network you trust";
    const plainTcpArgs = () => ({
        platform: platform("swarm"),
        model: { name: "iris", image: "registry.test:5000/iris:1" },
        dockerHost: "tcp://10.0.0.5:2375",
    });
    /** The message `run` throws; fails when it does not throw. */
    const messageOf = (run: () => unknown): string => {
        try {
            run();
        } catch (error) {
            return (error as Error).message;
        }
        throw new Error("expected a throw");
    };

    test("validateTeamModelArgs refuses a tcp:// dockerHost without dockerTls, naming dockerHost, dockerTls and allowInsecureTcp", () => {
        expect(messageOf(() => validateTeamModelArgs(plainTcpArgs()))).toBe(TEAM_NO_TLS);
    });

    test("the TeamModel itself refuses it with the same message, not the provider's `host` and `tls`", () => {
        const message = messageOf(() => new TeamModel("iris-plain-named", plainTcpArgs()));
        expect(message).toBe(TEAM_NO_TLS);
        expect(message).not.toContain("`host`");
        expect(message).not.toContain("`tls`");
    });

    test("validateTeamModelArgs accepts a tcp:// dockerHost without dockerTls with allowInsecureTcp true", () => {
        expect(validateTeamModelArgs({ ...plainTcpArgs(), allowInsecureTcp: true }).name).toBe("iris");
    });

    test("validateTeamModelArgs accepts a tcp:// dockerHost with dockerTls", () => {
        const dockerTls = { caCertificate: CA_PEM, certificate: CLIENT_CERT, key: CLIENT_KEY };
        expect(validateTeamModelArgs({ ...plainTcpArgs(), dockerHost: "tcp://10.0.0.5:2376", dockerTls }).name).toBe("iris");
    });

    test("refuses dockerTls and allowInsecureTcp on an AKS platform", () => {
        const model = { name: "iris", image: "registry.test:5000/iris:1" };
        const dockerTls = { caCertificate: CA_PEM, certificate: CLIENT_CERT, key: CLIENT_KEY };
        expect(() => validateTeamModelArgs({ platform: platform("aks"), model, dockerTls })).toThrow(
            "`dockerTls` only applies to a swarm platform, but platform stack `organization/plumberhub/multi` is on aks",
        );
        expect(() => validateTeamModelArgs({ platform: platform("aks"), model, allowInsecureTcp: true })).toThrow(
            "`allowInsecureTcp` only applies to a swarm platform, but platform stack `organization/plumberhub/multi` is on aks",
        );
    });
});

describe("ModelImage push verification", () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-multinode-"));
    fs.mkdirSync(path.join(workDir, "hello"));
    fs.writeFileSync(path.join(workDir, "hello", "plumber.R"), "#* @get /echo\nfunction(msg = '') list(msg = msg)\n");
    const model = validateModel({ name: "hello", path: path.join(workDir, "hello") });
    const contextRoot = path.join(workDir, "contexts");
    afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

    async function pushOf(name: string, registry: ConstructorParameters<typeof ModelImage>[1]["registry"]): Promise<Record<string, any>> {
        recorded.length = 0;
        new ModelImage(name, { model, registry, contextRoot });
        await settle();
        const pushes = recorded.filter((r) => r.type === PUSH && r.name.startsWith(`${name}-push-`));
        expect(pushes).toHaveLength(1);
        return pushes[0].inputs;
    }

    test("skips verification of the digest lookup for a registry the login brings a CA for", async () => {
        const push = await pushOf("with-ca", { server: REGISTRY_SERVER, username: "plumberhub", password: "p", caCertificate: CA_PEM });
        expect(push.insecureSkipVerify).toBe(true);
    });

    test("verifies a registry without a CA, e.g. ghcr.io", async () => {
        const push = await pushOf("ghcr", { server: "ghcr.io", username: "ci", password: "p" });
        expect(push.insecureSkipVerify).toBe(false);
    });

    test("verifies a non-loopback registry whose login has no CA", async () => {
        const push = await pushOf("no-ca", { server: REGISTRY_SERVER, username: "plumberhub", password: "p" });
        expect(push.insecureSkipVerify).toBe(false);
    });

    test("the yes/no is not secret even when the login is", async () => {
        const push = await pushOf("secret-login", {
            server: pulumi.secret(REGISTRY_SERVER),
            username: "plumberhub",
            password: "p",
            caCertificate: pulumi.secret(CA_PEM),
        });
        expect(push.insecureSkipVerify).toBe(true);
    });
});

describe("ModelImage built on a remote engine (buildOnRemoteEngine)", () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-remote-build-"));
    fs.mkdirSync(path.join(workDir, "hello"));
    fs.writeFileSync(path.join(workDir, "hello", "plumber.R"), "#* @get /echo\nfunction(msg = '') list(msg = msg)\n");
    const model = validateModel({ name: "hello", path: path.join(workDir, "hello") });
    const contextRoot = path.join(workDir, "contexts");
    const registry = { server: "127.0.0.1:5000", username: "plumberhub", password: "p" };
    afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));

    async function buildOf(name: string, buildOnRemoteEngine?: boolean): Promise<Record<string, any>> {
        recorded.length = 0;
        new ModelImage(name, { model, registry, contextRoot, ...(buildOnRemoteEngine === undefined ? {} : { buildOnRemoteEngine }) });
        await settle();
        return inputsOf(REMOTE_IMAGE, `${name}-image`).build;
    }

    test("true builds with the engine's legacy builder", async () => {
        expect((await buildOf("remote", true)).useLegacyBuilder).toBe(true);
    });

    test("unset leaves the builder to the provider (no useLegacyBuilder)", async () => {
        expect(await buildOf("local")).not.toHaveProperty("useLegacyBuilder");
    });

    test("false also sets no useLegacyBuilder", async () => {
        expect(await buildOf("local-false", false)).not.toHaveProperty("useLegacyBuilder");
    });
});

describe("the dev stack with registry.host 10.0.0.5 (several nodes)", () => {
    const multiNode = { ...dev, ...configMap({ "plumberhub:registry": { kind: "swarm", port: 5000, host: "10.0.0.5" } }) };
    let resources: RecordedResource[];
    let exported: Record<string, pulumi.Output<unknown>>;
    beforeAll(async () => {
        exported = await runStackProgram(multiNode);
        resources = [...recorded];
    });
    beforeEach(() => recorded.splice(0, recorded.length, ...resources));

    test("exports a registryLogin that carries the registry's CA", async () => {
        expect(await promiseOf(exported.registryLogin)).toEqual({
            server: "10.0.0.5:5000",
            username: "plumberhub",
            password: expect.stringMatching(/^pw-plumberhub-registry-users-plumberhub-/),
            caCertificate: "CA(plumberhub-registry-tls-ca)",
        });
    });

    test("keeps the registryLogin output secret", async () => {
        expect(await pulumi.isSecret(exported.registryLogin)).toBe(true);
    });

    test("creates the registry trust service in global mode", () => {
        const service = inputsOf(SERVICE, "plumberhub-registry-trust");
        expect(service.name).toBe("registry-trust");
        expect(service.mode).toEqual({ global: true });
        expect(service.convergeConfig).toBeUndefined();
    });

    test("gives the trust service the registry certificate's CA as a config", () => {
        const config = inputsOf(CONFIG, "plumberhub-registry-registry-ca.crt");
        expect(Buffer.from(config.data, "base64").toString("utf8")).toBe("CA(plumberhub-registry-tls-ca)");
        const spec = inputsOf(SERVICE, "plumberhub-registry-trust").taskSpec.containerSpec;
        expect(spec.configs).toEqual([
            { configId: "plumberhub-registry-registry-ca.crt-id", configName: config.name, fileName: "/run/registry-ca.crt", fileMode: 0o444 },
        ]);
        expect(spec.mounts).toEqual([{ type: "bind", source: "/etc/docker", target: "/host-etc-docker" }]);
        expect(spec.args[2]).toContain("mkdir -p '/host-etc-docker/certs.d/10.0.0.5:5000'");
    });

    test("puts 10.0.0.5 in the registry's certificate, beside loopback", () => {
        const request = inputsOf("tls:index/certRequest:CertRequest", "plumberhub-registry-tls-server-csr");
        expect(request.ipAddresses).toEqual(["127.0.0.1", "10.0.0.5"]);
        expect(request.dnsNames).toEqual(["localhost"]);
    });

    test("pushes to and runs the models from 10.0.0.5:5000", () => {
        expect(inputsOf(SERVICE, "plumberhub-hello-service").taskSpec.containerSpec.image).toMatch(/^10\.0\.0\.5:5000\/hello@sha256:d{64}$/);
        const push = inputsOf(
            PUSH,
            namesOf(PUSH).find((name) => name.startsWith("plumberhub-hello-push-"))!,
        );
        expect(push.insecureSkipVerify).toBe(true);
    });

    test("gives each model service the registry login as auth, the password secret", () => {
        for (const name of ["plumberhub-hello-service", "plumberhub-bos-rf-service"]) {
            const auth = inputsOf(SERVICE, name).auth;
            expect(isSecretInput(auth)).toBe(true);
            expect(unwrap(auth)).toEqual({
                serverAddress: "10.0.0.5:5000",
                username: "plumberhub",
                password: expect.stringMatching(/^pw-plumberhub-registry-users-plumberhub-/),
            });
        }
    });

    test("keeps the gateway and its edge on managers", () => {
        for (const name of ["plumberhub-gateway-service", "plumberhub-gateway-edge-service"]) {
            expect(inputsOf(SERVICE, name).taskSpec.placement.constraints).toEqual(["node.role == manager"]);
        }
    });

    test("spreads each model over the nodes", () => {
        expect(inputsOf(SERVICE, "plumberhub-hello-service").taskSpec.placement).toEqual({ constraints: [], prefs: ["node.id"] });
    });
});

let devRun: Promise<{ exported: Record<string, pulumi.Output<unknown>>; resources: RecordedResource[] }> | undefined;
/** The dev stack program, run once for the describes that read it (each evaluation of the program adds a process listener). */
const runDevOnce = () => (devRun ??= runStackProgram(dev).then((exported) => ({ exported, resources: [...recorded] })));

describe("the dev stack with the default registry host (one node)", () => {
    let resources: RecordedResource[];
    let exported: Record<string, pulumi.Output<unknown>>;
    beforeAll(async () => {
        ({ exported, resources } = await runDevOnce());
    });
    beforeEach(() => recorded.splice(0, recorded.length, ...resources));

    test("places the registry service on a manager only (no registry.constraints)", () => {
        expect(inputsOf(SERVICE, "plumberhub-registry-service").taskSpec.placement.constraints).toEqual(["node.role == manager"]);
    });

    test("exports a registryLogin without a CA", async () => {
        const login = await promiseOf(exported.registryLogin);
        expect(login).toMatchObject({ server: "127.0.0.1:5000", username: "plumberhub" });
        expect(login).not.toHaveProperty("caCertificate");
    });

    test("has no trust service and no CA config", () => {
        expect(namesOf(SERVICE)).not.toContain("plumberhub-registry-trust");
        expect(namesOf(CONFIG).filter((name) => name.includes("registry-ca"))).toEqual([]);
    });

    test("keeps the registry certificate to loopback", () => {
        expect(inputsOf("tls:index/certRequest:CertRequest", "plumberhub-registry-tls-server-csr").ipAddresses).toEqual(["127.0.0.1"]);
    });

    test("still gives each model service the registry login as auth", () => {
        const auth = inputsOf(SERVICE, "plumberhub-hello-service").auth;
        expect(isSecretInput(auth)).toBe(true);
        expect(unwrap(auth)).toMatchObject({ serverAddress: "127.0.0.1:5000", username: "plumberhub" });
    });
});

describe("the dev stack on a tcp:// manager with TLS", () => {
    const tcp = {
        ...dev,
        ...REGISTRY_AT_MANAGER,
        ...configMap({ "plumberhub:swarm": { network: "plumberhub-dev", host: "tcp://10.0.0.5:2376", endpointMode: "dnsrr", publishMode: "host" } }),
        ...SWARM_TLS_ENTRIES,
    };

    test("gives the stack's provider the three TLS secrets as secrets", async () => {
        await runStackProgram(tcp, Object.keys(SWARM_TLS_ENTRIES));
        const provider = inputsOf(PROVIDER, "plumberhub-docker");
        expect(provider.host).toBe("tcp://10.0.0.5:2376");
        expect([provider.caMaterial, provider.certMaterial, provider.keyMaterial].map(isSecretInput)).toEqual([true, true, true]);
        expect(unwrap(provider.keyMaterial)).toBe(CLIENT_KEY);
    });

    test("without the TLS secrets stops before any resource", async () => {
        await expect(
            runStackProgram(
                withoutKey(
                    withoutKey(withoutKey(tcp, "plumberhub:swarmTlsKey"), "plumberhub:swarmTlsCertificate"),
                    "plumberhub:swarmTlsCaCertificate",
                ),
            ),
        ).rejects.toThrow('`plumberhub:swarm.host` "tcp://10.0.0.5:2376" has no TLS');
        expect(recorded).toEqual([]);
    });
});

describe("the dev stack with registry.constraints", () => {
    const pinned = {
        ...dev,
        ...configMap({ "plumberhub:registry": { kind: "swarm", port: 5000, constraints: ["node.hostname == manager1"] } }),
    };
    let resources: RecordedResource[];
    beforeAll(async () => {
        await runStackProgram(pinned);
        resources = [...recorded];
    });
    beforeEach(() => recorded.splice(0, recorded.length, ...resources));

    test("places the registry service on a manager and by its constraints", () => {
        expect(inputsOf(SERVICE, "plumberhub-registry-service").taskSpec.placement.constraints).toEqual([
            "node.role == manager",
            "node.hostname == manager1",
        ]);
    });

    test("does not move the models", () => {
        expect(inputsOf(SERVICE, "plumberhub-hello-service").taskSpec.placement.constraints).toEqual([]);
    });
});

describe("model images with swarm.host: built by the manager's engine", () => {
    const withHost = (host: string, more: Record<string, string> = {}) => ({
        ...dev,
        ...REGISTRY_AT_MANAGER,
        ...configMap({ "plumberhub:swarm": { network: "plumberhub-dev", host, endpointMode: "dnsrr", publishMode: "host" } }),
        ...more,
    });
    /** The recorded build (RemoteImage) and push (RegistryImage) of the model `hello`. */
    const helloImages = (): { build: RecordedResource; push: RecordedResource } => {
        const builds = recorded.filter((r) => r.type === REMOTE_IMAGE && r.name === "plumberhub-hello-image");
        const pushes = recorded.filter((r) => r.type === PUSH && r.name.startsWith("plumberhub-hello-push-"));
        expect([builds.length, pushes.length]).toEqual([1, 1]);
        return { build: builds[0], push: pushes[0] };
    };
    /** The reference (`urn::id`) the mocks see for the hub's Docker provider `plumberhub-docker`. */
    const HUB_PROVIDER = "urn:pulumi:test::plumberhub::plumberhub:hub:ModelHub$pulumi:providers:docker::plumberhub-docker::plumberhub-docker-id";

    describe("a tcp:// manager with TLS", () => {
        let resources: RecordedResource[];
        beforeAll(async () => {
            await runStackProgram(withHost("tcp://10.0.0.5:2376", SWARM_TLS_ENTRIES), Object.keys(SWARM_TLS_ENTRIES));
            resources = [...recorded];
        });
        beforeEach(() => recorded.splice(0, recorded.length, ...resources));

        test("the hub's provider is the one recorded", () => {
            expect(inputsOf(PROVIDER, "plumberhub-docker").host).toBe("tcp://10.0.0.5:2376");
            expect(recorded.find((r) => r.type === SERVICE && r.name === "plumberhub-hello-service")!.provider).toBe(HUB_PROVIDER);
        });

        test("builds the model's image through the hub's provider", () => {
            expect(helloImages().build.provider).toBe(HUB_PROVIDER);
        });

        test("pushes the model's image through the hub's provider", () => {
            expect(helloImages().push.provider).toBe(HUB_PROVIDER);
        });

        test("builds with the engine's legacy builder", () => {
            expect(helloImages().build.inputs.build.useLegacyBuilder).toBe(true);
        });
    });

    describe("an ssh:// manager", () => {
        let resources: RecordedResource[];
        beforeAll(async () => {
            await runStackProgram(withHost("ssh://deploy@manager.example.com"));
            resources = [...recorded];
        });
        beforeEach(() => recorded.splice(0, recorded.length, ...resources));

        test("builds and pushes the model's image through the hub's provider", () => {
            expect(inputsOf(PROVIDER, "plumberhub-docker").host).toBe("ssh://deploy@manager.example.com");
            const { build, push } = helloImages();
            expect([build.provider, push.provider]).toEqual([HUB_PROVIDER, HUB_PROVIDER]);
        });

        test("builds with the engine's legacy builder", () => {
            expect(helloImages().build.inputs.build.useLegacyBuilder).toBe(true);
        });
    });

    describe("no swarm.host (the default engine)", () => {
        let resources: RecordedResource[];
        beforeAll(async () => {
            ({ resources } = await runDevOnce());
        });
        beforeEach(() => recorded.splice(0, recorded.length, ...resources));

        test("builds and pushes the model's image through the default provider", () => {
            const { build, push } = helloImages();
            expect([build.provider, push.provider]).toEqual([undefined, undefined]);
        });

        test("still runs the model service through the hub's provider", () => {
            expect(recorded.find((r) => r.type === SERVICE && r.name === "plumberhub-hello-service")!.provider).toBe(HUB_PROVIDER);
        });

        test("builds without the legacy builder", () => {
            expect(helloImages().build.inputs.build).not.toHaveProperty("useLegacyBuilder");
        });
    });
});

describe("after review: what each model service is sent and how it rolls", () => {
    test("a model with maxReplicasPerNode rolls and rolls back stop-first (a new task may find no free slot per node)", () => {
        const plan = planModelService(spreadModel, { image: "x" });
        expect([plan.update.order, plan.rollback.order]).toEqual(["stop-first", "stop-first"]);
    });

    test("a model without maxReplicasPerNode rolls start-first", () => {
        const plan = planModelService(plainModel, { image: "x" });
        expect([plan.update.order, plan.rollback.order]).toEqual(["start-first", "start-first"]);
    });

    test("a prebuilt image's service gets no registry login (it would go to that image's registry)", async () => {
        await runStackProgram({
            ...dev,
            ...configMap({
                "plumberhub:models": [
                    { name: "hello", path: "examples/models/hello" },
                    { name: "public", image: "ghcr.io/acme/public:1" },
                ],
            }),
        });
        expect(inputsOf(SERVICE, "plumberhub-public-service").auth).toBeUndefined();
        expect(unwrap(inputsOf(SERVICE, "plumberhub-hello-service").auth).serverAddress).toBe("127.0.0.1:5000");
    });
});

describe("after review: a remote manager", () => {
    const swarmPlatform: PlatformStack = {
        stackName: "organization/plumberhub/multi",
        join: {
            target: "swarm",
            network: "plumberhub-multi",
            registryServer: REGISTRY_SERVER,
            registryAuth: "password",
            gatewayNameTemplate: "{model}.models.plumberhub.internal",
            modelPort: 8000,
            gatewayUrl: "https://models.example.com/",
        },
        modelNames: [],
        registryLogin: pulumi.secret({ server: REGISTRY_SERVER, username: "plumberhub", password: "p", caCertificate: CA_PEM }),
    };

    test("with the registry left on loopback is refused: neither the nodes nor this machine reach the manager's registry there", () => {
        const config = {
            ...dev,
            ...configMap({
                "plumberhub:swarm": { network: "plumberhub-dev", host: "ssh://deploy@10.0.0.5", endpointMode: "dnsrr", publishMode: "host" },
            }),
        };
        expect(problemsOf(() => checkStackConfig(config, () => true, PROJECT_DIR))).toEqual([
            '`plumberhub:registry.host` must be the manager\'s address that every node and this machine reach when `plumberhub:swarm.host` is a remote manager ("ssh://deploy@10.0.0.5"), got "127.0.0.1"',
        ]);
    });

    test("over ssh:// without an ssh-agent is refused with how to start one", () => {
        expect(() => checkSshAgent("ssh://deploy@10.0.0.5", {})).toThrow("SSH_AUTH_SOCK is not set");
    });

    test("over ssh:// with an ssh-agent, or over tcp://, needs no agent check", () => {
        expect(() => checkSshAgent("ssh://deploy@10.0.0.5", { SSH_AUTH_SOCK: "/tmp/agent.sock" })).not.toThrow();
        expect(() => checkSshAgent("tcp://10.0.0.5:2376", {})).not.toThrow();
    });

    test("a TeamModel with a dockerHost builds its image with the manager's engine", async () => {
        recorded.length = 0;
        new TeamModel("iris-remote", {
            platform: swarmPlatform,
            model: { name: "iris-remote", path: "examples/models/hello" },
            dockerHost: "ssh://deploy@10.0.0.5",
            sshOpts: ["-i", "/keys/deploy"],
        });
        await settle();
        expect(inputsOf(REMOTE_IMAGE, "iris-remote-image").build.useLegacyBuilder).toBe(true);
        // Provider inputs reach the engine as JSON text.
        expect(JSON.parse(inputsOf(PROVIDER, "iris-remote-docker").sshOpts as string)).toEqual(["-i", "/keys/deploy"]);
    });

    test("a TeamModel's sshOpts without an ssh:// dockerHost are refused naming its fields", () => {
        expect(() =>
            validateTeamModelArgs({
                platform: swarmPlatform,
                model: { name: "iris", image: "registry.test:5000/iris:1" },
                dockerHost: "tcp://10.0.0.5:2376",
                allowInsecureTcp: true,
                sshOpts: ["-i", "/keys/deploy"],
            }),
        ).toThrow('`sshOpts` only applies to an ssh:// host, got `dockerHost` "tcp://10.0.0.5:2376"');
    });
});
