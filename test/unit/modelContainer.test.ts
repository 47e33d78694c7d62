import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { GATEWAY_SETTINGS_DEFAULTS } from "../../components/config/gateway";
import {
    DEFAULT_BASE_IMAGE,
    ENTRYPOINT_IN_IMAGE,
    healthcheckCommand,
    MODEL_DIR_IN_IMAGE,
    MODEL_IDLE_WAIT_SECONDS,
    MODEL_UID,
    modelPackages,
    renderModelContainerFiles,
    runEntrypointScript,
    validateModelContainerSpec,
} from "../../components/render/modelContainer";

const files = renderModelContainerFiles({ packages: ["randomForest", "MASS"], port: 8000 });
const dockerfile = files.Dockerfile;
const lines = dockerfile.split("\n");
/** Index of the first Dockerfile line starting with `prefix` (fails the test when absent). */
function lineOf(prefix: string, from = 0): number {
    const index = lines.findIndex((line, i) => i >= from && line.startsWith(prefix));
    if (index < 0) throw new Error(`no line starting with ${JSON.stringify(prefix)} in:\n${dockerfile}`);
    return index;
}

describe("renderModelContainerFiles", () => {
    test("returns the Dockerfile, the entrypoint and the package installer", () => {
        expect(Object.keys(files).sort()).toEqual(["Dockerfile", "entrypoint.R", "install-packages.R"]);
    });

    test("defaults the BASE_IMAGE build arg to a pinned public tag declared before FROM", () => {
        expect(DEFAULT_BASE_IMAGE).toMatch(/^[a-z0-9/-]+:\d+\.\d+\.\d+$/);
        expect(lines[lineOf("ARG BASE_IMAGE=")]).toBe(`ARG BASE_IMAGE=${DEFAULT_BASE_IMAGE}`);
        expect(lineOf("ARG BASE_IMAGE=")).toBeLessThan(lineOf("FROM "));
        expect(lines[lineOf("FROM ")]).toBe("FROM ${BASE_IMAGE}");
    });

    test("uses the spec's base image as the BASE_IMAGE default", () => {
        const custom = renderModelContainerFiles({ packages: [], port: 8000, baseImage: "registry.example/r:4.3.1" });
        expect(custom.Dockerfile).toContain("\nARG BASE_IMAGE=registry.example/r:4.3.1\n");
    });

    test("installs plumber first, then the model's packages sorted and without duplicates", () => {
        expect(lines[lineOf("RUN Rscript /opt/plumberhub/install-packages.R")]).toBe(
            "RUN Rscript /opt/plumberhub/install-packages.R plumber MASS randomForest",
        );
        expect(modelPackages(["zoo", "plumber", "MASS", "zoo"])).toEqual(["plumber", "MASS", "zoo"]);
    });

    test("renders the same Dockerfile whatever the order of the packages", () => {
        const reordered = renderModelContainerFiles({ packages: ["MASS", "randomForest", "MASS"], port: 8000 });
        expect(reordered.Dockerfile).toBe(dockerfile);
    });

    test("installs the packages in a layer before the entrypoint and the model code are copied", () => {
        const install = lineOf("RUN Rscript /opt/plumberhub/install-packages.R");
        expect(lineOf("COPY install-packages.R ")).toBeLessThan(install);
        expect(install).toBeLessThan(lineOf("COPY entrypoint.R "));
        expect(install).toBeLessThan(lineOf("COPY model/ "));
        expect(lines[lineOf("COPY model/ ")]).toBe(`COPY model/ ${MODEL_DIR_IN_IMAGE}/`);
    });

    test("skips packages the base image already has and fails the build on a failed install", () => {
        const installer = files["install-packages.R"];
        expect(installer).toContain("installed <- function(p) nzchar(system.file(package = p))");
        expect(installer).toContain("missing <- pkgs[!vapply(pkgs, installed, logical(1))]");
        expect(installer).toContain("if (length(missing) > 0) {");
        expect(installer).toContain('if (length(failed) > 0) stop("could not install R packages: ", paste(failed, collapse = ", "))');
    });

    test("runs build.R in the model folder after the code is copied and before switching user", () => {
        const build = lineOf("RUN if [ -f build.R ]; then Rscript build.R; fi");
        expect(lineOf(`WORKDIR ${MODEL_DIR_IN_IMAGE}`)).toBeLessThan(build);
        expect(lineOf("COPY model/ ")).toBeLessThan(build);
        expect(lines[build + 1]).toBe(` && chmod -R a+rX,go-w ${MODEL_DIR_IN_IMAGE}`);
        expect(build).toBeLessThan(lineOf("USER "));
    });

    test("runs as a numeric non-root user created in the image", () => {
        expect(MODEL_UID).toBeGreaterThan(0);
        expect(dockerfile).toContain(`useradd --no-log-init --uid ${MODEL_UID} --gid ${MODEL_UID}`);
        expect(lines[lineOf("USER ")]).toBe(`USER ${MODEL_UID}:${MODEL_UID}`);
        expect(lines.filter((line) => line.startsWith("USER "))).toHaveLength(1);
    });

    test("exposes the spec's port and sets it as PORT", () => {
        const other = renderModelContainerFiles({ packages: [], port: 8123 });
        expect(other.Dockerfile).toContain("\nEXPOSE 8123\n");
        expect(other.Dockerfile).toContain("ENV LANG=C.UTF-8 MODEL_DIR=/app/model PORT=8123\n");
        expect(lines[lineOf("EXPOSE ")]).toBe("EXPOSE 8000");
    });

    test("checks health with a GET /healthz over bash's /dev/tcp, at the PORT in force", () => {
        const healthcheck = lines[lineOf("HEALTHCHECK ")];
        expect(healthcheck.slice(0, healthcheck.indexOf(" CMD "))).toBe("HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3");
        const command = JSON.parse(healthcheck.slice(healthcheck.indexOf(" CMD ") + 5)) as string[];
        expect(command).toEqual([
            "bash",
            "-c",
            "exec 3<>/dev/tcp/127.0.0.1/${PORT:-8000} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 " +
                '&& IFS= read -r status <&3 && case "$status" in *" 200 "*) exit 0;; *) exit 1;; esac',
        ]);
        const other = renderModelContainerFiles({ packages: [], port: 9001 }).Dockerfile;
        expect(other).toContain("/dev/tcp/127.0.0.1/${PORT:-9001}");
    });

    test("starts the entrypoint under a shell that waits for R to be idle, then passes the stop signal on to R", () => {
        const cmd = lines[lineOf("CMD ")];
        expect(JSON.parse(cmd.slice(4))).toEqual(["/bin/sh", "-c", runEntrypointScript(8000)]);
        expect(runEntrypointScript(8000)).toContain(
            `Rscript ${ENTRYPOINT_IN_IMAGE} & child=$!; ` +
                `trap 'timeout "\${PLUMBERHUB_IDLE_WAIT_SECONDS:-${MODEL_IDLE_WAIT_SECONDS}}" bash -c "$probe"; kill -TERM $child 2>/dev/null; wait $child; exit 0' TERM INT; ` +
                "wait $child; exit $?",
        );
        expect(MODEL_IDLE_WAIT_SECONDS).toBe(GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds);
        expect(dockerfile).not.toContain("STOPSIGNAL");
    });
});

