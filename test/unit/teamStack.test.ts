// The team stack (examples/team-stack) evaluated under mocks against a mocked StackReference whose outputs are what
// the platform program (index.ts) really exports under the same mocks, for the dev (swarm) and prod (AKS) stacks.
import * as pulumi from "@pulumi/pulumi";
import { isSecret, isSecretInput, promiseOf, RecordedResource, recordedInputs, secretInputOf, settle } from "../helpers/pulumiMocks";
import { ACR_REFRESH_TOKEN, installProgramMocks, runStackProgram, stackConfig } from "../helpers/stackProgram";
import { ACR_TOKEN_USERNAME } from "../../components/aks/acrTokenExchange";

/** What the mocked StackReference answers: the platform's outputs and which of them are secret. */
let platform: { outputs: Record<string, unknown>; secretOutputNames: string[] } = { outputs: {}, secretOutputNames: [] };
const recorded = installProgramMocks({
    "pulumi:pulumi:StackReference": () => ({ outputs: platform.outputs, secretOutputNames: platform.secretOutputNames }),
});
jest.setTimeout(60_000);

// The example imports the published package by name; here it is this checkout's source.
jest.mock("plumberhub", () => require("../../components"), { virtual: true });
// Required (not imported) so tsc does not type-check the example against a `plumberhub` package that is not installed here.
const teamProgram: () => Promise<Record<string, pulumi.Output<unknown>>> = require("../../examples/team-stack/index");

const PLATFORM_STACK = "organization/plumberhub/dev";
/** The ACR token an AKS platform exports in `registryLogin`, set apart from the one the team stack mints. */
const PLATFORM_TOKEN = "platform-acr-token";
const DIGEST = `sha256:${"d".repeat(64)}`;

/** Runs the platform program with `Pulumi.<stack>.yaml` (once per stack) and keeps its outputs as a StackReference would read them. */
const deployed = new Map<string, typeof platform>();
async function deployPlatform(stack: string): Promise<void> {
    // JSON copies: structuredClone makes arrays of another realm, which the SDK's serialiser does not treat as arrays.
    const known = deployed.get(stack);
    if (known) {
        platform = JSON.parse(JSON.stringify(known));
        return;
    }
    const exported = await runStackProgram(stackConfig(stack));
    const outputs: Record<string, unknown> = {};
    const secretOutputNames: string[] = [];
    for (const [key, output] of Object.entries(exported)) {
        const value = await promiseOf(output);
        if (value === undefined) continue; // the engine stores no undefined output
        outputs[key] = value;
        if (await isSecret(output)) secretOutputNames.push(key);
    }
    deployed.set(stack, { outputs, secretOutputNames });
    platform = JSON.parse(JSON.stringify({ outputs, secretOutputNames }));
}

/** Evaluates the team stack with `config` (`team:` keys); returns its outputs, or throws what the program throws. */
async function runTeamStack(config: Record<string, string> = {}): Promise<Record<string, pulumi.Output<unknown>>> {
    recorded.length = 0;
    pulumi.runtime.setAllConfig({ "team:platformStack": PLATFORM_STACK, ...config });
    const exported = await teamProgram();
    await settle();
    return exported;
}

const inputsOf = (type: string, name: string) => recordedInputs(recorded, type, name);

/** The image push: named after the image's content-hash tag. */
const PUSH_NAME = /^iris-push-[0-9a-f]{16}$/;
const pushInputs = () =>
    inputsOf("docker:index/registryImage:RegistryImage", recorded.find((r) => PUSH_NAME.test(r.name))?.name ?? "iris-push-{tag}");

/** Types and names, the push's tag written as `{tag}`. */
const resourceList = (resources: RecordedResource[]) =>
    resources.map((r) => `${r.type} ${PUSH_NAME.test(r.name) ? "iris-push-{tag}" : r.name}`).sort();

