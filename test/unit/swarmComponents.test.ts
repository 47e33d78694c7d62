import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installRecordingMocks, isSecret, isSecretInput, parentRecorder, promiseOf, RecordedResource, settle } from "../helpers/pulumiMocks";

/** Like a registry: the digest follows the pushed content, which the content-hash tag stands for here. */
function digestOf(imageName: string): string {
    return `${imageName.replace(/:[^:/]+$/, "")}@sha256:${createHash("sha256").update(imageName).digest("hex")}`;
}

const recorded = installRecordingMocks({
    "docker:index/registryImage:RegistryImage": (args) => ({ sha256Digest: digestOf(String(args.inputs.name)).split("@")[1] }),
});

import { ModelImage } from "../../components/image";
import { planSwarmStack, renderSwarmGatewayConfigs } from "../../components/render/swarm";
import { Model, validateModels } from "../../components/config";
import { SwarmGateway, SwarmModel, SwarmNetwork, SwarmRegistry, swarmProvider } from "../../components/swarm";

const SERVICE = "docker:index/service:Service";
const CONFIG = "docker:index/serviceConfig:ServiceConfig";
const SECRET = "docker:index/secret:Secret";
const NETWORK = "docker:index/network:Network";
const IMAGE = "docker:index/remoteImage:RemoteImage";
const PUSH = "docker:index/registryImage:RegistryImage";

const registry = { server: "registry.test:5000", username: "pusher", password: "push-password-0123456789" };
const tls = {
    tlsCertificate: "-----BEGIN CERTIFICATE-----\nMIIBgateway\n-----END CERTIFICATE-----\n",
    tlsKey: "-----BEGIN PRIVATE KEY-----\nMIIEsecretkeymaterial\n-----END PRIVATE KEY-----\n",
    htpasswd: "alice:{SSHA}c2VjcmV0LWhhc2gtb2YtYWxpY2U=\n",
};

const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-swarm-"));
const contextRoot = path.join(workDir, "contexts");

/** Three model folders; `helloCode` replaces hello's plumber.R. */
function models(helloCode = "#* @get /echo\nfunction(msg = '') list(msg = msg)\n"): Model[] {
    const code: Record<string, string> = {
        hello: helloCode,
        "bos-rf": "#* @post /score\nfunction(req) 1\n",
        sentiment: "#* @post /score\nfunction(text = '') nchar(text)\n",
    };
    for (const [name, text] of Object.entries(code)) {
        fs.mkdirSync(path.join(workDir, name), { recursive: true });
        fs.writeFileSync(path.join(workDir, name, "plumber.R"), text);
    }
    return validateModels(
        [
            { name: "hello", path: "hello" },
            { name: "bos-rf", path: "bos-rf", replicas: 2 },
            { name: "sentiment", path: "sentiment" },
        ],
        { baseDir: workDir },
    );
}

interface Variant {
    helloCode?: string;
    readTimeoutSeconds?: number;
}

/** The platform program for a swarm: network, 3 images + model services, gateway. Returns what registered. */
async function deployHub(variant: Variant = {}): Promise<Map<string, RecordedResource>> {
    recorded.length = 0;
    const network = new SwarmNetwork("hub", { networkName: "plumberhub" });
    const list = models(variant.helloCode);
    const services = list.map((model) => {
        const image = new ModelImage(model.name, { model, registry, contextRoot });
        return new SwarmModel(model.name, { model, image: image.repoDigest, networkId: network.networkId });
    });
    const gateway = new SwarmGateway("gateway", {
        networkId: network.networkId,
        settings: { models: list.map(({ name }) => ({ name })), limits: { readTimeoutSeconds: variant.readTimeoutSeconds ?? 120 } },
        tlsCertificate: pulumi.secret(tls.tlsCertificate),
        tlsKey: pulumi.secret(tls.tlsKey),
        htpasswd: pulumi.secret(tls.htpasswd),
    });
    await Promise.all([...services.map((s) => promiseOf(s.serviceId)), promiseOf(gateway.serviceId)]);
    await settle();
    return new Map(recorded.map((r) => [`${r.type}::${r.name}`, r]));
}

function find(resources: Map<string, RecordedResource>, type: string, name: string): RecordedResource {
    const found = resources.get(`${type}::${name}`);
    if (!found) throw new Error(`no ${type} ${name} among ${[...resources.keys()].join(", ")}`);
    return found;
}