describe("runEntrypointScript under a POSIX sh", () => {
    /** Runs `script` under dash with a fake `Rscript` that records its TERM; resolves with the exit code and the time. */
    async function stopAfter(port: number, signalAfterMs: number): Promise<{ code: number | null; ms: number; termedAtMs: number }> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "entrypoint-"));
        const mark = path.join(dir, "termed");
        fs.writeFileSync(path.join(dir, "Rscript"), `#!/bin/sh\ntrap 'date +%s%3N > ${mark}; exit 0' TERM\nwhile :; do sleep 0.05; done\n`, {
            mode: 0o755,
        });
        const started = Date.now();
        const shell = spawn("dash", ["-c", runEntrypointScript(port)], {
            env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, PORT: String(port) },
        });
        await new Promise((resolve) => setTimeout(resolve, signalAfterMs));
        shell.kill("SIGTERM");
        const code = await new Promise<number | null>((resolve) => shell.on("exit", (c) => resolve(c)));
        const ms = Date.now() - started;
        const termedAtMs = Number(fs.readFileSync(mark, "utf8")) - started;
        fs.rmSync(dir, { recursive: true });
        return { code, ms, termedAtMs };
    }

    test("the shell sees the health probe word for word", () => {
        const [, , probe] = healthcheckCommand(8000);
        const script = runEntrypointScript(8000);
        const assignment = script.slice(0, script.indexOf("; Rscript "));
        expect(execFileSync("dash", ["-c", `${assignment}; printf %s "$probe"`], { encoding: "utf8" })).toBe(probe);
    });

    test("on TERM it stops R only once R has answered /healthz (after the request R is busy with), and exits 0", async () => {
        // A stand-in for R: busy for 1.5 s, so /healthz is answered only then.
        const server = http.createServer((_, res) => setTimeout(() => res.end("ok"), 1500));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as AddressInfo;
        try {
            const { code, termedAtMs } = await stopAfter(port, 300);
            expect(code).toBe(0);
            expect(termedAtMs).toBeGreaterThanOrEqual(1700);
        } finally {
            server.close();
        }
    });

    test("on TERM with nothing listening it stops R at once", async () => {
        const server = http.createServer();
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const { port } = server.address() as AddressInfo;
        await new Promise((resolve) => server.close(resolve)); // a port nobody listens on
        const { code, ms } = await stopAfter(port, 300);
        expect(code).toBe(0);
        expect(ms).toBeLessThan(1200);
    });
});

