// scripts/up-dev.sh (`npm run up:dev`) against fake `pulumi`, `docker` and `npm` on PATH. The fakes keep their
// state in files (logged in? stack exists? swarm active?), record every call, and answer like the real tools;
// PATH holds only the fakes and the few system tools the script uses, so the real docker on this machine is
// never reached.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const SCRIPT = path.resolve(__dirname, "../../scripts/up-dev.sh");
const BASH = ["/bin/bash", "/usr/bin/bash"].find((p) => fs.existsSync(p))!;
/** System tools the script and the fakes need (everything else in it is a bash builtin). */
const SYSTEM_TOOLS = ["head", "base64", "mkdir", "cat", "sed", "bash"];
const SWARM_FORMAT = "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}";

const FAKES: Record<string, string[]> = {
    pulumi: [
        'echo "pulumi $*" >> "$FAKE_STATE/calls"',
        'S="$FAKE_STATE"',
        'case "$1" in',
        "  whoami)",
        '    if [ -f "$S/backend" ]; then echo "User: dev"; echo "Organizations: dev"; echo "Backend URL: $(cat "$S/backend")";',
        '    else echo "error: could not determine current cloud: no credentials" >&2; exit 255; fi ;;',
        '  login) [ "$2" = --local ] && echo "file://~" > "$S/backend"; echo "Logged in to host as dev (file://~)" ;;',
        "  stack)",
        '    case "$2" in',
        '      select) [ -f "$S/stack-$3" ] || { echo "error: no stack named \'$3\' found" >&2; exit 255; } ;;',
        '      init) : > "$S/stack-$3"; echo "Created stack \'$3\'" ;;',
        '      output) case "$3" in url) echo "https://localhost:8443/" ;; models) printf \'{\\n  "bos-rf": {\\n  },\\n  "hello": {\\n  }\\n}\\n\' ;; esac ;;',
        "    esac ;;",
        '  up) echo "${PULUMI_CONFIG_PASSPHRASE_FILE:-unset}" > "$S/up-passphrase-file"; exit "$(cat "$S/up-exit" 2>/dev/null || echo 0)" ;;',
        '  *) echo "fake pulumi: unexpected $*" >&2; exit 99 ;;',
        "esac",
    ],
    docker: [
        'echo "docker $*" >> "$FAKE_STATE/calls"',
        'S="$FAKE_STATE"',
        'if [ -f "$S/engine-down" ]; then echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; fi',
        'case "$1" in',
        '  info) echo "$(cat "$S/swarm")" ;;',
        '  swarm) [ "$2" = init ] && echo "active true" > "$S/swarm"; echo "Swarm initialized: current node (abc) is now a manager." ;;',
        '  image) [ -f "$S/images-present" ] || { echo "Error: No such image: $3" >&2; exit 1; } ;;',
        '  pull) if [ -f "$S/pull-fails" ]; then echo "Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io: no such host" >&2; exit 1; fi ;;',
        '  *) echo "fake docker: unexpected $*" >&2; exit 99 ;;',
        "esac",
    ],
    npm: ['echo "npm $*" >> "$FAKE_STATE/calls"', '[ "$1" = ci ] && mkdir -p node_modules && : > node_modules/.package-lock.json', "exit 0"],
    go: ['echo "go $*" >> "$FAKE_STATE/calls"'],
    // Answers the script's one question to the TypeScript code: the images switch (auto, on, off) and the defaults.
    node: [
        'case "${PLUMBERHUB_LOCAL_IMAGES-unset}" in unset) echo auto ;; 1|true) echo on ;; ""|0|false) echo off ;;',
        '  *) echo "environment variable `PLUMBERHUB_LOCAL_IMAGES` must be 1 or true (use the local images) or 0, false or empty (do not), got "$PLUMBERHUB_LOCAL_IMAGES"" >&2; exit 2 ;; esac',
        'echo "r/base:1 nginx:1 registry:1"',
    ],
    // Present only in scenarios that are root on Debian.
    id: ['[ "$1" = -u ] && echo 0'],
    "apt-get": ['echo "apt-get $*" >> "$FAKE_STATE/calls"'],
    debootstrap: [":"],
};
/** Fakes that exist only when a scenario asks for them. */
const OPTIONAL_FAKES = ["id", "apt-get", "debootstrap"];

