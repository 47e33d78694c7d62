/**
 * The prod stack's Kubernetes objects, as `npm run render` writes them from Pulumi.prod.yaml (the same plan
 * `pulumi up` uses), judged by the Kubernetes project's own Pod Security admission library
 * (k8s.io/pod-security-admission, built by scripts/get-podsecurity.sh): the check the API server runs in a namespace
 * that enforces `restricted`, as the models namespace does.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllDocuments } from "yaml";
import { LETS_ENCRYPT_STAGING } from "../../components/config/tls";
import { renderGatewayObjects, renderKubernetesGatewayFiles } from "../../components/render/kubernetes";
import { testModel } from "../helpers/models";
import { podSecurityVerdicts } from "../helpers/podSecurity";
import { run } from "../helpers/processes";

jest.setTimeout(600_000);

const REPO = path.resolve(__dirname, "../..");

let objects: any[];
let out: string;
beforeAll(async () => {
    out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pod-security-")), "prod");
    await run("npm", ["run", "-s", "render", "--", "--stack", "prod", "--out", out], { cwd: REPO, timeoutMs: 120_000 });
    objects = fs
        .readdirSync(out)
        .filter((file) => file.endsWith(".yaml"))
        .sort()
        .flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(out, file), "utf8")).map((doc) => doc.toJSON()));
});
afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

const deployments = () => objects.filter((o) => o.kind === "Deployment");

test("every pod of the prod stack meets the restricted Pod Security Standard", async () => {
    const verdicts = await podSecurityVerdicts(objects);
    const pods = verdicts.filter((v) => v.hasPod);
    expect(pods.map((v) => v.name).sort()).toEqual(
        deployments()
            .map((d) => d.metadata.name)
            .sort(),
    );
    expect(pods.length).toBeGreaterThanOrEqual(3); // two models and the gateway
    expect(pods.filter((v) => !v.allowed)).toEqual([]);
});

test("the gateway with ACME (the renewal script as its command, a shared state volume) meets the restricted standard too", async () => {
    const { deployment } = renderGatewayObjects({
        namespace: "models",
        ...renderKubernetesGatewayFiles({ namespace: "models", models: [testModel("hello")] }, { acme: true }),
        htpasswd: "alice:{SSHA}aGFzaA==\n",
        acme: { renewal: { dnsNames: ["models.example.com"], email: "ops@example.com", directoryUrl: LETS_ENCRYPT_STAGING } },
    });
    expect(deployment.spec.template.spec.volumes.map((v: any) => Object.keys(v).find((k) => k !== "name"))).toContain("persistentVolumeClaim");
    const [verdict] = await podSecurityVerdicts([deployment]);
    expect(verdict).toMatchObject({ kind: "Deployment", name: "gateway", hasPod: true, allowed: true, forbidden: [] });
});

test("the checker refuses a copy of the gateway that may escalate privileges and run as root", async () => {
    const gateway = structuredClone(deployments().find((d) => d.metadata.labels["app.kubernetes.io/component"] === "gateway"));
    gateway.spec.template.spec.securityContext.runAsNonRoot = false;
    gateway.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    const [verdict] = await podSecurityVerdicts([gateway]);
    expect(verdict.allowed).toBe(false);
    expect(verdict.forbidden).toEqual([expect.stringMatching(/^allowPrivilegeEscalation != false/), expect.stringMatching(/^runAsNonRoot != true/)]);
});

test("the prod stack denies all traffic by default and gives every model and the gateway a policy of its own", () => {
    const policies = objects.filter((o) => o.kind === "NetworkPolicy").map((o) => o.metadata.name);
    const models = deployments().filter((d) => d.metadata.labels["app.kubernetes.io/component"] === "model");
    expect(policies).toEqual(
        expect.arrayContaining(["default-deny", "gateway-ingress", "gateway-egress", ...models.map((m) => `model-${m.metadata.name}`)]),
    );
});

test("every Deployment of the prod stack spreads over zones and nodes and drains before it stops", () => {
    for (const deployment of deployments()) {
        const pod = deployment.spec.template.spec;
        expect([deployment.metadata.name, pod.topologySpreadConstraints.map((c: any) => c.topologyKey)]).toEqual([
            deployment.metadata.name,
            ["topology.kubernetes.io/zone", "kubernetes.io/hostname"],
        ]);
        expect([deployment.metadata.name, pod.containers.every((c: any) => c.lifecycle?.preStop !== undefined)]).toEqual([
            deployment.metadata.name,
            true,
        ]);
    }
});

test("the models namespace enforces the restricted standard, so the API server runs the same check", () => {
    const namespace = objects.find((o) => o.kind === "Namespace");
    expect(namespace.metadata.labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
    });
});