describe("entrypoint.R", () => {
    const entrypoint = files["entrypoint.R"];

    test("reads MODEL_DIR, PORT, HOST and PUBLIC_PATH_PREFIX with the rendered defaults", () => {
        expect(entrypoint).toContain(`model_dir <- env("MODEL_DIR", "${MODEL_DIR_IN_IMAGE}")`);
        expect(entrypoint).toContain('port_text <- env("PORT", "8000")');
        expect(entrypoint).toContain('host <- env("HOST", "0.0.0.0")');
        expect(entrypoint).toContain('prefix <- sub("/+$", "", Sys.getenv("PUBLIC_PATH_PREFIX", ""))');
        expect(renderModelContainerFiles({ packages: [], port: 9001 })["entrypoint.R"]).toContain('port_text <- env("PORT", "9001")');
    });

    test("plumbs plumber.R from MODEL_DIR and adds GET /healthz unless the model has one", () => {
        expect(entrypoint).toContain("pr <- plumb(plumber_file)");
        expect(entrypoint).toContain('pr <- pr_get(pr, "/healthz", function() list(status = "ok"), serializer = serializer_unboxed_json())');
        expect(entrypoint).toContain('is_get_healthz <- function(ep) identical(ep$path, "/healthz") && "GET" %in% ep$verbs');
    });

    test("sets the OpenAPI servers URL to the public prefix only when one is given", () => {
        expect(entrypoint).toContain("if (nzchar(prefix)) options(plumber.apiURL = prefix)");
    });

    test("serves on the chosen host and port", () => {
        expect(entrypoint).toContain("pr_run(pr, host = host, port = as.integer(port_text))");
    });
});

describe("validateModelContainerSpec", () => {
    test.each([
        [
            { packages: ["ok", "bad name"], port: 8000 },
            '`packages[1]` must be an R package name (letters, digits and `.`, starting with a letter, at least 2 characters, not ending in `.`), got "bad name"',
        ],
        [
            { packages: ["pkg."], port: 8000 },
            '`packages[0]` must be an R package name (letters, digits and `.`, starting with a letter, at least 2 characters, not ending in `.`), got "pkg."',
        ],
        [
            { packages: ["x; rm -rf /"], port: 8000 },
            '`packages[0]` must be an R package name (letters, digits and `.`, starting with a letter, at least 2 characters, not ending in `.`), got "x; rm -rf /"',
        ],
        [{ packages: "MASS" as unknown as string[], port: 8000 }, '`packages` must be a list of R package names, got "MASS"'],
        [{ packages: [], port: 0 }, "`port` must be an integer from 1 to 65535, got 0"],
        [{ packages: [], port: 65536 }, "`port` must be an integer from 1 to 65535, got 65536"],
        [{ packages: [], port: 80.5 }, "`port` must be an integer from 1 to 65535, got 80.5"],
        [
            { packages: [], port: 8000, baseImage: "rocker/r-ver:4.4.2\nRUN evil" },
            "`baseImage` must be an image reference such as `rocker/r-ver:4.4.2` or `registry/repo@sha256:<64 hex>` " +
                '(lower-case repository, tag of letters, digits, `_`, `.`, `-`), got "rocker/r-ver:4.4.2\\nRUN evil"',
        ],
    ])("rejects %j", (spec, message) => {
        expect(() => validateModelContainerSpec(spec)).toThrow(new Error(message));
        expect(() => renderModelContainerFiles(spec)).toThrow(new Error(message));
    });

    test("accepts dotted package names, the port bounds and a digest-pinned base image", () => {
        expect(() => validateModelContainerSpec({ packages: ["data.table", "R6"], port: 1 })).not.toThrow();
        expect(() => validateModelContainerSpec({ packages: [], port: 65535, baseImage: `r@sha256:${"0123abcd".repeat(8)}` })).not.toThrow();
    });
});