describe("the team stack joining the dev platform (swarm)", () => {
    let exported: Record<string, any>;
    let resources: RecordedResource[];
    beforeAll(async () => {
        await deployPlatform("dev");
        exported = await runTeamStack({ "team:endpointMode": "dnsrr" });
        resources = [...recorded];
    });
    beforeEach(() => recorded.splice(0, recorded.length, ...resources));

    test("reads the platform stack named in team:platformStack", () => {
        expect(inputsOf("pulumi:pulumi:StackReference", "platform").name).toBe(PLATFORM_STACK);
    });

    test("creates only the model's image and service: nothing of the gateway, network or registry", () => {
        expect(resourceList(recorded)).toEqual([
            "docker:index/registryImage:RegistryImage iris-push-{tag}",
            "docker:index/remoteImage:RemoteImage iris-image",
            "docker:index/service:Service iris-service",
            "plumberhub:hub:TeamModel iris",
            "plumberhub:image:ModelImage iris",
            "plumberhub:swarm:SwarmModel iris",
            "pulumi:providers:docker iris-docker",
            "pulumi:pulumi:StackReference platform",
        ]);
    });

    test("joins the platform's network with the model alias the gateway's template expects", () => {
        const service = inputsOf("docker:index/service:Service", "iris-service");
        expect(service.name).toBe("iris");
        expect(service.taskSpec.networksAdvanceds).toEqual([{ id: "plumberhub-dev", aliases: ["iris.models.plumberhub.internal"] }]);
        expect(service.endpointSpec.mode).toBe("dnsrr");
    });

    test("pushes the image to the platform's registry with the platform's login, the password as a secret", () => {
        expect((platform.outputs.join as Record<string, unknown>).registryAuth).toBe("password");
        const login = platform.outputs.registryLogin as Record<string, string>;
        expect(inputsOf("docker:index/remoteImage:RemoteImage", "iris-image").name).toMatch(/^127\.0\.0\.1:5000\/iris:[0-9a-f]{16}$/);
        const push = pushInputs();
        // The password is secret, so the SDK sends the whole `authConfig` block as a secret.
        expect(isSecretInput(push.authConfig)).toBe(true);
        expect(push.authConfig.value).toEqual({ address: "127.0.0.1:5000", username: login.username, password: login.password });
        expect(login.password).toMatch(/^pw-plumberhub-registry-users-plumberhub-/);
        expect(inputsOf("docker:index/service:Service", "iris-service").taskSpec.containerSpec.image).toBe(`127.0.0.1:5000/iris@${DIGEST}`);
    });

    test("exports the model's URL and docs on the platform gateway", async () => {
        expect(await promiseOf(exported.url)).toBe("https://localhost:8443/iris/");
        expect(await promiseOf(exported.docsUrl)).toBe("https://localhost:8443/iris/__docs__/");
        expect(await promiseOf(exported.image)).toBe(`127.0.0.1:5000/iris@${DIGEST}`);
    });
});

