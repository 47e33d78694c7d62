/**
 * `npm run render` (scripts/render.ts): argument parsing, stack file reading and validation, image names, the file
 * lists of dev and prod, secrets redacted by default, the output folder rules — and that the files come from the
 * same plan as the Pulumi resources (the stack program run under mocks).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { REDACTED } from "../../components/render/kubernetes";
import { STACK_FILE_NAME } from "../../components/render/swarm";
import {
    contentHashTag,
    loadStackConfig,
    main,
    MARKER_FILE,
    parseRenderArgs,
    planImages,
    renderStackFiles,
    RenderUsageError,
    stackConfigEntries,
    USAGE,
    writeOutput,
} from "../../scripts/render";
import { RecordedResource } from "../helpers/pulumiMocks";
import { configMap, installProgramMocks, PROJECT_DIR, runStackProgram, stackConfig } from "../helpers/stackProgram";

const recorded = installProgramMocks();
jest.setTimeout(60_000);

const SECRETS = { tlsCertificate: "CERT-PEM\n", tlsKey: "KEY-PEM-do-not-show\n", htpasswd: "alice:{SSHA}hash\n" };
const DIGEST = `sha256:${"a".repeat(64)}`;

function usageError(argv: string[]): string {
    try {
        parseRenderArgs(argv);
    } catch (error) {
        expect(error).toBeInstanceOf(RenderUsageError);
        return (error as Error).message;
    }
    throw new Error(`no error for ${argv.join(" ")}`);
}

/** A temporary project folder with the given stack files (model paths point at the real examples). */
function tempProject(stacks: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-unit-"));
    fs.symlinkSync(path.join(PROJECT_DIR, "examples"), path.join(dir, "examples"));
    for (const [stack, text] of Object.entries(stacks)) fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), text);
    return dir;
}

function runMain(argv: string[], projectDir = PROJECT_DIR): { code: number; stdout: string; stderr: string } {
    let stdout = "";
    let stderr = "";
    const code = main(argv, projectDir, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) });
    return { code, stdout, stderr };
}

function rendered(stack: string, options: { includeSecrets?: boolean; secrets?: typeof SECRETS | undefined } = {}) {
    const { config } = loadStackConfig(PROJECT_DIR, stack);
    const { images, notes } = planImages(config, {}, contentHashTag(config), { projectDir: PROJECT_DIR });
    const secrets = "secrets" in options ? options.secrets : SECRETS;
    return {
        config,
        images,
        files: renderStackFiles(config, stack, images, secrets, { includeSecrets: options.includeSecrets ?? false, imageNotes: notes }),
    };
}

