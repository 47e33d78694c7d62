/**
 * The provider plugins the engine runs speak the npm SDKs' language: every resource type the SDKs in package.json
 * register exists in the plugin's schema (as `pulumi package get-schema` reads it from the running plugin), with
 * every input and output property and every field of the nested input types the SDK sends. A name the SDK sends
 * but the plugin does not know would be dropped or refused at `pulumi up`.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PulumiProject } from "../helpers/engine";
import { REPO_ROOT } from "../helpers/swarm";

interface PackageSchema {
    resources: Record<string, { inputProperties?: Record<string, unknown>; properties?: Record<string, unknown> }>;
    provider: { inputProperties?: Record<string, unknown> };
    functions?: Record<string, unknown>;
    types?: Record<string, { properties?: Record<string, unknown> }>;
}

/** The providers the stack programs use, by npm package. */
const PACKAGES: Record<string, string> = { docker: "@pulumi/docker", random: "@pulumi/random", tls: "@pulumi/tls", time: "@pulumiverse/time" };
/**
 * What of an SDK no plugin built here has: @pulumi/docker's `Image` and its argument types are Pulumi's own Go code
 * in pulumi-docker (a module the Go proxy does not serve), not the upstream Terraform provider. plumberhub does not
 * use them (ModelImage builds with RemoteImage and pushes with RegistryImage).
 */
const NOT_BRIDGED = { resources: ["docker:index/image:Image"], inputTypes: ["CacheFrom", "DockerBuild", "Registry"] };

interface SdkResource {
    token: string;
    inputs: string[];
    outputs: string[];
}

/** Each resource class of an SDK: its type token and the property names its constructor sends and reads. */
function sdkResources(dir: string): SdkResource[] {
    const found: SdkResource[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".js"))) {
        const source = fs.readFileSync(path.join(dir, file), "utf8");
        // `pkg:module:Type` for resources, the bare package name for the provider itself.
        const token = /__pulumiType = '([^']+:[^']+:[^']+|[a-z]+)'/.exec(source)?.[1];
        if (!token) continue;
        const names = (pattern: RegExp) => [...new Set([...source.matchAll(pattern)].map((m) => m[1]))].sort();
        found.push({
            token,
            // `resourceInputs["x"] = args?.x` (possibly wrapped) sends an input; `= state?.x` reads an output.
            inputs: names(/resourceInputs\["(\w+)"\] = [^;\n]*\bargs\b/g),
            outputs: names(/resourceInputs\["(\w+)"\] = (?:state\b|undefined \/\*out\*\/)/g),
        });
    }
    return found;
}

/** Fields of every interface in the SDK's `types/input.d.ts` (if it has one), by interface name. */
function sdkInputTypes(dir: string): Record<string, string[]> {
    const file = path.join(dir, "types/input.d.ts");
    if (!fs.existsSync(file)) return {};
    const source = fs.readFileSync(file, "utf8");
    const types: Record<string, string[]> = {};
    for (const match of source.matchAll(/^export interface (\w+) \{\n([\s\S]*?)\n\}/gm)) {
        types[match[1]] = [...match[2].matchAll(/^ {4}(\w+)\??: /gm)].map((m) => m[1]).sort();
    }
    return types;
}

const missing = (wanted: string[], known: Record<string, unknown> | undefined) => wanted.filter((name) => !(name in (known ?? {})));

let project: PulumiProject;
const schemas: Record<string, PackageSchema> = {};

beforeAll(async () => {
    project = new PulumiProject(REPO_ROOT, fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-schemas-")), "unused");
    for (const [name, pkg] of Object.entries(PACKAGES)) {
        const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8"));
        const version = (manifest.pulumi.version ?? manifest.version) as string; // the version the SDK registers resources with
        schemas[name] = JSON.parse((await project.pulumi(["package", "get-schema", `${name}@${version}`])).stdout) as PackageSchema;
    }
}, 60 * 60_000);

describe.each(Object.entries(PACKAGES))("the %s plugin", (name, pkg) => {
    const dir = path.join(REPO_ROOT, "node_modules", pkg);
    const resources = sdkResources(dir);

    test(`has every resource type of ${pkg}`, () => {
        expect(resources.length).toBeGreaterThan(0);
        expect(resources.map((r) => r.token)).toContain(name); // the provider resource
        const absent = resources.map((r) => r.token).filter((token) => token !== name && !(token in schemas[name].resources));
        expect(absent).toEqual(NOT_BRIDGED.resources.filter((token) => token.startsWith(`${name}:`)));
    });

    test(`has every function of ${pkg}`, () => {
        const tokens = new Set<string>();
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".js"))) {
            for (const match of fs.readFileSync(path.join(dir, file), "utf8").matchAll(/\.invoke(?:Output|SingleOutput)?\("([^"]+)"/g)) tokens.add(match[1]);
        }
        expect([...tokens].filter((token) => !(token in (schemas[name].functions ?? {})))).toEqual([]);
    });

    test(`knows every input and output property ${pkg} uses`, () => {
        // Every resource sends inputs; a pattern that found none would check nothing.
        expect(resources.filter((r) => r.token !== name && r.inputs.length === 0).map((r) => r.token)).toEqual([]);
        const schemaOf = (token: string) => (token === name ? { ...schemas[name].provider, properties: {} } : schemas[name].resources[token]);
        const unknown = resources
            .filter((r) => schemaOf(r.token) !== undefined)
            .flatMap((r) => [
                ...missing(r.inputs, schemaOf(r.token).inputProperties).map((p) => `${r.token} input ${p}`),
                ...missing(r.outputs, schemaOf(r.token).properties).map((p) => `${r.token} output ${p}`),
            ]);
        expect(unknown).toEqual([]);
    });

    test(`knows every field of the nested input types of ${pkg}`, () => {
        // The SDK names a type after the last part of its token, capitalised; `…Args` is the variant for Output inputs.
        const byName = Object.fromEntries(
            Object.entries(schemas[name].types ?? {}).map(([token, type]) => {
                const last = token.slice(token.lastIndexOf(":") + 1);
                return [last[0].toUpperCase() + last.slice(1), type];
            }),
        );
        const unknown = Object.entries(sdkInputTypes(dir))
            .map(([type, fields]) => [type.replace(/(.)Args$/, "$1"), fields] as const)
            .filter(([type]) => !NOT_BRIDGED.inputTypes.includes(type))
            .flatMap(([type, fields]) => (type in byName ? missing(fields, byName[type].properties).map((field) => `${type}.${field}`) : [`type ${type}`]));
        expect(unknown).toEqual([]);
    });
});
