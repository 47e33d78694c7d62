import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    MAX_MODEL_NAME_LENGTH,
    MAX_REPLICAS,
    MODEL_NAME_PATTERN,
    ModelSpecError,
    modelRequest,
    modelTargetProblems,
    RESERVED_MODEL_NAMES,
    parseQuantity,
    validateModel,
    validateModels,
} from "../../components/config";

// A base folder with: good/plumber.R, empty/ (no plumber.R), notes.txt (a file), dirplumber/plumber.R/ (a folder).
let base: string;
beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-spec-"));
    fs.mkdirSync(path.join(base, "good"));
    fs.writeFileSync(path.join(base, "good", "plumber.R"), "#* @get /echo\nfunction(msg = '') list(msg = msg)\n");
    fs.mkdirSync(path.join(base, "empty"));
    fs.writeFileSync(path.join(base, "notes.txt"), "not a folder");
    fs.mkdirSync(path.join(base, "dirplumber", "plumber.R"), { recursive: true });
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** Validates `{ name: "iris", path: "good", ...extra }` as `models[0]`. */
function check(extra: Record<string, unknown>) {
    return validateModel({ name: "iris", path: "good", ...extra }, { baseDir: base, field: "models[0]" });
}

function messageOf(fn: () => unknown): string {
    try {
        fn();
    } catch (e) {
        expect(e).toBeInstanceOf(ModelSpecError);
        return (e as Error).message;
    }
    throw new Error("expected a validation error, got none");
}

const DNS = "a DNS-1035 label: lower-case letters, digits and `-`, starting with a letter and ending with a letter or digit";
const IMAGE_HELP =
    "must be an image reference such as `myregistry.azurecr.io/team/model:1.0` or `registry/repo@sha256:<64 hex>` " +
    "(lower-case repository, tag of letters, digits, `_`, `.`, `-`), got";
const R_PKG = "must be an R package name (letters, digits and `.`, starting with a letter, at least 2 characters, not ending in `.`), got";
const USER = "must be a user name of 1 to 64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit, got";
const CPU_Q = 'must be a Kubernetes quantity such as "250m", "0.5" or "2", got';
const MEM_Q = 'must be a Kubernetes quantity such as "512Mi", "1Gi" or "1G", got';
const RESERVED = "healthz, livez, readyz, metrics, status, static, gateway, registry, kubernetes, localhost";