/** Keys (`type::name`) whose inputs differ between two runs, or that exist in only one. */
function changed(a: Map<string, RecordedResource>, b: Map<string, RecordedResource>): string[] {
    const keys = new Set([...a.keys(), ...b.keys()]);
    return [...keys].filter((key) => JSON.stringify(a.get(key)?.inputs) !== JSON.stringify(b.get(key)?.inputs)).sort();
}

/** Every string in a value, skipping values that arrive marked secret. */
function plainStrings(value: unknown): string[] {
    if (isSecretInput(value)) return [];
    if (typeof value === "string") return [value];
    if (Array.isArray(value)) return value.flatMap(plainStrings);
    if (value && typeof value === "object") return Object.values(value).flatMap(plainStrings);
    return [];
}

/** The value of a secret-wrapped mock input. */
function unwrap(value: any): any {
    return isSecretInput(value) ? value.value : value;
}

let base: Map<string, RecordedResource>;
beforeAll(async () => {
    base = await deployHub();
});

describe("swarm hub graph for 3 models", () => {
    test("has one network, three images and five services (three models, the gateway and its edge)", () => {
        const types = [...base.values()].map((r) => r.type);
        expect(types.filter((t) => t === NETWORK)).toHaveLength(1);
        expect(types.filter((t) => t === IMAGE)).toHaveLength(3);
        expect(
            [...base.values()]
                .filter((r) => r.type === SERVICE)
                .map((r) => r.inputs.name)
                .sort(),
        ).toEqual(["bos-rf", "gateway", "gateway-edge", "hello", "sentiment"]);
    });

    test("creates the overlay network attachable under its exported name", () => {
        expect(find(base, NETWORK, "hub-network").inputs).toMatchObject({ name: "plumberhub", driver: "overlay", attachable: true });
    });

    test("runs each model from its image digest on the hub network with its alias", () => {
        const spec = find(base, SERVICE, "hello-service").inputs.taskSpec;
        expect(spec.containerSpec.image).toBe(digestOf(find(base, IMAGE, "hello-image").inputs.name));
        expect(spec.networksAdvanceds).toEqual([{ id: "hub-network-id", aliases: ["hello.models.plumberhub.internal"] }]);
        expect(spec.containerSpec.env).toEqual({ PLUMBERHUB_IDLE_WAIT_SECONDS: "120", PORT: "8000", PUBLIC_PATH_PREFIX: "/hello" });
    });

    test("gives each model its replicas, limits without a reservation, healthcheck and start-first updates", () => {
        const rf = find(base, SERVICE, "bos-rf-service").inputs;
        expect(rf.mode).toEqual({ replicated: { replicas: 2 } });
        expect(rf.taskSpec.resources.limits).toEqual({ nanoCpus: 5e8, memoryBytes: 2 ** 30 });
        expect(rf.taskSpec.resources.reservation).toBeUndefined();
        expect(rf.taskSpec.containerSpec.healthcheck).toMatchObject({ interval: "5s", timeout: "5s", retries: 3, startPeriod: "1m" });
        expect(rf.taskSpec.containerSpec.healthcheck.tests.join(" ")).toContain("GET /healthz");
        expect(rf.updateConfig).toMatchObject({ order: "start-first", failureAction: "rollback" });
        expect(rf.endpointSpec).toEqual({ mode: "vip", ports: [] });
    });

    test("model services leave the wait for their replicas to the component; the gateway's provider waits itself", () => {
        expect(find(base, SERVICE, "bos-rf-service").inputs.convergeConfig).toBeUndefined();
        expect(find(base, SERVICE, "gateway-service").inputs.convergeConfig).toEqual({ delay: "5s", timeout: "5m" });
    });

    test("mounts the gateway's configs and secrets by their content-hashed names", () => {
        const spec = find(base, SERVICE, "gateway-service").inputs.taskSpec.containerSpec;
        const conf = find(base, CONFIG, "gateway-nginx.conf").inputs;
        expect(spec.configs[0]).toEqual({
            configId: "gateway-nginx.conf-id",
            configName: conf.name,
            fileName: "/etc/nginx/nginx.conf",
            fileMode: 0o444,
        });
        expect(spec.secrets.map((s: any) => [s.secretId, s.fileName])).toEqual([
            ["gateway-tls.crt-id", "/run/secrets/tls.crt"],
            ["gateway-tls.key-id", "/run/secrets/tls.key"],
            ["gateway-htpasswd-id", "/run/secrets/htpasswd"],
        ]);
    });

    test("comes from the same plan as the exported stack file", () => {
        const list = models();
        const images = Object.fromEntries(
            [...base.values()].filter((r) => r.type === SERVICE).map((r) => [r.inputs.name, r.inputs.taskSpec.containerSpec.image]),
        );
        const plan = planSwarmStack({
            prefix: "gateway",
            models: list.map((model) => ({ model, image: images[model.name] })),
            gateway: { settings: { models: list.map(({ name }) => ({ name })), limits: { readTimeoutSeconds: 120 } }, secrets: tls },
        });
        expect(plan.configs.map((c) => c.name)).toEqual([
            find(base, CONFIG, "gateway-nginx.conf").inputs.name,
            find(base, CONFIG, "gateway-edge.conf").inputs.name,
            find(base, CONFIG, "gateway-static-index.html").inputs.name,
        ]);
        expect(plan.secrets.map((s) => s.name)).toEqual(
            ["tls.crt", "tls.key", "htpasswd"].map((key) => find(base, SECRET, `gateway-${key}`).inputs.name),
        );
        for (const service of plan.services.filter((s) => !s.name.startsWith("gateway"))) {
            const inputs = find(base, SERVICE, `${service.name}-service`).inputs;
            expect(inputs.taskSpec.containerSpec.env).toEqual(service.env);
            expect(inputs.mode.replicated.replicas).toBe(service.replicas);
        }
    });
});

