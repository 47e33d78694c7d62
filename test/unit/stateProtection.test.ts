// `plumberhub:protectState` (default true) in a whole ModelHub under mocks: which stateful resources get `protect`
// or `retainOnDelete`, on AKS and on a swarm, and the swarm registry's own default.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { ParentLink, parentRecorder, promiseOf, settle } from "../helpers/pulumiMocks";
import { installProgramMocks, PROJECT_DIR, stackConfig } from "../helpers/stackProgram";

installProgramMocks();
jest.setTimeout(60_000);

import { checkStackConfig } from "../../components/config/stackConfig";
import { ModelHub } from "../../components/hub/modelHub";
import { SwarmRegistry } from "../../components/swarm";

const contextRoot = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-state-"));
afterAll(() => fs.rmSync(contextRoot, { recursive: true, force: true }));

/** The hub of `Pulumi.<stack>.yaml` with `changes` applied (`undefined` removes a key); returns every registration. */
async function hubOf(stack: string, changes: Record<string, string | undefined>): Promise<ParentLink[]> {
    const entries = Object.fromEntries(
        Object.entries({ ...stackConfig(stack), ...changes }).filter((entry): entry is [string, string] => entry[1] !== undefined),
    );
    const { config } = checkStackConfig(entries, () => false, PROJECT_DIR);
    const { transformation, links } = parentRecorder();
    const hub = new ModelHub("plumberhub", { config, contextRoot }, { transformations: [transformation] });
    await promiseOf(hub.url);
    await settle();
    return links;
}

/** `protect` and `retainOnDelete` of each named registration, in that order. */
function options(links: ParentLink[], names: string[]): Record<string, [boolean | undefined, boolean | undefined]> {
    return Object.fromEntries(
        names.map((name) => {
            const found = links.filter((l) => l.name === name);
            if (found.length !== 1) throw new Error(`expected one registration ${name}, got ${found.length}`);
            return [name, [found[0].opts.protect, found[0].opts.retainOnDelete]];
        }),
    );
}

const AKS_STATE = ["plumberhub-rg", "plumberhub-aks-cluster", "plumberhub-acr-registry"];

describe("on AKS (Pulumi.prod.yaml)", () => {
    test("by default the resource group, the cluster and the registry are protected, and the registry is kept on delete", async () => {
        const links = await hubOf("prod", { "plumberhub:protectState": undefined });
        expect(options(links, AKS_STATE)).toEqual({
            "plumberhub-rg": [true, undefined],
            "plumberhub-aks-cluster": [true, undefined],
            "plumberhub-acr-registry": [true, true],
        });
    });

    test("protectState false leaves all three to pulumi destroy", async () => {
        const links = await hubOf("prod", { "plumberhub:protectState": "false" });
        expect(options(links, AKS_STATE)).toEqual({
            "plumberhub-rg": [false, undefined],
            "plumberhub-aks-cluster": [false, undefined],
            "plumberhub-acr-registry": [false, false],
        });
    });
});

describe("on AKS with ACME over HTTP-01", () => {
    const changes = {
        "plumberhub:gateway": JSON.stringify({ host: "models.example.com", users: ["alice"], tls: "acme", acme: { email: "ops@example.com" } }),
    };
    const withGatewayImage = (stack: string) => {
        const aks = JSON.parse(stackConfig(stack)["plumberhub:aks"]) as Record<string, unknown>;
        return JSON.stringify({ ...aks, gatewayImage: `registry.example.com/nginx-lego@sha256:${"a".repeat(64)}` });
    };

    test("the gateway's ACME state claim is kept on delete by default", async () => {
        const links = await hubOf("prod", { ...changes, "plumberhub:aks": withGatewayImage("prod"), "plumberhub:protectState": undefined });
        expect(options(links, ["plumberhub-gateway-persistent-volume-claim"])).toEqual({
            "plumberhub-gateway-persistent-volume-claim": [undefined, true],
        });
    });

    test("and goes with pulumi destroy when protectState is false", async () => {
        const links = await hubOf("prod", { ...changes, "plumberhub:aks": withGatewayImage("prod"), "plumberhub:protectState": "false" });
        expect(options(links, ["plumberhub-gateway-persistent-volume-claim"])).toEqual({
            "plumberhub-gateway-persistent-volume-claim": [undefined, false],
        });
    });
});

describe("on a swarm (Pulumi.dev.yaml)", () => {
    test("by default the registry's data volume is kept on delete", async () => {
        const links = await hubOf("dev", { "plumberhub:protectState": undefined });
        expect(options(links, ["plumberhub-registry-data"])).toEqual({ "plumberhub-registry-data": [undefined, true] });
    });

    test("the dev stack is a throwaway: its registry volume goes with pulumi destroy", async () => {
        const links = await hubOf("dev", {});
        expect(options(links, ["plumberhub-registry-data"])).toEqual({ "plumberhub-registry-data": [undefined, false] });
    });

    const acmeGateway = JSON.stringify({ host: "models.example.com", users: ["alice"], tls: "acme", acme: { email: "ops@example.com" } });
    const withGatewayImage = JSON.stringify({ ...JSON.parse(stackConfig("dev")["plumberhub:swarm"]), gatewayImage: "local/nginx:bookworm" });

    test("with ACME over HTTP-01 the gateway's volume (ACME account and certificates) is kept on delete by default", async () => {
        const links = await hubOf("dev", {
            "plumberhub:protectState": undefined,
            "plumberhub:gateway": acmeGateway,
            "plumberhub:swarm": withGatewayImage,
        });
        expect(options(links, ["plumberhub-gateway-acme"])).toEqual({ "plumberhub-gateway-acme": [undefined, true] });
        // The gateway gets its certificate itself: none is made during `up`.
        expect(links.filter((link) => link.type === "plumberhub:tls:ServerCertificate").map((link) => link.name)).toEqual([
            "plumberhub-registry-tls",
        ]);
    });

    test("and goes with pulumi destroy on a throwaway stack", async () => {
        const links = await hubOf("dev", { "plumberhub:gateway": acmeGateway, "plumberhub:swarm": withGatewayImage });
        expect(options(links, ["plumberhub-gateway-acme"])).toEqual({ "plumberhub-gateway-acme": [undefined, false] });
    });
});

describe("SwarmRegistry on its own", () => {
    const args = {
        host: "127.0.0.1",
        tlsCertificate: "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n",
        tlsKey: pulumi.secret("-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n"),
        htpasswd: pulumi.secret("pusher:$2b$05$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZa\n"),
        username: "pusher",
        password: pulumi.secret("push-password"),
    };

    test.each([
        ["keeps its data volume on delete by default", {}, true],
        ["lets it go with retainData false", { retainData: false }, false],
    ])("%s", async (_title, extra, retained) => {
        const { transformation, links } = parentRecorder();
        const registry = new SwarmRegistry("registry", { ...args, ...extra }, { transformations: [transformation] });
        await promiseOf(registry.serviceId);
        await settle();
        expect(options(links, ["registry-data"])).toEqual({ "registry-data": [undefined, retained] });
    });
});