describe("validateModel rejects a bad field with a message naming it, the value and what is valid", () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
        // keys
        ["a typo in a key gets the closest known key", { replica: 2 }, "`models[0].replica` is not a known key; did you mean `replicas`?"],
        ["a misspelt key gets the closest known key", { memroy: {} }, "`models[0].memroy` is not a known key; did you mean `memory`?"],
        [
            "an unrelated key lists the known keys",
            { colour: "red" },
            "`models[0].colour` is not a known key; known keys: name, path, image, packages, replicas, cpu, memory, port, env, users, autoscaling, egress, maxReplicasPerNode",
        ],
        [
            "a typo inside cpu is named with its path",
            { cpu: { requests: "1" } },
            "`models[0].cpu.requests` is not a known key; did you mean `request`?",
        ],
        // name
        ["a missing name", { name: undefined }, `\`models[0].name\` is required: ${DNS}`],
        ["a name that is not a string", { name: 42 }, `\`models[0].name\` must be a string, ${DNS}, got 42`],
        ["an upper-case name gets a suggestion", { name: "My_Model" }, `\`models[0].name\` must be ${DNS}, got "My_Model"; try "my-model"`],
        ["a name starting with a digit", { name: "9lives" }, `\`models[0].name\` must be ${DNS}, got "9lives"; try "lives"`],
        ["a name ending with a dash", { name: "iris-" }, `\`models[0].name\` must be ${DNS}, got "iris-"; try "iris"`],
        ["an empty name", { name: "" }, `\`models[0].name\` must be ${DNS}, got ""`],
        ["a name with a slash (no open proxy)", { name: "a/../b" }, `\`models[0].name\` must be ${DNS}, got "a/../b"; try "a-b"`],
        [
            "a name too long for the suffixes the components add",
            { name: "a".repeat(41) },
            `\`models[0].name\` must be at most 40 characters (Kubernetes pod and swarm service names add suffixes to it and must stay within 63), got "${"a".repeat(41)}" (41 characters)`,
        ],
        [
            "the gateway's healthz route",
            { name: "healthz" },
            `\`models[0].name\` "healthz" is reserved by the gateway (reserved: ${RESERVED}); choose another name`,
        ],
        [
            "the Kubernetes API service name",
            { name: "kubernetes" },
            `\`models[0].name\` "kubernetes" is reserved by the gateway (reserved: ${RESERVED}); choose another name`,
        ],
        // path / image
        [
            "neither path nor image",
            { path: undefined },
            "`models[0]` must have exactly one of `path` (a folder with plumber.R) and `image` (a prebuilt image), got neither",
        ],
        [
            "both path and image",
            { image: "acr.io/iris:1" },
            "`models[0]` must have exactly one of `path` (a folder with plumber.R) and `image` (a prebuilt image), got both",
        ],
        ["a path that is not a string", { path: 3 }, `\`models[0].path\` must be a folder path (relative to "BASE") containing plumber.R, got 3`],
        ["a path that does not exist", { path: "missing" }, '`models[0].path` "missing" does not exist (looked for "BASE/missing")'],
        [
            "a path that is a file",
            { path: "notes.txt" },
            '`models[0].path` "notes.txt" is not a folder ("BASE/notes.txt"); give the folder that contains plumber.R',
        ],
        ["a folder without plumber.R", { path: "empty" }, '`models[0].path` "empty" has no plumber.R (looked for "BASE/empty/plumber.R")'],
        [
            "a folder whose plumber.R is a folder",
            { path: "dirplumber" },
            '`models[0].path` "dirplumber" has no plumber.R (looked for "BASE/dirplumber/plumber.R")',
        ],
        ["an image with an upper-case repository", { path: undefined, image: "acr.io/Iris:1" }, `\`models[0].image\` ${IMAGE_HELP} "acr.io/Iris:1"`],
        ["an image with an empty tag", { path: undefined, image: "iris:" }, `\`models[0].image\` ${IMAGE_HELP} "iris:"`],
        ["an image with a short digest", { path: undefined, image: "iris@sha256:abc" }, `\`models[0].image\` ${IMAGE_HELP} "iris@sha256:abc"`],
        ["an image with a space", { path: undefined, image: "iris model" }, `\`models[0].image\` ${IMAGE_HELP} "iris model"`],
        // packages
        [
            "packages with a prebuilt image",
            { path: undefined, image: "iris:1", packages: ["MASS"] },
            "`models[0].packages` only applies when building from `path`; a prebuilt `image` must already contain its packages",
        ],
        ["packages that are not a list", { packages: "MASS" }, '`models[0].packages` must be a list of R package names, got "MASS"'],
        ["a package name with an underscore", { packages: ["MASS", "my_pkg"] }, `\`models[0].packages[1]\` ${R_PKG} "my_pkg"`],
        ["a one-letter package name", { packages: ["R"] }, `\`models[0].packages[0]\` ${R_PKG} "R"`],
        ["a package name ending with a dot", { packages: ["data.table."] }, `\`models[0].packages[0]\` ${R_PKG} "data.table."`],
        ["a package name starting with a digit", { packages: ["4ggplot"] }, `\`models[0].packages[0]\` ${R_PKG} "4ggplot"`],
        ["a package listed twice", { packages: ["MASS", "jsonlite", "MASS"] }, '`models[0].packages[2]` "MASS" is listed twice'],
        // replicas
        ["zero replicas", { replicas: 0 }, "`models[0].replicas` must be an integer from 1 to 100, got 0"],
        ["fractional replicas", { replicas: 1.5 }, "`models[0].replicas` must be an integer from 1 to 100, got 1.5"],
        ["replicas as a string", { replicas: "2" }, '`models[0].replicas` must be an integer from 1 to 100, got "2"'],
        ["replicas above the bound", { replicas: 101 }, "`models[0].replicas` must be an integer from 1 to 100, got 101"],
        ["replicas NaN", { replicas: NaN }, "`models[0].replicas` must be an integer from 1 to 100, got NaN"],
        // cpu / memory
        [
            "cpu given as a string gets the object form",
            { cpu: "500m" },
            '`models[0].cpu` must be an object { request, limit }, got "500m"; write { request: "500m", limit: "500m" }',
        ],
        ["a cpu limit with two dots", { cpu: { limit: "1.5.2" } }, `\`models[0].cpu.limit\` ${CPU_Q} "1.5.2"`],
        ["an empty cpu request", { cpu: { request: "" } }, `\`models[0].cpu.request\` ${CPU_Q} ""`],
        ["a cpu request as a number", { cpu: { request: 1 } }, `\`models[0].cpu.request\` ${CPU_Q} 1`],
        ["a negative cpu request", { cpu: { request: "-250m" } }, '`models[0].cpu.request` must be greater than zero, got "-250m"'],
        ["a zero cpu limit", { cpu: { limit: "0" } }, '`models[0].cpu.limit` must be greater than zero, got "0"'],
        [
            "a cpu finer than a millicore",
            { cpu: { request: "0.0005" } },
            '`models[0].cpu.request` must be a whole number of millicores (1m = 0.001 cores), got "0.0005"',
        ],
        [
            "a cpu limit below its request",
            { cpu: { request: "1", limit: "500m" } },
            '`models[0].cpu.limit` "500m" is below `models[0].cpu.request` "1"; the limit must be at least the request',
        ],
        [
            "memory in MB",
            { memory: { limit: "500MB" } },
            `\`models[0].memory.limit\` ${MEM_Q} "500MB"; "MB" is not a unit: use "M" (powers of 10) or "Mi" (powers of 2)`,
        ],
        [
            "memory in GiB",
            { memory: { limit: "2GiB" } },
            `\`models[0].memory.limit\` ${MEM_Q} "2GiB"; "GiB" is not a unit: use "G" (powers of 10) or "Gi" (powers of 2)`,
        ],
        ["memory with a lower-case mi", { memory: { request: "512mi" } }, `\`models[0].memory.request\` ${MEM_Q} "512mi"`],
        [
            "memory without a unit",
            { memory: { request: "512" } },
            '`models[0].memory.request` must be at least "6Mi" (Docker\'s minimum), got "512" (512 bytes); did you forget a unit such as "Mi"?',
        ],
        [
            "a memory limit below its request (compared by value)",
            { memory: { request: "1Gi", limit: "1G" } },
            '`models[0].memory.limit` "1G" is below `models[0].memory.request` "1Gi"; the limit must be at least the request',
        ],
        // port
        ["port zero", { port: 0 }, "`models[0].port` must be an integer from 1024 to 65535, got 0"],
        ["privileged port", { port: 80 }, "`models[0].port` must be an integer from 1024 to 65535, got 80"],
        ["port too high", { port: 65536 }, "`models[0].port` must be an integer from 1024 to 65535, got 65536"],
        ["port as a string", { port: "8000" }, '`models[0].port` must be an integer from 1024 to 65535, got "8000"'],
        // env
        ["env as a list", { env: ["A=1"] }, '`models[0].env` must be an object of NAME: "value" strings, got ["A=1"]'],
        [
            "an env name with a dash",
            { env: { "MY-VAR": "x" } },
            '`models[0].env` key "MY-VAR" is not a valid environment variable name (letters, digits and `_`, not starting with a digit)',
        ],
        [
            "an env name starting with a digit",
            { env: { "1X": "x" } },
            '`models[0].env` key "1X" is not a valid environment variable name (letters, digits and `_`, not starting with a digit)',
        ],
        ["an env value that is a number", { env: { THREADS: 4 } }, '`models[0].env.THREADS` must be a string, got 4; quote it: "4"'],
        ["an env value that is an object", { env: { CONF: { a: 1 } } }, '`models[0].env.CONF` must be a string, got {"a":1}'],
        [
            "env PORT is set by the platform",
            { env: { PORT: "9000" } },
            "`models[0].env.PORT` is set by the platform and cannot be overridden (reserved: PORT, PUBLIC_PATH_PREFIX, MODEL_DIR, PLUMBERHUB_IDLE_WAIT_SECONDS)",
        ],
        [
            "env PUBLIC_PATH_PREFIX is set by the platform",
            { env: { PUBLIC_PATH_PREFIX: "/x" } },
            "`models[0].env.PUBLIC_PATH_PREFIX` is set by the platform and cannot be overridden (reserved: PORT, PUBLIC_PATH_PREFIX, MODEL_DIR, PLUMBERHUB_IDLE_WAIT_SECONDS)",
        ],
        // users
        ["users as a string", { users: "alice" }, '`models[0].users` must be a list of user names, got "alice"'],
        [
            "an empty users list",
            { users: [] },
            "`models[0].users` is empty, so nobody could call the model; leave `users` out to allow every gateway user",
        ],
        ["a user name with a colon (breaks htpasswd)", { users: ["alice", "bob:x"] }, `\`models[0].users[1]\` ${USER} "bob:x"`],
        ["a user name with a space", { users: ["alice smith"] }, `\`models[0].users[0]\` ${USER} "alice smith"`],
        ["a user listed twice", { users: ["alice", "alice"] }, '`models[0].users[1]` "alice" is listed twice'],
        // autoscaling
        [
            "autoscaling as a number",
            { autoscaling: 5 },
            "`models[0].autoscaling` must be an object { maxReplicas, minReplicas?, targetCpuUtilization? }, got 5",
        ],
        ["autoscaling without maxReplicas", { autoscaling: {} }, "`models[0].autoscaling.maxReplicas` is required: an integer from 1 to 100"],
        [
            "autoscaling max below min",
            { autoscaling: { minReplicas: 3, maxReplicas: 2 } },
            "`models[0].autoscaling.maxReplicas` 2 is below `models[0].autoscaling.minReplicas` 3; it must be at least the minimum",
        ],
        [
            "autoscaling max below the replicas it starts from",
            { replicas: 4, autoscaling: { maxReplicas: 3 } },
            "`models[0].autoscaling.maxReplicas` 3 is below `models[0].autoscaling.minReplicas` 4 (the model's `replicas`); it must be at least the minimum",
        ],
        [
            "autoscaling target utilisation above 100",
            { autoscaling: { maxReplicas: 5, targetCpuUtilization: 150 } },
            "`models[0].autoscaling.targetCpuUtilization` must be an integer from 1 to 100, got 150",
        ],
        [
            "autoscaling target utilisation zero",
            { autoscaling: { maxReplicas: 5, targetCpuUtilization: 0 } },
            "`models[0].autoscaling.targetCpuUtilization` must be an integer from 1 to 100, got 0",
        ],
        [
            "autoscaling maxReplicas above the bound",
            { autoscaling: { maxReplicas: 500 } },
            "`models[0].autoscaling.maxReplicas` must be an integer from 1 to 100, got 500",
        ],
        [
            "a typo inside autoscaling",
            { autoscaling: { maxReplica: 5 } },
            "2 problems in the model spec:\n- `models[0].autoscaling.maxReplica` is not a known key; did you mean `maxReplicas`?\n- `models[0].autoscaling.maxReplicas` is required: an integer from 1 to 100",
        ],
        // egress
        [
            "egress that is not a mode",
            { egress: "all" },
            '`models[0].egress` must be "none" (the cluster DNS only, the default) or "internet" (also public addresses; never other pods, ' +
                'private ranges or the instance metadata), got "all"',
        ],
        [
            "egress as a boolean",
            { egress: true },
            '`models[0].egress` must be "none" (the cluster DNS only, the default) or "internet" (also public addresses; never other pods, ' +
                "private ranges or the instance metadata), got true",
        ],
    ];

    test.each(cases)("%s", (_title, extra, expected) => {
        expect(messageOf(() => check(extra))).toBe(expected.split("BASE").join(base));
    });

    test("has at least 30 bad inputs", () => {
        expect(cases.length).toBeGreaterThanOrEqual(30);
    });
});