describe("changes", () => {
    test("changing one model's code changes only that model's image and service image", async () => {
        const after = await deployHub({ helloCode: "#* @get /echo\nfunction(msg = '') list(msg = toupper(msg))\n" });
        // The push is named after the tag: the new image is a new push, and the old one is gone from the program.
        const pushOf = (resources: Map<string, RecordedResource>) => [...resources.keys()].filter((key) => key.startsWith(`${PUSH}::hello-push-`));
        expect(pushOf(after)).not.toEqual(pushOf(base));
        expect(changed(base, after)).toEqual([...pushOf(base), ...pushOf(after), `${IMAGE}::hello-image`, `${SERVICE}::hello-service`].sort());
        const before = find(base, SERVICE, "hello-service").inputs;
        const now = find(after, SERVICE, "hello-service").inputs;
        expect(now.taskSpec.containerSpec.image).not.toBe(before.taskSpec.containerSpec.image);
        const withoutImage = (inputs: any) =>
            JSON.stringify({ ...inputs, taskSpec: { ...inputs.taskSpec, containerSpec: { ...inputs.taskSpec.containerSpec, image: "" } } });
        expect(withoutImage(now)).toBe(withoutImage(before));
    });

    test("changing the nginx config changes the config's name and the gateway service, nothing else", async () => {
        const after = await deployHub({ readTimeoutSeconds: 300 });
        expect(changed(base, after)).toEqual([`${SERVICE}::gateway-service`, `${CONFIG}::gateway-nginx.conf`]);
        const before = find(base, CONFIG, "gateway-nginx.conf").inputs.name;
        expect(find(after, CONFIG, "gateway-nginx.conf").inputs.name).not.toBe(before);
        expect(find(after, CONFIG, "gateway-nginx.conf").inputs.name).toMatch(/^gateway-nginx\.conf-[0-9a-f]{12}$/);
        const decoded = Buffer.from(find(after, CONFIG, "gateway-nginx.conf").inputs.data, "base64").toString("utf8");
        expect(decoded).toBe(
            renderSwarmGatewayConfigs({ models: models().map(({ name }) => ({ name })), limits: { readTimeoutSeconds: 300 } }).nginxConf,
        );
    });
});

describe("secrets", () => {
    test("every swarm secret's data is marked secret and its name is not", () => {
        const secrets = [...base.values()].filter((r) => r.type === SECRET);
        expect(secrets.map((s) => s.name).sort()).toEqual(["gateway-htpasswd", "gateway-tls.crt", "gateway-tls.key"]);
        for (const secret of secrets) {
            expect(isSecretInput(secret.inputs.data)).toBe(true);
            expect(isSecretInput(secret.inputs.name)).toBe(false);
        }
        expect(Buffer.from(unwrap(find(base, SECRET, "gateway-tls.key").inputs.data), "base64").toString("utf8")).toBe(tls.tlsKey);
    });

    test("no key, password hash or registry password appears in any plain input", () => {
        const plain = [...base.values()].flatMap((r) => plainStrings(r.inputs));
        for (const secret of ["secretkeymaterial", "c2VjcmV0LWhhc2gtb2YtYWxpY2U", registry.password]) {
            expect(plain.filter((s) => s.includes(secret))).toEqual([]);
        }
        const encoded = [tls.tlsKey, tls.htpasswd].map((s) => Buffer.from(s).toString("base64"));
        expect(plain.filter((s) => encoded.includes(s))).toEqual([]);
    });
});

