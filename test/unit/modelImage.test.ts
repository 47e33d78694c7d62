import * as fs from "fs";
import type * as pulumi from "@pulumi/pulumi";
import * as os from "os";
import * as path from "path";
import { installRecordingMocks, isSecretInput, parentRecorder, promiseOf, settle } from "../helpers/pulumiMocks";

const recorded = installRecordingMocks({
    "docker:index/registryImage:RegistryImage": () => ({ sha256Digest: `sha256:${"a".repeat(64)}` }),
});

import { isLoopbackRegistry, ModelImage, stageBuildContext } from "../../components/image";
import { renderModelContainerFiles } from "../../components/render/modelContainer";
import { Model, validateModel } from "../../components/config";

const registry = { server: "registry.example.test:5000", username: "pusher", password: "s3cret-push" };

function modelFolder(files: Record<string, string> = { "plumber.R": "#* @get /echo\nfunction(msg = '') list(msg = msg)\n" }): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-model-"));
    for (const [file, contents] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), contents);
    return dir;
}

function model(dir: string, overrides: Partial<Model> = {}): Model {
    return { ...validateModel({ name: "hello", path: dir }), ...overrides };
}

let contextRoot: string;
beforeEach(() => {
    recorded.length = 0;
    contextRoot = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-contexts-"));
});

function inputsOf(type: "remoteImage:RemoteImage" | "registryImage:RegistryImage", name: string) {
    const found = recorded.find((r) => r.type === `docker:index/${type}` && r.name === name);
    if (!found) throw new Error(`no ${type} ${name} among ${recorded.map((r) => r.name).join(", ")}`);
    return found.inputs;
}
/** The build (RemoteImage) of ModelImage `name`. */
const buildInputs = (name: string) => inputsOf("remoteImage:RemoteImage", `${name}-image`);
/** The push (RegistryImage) of ModelImage `name`: `{name}-push-{tag}`. */
function pushInputs(name: string) {
    const pushes = recorded.filter((r) => r.type === "docker:index/registryImage:RegistryImage" && r.name.startsWith(`${name}-push-`));
    if (pushes.length !== 1) throw new Error(`expected one push of ${name} among ${recorded.map((r) => r.name).join(", ")}`);
    return pushes[0].inputs;
}