describe("validateModel on the spec as a whole", () => {
    test("a spec that is not an object", () => {
        expect(messageOf(() => validateModel("iris"))).toBe('`model` must be an object with at least `name` and `path` or `image`, got "iris"');
    });

    test("null is not a spec", () => {
        expect(messageOf(() => validateModels([null]))).toBe("`models[0]` must be an object with at least `name` and `path` or `image`, got null");
    });

    test("every problem of one model is reported at once, one line each", () => {
        const message = messageOf(() => check({ name: "Iris", replicas: 0, port: 70000, cpu: { limit: "lots" } }));
        expect(message).toBe(
            [
                "4 problems in the model spec:",
                `- \`models[0].name\` must be ${DNS}, got "Iris"; try "iris"`,
                "- `models[0].replicas` must be an integer from 1 to 100, got 0",
                `- \`models[0].cpu.limit\` ${CPU_Q} "lots"`,
                "- `models[0].port` must be an integer from 1024 to 65535, got 70000",
            ].join("\n"),
        );
    });

    test("the error carries the list of problems", () => {
        try {
            check({ replicas: 0, port: 0 });
            throw new Error("expected a validation error");
        } catch (e) {
            expect((e as ModelSpecError).problems).toEqual([
                "`models[0].replicas` must be an integer from 1 to 100, got 0",
                "`models[0].port` must be an integer from 1024 to 65535, got 0",
            ]);
        }
    });

    test("the field defaults to `model`", () => {
        expect(messageOf(() => validateModel({ name: "iris", image: "iris:1", port: -1 }))).toBe(
            "`model.port` must be an integer from 1024 to 65535, got -1",
        );
    });

    test("a relative path is resolved against the current folder by default", () => {
        const cwd = process.cwd();
        process.chdir(base);
        try {
            expect(validateModel({ name: "iris", path: "good" }).path).toBe(path.join(fs.realpathSync(base), "good"));
        } finally {
            process.chdir(cwd);
        }
    });
});