describe("SwarmRegistry", () => {
    const bcryptLine = "pusher:$2b$05$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa\n";
    async function deployRegistry() {
        recorded.length = 0;
        const reg = new SwarmRegistry("registry", {
            host: "127.0.0.1",
            port: 5443,
            tlsCertificate: tls.tlsCertificate,
            tlsKey: pulumi.secret(tls.tlsKey),
            htpasswd: pulumi.secret(bcryptLine),
            username: "pusher",
            password: pulumi.secret(registry.password),
        });
        await promiseOf(reg.serviceId);
        await settle();
        return reg;
    }

    test("outputs the login server and a secret password", async () => {
        const reg = await deployRegistry();
        expect(await promiseOf(reg.server)).toBe("127.0.0.1:5443");
        expect(await isSecret(reg.password)).toBe(true);
    });

    test("stores TLS and htpasswd as secrets and data on a named volume", async () => {
        await deployRegistry();
        const secrets = recorded.filter((r) => r.type === SECRET);
        expect(secrets.map((s) => s.name)).toEqual(["registry-registry.crt", "registry-registry.key", "registry-registry.htpasswd"]);
        expect(secrets.every((s) => isSecretInput(s.inputs.data))).toBe(true);
        const service = recorded.find((r) => r.type === SERVICE)!.inputs;
        expect(service.taskSpec.containerSpec.mounts).toEqual([{ type: "volume", source: "registry-data", target: "/var/lib/registry" }]);
        expect(service.taskSpec.placement).toEqual({ constraints: ["node.role == manager"] });
        expect(service.endpointSpec.ports).toEqual([{ targetPort: 5000, publishedPort: 5443, publishMode: "ingress", protocol: "tcp" }]);
        expect(recorded.find((r) => r.type === "docker:index/volume:Volume")!.inputs.name).toBe("registry-data");
    });

    test("without a network given, joins an overlay network of its own that has a name (the provider needs one)", async () => {
        await deployRegistry();
        const network = recorded.find((r) => r.type === "docker:index/network:Network")!;
        expect(network.inputs).toMatchObject({ name: "registry-network", driver: "overlay" });
        expect(recorded.find((r) => r.type === SERVICE)!.inputs.taskSpec.networksAdvanceds).toEqual([
            expect.objectContaining({ id: "registry-network-id" }),
        ]);
    });
});

describe("children", () => {
    test("every resource of a gateway is its child, named after it", async () => {
        const { transformation, links } = parentRecorder();
        const gateway = new SwarmGateway(
            "edge",
            { networkId: "n", settings: { models: [{ name: "hello" }] }, ...tls },
            { transformations: [transformation] },
        );
        await promiseOf(gateway.serviceId);
        await settle();
        const children = links.filter((link) => link.type.startsWith("docker:"));
        expect(children.map((link) => link.name).sort()).toEqual([
            "edge-edge-service",
            "edge-edge.conf",
            "edge-htpasswd",
            "edge-nginx.conf",
            "edge-service",
            "edge-static-index.html",
            "edge-tls.crt",
            "edge-tls.key",
        ]);
        expect(children.every((link) => link.parent === gateway)).toBe(true);
    });
});

