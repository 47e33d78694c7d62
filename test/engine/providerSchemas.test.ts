/**
 * The provider plugins the engine runs speak the npm SDKs' language: every resource type and function the SDKs in
 * package.json register exists in the plugin's schema (as `pulumi package get-schema` reads it from the running
 * plugin), with every input and output property and every field of the nested input types the SDK sends, each a
 * list where the SDK sends a list and a single value where it sends one. A name the SDK sends but the plugin does
 * not know would be dropped or refused at `pulumi up`; a list where the plugin wants one object would be refused.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isBuiltEngine, PulumiProject } from "../helpers/engine";
import { REPO_ROOT } from "../helpers/swarm";

interface PropertySpec {
    type?: string;
}
type Properties = Record<string, PropertySpec>;

interface PackageSchema {
    resources: Record<string, { inputProperties?: Properties; properties?: Properties }>;
    provider: { inputProperties?: Properties };
    functions?: Record<string, unknown>;
    types?: Record<string, { properties?: Properties }>;
}

/** The providers the engine builds, by plugin name, with their npm packages: the list get-engine.sh builds. */
const PACKAGES = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "scripts/engine/providers/mapping/providers.json"), "utf8")) as Record<
    string,
    string
>;
/**
 * What of an SDK no plugin built here has: @pulumi/docker's `Image` and its argument types are Pulumi's own Go code
 * in pulumi-docker (a module the Go proxy does not serve), not the upstream Terraform provider. plumberhub does not
 * use them (ModelImage builds with RemoteImage and pushes with RegistryImage). An official CLI's plugins have them.
 */
const NOT_BRIDGED = { resources: ["docker:index/image:Image"], inputTypes: ["CacheFrom", "DockerBuild", "Registry"] };

/** Fields of an interface body of a `.d.ts`, each with whether its type is a list (`pulumi.Input<X[] | undefined>`). */
function fieldsOf(body: string): Record<string, boolean> {
    return Object.fromEntries([...body.matchAll(/^ {4}(\w+)\??: (.*);$/gm)].map((m) => [m[1], /\[\](\s*\|\s*undefined)?>*$/.test(m[2])]));
}

interface SdkResource {
    token: string;
    /** Input names the constructor sends, with whether each is a list (from the `…Args` interface). */
    inputs: Record<string, boolean>;
    outputs: string[];
}

/** Each resource class of an SDK (and its provider): its type token, what its constructor sends and reads. */
function sdkResources(dir: string): SdkResource[] {
    const found: SdkResource[] = [];
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".js"))) {
        const source = fs.readFileSync(path.join(dir, file), "utf8");
        // `pkg:module:Type` for resources, the bare package name for the provider itself.
        const token = /__pulumiType = '([^']+:[^']+:[^']+|[a-z]+)'/.exec(source)?.[1];
        if (!token) continue;
        const names = (pattern: RegExp) => [...new Set([...source.matchAll(pattern)].map((m) => m[1]))].sort();
        const typings = fs.readFileSync(path.join(dir, file.replace(/\.js$/, ".d.ts")), "utf8");
        const argsFields = fieldsOf(/^export interface \w+Args \{\n([\s\S]*?)\n\}/m.exec(typings)?.[1] ?? "");
        found.push({
            token,
            // `resourceInputs["x"] = args?.x` (possibly wrapped) sends an input; `= state?.x` reads an output.
            inputs: Object.fromEntries(names(/resourceInputs\["(\w+)"\] = [^;\n]*\bargs\b/g).map((input) => [input, argsFields[input] ?? false])),
            outputs: names(/resourceInputs\["(\w+)"\] = (?:state\b|undefined \/\*out\*\/)/g),
        });
    }
    return found;
}

/** Every interface of the SDK's `types/input.d.ts` (if it has one), by name: its fields and whether each is a list. */
function sdkInputTypes(dir: string): Record<string, Record<string, boolean>> {
    const file = path.join(dir, "types/input.d.ts");
    if (!fs.existsSync(file)) return {};
    const source = fs.readFileSync(file, "utf8");
    return Object.fromEntries([...source.matchAll(/^export interface (\w+) \{\n([\s\S]*?)\n\}/gm)].map((m) => [m[1], fieldsOf(m[2])]));
}