describe("validateModels", () => {
    test("a list is required", () => {
        expect(messageOf(() => validateModels({ name: "iris" }))).toBe('`models` must be a list of models, got {"name":"iris"}');
    });

    test("duplicate names are named with both positions", () => {
        const specs = [
            { name: "iris", path: "good" },
            { name: "bos-rf", image: "acr.io/bos-rf:1" },
            { name: "iris", image: "acr.io/iris:2" },
        ];
        expect(messageOf(() => validateModels(specs, { baseDir: base }))).toBe(
            '`models[2].name` "iris" is already used by `models[0].name`; model names must be unique',
        );
    });

    test("problems of all models are collected into one error", () => {
        const specs = [
            { name: "iris", path: "good", replica: 2 },
            { name: "ok", image: "ok:1" },
            { name: "iris", path: "empty", cpu: { request: "1", limit: "500m" } },
        ];
        expect(messageOf(() => validateModels(specs, { baseDir: base }))).toBe(
            [
                "4 problems in the model spec:",
                "- `models[0].replica` is not a known key; did you mean `replicas`?",
                `- \`models[2].path\` "empty" has no plumber.R (looked for "${path.join(base, "empty", "plumber.R")}")`,
                '- `models[2].cpu.limit` "500m" is below `models[2].cpu.request` "1"; the limit must be at least the request',
                '- `models[2].name` "iris" is already used by `models[0].name`; model names must be unique',
            ].join("\n"),
        );
    });

    test("an empty list is valid (models can join from other stacks)", () => {
        expect(validateModels([])).toEqual([]);
    });

    test("valid models come back in order with defaults", () => {
        const models = validateModels(
            [
                { name: "iris", path: "good" },
                { name: "bos-rf", image: "acr.io/bos-rf:1" },
            ],
            { baseDir: base },
        );
        expect(models.map((m) => m.name)).toEqual(["iris", "bos-rf"]);
        expect(models[0].path).toBe(path.join(base, "good"));
        expect(models[1].image).toBe("acr.io/bos-rf:1");
    });
});

