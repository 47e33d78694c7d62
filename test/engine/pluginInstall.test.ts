/**
 * scripts/get-engine.sh puts the provider plugins it built into Pulumi's plugin cache, where the engine looks for
 * them: it installs missing ones, replaces an older build of its own, and never touches a plugin it did not build
 * (the official one a Pulumi CLI downloaded). Run against a plugin cache of the test's own (PULUMI_HOME).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { getEngine, isBuiltEngine } from "../helpers/engine";
import { REPO_ROOT } from "../helpers/swarm";

const PROVIDERS = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "scripts/engine/providers/mapping/providers.json"), "utf8")) as Record<
    string,
    string
>;
const LOCK = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { version: string }> };

/** Plugin folder of a provider at the version its npm SDK asks for, as the engine names it. */
function pluginFile(pulumiHome: string, name: string): string {
    const version = LOCK.packages[`node_modules/${PROVIDERS[name]}`].version;
    return path.join(pulumiHome, "plugins", `resource-${name}-v${version}`, `pulumi-resource-${name}`);
}

function runGetEngine(pulumiHome: string): string {
    const result = spawnSync("bash", [path.join(REPO_ROOT, "scripts/get-engine.sh")], {
        encoding: "utf8",
        env: { ...process.env, PULUMI_HOME: pulumiHome },
        timeout: 10 * 60_000,
    });
    if (result.status !== 0) throw new Error(`get-engine.sh failed (exit ${result.status ?? result.signal}):\n${result.stderr}`);
    return result.stderr;
}

describe("get-engine.sh installs its provider plugins", () => {
    let pulumiHome: string;
    let built: Buffer;
    const [official, stale, ...missing] = Object.keys(PROVIDERS);
    const officialPlugin = "#!/bin/sh\n# stands for a plugin downloaded by the official Pulumi CLI\n";
    let log: string;

    beforeAll(() => {
        expect(isBuiltEngine()).toBe(true);
        built = fs.readFileSync(path.join(getEngine(), "..", "plugins", "plumberhub-providers"));
        pulumiHome = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-plugins-"));
        fs.mkdirSync(path.dirname(pluginFile(pulumiHome, official)), { recursive: true });
        fs.writeFileSync(pluginFile(pulumiHome, official), officialPlugin, { mode: 0o755 });
        // An older build of ours: the same module, other bytes.
        fs.mkdirSync(path.dirname(pluginFile(pulumiHome, stale)), { recursive: true });
        fs.writeFileSync(pluginFile(pulumiHome, stale), Buffer.concat([built, Buffer.from("older build")]), { mode: 0o755 });
        log = runGetEngine(pulumiHome);
    }, 15 * 60_000);

    afterAll(() => fs.rmSync(pulumiHome, { recursive: true, force: true }));

    test("installs the missing ones from its build", () => {
        for (const name of missing) expect(fs.readFileSync(pluginFile(pulumiHome, name)).equals(built)).toBe(true);
    });

    test("replaces an older build of its own", () => {
        expect(fs.readFileSync(pluginFile(pulumiHome, stale)).equals(built)).toBe(true);
    });

    test("keeps a plugin it did not build, and says so", () => {
        expect(fs.readFileSync(pluginFile(pulumiHome, official), "utf8")).toBe(officialPlugin);
        expect(log).toContain(`keeping the provider plugin ${official} `);
    });

    test("a second run changes nothing", () => {
        const before = Object.keys(PROVIDERS).map((name) => fs.statSync(pluginFile(pulumiHome, name)).mtimeMs);
        expect(runGetEngine(pulumiHome)).not.toContain("installed provider plugin");
        expect(Object.keys(PROVIDERS).map((name) => fs.statSync(pluginFile(pulumiHome, name)).mtimeMs)).toEqual(before);
    });
});