describe("the team stack joining the prod platform (AKS)", () => {
    let exported: Record<string, any>;
    let resources: RecordedResource[];
    beforeAll(async () => {
        await deployPlatform("prod");
        // What the platform exports is its own identity's ACR token, expired ~3 h after its `up`: the team must not use it.
        (platform.outputs.registryLogin as Record<string, string>).password = PLATFORM_TOKEN;
        exported = await runTeamStack();
        resources = [...recorded];
    });
    beforeEach(() => recorded.splice(0, recorded.length, ...resources));

    test("creates a Kubernetes provider and the model's objects only: nothing of the gateway, cluster or registry", () => {
        expect(resourceList(recorded)).toEqual([
            "docker:index/registryImage:RegistryImage iris-push-{tag}",
            "docker:index/remoteImage:RemoteImage iris-image",
            "kubernetes:apps/v1:Deployment iris-deployment",
            "kubernetes:core/v1:Service iris-service",
            "kubernetes:networking.k8s.io/v1:NetworkPolicy iris-network-policy",
            "plumberhub:aks:KubernetesModel iris",
            "plumberhub:hub:TeamModel iris",
            "plumberhub:image:ModelImage iris",
            "pulumi:providers:kubernetes iris-k8s",
            "pulumi:pulumi:StackReference platform",
        ]);
    });

    test("talks to the platform's cluster through its kubeconfig, kept secret", () => {
        const kubeconfig = inputsOf("pulumi:providers:kubernetes", "iris-k8s").kubeconfig;
        expect(isSecretInput(kubeconfig)).toBe(true);
        expect(kubeconfig.value).toBe(platform.outputs.kubeconfig);
        expect(platform.secretOutputNames).toContain("kubeconfig");
    });

    test("puts the Service model-{model} in the platform's namespace, as the gateway's template expects", () => {
        const join = platform.outputs.join as Record<string, string>;
        expect(join.gatewayNameTemplate).toBe("model-{model}.models.svc.cluster.local");
        const service = inputsOf("kubernetes:core/v1:Service", "iris-service");
        expect(`${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`).toBe(join.gatewayNameTemplate.replace("{model}", "iris"));
        expect(inputsOf("kubernetes:apps/v1:Deployment", "iris-deployment").metadata.namespace).toBe("models");
    });

    test("pushes to the platform's ACR as the team's own identity, not with the platform's token, and runs the pushed digest", () => {
        expect((platform.outputs.join as Record<string, unknown>).registryAuth).toBe("entra");
        expect(inputsOf("docker:index/remoteImage:RemoteImage", "iris-image").name).toMatch(/^plumberhubab12cd34\.azurecr\.io\/iris:[0-9a-f]{16}$/);
        const push = pushInputs();
        // ACR_REFRESH_TOKEN is what the (mocked) exchange of this stack's own Entra ID token answers.
        expect(push.authConfig).toEqual(
            secretInputOf({ address: "plumberhubab12cd34.azurecr.io", username: ACR_TOKEN_USERNAME, password: ACR_REFRESH_TOKEN }),
        );
        expect(push.insecureSkipVerify).toBe(false);
        const container = inputsOf("kubernetes:apps/v1:Deployment", "iris-deployment").spec.template.spec.containers[0];
        expect(container.image).toBe(`plumberhubab12cd34.azurecr.io/iris@${DIGEST}`);
    });

    test("exports the model's URL on the platform gateway", async () => {
        expect(await promiseOf(exported.url)).toBe("https://plumberhub-prod.westeurope.cloudapp.azure.com/iris/");
    });
});

describe("the team stack joining an AKS platform deployed with an older plumberhub, whose join has no registryAuth", () => {
    beforeAll(async () => {
        await deployPlatform("prod");
        const { registryAuth: _auth, ...older } = platform.outputs.join as Record<string, unknown>;
        platform.outputs.join = older;
        (platform.outputs.registryLogin as Record<string, string>).password = PLATFORM_TOKEN;
        await runTeamStack();
    });

    test("pushes with the platform's registry login, as before, the password as a secret", () => {
        const push = pushInputs();
        expect(isSecretInput(push.authConfig)).toBe(true);
        expect(push.authConfig.value).toEqual({ address: "plumberhubab12cd34.azurecr.io", username: ACR_TOKEN_USERNAME, password: PLATFORM_TOKEN });
    });
});