describe("validateModel fills in defaults", () => {
    test("a minimal spec gets every default", () => {
        expect(check({})).toEqual({
            name: "iris",
            path: path.join(base, "good"),
            packages: [],
            replicas: 1,
            cpu: { limit: "500m" },
            memory: { limit: "1Gi" },
            port: 8000,
            env: {},
        });
    });

    test("users and autoscaling stay absent when not given", () => {
        const model = check({});
        expect("users" in model).toBe(false);
        expect("autoscaling" in model).toBe(false);
        expect("image" in model).toBe(false);
    });

    test("a full spec is kept as written", () => {
        const spec = {
            name: "bos-rf",
            image: "myregistry.azurecr.io/team/bos-rf:1.0@sha256:" + "a".repeat(64),
            replicas: 3,
            cpu: { request: "500m", limit: "2" },
            memory: { request: "1Gi", limit: "2Gi" },
            port: 8080,
            env: { THREADS: "1", _DEBUG: "" },
            users: ["alice", "bob.smith@example.org"],
            autoscaling: { minReplicas: 2, maxReplicas: 10, targetCpuUtilization: 60 },
        };
        expect(validateModel(spec)).toEqual({ ...spec, packages: [] });
    });

    test("autoscaling minReplicas defaults to replicas and the target to 70", () => {
        expect(check({ replicas: 2, autoscaling: { maxReplicas: 6 } }).autoscaling).toEqual({
            minReplicas: 2,
            maxReplicas: 6,
            targetCpuUtilization: 70,
        });
    });

    test("listing plumber is harmless: it is dropped because it is always installed", () => {
        expect(check({ packages: ["MASS", "plumber", "randomForest", "data.table"] }).packages).toEqual(["MASS", "randomForest", "data.table"]);
    });

    test("a cpu request above the default limit raises the limit to the request", () => {
        expect(check({ cpu: { request: "2" } }).cpu).toEqual({ request: "2", limit: "2" });
    });

    test("a cpu request below the default limit keeps the default limit", () => {
        expect(check({ cpu: { request: "100m" } }).cpu).toEqual({ request: "100m", limit: "500m" });
    });

    test("egress is kept only when the spec gives it", () => {
        expect(check({}).egress).toBeUndefined();
        expect(check({ egress: "none" }).egress).toBe("none");
        expect(check({ egress: "internet" }).egress).toBe("internet");
    });

    test("a limit alone leaves the request to the target", () => {
        expect(check({ memory: { limit: "4Gi" } }).memory).toEqual({ limit: "4Gi" });
    });

    test("the input spec is not modified", () => {
        const spec = { name: "iris", path: "good", packages: ["plumber"] };
        check(spec);
        expect(spec).toEqual({ name: "iris", path: "good", packages: ["plumber"] });
    });
});

