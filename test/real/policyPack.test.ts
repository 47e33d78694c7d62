// The policy pack run the way the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` (what the
// `pulumi-analyzer-policy` plugin starts) compiles policy/index.ts with ts-node and serves the Analyzer gRPC
// service; the test plays the engine: it sends resources to `Analyze`, whole stacks to `AnalyzeStack`, and policy
// levels to `Configure` (what `--policy-pack-config` does). No Pulumi CLI needed.
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import * as analyzerRpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import * as analyzerProto from "@pulumi/pulumi/proto/analyzer_pb";
import { renderModelObjects } from "../../components/render/kubernetes";
import { validateModel } from "../../components/config/validateModel";
import { Service, startService, waitUntil } from "../helpers/processes";

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, "../..");
/** What the engine sends for a value not known during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const DIGEST_IMAGE = `plumberhub.azurecr.io/iris@sha256:${"b".repeat(64)}`;
const iris = validateModel({ name: "iris", image: "plumberhub.azurecr.io/iris:1.0" });

let pack: Service;
let client: analyzerRpc.AnalyzerClient;

beforeAll(async () => {
    pack = startService(process.execPath, [path.join(ROOT, "node_modules/@pulumi/pulumi/cmd/run-policy-pack"), "127.0.0.1:1", "."], {
        cwd: path.join(ROOT, "policy"),
    });
    // The pack prints its gRPC port once it listens (after ts-node compiled and type-checked it).
    await waitUntil("the policy pack to print its port", () => /^\d+$/m.test(pack.output()), 90_000, 200);
    const port = pack.output().match(/^(\d+)$/m)![1];
    client = new analyzerRpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
    client?.close();
    await pack?.stop();
});

interface Diagnostic {
    policy: string;
    level: string;
    message: string;
}

const urnOf = (type: string, name: string) => `urn:pulumi:dev::plumberhub::${type}::${name}`;
const levels = Object.fromEntries(Object.entries(analyzerProto.EnforcementLevel).map(([k, v]) => [v, k]));
const diagnosticsOf = (response: analyzerProto.AnalyzeResponse) =>
    response
        .getDiagnosticsList()
        .map((d) => ({ policy: d.getPolicyname(), level: levels[d.getEnforcementlevel()], message: d.getMessage(), urn: d.getUrn() }));

/** One resource as `Analyze` gets it: inputs and options (the engine always sends options). */
function analyze(type: string, name: string, props: Record<string, unknown>, protect = false): Promise<Diagnostic[]> {
    const request = new analyzerProto.AnalyzeRequest()
        .setType(type)
        .setName(name)
        .setUrn(urnOf(type, name))
        .setProperties(Struct.fromJavaScript(props as any))
        .setOptions(new analyzerProto.AnalyzerResourceOptions().setProtect(protect));
    return new Promise((resolve, reject) =>
        client.analyze(request, (error, response) => (error ? reject(error) : resolve(diagnosticsOf(response).map(({ urn, ...d }) => d)))),
    );
}

/** The whole stack as `AnalyzeStack` gets it after a preview or update: every resource with its outputs. */
function analyzeStack(resources: { type: string; name: string; props: Record<string, unknown> }[]): Promise<(Diagnostic & { urn: string })[]> {
    const request = new analyzerProto.AnalyzeStackRequest().setResourcesList(
        resources.map(({ type, name, props }) =>
            new analyzerProto.AnalyzerResource()
                .setType(type)
                .setName(name)
                .setUrn(urnOf(type, name))
                .setProperties(Struct.fromJavaScript(props as any))
                .setOptions(new analyzerProto.AnalyzerResourceOptions()),
        ),
    );
    return new Promise((resolve, reject) =>
        client.analyzeStack(request, (error, response) => (error ? reject(error) : resolve(diagnosticsOf(response)))),
    );
}

/** What `--policy-pack-config` sends: an enforcement level per policy (none: the pack's own levels). */
function configure(levelsByPolicy: Record<string, keyof typeof analyzerProto.EnforcementLevel>): Promise<void> {
    const request = new analyzerProto.ConfigureAnalyzerRequest();
    for (const [policy, level] of Object.entries(levelsByPolicy)) {
        request
            .getPolicyconfigMap()
            .set(policy, new analyzerProto.PolicyConfig().setEnforcementlevel(analyzerProto.EnforcementLevel[level]).setProperties(new Struct()));
    }
    return new Promise((resolve, reject) => client.configure(request, (error) => (error ? reject(error) : resolve())));
}

function deployment(image: string): Record<string, unknown> {
    return JSON.parse(JSON.stringify(renderModelObjects(iris, { namespace: "ml", image }).deployment));
}

