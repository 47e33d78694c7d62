/**
 * plumberhub as a user gets it: `npm pack` of this checkout, installed from the tarball into fresh projects (the other
 * dependencies from the npm registry), one per target. A swarm-only install must carry no Azure or Kubernetes SDK,
 * and the README's TypeScript snippets must type-check against the installed package: the swarm project checks those
 * that do not import `plumberhub/aks`, the AKS project checks them all.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { run } from "../helpers/processes";
import { REPO_ROOT } from "../helpers/swarm";

jest.setTimeout(15 * 60_000);

let work: string;
let tarball: string;

/** The ```ts blocks of README.md. */
function readmeSnippets(): string[] {
    const readme = fs.readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
    return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

const pulumiVersion = () => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules/@pulumi/pulumi/package.json"), "utf8")).version as string;
const lockedVersion = (pkg: string) =>
    JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")).packages[`node_modules/${pkg}`].version as string;

/** A fresh project with the tarball and `extra` dependencies installed from the registry, the snippets written in. */
async function userProject(name: string, extra: Record<string, string>, snippets: string[]): Promise<string> {
    const dir = path.join(work, name);
    fs.mkdirSync(dir);
    const manifest = {
        name,
        private: true,
        dependencies: { plumberhub: `file:${tarball}`, "@pulumi/pulumi": pulumiVersion(), ...extra },
        devDependencies: { typescript: lockedVersion("typescript"), "@types/node": lockedVersion("@types/node") },
    };
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
    // node16 resolution reads the package's `exports` (the `plumberhub/swarm` and `plumberhub/aks` entry points).
    const compilerOptions = {
        strict: true,
        target: "es2022",
        module: "node16",
        moduleResolution: "node16",
        esModuleInterop: true,
        skipLibCheck: true,
        noEmit: true,
        types: ["node"],
    };
    snippets.forEach((snippet, i) => fs.writeFileSync(path.join(dir, `snippet${i}.ts`), snippet));
    fs.writeFileSync(path.join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions, include: ["*.ts"] }));
    // Install scripts of the SDKs download plugins from the internet: not part of what is checked here.
    await run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: dir, timeoutMs: 10 * 60_000 });
    return dir;
}

const sizeMiB = (dir: string): number => {
    let bytes = 0;
    const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const full = path.join(d, entry.name);
            if (entry.isDirectory()) walk(full);
            else if (entry.isFile()) bytes += fs.statSync(full).size;
        }
    };
    walk(dir);
    return bytes / 2 ** 20;
};

beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-package-"));
    await run("npm", ["run", "build"], { cwd: REPO_ROOT, timeoutMs: 5 * 60_000 });
    const { stdout } = await run("npm", ["pack", "--pack-destination", work], { cwd: REPO_ROOT, timeoutMs: 5 * 60_000 });
    tarball = path.join(work, stdout.trim().split("\n").pop()!);
});

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test("the tarball holds the built library and the README, not the sources, tests or tools", async () => {
    const { stdout } = await run("tar", ["-tzf", tarball]);
    const files = stdout.split("\n").filter(Boolean);
    expect(files).toEqual(
        expect.arrayContaining(["package/package.json", "package/README.md", "package/bin/components/index.js", "package/bin/components/index.d.ts"]),
    );
    expect(files.filter((file) => !/^package\/(package\.json|README\.md|LICENSE|bin\/components\/.*\.(js|d\.ts|js\.map))$/.test(file))).toEqual([]);
});

describe("a swarm-only project", () => {
    let dir: string;
    const snippets = readmeSnippets().filter((snippet) => !snippet.includes("plumberhub/aks"));

    beforeAll(async () => {
        dir = await userProject("swarm-team", {}, snippets);
    });

    test("installs no Azure or Kubernetes SDK", () => {
        expect(fs.existsSync(path.join(dir, "node_modules/@pulumi/azure-native"))).toBe(false);
        expect(fs.existsSync(path.join(dir, "node_modules/@pulumi/kubernetes"))).toBe(false);
        console.log(`swarm-only install: ${sizeMiB(path.join(dir, "node_modules")).toFixed(0)} MiB of node_modules`);
    });

    test("type-checks the README's snippets that need no AKS SDK", async () => {
        expect(snippets.length).toBeGreaterThanOrEqual(2);
        await run("npx", ["tsc", "-p", "."], { cwd: dir, timeoutMs: 5 * 60_000 });
    });

    test("loads the main and swarm entry points", async () => {
        const { stdout } = await run(
            "node",
            [
                "-e",
                'const p = require("plumberhub"), s = require("plumberhub/swarm"); console.log(typeof p.ModelHub, typeof p.TeamModel, typeof s.SwarmModel)',
            ],
            { cwd: dir },
        );
        expect(stdout.trim()).toBe("function function function");
    });

    test("does not expose the internals: wiring types and helpers stay out of the entry points", async () => {
        const { stdout } = await run(
            "node",
            [
                "-e",
                'const p = require("plumberhub"); console.log(["deployOnSwarm", "serviceArgsFromPlan", "checkKeys", "renderNginxConf"].filter((n) => n in p).join(","))',
            ],
            { cwd: dir },
        );
        expect(stdout.trim()).toBe("");
    });
});

describe("an AKS project", () => {
    let dir: string;

    beforeAll(async () => {
        dir = await userProject(
            "aks-team",
            { "@pulumi/azure-native": lockedVersion("@pulumi/azure-native"), "@pulumi/kubernetes": lockedVersion("@pulumi/kubernetes") },
            readmeSnippets(),
        );
    });

    test("type-checks every README snippet", async () => {
        expect(readmeSnippets().some((snippet) => snippet.includes("plumberhub/aks"))).toBe(true);
        await run("npx", ["tsc", "-p", "."], { cwd: dir, timeoutMs: 5 * 60_000 });
    });

    test("loads the AKS entry point", async () => {
        const { stdout } = await run("node", ["-e", 'console.log(typeof require("plumberhub/aks").AksCluster)'], { cwd: dir });
        expect(stdout.trim()).toBe("function");
    });
});
