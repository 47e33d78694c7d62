// The policy pack run the way the Pulumi CLI runs it: `@pulumi/pulumi/cmd/run-policy-pack` (what the
// `pulumi-analyzer-policy` plugin starts) compiles policy/index.ts with ts-node and serves the Analyzer gRPC
// service; the test plays the engine and sends resources to `Analyze`. No Pulumi CLI needed.
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

function analyze(type: string, name: string, props: Record<string, unknown>): Promise<Diagnostic[]> {
    const request = new analyzerProto.AnalyzeRequest()
        .setType(type)
        .setName(name)
        .setUrn(`urn:pulumi:dev::plumberhub::${type}::${name}`)
        .setProperties(Struct.fromJavaScript(props as any))
        .setOptions(new analyzerProto.AnalyzerResourceOptions()); // the engine always sends options
    const levels = Object.fromEntries(Object.entries(analyzerProto.EnforcementLevel).map(([k, v]) => [v, k]));
    return new Promise((resolve, reject) =>
        client.analyze(request, (error, response) => {
            if (error) return reject(error);
            resolve(
                response
                    .getDiagnosticsList()
                    .map((d) => ({ policy: d.getPolicyname(), level: levels[d.getEnforcementlevel()], message: d.getMessage() })),
            );
        }),
    );
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