test("a compliant model Deployment gets no diagnostics", async () => {
    expect(await analyze("kubernetes:apps/v1:Deployment", "iris", deployment(DIGEST_IMAGE))).toEqual([]);
});

test("a Deployment with a tagged image gets one mandatory violation from the digest rule", async () => {
    expect(await analyze("kubernetes:apps/v1:Deployment", "iris", deployment("plumberhub.azurecr.io/iris:1.0"))).toEqual([
        {
            policy: "plumberhub-images-by-digest",
            level: "MANDATORY",
            message: expect.stringContaining(
                'container "model" of Deployment "iris" uses image "plumberhub.azurecr.io/iris:1.0", which is not pinned by digest',
            ),
        },
    ]);
});

test("an image not known during preview is skipped with an advisory note, not a violation", async () => {
    const diagnostics = await analyze("kubernetes:apps/v1:Deployment", "iris", deployment(UNKNOWN));
    expect(diagnostics).toEqual([
        {
            policy: "plumberhub-images-by-digest",
            level: "ADVISORY",
            message: expect.stringContaining("can't run policy 'plumberhub-images-by-digest' from policy pack 'plumberhub@v0.1.0' during preview"),
        },
    ]);
});

test("a model LoadBalancer Service gets a mandatory violation", async () => {
    const { loadBalancer } = renderModelObjects(iris, { namespace: "ml", image: DIGEST_IMAGE, loadBalancer: true });
    const diagnostics = await analyze("kubernetes:core/v1:Service", "iris-public", JSON.parse(JSON.stringify(loadBalancer)));
    expect(diagnostics.map((d) => [d.policy, d.level])).toEqual([["plumberhub-no-unauthenticated-exposure", "MANDATORY"]]);
});

test("an unprotected resource group gets a mandatory violation; a protected one none", async () => {
    const props = { location: "westeurope" };
    expect((await analyze("azure-native:resources:ResourceGroup", "hub-rg", props)).map((d) => [d.policy, d.level])).toEqual([
        ["plumberhub-state-protected", "MANDATORY"],
    ]);
    expect(await analyze("azure-native:resources:ResourceGroup", "hub-rg", props, true)).toEqual([]);
});

test("a stack with a model but no NetworkPolicy gets a mandatory violation on the model's Deployment; its rendered policy clears it", async () => {
    const model = { type: "kubernetes:apps/v1:Deployment", name: "iris", props: deployment(DIGEST_IMAGE) };
    expect(await analyzeStack([model])).toEqual([
        {
            policy: "plumberhub-models-isolated",
            level: "MANDATORY",
            message: expect.stringContaining('model Deployment "iris" in namespace "ml" has no NetworkPolicy isolating its pods'),
            urn: urnOf(model.type, model.name),
        },
    ]);
    const { networkPolicy } = renderModelObjects(iris, { namespace: "ml", image: DIGEST_IMAGE });
    const policy = {
        type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        name: "iris-network-policy",
        props: JSON.parse(JSON.stringify(networkPolicy)),
    };
    expect(await analyzeStack([model, policy])).toEqual([]);
});

test("a region without zones lowers the zones policy to advisory through the pack's config", async () => {
    const cluster = {
        disableLocalAccounts: true,
        aadProfile: { managed: true, enableAzureRBAC: true },
        agentPoolProfiles: [{ name: "system", mode: "System", enableAutoScaling: true, minCount: 2, maxCount: 3 }],
    };
    const zoneDiagnostics = async () =>
        (await analyze("azure-native:containerservice:ManagedCluster", "hub-cluster", cluster, true)).map((d) => [d.policy, d.level]);
    expect(await zoneDiagnostics()).toEqual([["plumberhub-aks-availability-zones", "MANDATORY"]]);
    await configure({ "plumberhub-aks-availability-zones": "ADVISORY" });
    try {
        expect(await zoneDiagnostics()).toEqual([["plumberhub-aks-availability-zones", "ADVISORY"]]);
    } finally {
        await configure({});
    }
});

test("an AgentPool resource that may shrink to one node gets a mandatory violation from the pool sizes rule", async () => {
    const pool = { agentPoolName: "models", mode: "User", enableAutoScaling: true, minCount: 1, maxCount: 4, availabilityZones: ["1", "2", "3"] };
    const diagnostics = await analyze("azure-native:containerservice:AgentPool", "hub-pool-models", pool);
    expect(diagnostics.map((d) => [d.policy, d.level])).toEqual([["plumberhub-aks-pool-sizes", "MANDATORY"]]);
});