describe("bad inputs stop the team stack with a message", () => {
    beforeAll(() => deployPlatform("dev"));

    test("a model name the gateway reserves", async () => {
        await expect(runTeamStack({ "team:modelName": "gateway" })).rejects.toThrow(
            '`model.name` "gateway" is reserved by the gateway (reserved: healthz, livez, readyz, metrics, status, static, gateway, registry, kubernetes, localhost); choose another name',
        );
    });

    test("a model name the platform stack already deploys", async () => {
        await expect(runTeamStack({ "team:modelName": "hello" })).rejects.toThrow(
            '`model.name` "hello" is already a model of platform stack `organization/plumberhub/dev` (its models: bos-rf, hello); choose another name',
        );
    });

    test("a platform stack without the join output", async () => {
        const { join: _join, ...rest } = platform.outputs;
        platform = { ...platform, outputs: rest };
        await expect(runTeamStack()).rejects.toThrow(
            "platform stack `organization/plumberhub/dev` has no output `join`: deploy it (`pulumi up`) with a plumberhub ModelHub program, or fix `team:platformStack`",
        );
    });

    test("a platform stack without the registry login", async () => {
        await deployPlatform("dev");
        const { registryLogin: _login, ...rest } = platform.outputs;
        platform = { ...platform, outputs: rest };
        await expect(runTeamStack()).rejects.toThrow("platform stack `organization/plumberhub/dev` has no output `registryLogin`");
    });

    test("an AKS platform stack without its kubeconfig", async () => {
        await deployPlatform("prod");
        const { kubeconfig: _kubeconfig, ...rest } = platform.outputs;
        platform = { ...platform, outputs: rest };
        await expect(runTeamStack()).rejects.toThrow("platform stack `organization/plumberhub/dev` has no output `kubeconfig`");
    });

    test("a swarm-only setting against an AKS platform", async () => {
        await deployPlatform("prod");
        await expect(runTeamStack({ "team:endpointMode": "dnsrr" })).rejects.toThrow(
            "`endpointMode` only applies to a swarm platform, but platform stack `organization/plumberhub/dev` is on aks",
        );
    });

    test("per-model users, which only the platform gateway's config can enforce", () => {
        const { validateTeamModelArgs } = require("../../components") as typeof import("../../components");
        const join = platform.outputs.join as any;
        const platformStack = {
            stackName: PLATFORM_STACK,
            join,
            modelNames: [],
            registryLogin: pulumi.output({ server: "", username: "", password: "" }),
        };
        expect(() =>
            validateTeamModelArgs({ platform: platformStack, model: { name: "iris", image: "r/iris@sha256:" + "e".repeat(64), users: ["alice"] } }),
        ).toThrow(
            "`model.users` cannot be enforced from a team stack: per-model users live in the platform gateway's config " +
                "(`plumberhub:models` of `organization/plumberhub/dev`); leave it out (every gateway user may call the model)",
        );
    });

    test("a platform deployed with an older plumberhub, whose gateway routes bare service names", async () => {
        await deployPlatform("dev");
        const { modelPort: _port, ...older } = platform.outputs.join as Record<string, unknown>;
        platform.outputs.join = { ...older, gatewayNameTemplate: "{model}" };
        await expect(runTeamStack()).rejects.toThrow(
            "`join.modelPort` of platform stack `organization/plumberhub/dev` must be a port (1–65535), got undefined; " +
                "a platform deployed with an older plumberhub has none: run `pulumi up` on it",
        );
    });

    test("a platform whose gateway routes to another name than this version's model alias", async () => {
        await deployPlatform("dev");
        platform.outputs.join = { ...(platform.outputs.join as object), gatewayNameTemplate: "{model}.other" };
        await expect(runTeamStack()).rejects.toThrow(
            'the platform stack `organization/plumberhub/dev` routes models to "{model}.other" port 8000, but a swarm model here answers to ' +
                '"{model}.models.plumberhub.internal" port 8000; the platform\'s plumberhub version does not match this one',
        );
    });

    test("a swarm team model on another port than the one the platform gateway connects to", () => {
        const { validateTeamModelArgs } = require("../../components") as typeof import("../../components");
        const platformStack = {
            stackName: PLATFORM_STACK,
            join: {
                target: "swarm" as const,
                network: "n",
                registryServer: "r",
                gatewayUrl: "https://g/",
                gatewayNameTemplate: "{model}.models.plumberhub.internal",
                modelPort: 8000,
            },
            modelNames: [],
            registryLogin: pulumi.output({ server: "", username: "", password: "" }),
        };
        expect(() =>
            validateTeamModelArgs({ platform: platformStack, model: { name: "iris", image: "r/iris@sha256:" + "e".repeat(64), port: 8123 } }),
        ).toThrow("`model.port` must be 8000 on a swarm platform (the gateway reaches models that join it on that port), got 8123; leave it out");
    });

    test("a join output whose registryAuth is unknown", async () => {
        await deployPlatform("dev");
        platform.outputs.join = { ...(platform.outputs.join as object), registryAuth: "token" };
        await expect(runTeamStack()).rejects.toThrow(
            '`join.registryAuth` of platform stack `organization/plumberhub/dev` must be one of "entra", "password" or absent, got "token"',
        );
    });

    test("a join output whose target is unknown", async () => {
        await deployPlatform("dev");
        platform.outputs.join = { ...(platform.outputs.join as object), target: "k8s" };
        await expect(runTeamStack()).rejects.toThrow(
            '`join.target` of platform stack `organization/plumberhub/dev` must be one of "swarm", "aks", got "k8s"',
        );
    });
});