/** Stand-ins for the project's own scripts that up-dev.sh calls: they record the call (get-engine.sh prints where the fake pulumi is). */
const PROJECT_SCRIPTS: Record<string, string[]> = {
    "get-engine.sh": ['echo "get-engine.sh" >> "$FAKE_STATE/calls"', 'echo "$FAKE_ENGINE_BIN"'],
    "build-local-images.sh": ['echo "build-local-images.sh $*" >> "$FAKE_STATE/calls"'],
};

interface Scenario {
    /** Tools absent from PATH; a missing `pulumi` is what the fake get-engine.sh provides. */
    missing?: string[];
    /** Root on Debian: `id -u` says 0, apt-get and debootstrap are there. */
    rootOnDebian?: boolean;
    /** The default images are already on the engine. */
    imagesPresent?: boolean;
    /** `docker pull` fails as it does without a reachable registry. */
    pullFails?: boolean;
    /** `pulumi whoami` answers with this backend (logged in). */
    backend?: string;
    stackExists?: boolean;
    /** What `docker info` reports: `inactive false`, `active true`, … */
    swarm?: string;
    engineDown?: boolean;
    /** node_modules installed and newer than package-lock.json. */
    installed?: boolean;
    upExit?: number;
    env?: Record<string, string>;
    args?: string[];
}

interface Result {
    status: number | null;
    stderr: string[];
    calls: string[];
    home: string;
    passphraseFileSeenByUp?: string;
}

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

function runUpDev(scenario: Scenario = {}): Result {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "updev-"));
    tmpDirs.push(dir);
    const [project, bin, sys, state, home] = ["project", "bin", "sys", "state", "home"].map((d) => path.join(dir, d));
    [path.join(project, "scripts"), bin, sys, state, home].forEach((d) => fs.mkdirSync(d, { recursive: true }));
    // A copy of the script in a throwaway project: it works on the folder above its own.
    fs.copyFileSync(SCRIPT, path.join(project, "scripts/up-dev.sh"));
    fs.writeFileSync(path.join(project, "package-lock.json"), "{}\n");
    if (scenario.installed) {
        fs.mkdirSync(path.join(project, "node_modules"));
        fs.writeFileSync(path.join(project, "node_modules/.package-lock.json"), "{}\n");
        const later = new Date(Date.now() + 60_000);
        fs.utimesSync(path.join(project, "node_modules/.package-lock.json"), later, later);
    }
    const engineBin = path.join(dir, "engine-bin");
    fs.mkdirSync(engineBin);
    for (const [tool, lines] of Object.entries(FAKES)) {
        const missing = scenario.missing?.includes(tool) || (OPTIONAL_FAKES.includes(tool) && !scenario.rootOnDebian);
        if (missing && tool !== "pulumi") continue;
        // A missing pulumi is the one get-engine.sh would build: it appears on PATH once up-dev.sh adds that folder.
        fs.writeFileSync(path.join(missing ? engineBin : bin, tool), [`#!${BASH}`, ...lines, ""].join("\n"), { mode: 0o755 });
    }
    for (const [script, lines] of Object.entries(PROJECT_SCRIPTS)) {
        fs.writeFileSync(path.join(project, "scripts", script), [`#!${BASH}`, ...lines, ""].join("\n"), { mode: 0o755 });
    }
    for (const tool of SYSTEM_TOOLS) {
        const real = ["/usr/bin", "/bin"].map((d) => path.join(d, tool)).find((p) => fs.existsSync(p));
        if (!real) throw new Error(`system tool ${tool} not found`);
        fs.symlinkSync(real, path.join(sys, tool));
    }
    if (scenario.backend) fs.writeFileSync(path.join(state, "backend"), `${scenario.backend}\n`);
    if (scenario.stackExists) fs.writeFileSync(path.join(state, "stack-dev"), "");
    fs.writeFileSync(path.join(state, "swarm"), `${scenario.swarm ?? "inactive false"}\n`);
    if (scenario.engineDown) fs.writeFileSync(path.join(state, "engine-down"), "");
    if (scenario.upExit !== undefined) fs.writeFileSync(path.join(state, "up-exit"), `${scenario.upExit}\n`);
    if (scenario.imagesPresent) fs.writeFileSync(path.join(state, "images-present"), "");
    if (scenario.pullFails) fs.writeFileSync(path.join(state, "pull-fails"), "");

    const result = spawnSync(BASH, [path.join(project, "scripts/up-dev.sh"), ...(scenario.args ?? [])], {
        cwd: project,
        // The image step is left out (PLUMBERHUB_LOCAL_IMAGES=0) unless a scenario sets it: it runs for real in test/engine.
        env: { PATH: `${bin}:${sys}`, HOME: home, FAKE_STATE: state, FAKE_ENGINE_BIN: engineBin, PLUMBERHUB_LOCAL_IMAGES: "0", ...scenario.env },
        encoding: "utf8",
        timeout: 20_000,
    });
    const read = (file: string) => (fs.existsSync(path.join(state, file)) ? fs.readFileSync(path.join(state, file), "utf8") : "");
    return {
        status: result.status,
        stderr: result.stderr.split("\n").filter((line) => line.startsWith("up-dev:")),
        calls: read("calls").split("\n").filter(Boolean),
        home,
        passphraseFileSeenByUp: read("up-passphrase-file").trim() || undefined,
    };
}

