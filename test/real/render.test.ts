/**
 * `npm run render` as a process, its output checked by the real tools: every Kubernetes YAML document of the prod
 * stack against the Kubernetes OpenAPI schema, the dev stack file by `docker stack config` (validates and resolves
 * the file; no daemon or swarm change, nothing deployed), the generated certificate by openssl, the generated
 * htpasswd against the password printed once. Needs: node/npm, docker CLI ≥ 28 (`docker stack config`), openssl.
 */
import { spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import { REDACTED } from "../../components/render/kubernetes";
import { STACK_FILE_NAME } from "../../components/render/swarm";
import { kubernetesSchemaErrors } from "../helpers/kubernetesSchema";
import { run } from "../helpers/processes";

jest.setTimeout(180_000);

const REPO = path.resolve(__dirname, "../..");
const ARTIFACTS = path.join(REPO, "test-artifacts", "render");

function render(args: string[]) {
    return run("npm", ["run", "-s", "render", "--", ...args], { cwd: REPO, timeoutMs: 120_000 });
}

describe("--stack prod (aks)", () => {
    const out = path.join(ARTIFACTS, "prod");
    let objects: any[];
    beforeAll(async () => {
        fs.rmSync(out, { recursive: true, force: true });
        await render(["--stack", "prod", "--out", out]);
        objects = fs
            .readdirSync(out)
            .filter((file) => file.endsWith(".yaml"))
            .sort()
            .flatMap((file) => parseAllDocuments(fs.readFileSync(path.join(out, file), "utf8")).map((doc) => doc.toJSON()));
    });

    test("writes 19 objects, every one valid against the Kubernetes schema", async () => {
        // The order and names are checked in test/unit/render.test.ts; here: all there, and valid.
        expect(objects).toHaveLength(19);
        expect(await kubernetesSchemaErrors(objects)).toEqual([]);
    });

    test("the schema check catches a broken copy of the same files", async () => {
        const broken = structuredClone(objects);
        broken.find((o) => o.kind === "Deployment").spec.replicas = "two";
        expect(await kubernetesSchemaErrors(broken)).toEqual([expect.stringMatching(/^Deployment\/hello: .*replicas/)]);
    });

    test("the Secrets hold no values, only the redaction mark", () => {
        for (const secret of objects.filter((o) => o.kind === "Secret")) {
            expect(Object.values(secret.stringData)).toEqual(Object.keys(secret.stringData).map(() => REDACTED));
        }
    });
});

describe("--stack dev --generate-secrets (swarm)", () => {
    let out: string;
    let stderr: string;
    beforeAll(async () => {
        // Throwaway secrets: a temporary folder, removed afterwards, not test-artifacts/.
        out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "render-real-")), "dev");
        ({ stderr } = await render(["--stack", "dev", "--out", out, "--generate-secrets"]));
    });
    afterAll(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));

    test("docker stack config accepts the stack file and resolves every config and secret to a written file", async () => {
        const { stdout } = await run("docker", ["stack", "config", "-c", STACK_FILE_NAME], { cwd: out });
        const resolved = parse(stdout);
        expect(Object.keys(resolved.services).sort()).toEqual(["bos-rf", "gateway", "gateway-edge", "hello"]);
        const files = [...Object.values(resolved.configs), ...Object.values(resolved.secrets)].map((entry: any) => entry.file);
        expect(files.length).toBe(6);
        for (const file of files) expect(fs.existsSync(file)).toBe(true);
        expect(resolved.services["gateway-edge"].ports.map((p: any) => [p.target, Number(p.published)])).toEqual([
            [443, 8443],
            [80, 8080],
        ]);
        expect(resolved.services.hello.image).toMatch(/^127\.0\.0\.1:5000\/hello:[0-9a-f]{16}$/);
    });

    test("the secret files are mode 0600 in a 0700 folder", () => {
        expect(fs.statSync(path.join(out, "secrets")).mode & 0o777).toBe(0o700);
        for (const file of fs.readdirSync(path.join(out, "secrets"))) {
            expect([file, fs.statSync(path.join(out, "secrets", file)).mode & 0o777]).toEqual([file, 0o600]);
        }
    });

    test("the certificate is for the gateway host and loopback, and matches the key", async () => {
        const cert = path.join(out, "secrets", "tls.crt");
        const { stdout: sans } = await run("openssl", ["x509", "-in", cert, "-noout", "-ext", "subjectAltName"]);
        expect(sans).toContain("DNS:localhost, IP Address:127.0.0.1");
        const fromCert = (await run("openssl", ["x509", "-in", cert, "-noout", "-pubkey"])).stdout;
        const fromKey = (await run("openssl", ["pkey", "-in", path.join(out, "secrets", "tls.key"), "-pubout"])).stdout;
        expect(fromKey).toBe(fromCert);
    });

    test("the password printed once on stderr opens the htpasswd entry and is written nowhere", () => {
        const match = /^generated gateway passwords \(shown once, not saved\):\n {2}alice: (\S+)\n$/.exec(stderr);
        expect(match).not.toBeNull();
        const password = match![1];
        const line = fs.readFileSync(path.join(out, "secrets", "htpasswd"), "utf8").trim();
        const [user, hash] = line.split(":");
        expect(user).toBe("alice");
        const raw = Buffer.from(hash.replace(/^\{SSHA\}/, ""), "base64");
        const digest = crypto.createHash("sha1").update(password).update(raw.subarray(20)).digest();
        expect(digest.equals(raw.subarray(0, 20))).toBe(true);
        const everything = (dir: string): string[] =>
            fs
                .readdirSync(dir, { withFileTypes: true })
                .flatMap((e) => (e.isDirectory() ? everything(path.join(dir, e.name)) : [path.join(dir, e.name)]));
        for (const file of everything(out)) expect(fs.readFileSync(file, "utf8")).not.toContain(password);
    });

    test("without secrets a swarm stack is refused with exit code 1, naming the flags", () => {
        const result = spawnSync("npm", ["run", "-s", "render", "--", "--stack", "dev", "--out", path.join(path.dirname(out), "none")], {
            cwd: REPO,
            encoding: "utf8",
            timeout: 120_000,
        });
        expect(result.status).toBe(1);
        expect(result.stderr).toMatch(
            /^a swarm stack needs the gateway's secrets: give `--tls-cert FILE --tls-key FILE --htpasswd FILE`, or `--generate-secrets`/,
        );
        expect(fs.existsSync(path.join(path.dirname(out), "none"))).toBe(false);
    });
});