describe("argument parsing", () => {
    test("reads every flag, with a space or `=` before the value", () => {
        expect(
            parseRenderArgs([
                "--stack",
                "dev",
                "--out=out/dev",
                "--image",
                "hello=r/hello@x",
                "--image=bos-rf=r/rf:1",
                "--registry",
                "reg:5000",
                "--generate-secrets",
                "--include-secrets",
            ]),
        ).toEqual({
            stack: "dev",
            out: "out/dev",
            images: { hello: "r/hello@x", "bos-rf": "r/rf:1" },
            registry: "reg:5000",
            generateSecrets: true,
            includeSecrets: true,
        });
        expect(
            parseRenderArgs(["--stack", "prod", "--out", "o", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--htpasswd", "h"]).secretFiles,
        ).toEqual({
            tlsCert: "c.pem",
            tlsKey: "k.pem",
            htpasswd: "h",
        });
    });

    test("an unknown flag is named, with the closest known one", () => {
        expect(usageError(["--stak", "dev", "--out", "o"])).toBe("unknown flag `--stak`; did you mean `--stack`?");
        expect(usageError(["--stack", "dev", "--out", "o", "--verbose"])).toBe(
            "unknown flag `--verbose`; known flags: --stack, --out, --image, --registry, --tls-cert, --tls-key, --htpasswd, --generate-secrets, --include-secrets",
        );
    });

    test("--stack and --out are required", () => {
        expect(usageError(["--out", "o"])).toBe("`--stack` is required: the stack whose `Pulumi.<stack>.yaml` to render, e.g. `--stack dev`");
        expect(usageError(["--stack", "dev"])).toBe("`--out` is required: the folder to write the files to, e.g. `--out rendered/dev`");
    });

    test("a flag without its value, a value without a flag and a repeated flag are refused", () => {
        expect(usageError(["--stack", "--out", "o"])).toBe("`--stack` needs a value");
        expect(usageError(["--stack", "dev", "--out"])).toBe("`--out` needs a value");
        expect(usageError(["dev"])).toBe('unexpected argument "dev"; every value follows its flag, e.g. `--out dev`');
        expect(usageError(["--stack", "dev", "--stack", "prod", "--out", "o"])).toBe("`--stack` is given twice");
        expect(usageError(["--stack", "dev", "--out", "o", "--generate-secrets=yes"])).toBe('`--generate-secrets` takes no value, got "yes"');
    });

    test("--image must be MODEL=REF", () => {
        expect(usageError(["--stack", "dev", "--out", "o", "--image", "hello"])).toBe(
            '`--image` must be MODEL=REF, e.g. `--image hello=registry.example.com/hello@sha256:…`, got "hello"',
        );
    });

    test("the secret files go together and exclude --generate-secrets", () => {
        expect(usageError(["--stack", "dev", "--out", "o", "--tls-cert", "c"])).toBe(
            "`--tls-cert`, `--tls-key` and `--htpasswd` go together (`--htpasswd` alone with `tls: acme`); missing `--tls-key` and `--htpasswd`",
        );
        expect(usageError(["--stack", "dev", "--out", "o", "--htpasswd", "h", "--generate-secrets"])).toBe(
            "`--generate-secrets` and `--htpasswd` exclude each other: give the secret files or generate them, not both",
        );
    });
});

describe("reading Pulumi.<stack>.yaml", () => {
    test("an unknown stack names the missing file and the stacks there are", () => {
        expect(() => loadStackConfig(PROJECT_DIR, "staging")).toThrow(
            `\`--stack\` "staging": there is no Pulumi.staging.yaml in ${PROJECT_DIR}; stacks here: dev, prod`,
        );
    });

    test("hands values over as the Pulumi CLI does: strings as they are, the rest as JSON, `secure:` values as set", () => {
        const doc = parse(
            "config:\n  plumberhub:target: swarm\n  plumberhub:gateway: { users: [alice] }\n  plumberhub:tlsKey: { secure: v1:abc }\n" +
                "  plumberhub:userPasswords: { alice: { secure: v1:def } }\n",
        );
        const { entries, secretKeys } = stackConfigEntries(doc, "Pulumi.x.yaml");
        expect(entries).toEqual({
            "plumberhub:target": "swarm",
            "plumberhub:gateway": '{"users":["alice"]}',
            "plumberhub:tlsKey": "",
            "plumberhub:userPasswords": "",
        });
        expect([...secretKeys].sort()).toEqual(["plumberhub:tlsKey", "plumberhub:userPasswords"]);
    });

    test("a bad config fails with exit code 1 and the very message the stack program throws", async () => {
        const bad = {
            "plumberhub:target": "k8s",
            "plumberhub:gateway": { users: ["alice"], httpsPort: 80 },
            "plumberhub:models": [{ name: "Hello", path: "examples/models/hello" }],
        };
        const project = tempProject({
            bad: `config:\n${Object.entries(bad)
                .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
                .join("\n")}\n`,
        });
        let programMessage = "";
        await runStackProgram(configMap(bad)).catch((error: Error) => (programMessage = error.message));
        expect(programMessage).toMatch(/^3 problems in the stack config:\n- `plumberhub:target` must be one of "swarm", "aks", got "k8s"/);

        const { code, stdout, stderr } = runMain(["--stack", "bad", "--out", "out"], project);
        expect(code).toBe(1);
        expect(stdout).toBe("");
        expect(stderr).toBe(`${programMessage}\n`);
        expect(fs.existsSync(path.join(project, "out"))).toBe(false);
    });

    test("a secret key stored in plain text is refused as in the program", () => {
        const project = tempProject({ leak: "config:\n  plumberhub:target: swarm\n  plumberhub:tlsKey: '-----BEGIN PRIVATE KEY-----'\n" });
        const { code, stderr } = runMain(["--stack", "leak", "--out", "out"], project);
        expect(code).toBe(1);
        expect(stderr).toBe(
            "invalid stack config: `plumberhub:tlsKey` is stored in plain text; set it again with `pulumi config set --secret plumberhub:tlsKey` so it is encrypted\n",
        );
        expect(stderr).not.toContain("BEGIN PRIVATE KEY");
    });

    test("usage errors end with the usage", () => {
        const { code, stderr } = runMain(["--stack", "staging", "--out", "o"]);
        expect(code).toBe(1);
        expect(stderr).toBe(`\`--stack\` "staging": there is no Pulumi.staging.yaml in ${PROJECT_DIR}; stacks here: dev, prod\n${USAGE}\n`);
    });
});

describe("images", () => {
    const { config } = loadStackConfig(PROJECT_DIR, "prod");
    const tag = () => "0123456789abcdef";

    test("default: the content-hash tag on the configured registry, the ACR suffix marked as unknown", () => {
        const { images, notes } = planImages(config, {}, tag, { projectDir: PROJECT_DIR });
        expect(images).toEqual({
            hello: "plumberhubxxxxxxxx.azurecr.io/hello:0123456789abcdef",
            "bos-rf": "plumberhubxxxxxxxx.azurecr.io/bos-rf:0123456789abcdef",
        });
        expect(notes[0]).toBe(
            "hello: plumberhubxxxxxxxx.azurecr.io/hello:0123456789abcdef — the content-hash tag ModelImage gives a build of examples/models/hello; pulumi up deploys the pushed digest (…@sha256:…) of that image",
        );
        expect(notes[2]).toBe(
            '"xxxxxxxx" stands for the random suffix of the ACR name; pass --registry with the login server (pulumi stack output join)',
        );
    });

    test("--registry and --image override the defaults", () => {
        const { images } = planImages(config, { "bos-rf": `r.example.com/rf@${DIGEST}` }, tag, { registry: "acr1.azurecr.io" });
        expect(images).toEqual({ hello: "acr1.azurecr.io/hello:0123456789abcdef", "bos-rf": `r.example.com/rf@${DIGEST}` });
    });

    test("an override must name a model and, on AKS, pin a digest", () => {
        expect(() => planImages(config, { hallo: `x@${DIGEST}` }, tag)).toThrow(
            "`--image hallo=…` names no model of the stack; models: hello, bos-rf",
        );
        expect(() => planImages(config, { hello: "r/hello:1" }, tag)).toThrow(
            "`--image hello=r/hello:1` must be pinned by digest (`…@sha256:<64 hex>`) on AKS",
        );
    });
});

describe("the files of each stack", () => {
    test("prod (aks): one YAML file per Kubernetes object in apply order, and the notes", () => {
        expect(Object.keys(rendered("prod").files)).toEqual([
            "000-namespace-models.yaml",
            "001-networkpolicy-model-hello.yaml",
            "002-deployment-hello.yaml",
            "003-service-model-hello.yaml",
            "004-poddisruptionbudget-hello.yaml",
            "005-networkpolicy-model-bos-rf.yaml",
            "006-deployment-bos-rf.yaml",
            "007-service-model-bos-rf.yaml",
            "008-horizontalpodautoscaler-bos-rf.yaml",
            "009-poddisruptionbudget-bos-rf.yaml",
            "010-networkpolicy-default-deny.yaml",
            "011-networkpolicy-gateway-ingress.yaml",
            "012-networkpolicy-gateway-egress.yaml",
            "013-configmap-gateway-config.yaml",
            "014-secret-gateway-tls.yaml",
            "015-secret-gateway-htpasswd.yaml",
            "016-deployment-gateway.yaml",
            "017-service-gateway.yaml",
            "018-poddisruptionbudget-gateway.yaml",
            "README.txt",
        ]);
    });

    test("dev (swarm): the stack file, its configs and secrets (0600), and the notes", () => {
        const { files } = rendered("dev");
        expect(Object.keys(files).sort()).toEqual([
            "README.txt",
            "configs/edge.conf",
            "configs/nginx.conf",
            "configs/static-index.html",
            STACK_FILE_NAME,
            "secrets/htpasswd",
            "secrets/tls.crt",
            "secrets/tls.key",
        ]);
        expect(
            Object.entries(files)
                .filter(([, f]) => f.mode === 0o600)
                .map(([name]) => name)
                .sort(),
        ).toEqual(["secrets/htpasswd", "secrets/tls.crt", "secrets/tls.key"]);
        expect(files["secrets/tls.key"].contents).toBe(SECRETS.tlsKey);
    });

    test("Kubernetes Secret values are redacted by default", () => {
        const { files } = rendered("prod");
        const all = Object.values(files)
            .map((f) => f.contents)
            .join("\n");
        expect(all).not.toContain("KEY-PEM-do-not-show");
        expect(parse(files["014-secret-gateway-tls.yaml"].contents).stringData).toEqual({ "tls.crt": REDACTED, "tls.key": REDACTED });
        expect(parse(files["015-secret-gateway-htpasswd.yaml"].contents).stringData).toEqual({ htpasswd: REDACTED });
        expect(files["014-secret-gateway-tls.yaml"].mode).toBe(0o644);
    });

    test("--include-secrets writes them, in files of mode 0600", () => {
        const { files } = rendered("prod", { includeSecrets: true });
        expect(parse(files["014-secret-gateway-tls.yaml"].contents).stringData).toEqual({
            "tls.crt": SECRETS.tlsCertificate,
            "tls.key": SECRETS.tlsKey,
        });
        expect(files["014-secret-gateway-tls.yaml"].mode).toBe(0o600);
        expect(files["013-configmap-gateway-config.yaml"].mode).toBe(0o644);
    });

    test("--include-secrets without secrets, and a swarm stack without secrets, fail naming the flags", () => {
        expect(() => rendered("prod", { includeSecrets: true, secrets: undefined })).toThrow(
            "`--include-secrets` needs the secrets: give `--tls-cert`, `--tls-key` and `--htpasswd`, or `--generate-secrets`",
        );
        expect(() => rendered("dev", { secrets: undefined })).toThrow(
            "a swarm stack needs the gateway's secrets: give `--tls-cert FILE --tls-key FILE --htpasswd FILE`, or `--generate-secrets` for throwaway ones (local use)",
        );
    });

    test("prod renders without secret files: the Secret objects are there, redacted", () => {
        const { files } = rendered("prod", { secrets: undefined });
        expect(parse(files["014-secret-gateway-tls.yaml"].contents).stringData).toEqual({ "tls.crt": REDACTED, "tls.key": REDACTED });
        expect(files["README.txt"].contents).toContain(
            "No secret files were given, so the gateway Deployment's checksum annotation differs from the deployed one.",
        );
    });
});

describe("the same plan as the Pulumi resources (the stack program under mocks)", () => {
    const inputsOf = (list: RecordedResource[], type: string, pick: (r: RecordedResource) => boolean) => {
        const found = list.filter((r) => r.type === type && pick(r));
        if (found.length !== 1)
            throw new Error(`${found.length} ${type} resources matched among:\n${list.map((r) => `${r.type} ${r.name}`).join("\n")}`);
        return found[0].inputs;
    };

    test("dev: the images ModelImage builds, the gateway's content-named configs and the model services", async () => {
        await runStackProgram(stackConfig("dev"));
        const program = [...recorded];
        const { images, files } = rendered("dev");
        const stack = parse(files[STACK_FILE_NAME].contents);

        for (const model of ["hello", "bos-rf"]) {
            expect(inputsOf(program, "docker:index/remoteImage:RemoteImage", (r) => r.name === `plumberhub-${model}-image`).name).toBe(images[model]);
            const service = inputsOf(program, "docker:index/service:Service", (r) => r.name === `plumberhub-${model}-service`);
            expect(stack.services[model].environment).toEqual(
                Object.fromEntries(service.taskSpec.containerSpec.env ? Object.entries(service.taskSpec.containerSpec.env) : []),
            );
            expect(stack.services[model].deploy.endpoint_mode).toBe(service.endpointSpec.mode);
            expect(stack.services[model].deploy.replicas).toBe(service.mode.replicated.replicas);
        }
        const gateway = inputsOf(program, "docker:index/service:Service", (r) => r.name === "plumberhub-gateway-service");
        const programConfigs = gateway.taskSpec.containerSpec.configs.map((c: any) => [c.fileName, c.configName]).sort();
        const stackConfigs = stack.services.gateway.configs.map((c: any) => [c.target, stack.configs[c.source].name]).sort();
        expect(stackConfigs).toEqual(programConfigs);
        expect(stackConfigs[0][1]).toMatch(/^plumberhub-gateway-/);
        const edge = inputsOf(program, "docker:index/service:Service", (r) => r.name === "plumberhub-gateway-edge-service");
        expect(stack.services["gateway-edge"].ports.map((p: any) => [p.target, p.published])).toEqual(
            edge.endpointSpec.ports.map((p: any) => [p.targetPort, p.publishedPort]),
        );
    });

    test("prod: the gateway ConfigMap and each model's objects, apart from the image the program gets by digest", async () => {
        await runStackProgram(stackConfig("prod"));
        const program = [...recorded];
        const { images, files } = rendered("prod");
        const objects = Object.entries(files)
            .filter(([name]) => name.endsWith(".yaml"))
            .map(([, f]) => parseAllDocuments(f.contents).map((d) => d.toJSON()))
            .flat();
        const byKind = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

        const configMap = inputsOf(program, "kubernetes:core/v1:ConfigMap", (r) => r.inputs.metadata?.name === "gateway-config");
        expect(byKind("ConfigMap", "gateway-config").data).toEqual(configMap.data);
        for (const model of ["hello", "bos-rf"]) {
            const deployment = inputsOf(program, "kubernetes:apps/v1:Deployment", (r) => r.inputs.metadata?.name === model);
            const programImage = deployment.spec.template.spec.containers[0].image;
            expect(programImage).toBe(
                `${images[model].replace(/^plumberhubxxxxxxxx/, "plumberhubab12cd34").replace(/:[0-9a-f]{16}$/, "")}@sha256:${"d".repeat(64)}`,
            );
            const spec = structuredClone(byKind("Deployment", model).spec);
            spec.template.spec.containers[0].image = programImage;
            expect(spec).toEqual(deployment.spec);
            const service = inputsOf(program, "kubernetes:core/v1:Service", (r) => r.inputs.metadata?.name === `model-${model}`);
            expect(byKind("Service", `model-${model}`).spec).toEqual(service.spec);
        }
    });

    test("prod with a longer read timeout: the YAML and the program give the pods the same, longer grace periods", async () => {
        const file = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.prod.yaml"), "utf8")) as { config: Record<string, any> };
        file.config["plumberhub:gateway"] = { ...file.config["plumberhub:gateway"], readTimeoutSeconds: 300 };
        await runStackProgram(configMap(file.config));
        const program = [...recorded];
        const dir = tempProject({ prod: stringify(file) });
        const { config } = loadStackConfig(dir, "prod");
        const { images } = planImages(config, {}, contentHashTag(config), { projectDir: dir });
        const files = renderStackFiles(config, "prod", images, SECRETS, { includeSecrets: false, imageNotes: [] });
        const deployments = Object.entries(files)
            .filter(([name]) => name.endsWith(".yaml"))
            .map(([, f]) => parse(f.contents))
            .filter((o) => o.kind === "Deployment");
        const yamlGrace = Object.fromEntries(deployments.map((d) => [d.metadata.name, d.spec.template.spec.terminationGracePeriodSeconds]));
        expect(yamlGrace).toEqual({ hello: 320, "bos-rf": 320, gateway: 325 }); // drain + 300 s + 10 s
        for (const name of Object.keys(yamlGrace)) {
            const deployment = inputsOf(program, "kubernetes:apps/v1:Deployment", (r) => r.inputs.metadata?.name === name);
            expect(deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(yamlGrace[name]);
        }
        fs.rmSync(dir, { recursive: true });
    });
});

describe("the whole command", () => {
    test("prod with secret files and --include-secrets writes them into the Secrets and lists the files on stdout", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-main-"));
        const given = { "tls.crt": SECRETS.tlsCertificate, "tls.key": SECRETS.tlsKey, htpasswd: SECRETS.htpasswd };
        for (const [file, contents] of Object.entries(given)) fs.writeFileSync(path.join(dir, file), contents);
        const out = path.join(dir, "out");
        const flags = ["--tls-cert", path.join(dir, "tls.crt"), "--tls-key", path.join(dir, "tls.key"), "--htpasswd", path.join(dir, "htpasswd")];
        const { code, stdout, stderr } = runMain(["--stack", "prod", "--out", out, ...flags, "--include-secrets"]);
        expect([code, stderr]).toEqual([0, ""]);
        expect(stdout.split("\n")[0]).toBe(`wrote 20 files to ${out}:`);
        expect(parse(fs.readFileSync(path.join(out, "015-secret-gateway-htpasswd.yaml"), "utf8")).stringData).toEqual({ htpasswd: SECRETS.htpasswd });
        expect(fs.statSync(path.join(out, "014-secret-gateway-tls.yaml")).mode & 0o777).toBe(0o600);
    });

    test("a secret file that does not exist is named", () => {
        const { code, stderr } = runMain(["--stack", "dev", "--out", "o", "--tls-cert", "/nonexistent/c.pem", "--tls-key", "k", "--htpasswd", "h"]);
        expect(code).toBe(1);
        expect(stderr.split("\n")[0]).toBe("`--tls-cert` /nonexistent/c.pem: no such file");
    });
});

describe("tls: acme over HTTP-01 (the gateway gets its own certificate)", () => {
    /** A project whose dev stack asks for ACME, with the secret files written next to it. */
    function acmeProject(): { dir: string; file: (name: string) => string } {
        const dev = parse(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, Record<string, unknown>> };
        dev.config["plumberhub:gateway"] = {
            ...dev.config["plumberhub:gateway"],
            host: "models.example.com",
            tls: "acme",
            acme: { email: "ops@example.com" },
        };
        dev.config["plumberhub:swarm"] = { ...dev.config["plumberhub:swarm"], gatewayImage: "local/nginx:bookworm" };
        const dir = tempProject({ dev: stringify(dev) });
        for (const [name, contents] of Object.entries({ "tls.crt": SECRETS.tlsCertificate, "tls.key": SECRETS.tlsKey, htpasswd: SECRETS.htpasswd }))
            fs.writeFileSync(path.join(dir, name), contents);
        return { dir, file: (name) => path.join(dir, name) };
    }

    test("--htpasswd alone renders the gateway with the renewal script and no certificate or key", () => {
        const { dir, file } = acmeProject();
        const { code, stderr } = runMain(["--stack", "dev", "--out", "out", "--htpasswd", file("htpasswd")], dir);
        expect([code, stderr]).toEqual([0, ""]);
        const files = fs.readdirSync(path.join(dir, "out"), { recursive: true }) as string[];
        expect(files.filter((name) => name.startsWith("secrets/"))).toEqual([expect.stringMatching(/^secrets\/.*htpasswd/)]);
        expect(files.some((name) => name.includes("plumberhub-acme"))).toBe(true);
    });

    test("a certificate and key are refused, since nothing would use them", () => {
        const { dir, file } = acmeProject();
        const flags = ["--tls-cert", file("tls.crt"), "--tls-key", file("tls.key"), "--htpasswd", file("htpasswd")];
        const { code, stderr } = runMain(["--stack", "dev", "--out", "out", ...flags], dir);
        expect(code).toBe(1);
        expect(stderr.split("\n")[0]).toBe(
            "`--tls-cert` and `--tls-key` are not used with `tls: acme` (the gateway gets its certificate itself); give `--htpasswd` alone",
        );
    });

    test("--htpasswd alone is refused when the gateway needs a certificate of its own", () => {
        const { dir, file } = acmeProject();
        const { code, stderr } = runMain(["--stack", "dev", "--out", "out", "--htpasswd", file("htpasswd")]);
        expect(code).toBe(1);
        expect(stderr.split("\n")[0]).toBe(
            "`--tls-cert` and `--tls-key` are required with `tls: selfSigned` (`--htpasswd` alone is for `tls: acme`)",
        );
        fs.rmSync(dir, { recursive: true, force: true });
    });
});

describe("the output folder", () => {
    const files = { "a.yaml": { contents: "a: 1\n", mode: 0o644 }, "secrets/k": { contents: "k", mode: 0o600 } };

    test("a folder with other files is refused; one written before is replaced, stale files gone", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "render-out-"));
        fs.writeFileSync(path.join(dir, "notes.md"), "mine");
        expect(() => writeOutput(dir, files)).toThrow(
            `\`--out\` ${dir} is not empty and was not written by \`npm run render\`; choose a new or empty folder`,
        );
        expect(fs.readdirSync(dir)).toEqual(["notes.md"]);

        const out = path.join(dir, "out");
        writeOutput(out, { ...files, "stale.yaml": { contents: "", mode: 0o644 } });
        writeOutput(out, files);
        expect(fs.readdirSync(out).sort()).toEqual([MARKER_FILE, "a.yaml", "secrets"]);
        expect(fs.statSync(path.join(out, "secrets/k")).mode & 0o777).toBe(0o600);
        expect(fs.statSync(path.join(out, "secrets")).mode & 0o777).toBe(0o700);
    });
});