const INFO = `docker info --format ${SWARM_FORMAT}`;
const UP = "pulumi up --yes --stack dev";
/** What up-dev.sh reads after a successful up, to say where the stack is. */
const AFTER_UP = ["pulumi stack output url --stack dev", "pulumi stack output models --json --stack dev"];

describe("a fresh machine", () => {
    let result: Result;
    beforeAll(() => {
        result = runUpDev();
    });

    test("installs, logs in locally, creates the stack, starts a swarm and deploys, in that order", () => {
        expect(result.calls).toEqual([
            INFO,
            "npm ci",
            "pulumi whoami --verbose",
            "pulumi login --local",
            "pulumi stack select dev",
            "pulumi stack init dev",
            "docker swarm init --advertise-addr 127.0.0.1",
            UP,
            ...AFTER_UP,
        ]);
        expect(result.status).toBe(0);
    });

    test("says what it does", () => {
        const passphraseFile = path.join(result.home, ".config/plumberhub/dev-passphrase");
        expect(result.stderr).toEqual([
            "up-dev: installing dependencies (npm ci)",
            "up-dev: no Pulumi backend is set: logging in to the local file backend in ~/.pulumi (pulumi login --local)",
            `up-dev: creating a random secrets passphrase in ${passphraseFile} (keep it: it decrypts the dev stack's secrets)`,
            "up-dev: creating the dev stack",
            "up-dev: the Docker engine is not in a swarm: initialising a single-node swarm (docker swarm init --advertise-addr 127.0.0.1)",
            "up-dev: pulumi up --yes --stack dev ",
            "up-dev: the dev stack is up: https://localhost:8443/ (models: bos-rf, hello; each at https://localhost:8443/MODEL/, its API docs at https://localhost:8443/MODEL/__docs__/)",
            `up-dev: its secrets passphrase: export PULUMI_CONFIG_PASSPHRASE_FILE=${passphraseFile}`,
            "up-dev: call it:",
            "up-dev:   pulumi stack output caCertPem --stack dev > ca.pem",
            'up-dev:   pulumi stack output passwords --show-secrets --stack dev    # {"USER": "PASSWORD"}',
            "up-dev:   curl --cacert ca.pem -u USER:PASSWORD https://localhost:8443/bos-rf/__docs__/",
        ]);
    });

    test("keeps the generated passphrase in a private file outside the project and hands it to pulumi", () => {
        const passphraseFile = path.join(result.home, ".config/plumberhub/dev-passphrase");
        expect(result.passphraseFileSeenByUp).toBe(passphraseFile);
        expect(fs.statSync(passphraseFile).mode & 0o777).toBe(0o600);
        expect(fs.readFileSync(passphraseFile, "utf8")).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    });
});