describe("ModelImage", () => {
    test("tags the image with the content hash of the staged build context", async () => {
        const dir = modelFolder();
        const image = new ModelImage("hello", { model: model(dir), registry, contextRoot });
        const imageName = await promiseOf(image.imageName);
        const tag = await promiseOf(image.tag);
        const staged = stageBuildContext({
            name: "check",
            sourceDir: dir,
            files: renderModelContainerFiles({ packages: [], port: 8000 }),
            outRoot: contextRoot,
            hashExtras: { BASE_IMAGE: buildInputs("hello").build.buildArgs.BASE_IMAGE, platform: "linux/amd64" },
        });
        expect(tag).toBe(staged.contentHash.slice(0, 16));
        expect(imageName).toBe(`registry.example.test:5000/hello:${tag}`);
    });

    test("gives the same tag when nothing changed", async () => {
        const dir = modelFolder();
        const first = await promiseOf(new ModelImage("first", { model: model(dir), registry, contextRoot }).tag);
        const second = await promiseOf(new ModelImage("second", { model: model(dir), registry, contextRoot }).tag);
        expect(second).toBe(first);
    });

    test("gives a new tag when a file in the model folder changes", async () => {
        const dir = modelFolder();
        const before = await promiseOf(new ModelImage("before", { model: model(dir), registry, contextRoot }).tag);
        fs.writeFileSync(path.join(dir, "plumber.R"), "#* @get /echo\nfunction(msg = '') list(echo = msg)\n");
        const after = await promiseOf(new ModelImage("after", { model: model(dir), registry, contextRoot }).tag);
        expect(after).not.toBe(before);
    });

    test("gives a new tag when a file is added to the model folder", async () => {
        const dir = modelFolder();
        const before = await promiseOf(new ModelImage("before-add", { model: model(dir), registry, contextRoot }).tag);
        fs.writeFileSync(path.join(dir, "helpers.R"), "square <- function(x) x^2\n");
        const after = await promiseOf(new ModelImage("after-add", { model: model(dir), registry, contextRoot }).tag);
        expect(after).not.toBe(before);
    });

    test("gives a new tag when the base image changes", async () => {
        const dir = modelFolder();
        const before = await promiseOf(new ModelImage("base-a", { model: model(dir), registry, contextRoot }).tag);
        const after = await promiseOf(
            new ModelImage("base-b", { model: model(dir), registry, contextRoot, baseImage: "local/r-plumber:bookworm" }).tag,
        );
        expect(after).not.toBe(before);
    });

    test("stages the model code under model/ next to the rendered Dockerfile", async () => {
        const dir = modelFolder({ "plumber.R": "# api\n", "data.csv": "x\n1\n" });
        new ModelImage("layout", { model: model(dir), registry, contextRoot });
        await settle();
        const staged = path.join(contextRoot, "hello");
        expect(fs.readdirSync(staged).sort()).toEqual(expect.arrayContaining(["Dockerfile", "entrypoint.R", "model"]));
        expect(fs.readdirSync(path.join(staged, "model")).sort()).toEqual(["data.csv", "plumber.R"]);
    });

    test("leaves version-control and R session files out of the context", async () => {
        const dir = modelFolder({ "plumber.R": "# api\n", ".Rhistory": "q()\n" });
        fs.mkdirSync(path.join(dir, ".git"));
        fs.writeFileSync(path.join(dir, ".git", "HEAD"), "ref: refs/heads/main\n");
        new ModelImage("ignored", { model: model(dir), registry, contextRoot });
        await settle();
        expect(fs.readdirSync(path.join(contextRoot, "hello", "model"))).toEqual(["plumber.R"]);
    });

    test("passes a project-relative build context so state is the same on every machine", async () => {
        new ModelImage("relative", { model: model(modelFolder()), registry, contextRoot: path.relative(process.cwd(), contextRoot) });
        await settle();
        const build = buildInputs("relative").build;
        expect(path.isAbsolute(build.context)).toBe(false);
        expect(build.dockerfile).toBe("Dockerfile"); // relative to the context
    });

    test("builds for linux/amd64 from the default base image unless told otherwise", async () => {
        new ModelImage("defaults", { model: model(modelFolder()), registry, contextRoot });
        await settle();
        const { build } = buildInputs("defaults");
        expect(build.platform).toBe("linux/amd64");
        expect(build.buildArgs.BASE_IMAGE).toMatch(/^[a-z0-9./-]+:[0-9][\w.-]*$/); // a pinned tag, not `latest`
    });

    test("pushes the image it built, under the same name", async () => {
        new ModelImage("same-name", { model: model(modelFolder()), registry, contextRoot });
        await settle();
        expect(pushInputs("same-name").name).toBe(buildInputs("same-name").name);
    });

    test("keeps replaced images, locally and in the registry, so running tasks and rollbacks still find them", async () => {
        new ModelImage("kept", { model: model(modelFolder()), registry, contextRoot });
        await settle();
        expect(buildInputs("kept").keepLocally).toBe(true);
        expect(pushInputs("kept").keepRemotely).toBe(true);
    });

    test("verifies the registry's certificate unless the registry is on loopback", async () => {
        new ModelImage("remote", { model: model(modelFolder()), registry, contextRoot });
        new ModelImage("loopback", { model: model(modelFolder()), registry: { ...registry, server: "127.0.0.1:5000" }, contextRoot });
        await settle();
        expect(pushInputs("remote").insecureSkipVerify).toBe(false);
        expect(pushInputs("loopback").insecureSkipVerify).toBe(true);
    });

    test("pushes to the given repository", async () => {
        const image = new ModelImage("repo", { model: model(modelFolder()), registry, contextRoot, repository: "models/hello" });
        expect(await promiseOf(image.imageName)).toMatch(/^registry\.example\.test:5000\/models\/hello:[0-9a-f]{16}$/);
    });

    test("sends the registry login, password included, to the engine as a secret", async () => {
        new ModelImage("secret", { model: model(modelFolder()), registry, contextRoot });
        await settle();
        // the runtime lifts a nested secret to the top-level property: the whole `authConfig` is secret
        const { authConfig: sent } = pushInputs("secret");
        expect(isSecretInput(sent)).toBe(true);
        expect(sent.value).toEqual({ address: registry.server, username: registry.username, password: registry.password });
    });

    test("outputs the pushed digest", async () => {
        const image = new ModelImage("digest", { model: model(modelFolder()), registry, contextRoot });
        expect(await promiseOf(image.repoDigest)).toBe(`registry.example.test:5000/hello@sha256:${"a".repeat(64)}`);
    });

    test("creates the build and the push as its own children", async () => {
        const { transformation, links } = parentRecorder();
        const image = new ModelImage("parented", { model: model(modelFolder()), registry, contextRoot }, { transformations: [transformation] });
        const tag = await promiseOf(image.tag);
        const children = links.filter((link) => link.parent === image).map((link) => `${link.type} ${link.name}`);
        expect(children.sort()).toEqual([
            `docker:index/registryImage:RegistryImage parented-push-${tag}`,
            "docker:index/remoteImage:RemoteImage parented-image",
        ]);
    });

    test("names the push after the image's tag, so a new image is a new push resource", async () => {
        const dir = modelFolder();
        const { transformation, links } = parentRecorder();
        const before = await promiseOf(
            new ModelImage("versions", { model: model(dir), registry, contextRoot }, { transformations: [transformation] }).tag,
        );
        fs.writeFileSync(path.join(dir, "plumber.R"), "#* @get /echo\nfunction(msg = '') list(echo = msg)\n");
        const after = await promiseOf(
            new ModelImage("versions", { model: model(dir), registry, contextRoot }, { transformations: [transformation] }).tag,
        );
        const pushes = links.filter((link) => link.type === "docker:index/registryImage:RegistryImage").map((link) => link.name);
        expect(pushes).toEqual([`versions-push-${before}`, `versions-push-${after}`]);
    });

    test("ignores changes of the registry login on a pushed image, as a new ACR token or password would make one on every run", async () => {
        const { transformation, links } = parentRecorder();
        new ModelImage("login", { model: model(modelFolder()), registry, contextRoot }, { transformations: [transformation] });
        await settle();
        const push = links.find((link) => link.type === "docker:index/registryImage:RegistryImage");
        expect(push?.opts.ignoreChanges).toEqual(["authConfig"]);
    });

    test("keeps the registry login in the push's state as a secret", async () => {
        const { transformation, links } = parentRecorder();
        new ModelImage("state", { model: model(modelFolder()), registry, contextRoot }, { transformations: [transformation] });
        await settle();
        const opts: pulumi.CustomResourceOptions | undefined = links.find((link) => link.type === "docker:index/registryImage:RegistryImage")?.opts;
        expect(opts?.additionalSecretOutputs).toEqual(["authConfig"]);
    });

    test("refuses a model that has a prebuilt image instead of a folder", () => {
        const prebuilt = validateModel({ name: "hello", image: "ghcr.io/acme/scorer:1.0" });
        expect(() => new ModelImage("prebuilt", { model: prebuilt, registry, contextRoot })).toThrow(
            "`model.path` is required to build an image, but model `hello` has none (it uses the prebuilt image " +
                "`ghcr.io/acme/scorer:1.0`; deploy that image directly instead of building it)",
        );
    });

    test("refuses a repository that Docker would reject", () => {
        expect(() => new ModelImage("bad-repo", { model: model(modelFolder()), registry, contextRoot, repository: "Models/Hello" })).toThrow(
            "`repository` must be a lower-case Docker repository path such as `models/hello`, got `Models/Hello`",
        );
    });
});

describe("isLoopbackRegistry", () => {
    test.each(["127.0.0.1:5000", "127.0.0.1", "127.1.2.3:443", "localhost:5000", "[::1]:5000"])("%s is on loopback", (server) => {
        expect(isLoopbackRegistry(server)).toBe(true);
    });

    test.each(["registry.example.test:5000", "10.0.0.1:5000", "myacr.azurecr.io", "localhost.evil.test:5000", "127.0.0.1.evil.test"])(
        "%s is not",
        (server) => expect(isLoopbackRegistry(server)).toBe(false),
    );
});