describe("what a replica requests on each target", () => {
    test("on AKS, 250m cpu and all of the memory limit when the model names no request", () => {
        const model = check({});
        expect([modelRequest(model, "cpu", "aks"), modelRequest(model, "memory", "aks")]).toEqual(["250m", "1Gi"]);
        expect(modelRequest(check({ memory: { limit: "3Gi" } }), "memory", "aks")).toBe("3Gi");
    });

    test("on swarm, nothing when the model names no request", () => {
        const model = check({});
        expect([modelRequest(model, "cpu", "swarm"), modelRequest(model, "memory", "swarm")]).toEqual(["0", "0"]);
    });

    test("the model's own request on both targets", () => {
        const model = check({ cpu: { request: "1" }, memory: { request: "2Gi" } });
        for (const target of ["aks", "swarm"] as const) {
            expect([modelRequest(model, "cpu", target), modelRequest(model, "memory", target)]).toEqual(["1", "2Gi"]);
        }
    });

    test("on AKS, the default cpu request capped at a lower limit", () => {
        expect(modelRequest(check({ cpu: { limit: "100m" } }), "cpu", "aks")).toBe("100m");
    });
});

describe("what a target cannot do", () => {
    test("autoscaling on a swarm, which has no autoscaler", () => {
        expect(modelTargetProblems(check({ autoscaling: { maxReplicas: 4 } }), "swarm", "`model`")).toEqual([
            "`model` sets `autoscaling`, which a swarm cannot do (Docker Swarm has no autoscaler): set a fixed `replicas` instead; " +
                "autoscaling works on AKS (Kubernetes HPA)",
        ]);
    });

    test("autoscaling on AKS", () => {
        expect(modelTargetProblems(check({ autoscaling: { maxReplicas: 4 } }), "aks", "`model`")).toEqual([]);
    });

    test("any egress on a swarm, which cannot enforce it", () => {
        const message =
            "`model` sets `egress`, which a swarm cannot enforce (Docker Swarm has no network policies): leave `egress` out; " +
            "it works on AKS (Kubernetes NetworkPolicy)";
        expect(modelTargetProblems(check({ egress: "none" }), "swarm", "`model`")).toEqual([message]);
        expect(modelTargetProblems(check({ egress: "internet" }), "swarm", "`model`")).toEqual([message]);
    });

    test("autoscaling and egress on a swarm are both reported", () => {
        expect(modelTargetProblems(check({ egress: "internet", autoscaling: { maxReplicas: 4 } }), "swarm", "`model`")).toHaveLength(2);
    });

    test("egress on AKS, and a swarm model without egress", () => {
        expect(modelTargetProblems(check({ egress: "internet" }), "aks", "`model`")).toEqual([]);
        expect(modelTargetProblems(check({}), "swarm", "`model`")).toEqual([]);
    });
});