/** What of `fields` (name → is a list) the plugin's `properties` lack or shape otherwise, as `what.name` texts. */
function mismatches(what: string, fields: Record<string, boolean>, properties: Properties | undefined): string[] {
    return Object.entries(fields).flatMap(([field, isList]) => {
        const spec = properties?.[field];
        if (!spec) return [`${what} ${field}: unknown`];
        if (isList !== (spec.type === "array"))
            return [
                `${what} ${field}: the SDK sends ${isList ? "a list" : "one value"}, the plugin takes ${spec.type === "array" ? "a list" : "one value"}`,
            ];
        return [];
    });
}

let stateDir: string;
const schemas: Record<string, PackageSchema> = {};
let built: boolean;

beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-schemas-"));
    const project = new PulumiProject(REPO_ROOT, stateDir, "unused");
    built = isBuiltEngine();
    for (const [name, pkg] of Object.entries(PACKAGES)) {
        const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "node_modules", pkg, "package.json"), "utf8"));
        const version = (manifest.pulumi.version ?? manifest.version) as string; // the version the SDK registers resources with
        schemas[name] = JSON.parse((await project.pulumi(["package", "get-schema", `${name}@${version}`])).stdout) as PackageSchema;
    }
}, 60 * 60_000);

afterAll(() => fs.rmSync(stateDir, { recursive: true, force: true }));

describe.each(Object.entries(PACKAGES))("the %s plugin", (name, pkg) => {
    const dir = path.join(REPO_ROOT, "node_modules", pkg);
    const resources = sdkResources(dir);
    const notBridged = (list: string[]) => (built ? list : []);

    test(`has every resource type of ${pkg}`, () => {
        expect(resources.map((r) => r.token)).toContain(name); // the provider resource
        const absent = resources.map((r) => r.token).filter((token) => token !== name && !(token in schemas[name].resources));
        expect(absent).toEqual(notBridged(NOT_BRIDGED.resources.filter((token) => token.startsWith(`${name}:`))));
    });

    test(`has every function of ${pkg}`, () => {
        const tokens = new Set<string>();
        for (const file of fs.readdirSync(dir).filter((f) => f.endsWith(".js"))) {
            for (const match of fs.readFileSync(path.join(dir, file), "utf8").matchAll(/\.invoke(?:Output|SingleOutput)?\("([^"]+)"/g))
                tokens.add(match[1]);
        }
        expect([...tokens].filter((token) => !(token in (schemas[name].functions ?? {})))).toEqual([]);
    });

    test(`knows every input and output property ${pkg} uses, lists as lists`, () => {
        // Every resource sends inputs; a pattern that found none would check nothing.
        expect(resources.filter((r) => r.token !== name && Object.keys(r.inputs).length === 0).map((r) => r.token)).toEqual([]);
        expect(resources.some((r) => Object.values(r.inputs).some((isList) => isList)) || name !== "docker").toBe(true);
        const schemaOf = (token: string) =>
            token === name ? { inputProperties: schemas[name].provider.inputProperties, properties: {} } : schemas[name].resources[token];
        const wrong = resources
            .filter((r) => schemaOf(r.token) !== undefined)
            .flatMap((r) => [
                ...mismatches(`${r.token} input`, r.inputs, schemaOf(r.token).inputProperties),
                ...r.outputs
                    .filter((output) => !(output in (schemaOf(r.token).properties ?? {})))
                    .map((output) => `${r.token} output ${output}: unknown`),
            ]);
        expect(wrong).toEqual([]);
    });

    test(`knows every field of the nested input types of ${pkg}, lists as lists`, () => {
        // The SDK names a type after the last part of its token, capitalised; `…Args` is the variant for Output inputs.
        const byName = Object.fromEntries(
            Object.entries(schemas[name].types ?? {}).map(([token, type]) => {
                const last = token.slice(token.lastIndexOf(":") + 1);
                return [last[0].toUpperCase() + last.slice(1), type];
            }),
        );
        const wrong = Object.entries(sdkInputTypes(dir))
            .map(([type, fields]) => [type.replace(/(.)Args$/, "$1"), fields] as const)
            .filter(([type]) => !notBridged(NOT_BRIDGED.inputTypes).includes(type))
            .flatMap(([type, fields]) => (type in byName ? mismatches(type, fields, byName[type].properties) : [`type ${type}: unknown`]));
        expect(wrong).toEqual([]);
    });
});