describe("what is already there is kept", () => {
    test("an existing backend is used as it is: no login, no passphrase file for a cloud backend", () => {
        const result = runUpDev({ backend: "https://api.pulumi.com", stackExists: true, swarm: "active true", installed: true });
        expect(result.calls).toEqual([INFO, "pulumi whoami --verbose", "pulumi stack select dev", UP, ...AFTER_UP]);
        expect(result.passphraseFileSeenByUp).toBe("unset");
        expect(fs.existsSync(path.join(result.home, ".config"))).toBe(false);
    });

    test("PULUMI_BACKEND_URL counts as a backend without asking pulumi", () => {
        const result = runUpDev({ stackExists: true, swarm: "active true", installed: true, env: { PULUMI_BACKEND_URL: "azblob://state" } });
        expect(result.calls).toEqual([INFO, "pulumi stack select dev", UP, ...AFTER_UP]);
    });

    test("an existing stack is selected, not created", () => {
        const result = runUpDev({ backend: "file://~", stackExists: true, installed: true });
        expect(result.calls).toEqual([
            INFO,
            "pulumi whoami --verbose",
            "pulumi stack select dev",
            "docker swarm init --advertise-addr 127.0.0.1",
            UP,
            ...AFTER_UP,
        ]);
    });

    test("an active swarm is left alone", () => {
        const result = runUpDev({ backend: "file://~", swarm: "active true", installed: true });
        expect(result.calls).toEqual([INFO, "pulumi whoami --verbose", "pulumi stack select dev", "pulumi stack init dev", UP, ...AFTER_UP]);
        expect(result.status).toBe(0);
    });

    test("a passphrase the user set is used instead of a generated one", () => {
        const result = runUpDev({
            backend: "file://~",
            stackExists: true,
            swarm: "active true",
            installed: true,
            env: { PULUMI_CONFIG_PASSPHRASE_FILE: "/secure/pass" },
        });
        expect(result.passphraseFileSeenByUp).toBe("/secure/pass");
        expect(fs.existsSync(path.join(result.home, ".config"))).toBe(false);
    });

    test("node_modules older than package-lock.json is reinstalled", () => {
        const result = runUpDev({ backend: "file://~", stackExists: true, swarm: "active true", installed: true });
        expect(result.calls).not.toContain("npm ci");
        const stale = runUpDev({ backend: "file://~", stackExists: true, swarm: "active true" });
        expect(stale.calls).toContain("npm ci");
    });

    test("extra arguments go to pulumi up", () => {
        const result = runUpDev({
            backend: "file://~",
            stackExists: true,
            swarm: "active true",
            installed: true,
            args: ["--diff", "--target", "urn:x"],
        });
        expect(result.calls).toContain(`${UP} --diff --target urn:x`);
    });
});

describe("the engine and the images", () => {
    test("without a Pulumi CLI on PATH, gets the engine with scripts/get-engine.sh and deploys with it", () => {
        const result = runUpDev({ missing: ["pulumi"], backend: "file://~", stackExists: true, swarm: "active true", installed: true });
        expect(result.status).toBe(0);
        expect(result.calls).toEqual([INFO, "get-engine.sh", "pulumi whoami --verbose", "pulumi stack select dev", UP, ...AFTER_UP]);
        expect(result.stderr).toContain(
            "up-dev: no Pulumi CLI on PATH: getting the engine with scripts/get-engine.sh (built with Go the first time, then cached)",
        );
        expect(result.stderr).toContain('up-dev: the Pulumi CLI it used is not on your PATH: export PATH="$(bash scripts/get-engine.sh):$PATH"');
    });

    test("a Pulumi CLI on PATH is used as it is", () => {
        const result = runUpDev({ backend: "file://~", stackExists: true, swarm: "active true", installed: true });
        expect(result.calls).not.toContain("get-engine.sh");
    });

    const ready: Scenario = { backend: "file://~", stackExists: true, swarm: "active true", installed: true };
    const auto = { PLUMBERHUB_LOCAL_IMAGES: undefined as unknown as string };

    test("default images already on the engine are used: nothing pulled or built", () => {
        const result = runUpDev({ ...ready, imagesPresent: true, env: auto });
        expect(result.calls.filter((call) => /docker pull|build-local-images/.test(call))).toEqual([]);
        expect(result.status).toBe(0);
    });

    test("missing default images are pulled", () => {
        const result = runUpDev({ ...ready, env: auto });
        expect(result.calls.filter((call) => call.startsWith("docker pull"))).toEqual([
            "docker pull -q r/base:1",
            "docker pull -q nginx:1",
            "docker pull -q registry:1",
        ]);
        expect(result.calls).not.toContain("build-local-images.sh ");
    });

    test("where nothing can be pulled, root on Debian builds the local images and uses them", () => {
        const result = runUpDev({ ...ready, pullFails: true, rootOnDebian: true, env: auto });
        expect(result.status).toBe(0);
        expect(result.calls).toContain("build-local-images.sh ");
        expect(result.stderr).toContain(
            "up-dev: cannot pull r/base:1 (Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io: no such host): using images built from Debian packages instead (PLUMBERHUB_LOCAL_IMAGES=1)",
        );
        expect(result.stderr).toContain("up-dev: it runs the local images: other pulumi commands on it need export PLUMBERHUB_LOCAL_IMAGES=1 too");
    });

    test("where nothing can be pulled and the local images cannot be built, says why and what to do, and deploys nothing", () => {
        const result = runUpDev({ ...ready, pullFails: true, env: auto });
        expect(result.status).toBe(1);
        expect(result.calls).not.toContain(UP);
        expect(result.stderr[result.stderr.length - 1]).toBe(
            "up-dev: cannot pull r/base:1: Error response from daemon: Get https://registry-1.docker.io/v2/: dial tcp: lookup registry-1.docker.io: no such host. Fix that, or build the images from Debian packages (as root: scripts/build-local-images.sh) and run this again with PLUMBERHUB_LOCAL_IMAGES=1",
        );
    });

    test("a PLUMBERHUB_LOCAL_IMAGES that means nothing is refused before anything is deployed", () => {
        const result = runUpDev({ ...ready, env: { PLUMBERHUB_LOCAL_IMAGES: "yes" } });
        expect(result.status).toBe(1);
        expect(result.calls).not.toContain(UP);
        expect(result.stderr).toEqual(["up-dev: cannot decide which images to use: see the line above (is `npm ci` done?)"]);
    });

    test("PLUMBERHUB_LOCAL_IMAGES=1 builds the local images before deploying, and says other commands need it", () => {
        const result = runUpDev({
            backend: "file://~",
            stackExists: true,
            swarm: "active true",
            installed: true,
            env: { PLUMBERHUB_LOCAL_IMAGES: "1" },
        });
        expect(result.calls.indexOf("build-local-images.sh ")).toBeGreaterThan(-1);
        expect(result.calls.indexOf("build-local-images.sh ")).toBeLessThan(result.calls.indexOf(UP));
        expect(result.stderr).toContain("up-dev: it runs the local images: other pulumi commands on it need export PLUMBERHUB_LOCAL_IMAGES=1 too");
    });
});