describe("a gateway with ACME (HTTP-01)", () => {
    const acme = { renewal: { dnsNames: ["models.example.com"], email: "ops@example.com", directoryUrl: "https://acme.example.com/dir" } };

    async function acmeGateway(name: string, retainAcmeData?: boolean) {
        const { transformation, links } = parentRecorder();
        const gateway = new SwarmGateway(
            name,
            {
                networkId: "n",
                settings: { models: [{ name: "hello" }] },
                htpasswd: tls.htpasswd,
                acme,
                ...(retainAcmeData === undefined ? {} : { retainAcmeData }),
            },
            { transformations: [transformation] },
        );
        await promiseOf(gateway.serviceId);
        await settle();
        return links.filter((link) => link.type.startsWith("docker:"));
    }

    test("makes no certificate or key secret, but the renewal script and a volume for its state", async () => {
        const children = await acmeGateway("acme-gw");
        expect(children.map((link) => link.name).sort()).toEqual([
            "acme-gw-acme",
            "acme-gw-edge-service",
            "acme-gw-edge.conf",
            "acme-gw-htpasswd",
            "acme-gw-nginx.conf",
            "acme-gw-plumberhub-acme",
            "acme-gw-service",
            "acme-gw-static-index.html",
        ]);
    });

    test("the volume with the ACME account and certificates is kept on delete unless asked otherwise", async () => {
        const volumeOf = (links: Awaited<ReturnType<typeof acmeGateway>>) => links.find((link) => link.type === "docker:index/volume:Volume")!;
        expect(volumeOf(await acmeGateway("kept-gw")).opts.retainOnDelete).toBe(true);
        expect(volumeOf(await acmeGateway("throwaway-gw", false)).opts.retainOnDelete).toBe(false);
    });

    test("the service runs the renewal script and mounts the volume", async () => {
        await acmeGateway("run-gw");
        const service = find(new Map(recorded.map((r) => [`${r.type}::${r.name}`, r])), "docker:index/service:Service", "run-gw-service");
        const spec = unwrap(service.inputs.taskSpec) as { containerSpec: { args: string[]; mounts: { source: string; target: string }[] } };
        expect(spec.containerSpec.args).toEqual(["/usr/local/bin/plumberhub-acme", "serve"]);
        expect(spec.containerSpec.mounts).toEqual([{ type: "volume", source: "run-gw-acme", target: "/var/lib/plumberhub/acme" }]);
    });

    test("refuses a certificate next to ACME, and neither", () => {
        const settings = { models: [] };
        expect(() => new SwarmGateway("both-gw", { networkId: "n", settings, ...tls, acme })).toThrow(
            "`args.tlsCertificate` and `args.tlsKey` are not used with `args.acme`",
        );
        expect(() => new SwarmGateway("neither-gw", { networkId: "n", settings, htpasswd: tls.htpasswd })).toThrow(
            "the gateway needs a certificate: give `args.tlsCertificate` and `args.tlsKey` (a certificate of your own) or `args.acme`",
        );
    });
});

describe("bad arguments", () => {
    const [hello] = models();

    test("a model without an image", () => {
        expect(() => new SwarmModel("bad-image", { model: hello, image: "", networkId: "n" })).toThrow(
            "`image` is required for model `hello`: pass its ModelImage's `repoDigest` or the model's `image`",
        );
    });

    test("a model with an unknown endpoint mode", () => {
        expect(() => new SwarmModel("bad-mode", { model: hello, image: "x", networkId: "n", endpointMode: "ipvs" as never })).toThrow(
            '`args.endpointMode` must be "vip" or "dnsrr", got "ipvs"',
        );
    });

    test("a gateway on dnsrr with ingress ports", () => {
        expect(() => new SwarmGateway("bad-gw", { networkId: "n", settings: { models: [] }, ...tls, endpointMode: "dnsrr" })).toThrow(
            '`args.publishMode` must be "host" when `args.endpointMode` is "dnsrr": Docker refuses ingress-published ports on a dnsrr service',
        );
    });

    test("a gateway whose settings the renderer refuses", () => {
        expect(() => new SwarmGateway("bad-settings", { networkId: "n", settings: { models: [{ name: "gateway" }] }, ...tls })).toThrow(
            '`models[0].name` "gateway" is reserved',
        );
    });

    test("a network name Docker would reject", () => {
        expect(() => new SwarmNetwork("bad-net", { networkName: "-hub" })).toThrow(
            '`networkName` must be 1–63 letters, digits, "_", "." or "-" starting with a letter or digit, got "-hub"',
        );
    });

    test("a registry htpasswd that is not bcrypt", () => {
        expect(
            () => new SwarmRegistry("bad-registry", { host: "h", ...tls, htpasswd: "pusher:$apr1$abc$def\n", username: "pusher", password: "p" }),
        ).toThrow("`htpasswd` line 1 must be a bcrypt entry `user:$2y$…` (the registry accepts only bcrypt), got user `pusher` with another hash");
    });

    test("a provider host that is not a Docker endpoint", () => {
        expect(() => swarmProvider("bad-provider", { host: "manager.example.com" })).toThrow(
            '`host` must be unix:///path/to/docker.sock, npipe:////./pipe/name, ssh://[user@]host[:port] or tcp://host:port, got "manager.example.com"',
        );
    });

    test("ssh options without an ssh host", () => {
        expect(() => swarmProvider("bad-ssh", { host: "unix:///var/run/docker.sock", sshOpts: ["-v"] })).toThrow(
            '`sshOpts` only applies to an ssh:// host, got `host` "unix:///var/run/docker.sock"',
        );
    });

    test("a provider from an ssh host is created", () => {
        const provider = swarmProvider("ssh-provider", {
            host: "ssh://deploy@manager.example.com:2222",
            sshOpts: ["-o", "StrictHostKeyChecking=yes"],
        });
        expect(pulumi.ProviderResource.isInstance(provider)).toBe(true);
    });
});

afterAll(() => fs.rmSync(workDir, { recursive: true, force: true }));