describe("good values are accepted", () => {
    test.each([
        ["a one-letter name", { name: "a" }],
        [`a name of exactly ${MAX_MODEL_NAME_LENGTH} characters`, { name: "m-" + "0".repeat(MAX_MODEL_NAME_LENGTH - 2) }],
        ["an absolute path", { path: "ABS" }],
        ["a plain image name", { path: undefined, image: "iris" }],
        ["an image on a registry with a port", { path: undefined, image: "localhost:5000/team/iris:v1.2_3" }],
        ["an image with separators", { path: undefined, image: "reg.example.com/a__b/c-d.e--f:latest" }],
        ["an image by digest", { path: undefined, image: "iris@sha256:" + "0123456789abcdef".repeat(4) }],
        ["cpu as a decimal", { cpu: { request: "0.5", limit: "1.5" } }],
        ["cpu with an exponent", { cpu: { request: "1e-1", limit: "1" } }],
        ["memory in decimal units", { memory: { request: "500M", limit: "1G" } }],
        ["memory with an exponent", { memory: { request: "128e6", limit: "1e9" } }],
        ["port 1024 and env names with underscores", { port: 1024, env: { _X: "1", mY_vAr2: "b" } }],
        ["port 65535", { port: 65535 }],
        ["replicas at the bound", { replicas: MAX_REPLICAS }],
        ["a user name with digits and dashes", { users: ["svc-42", "0ps"] }],
    ])("%s", (_title, extra) => {
        const spec = { ...extra } as Record<string, unknown>;
        if (spec.path === "ABS") spec.path = path.join(base, "good");
        const model = check(spec);
        for (const [k, v] of Object.entries(spec)) {
            if (k === "path" && v !== undefined) expect(model.path).toBe(path.join(base, "good"));
            else if (v !== undefined) expect(model[k as keyof typeof model]).toEqual(v);
        }
    });
});

describe("MODEL_NAME_PATTERN and the exported limits", () => {
    const anchored = new RegExp(`^(?:${MODEL_NAME_PATTERN})$`);

    test.each(["iris", "bos-rf", "a", "m2", "a--b"])("matches %s", (name) => {
        expect(anchored.test(name)).toBe(true);
    });

    test.each(["Iris", "2m", "-a", "a-", "a_b", "a.b", "", "a/b"])("does not match %j", (name) => {
        expect(anchored.test(name)).toBe(false);
    });

    test("every reserved name would otherwise be a valid name", () => {
        for (const name of RESERVED_MODEL_NAMES) expect(anchored.test(name)).toBe(true);
    });

    test("the longest name leaves room for a pod's 17-character suffix within 63", () => {
        expect(MAX_MODEL_NAME_LENGTH + 17).toBeLessThanOrEqual(63);
    });
});

describe("parseQuantity", () => {
    test.each([
        ["250m", 0.25],
        ["0.5", 0.5],
        ["1", 1],
        ["2", 2],
        [".5", 0.5],
        ["1.", 1],
        ["+1", 1],
        ["1e3", 1000],
        ["1E3", 1000],
        ["5e-1", 0.5],
        ["1k", 1000],
        ["512Mi", 512 * 2 ** 20],
        ["1Gi", 2 ** 30],
        ["1.5Gi", 1.5 * 2 ** 30],
        ["1G", 1e9],
        ["1Ki", 1024],
        ["100u", 1e-4],
        ["1E", 1e18],
        ["-1", -1],
    ])("%s is %d", (q, n) => {
        expect(parseQuantity(q)).toBeCloseTo(n, 9);
    });

    test.each(["", "1.5.2", "500MB", "1 Gi", "Mi", "e3", "1e", "1ki", "--1", "1e3Mi", "0x10"])("%j is not a quantity", (q) => {
        expect(() => parseQuantity(q)).toThrow(`${JSON.stringify(q)} is not a Kubernetes quantity (e.g. "250m", "0.5", "512Mi", "1G", "1e3")`);
    });

    test("a non-string is not a quantity", () => {
        expect(() => parseQuantity(5 as unknown as string)).toThrow('5 is not a Kubernetes quantity (e.g. "250m", "0.5", "512Mi", "1G", "1e3")');
    });

    test("gives nanocpus and bytes that Docker accepts as integers", () => {
        expect(parseQuantity("250m") * 1e9).toBe(250_000_000);
        expect(parseQuantity("512Mi")).toBe(536_870_912);
    });
});