describe("what is missing is named with what to do", () => {
    test("no pulumi and no Go to build it: what to install, and nothing run", () => {
        const result = runUpDev({ missing: ["pulumi", "go"] });
        expect(result.status).toBe(1);
        expect(result.calls).toEqual([]);
        expect(result.stderr).toEqual([
            "up-dev: the Pulumi CLI (pulumi) is not installed: install it with `curl -fsSL https://get.pulumi.com | sh` (or see https://www.pulumi.com/docs/iac/download-install/), open a new shell, then run this again; or install Go ≥ 1.26 and run this again to build it here",
        ]);
    });

    test.each([
        [
            "docker",
            "up-dev: Docker (docker) is not installed: install Docker Engine (https://docs.docker.com/engine/install/) or Docker Desktop, start it, then run this again",
        ],
        ["npm", "up-dev: npm not found: install Node.js 22 or 24 LTS with npm (https://nodejs.org/en/download), then run this again"],
    ])("no %s: what to install, and nothing run", (tool, message) => {
        const result = runUpDev({ missing: [tool] });
        expect(result.status).toBe(1);
        expect(result.calls).toEqual([]);
        expect(result.stderr).toEqual([message]);
    });

    test.each<[string, Scenario, string]>([
        [
            "engine not running: how to start it",
            { engineDown: true },
            "up-dev: the Docker engine does not answer (`docker info` failed): start it (`sudo systemctl start docker`, or open Docker Desktop) and make sure your user may use it (`sudo usermod -aG docker $USER`, then log in again)",
        ],
        [
            "a swarm worker cannot deploy: run against a manager",
            { swarm: "active false" },
            "up-dev: this Docker engine is a swarm worker: deploy from a manager node (`docker node ls` works there), e.g. DOCKER_HOST=ssh://user@manager npm run up:dev",
        ],
        [
            "a locked swarm: how to unlock it",
            { swarm: "locked false" },
            "up-dev: the swarm is locked: unlock it with `docker swarm unlock`, then run this again",
        ],
    ])("%s, after one docker info and before anything is changed", (_, scenario, message) => {
        const result = runUpDev(scenario);
        expect(result.status).toBe(1);
        expect(result.calls).toEqual([INFO]);
        expect(result.stderr).toEqual([message]);
    });
});

test("a failing pulumi up fails the command with pulumi's exit status", () => {
    const result = runUpDev({ backend: "file://~", stackExists: true, swarm: "active true", installed: true, upExit: 3 });
    expect(result.status).toBe(3);
    expect(result.calls[result.calls.length - 1]).toBe(UP);
    expect(result.stderr[result.stderr.length - 1]).toBe(
        "up-dev: pulumi up failed (exit 3): see the errors above; fix them and run `npm run up:dev` again",
    );
});
