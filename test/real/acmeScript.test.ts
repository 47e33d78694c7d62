/**
 * `plumberhub-acme` (components/render/gateway/acmeRenewal.ts) run for real, in seconds and without Docker: the
 * rendered script runs under dash as a host process in a sandbox, with stubs of `nginx` and `lego` first on PATH and
 * the real openssl, flock, GNU date and stat. The stubs record what the script asks of them (nginx: its start, each
 * reload and stop signal; lego: each run with its server and names) and do what a marker file in the sandbox says
 * (refuse `nginx -t`, fail as an ACME server does, issue a key that does not match, issue a certificate already due).
 * The same script against real nginx, lego and pebble in Docker is test/real/acme.real.test.ts.
 * Needs: dash, openssl, flock (util-linux), GNU coreutils (date, stat, env --default-signal).
 */
import { ChildProcess, spawn } from "child_process";
import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { ACME_PATHS, AcmeRenewal, GATEWAY_DEFAULTS, renderAcmeRenewalScript } from "../../components/render/gateway";
import { tempDir } from "../helpers/gateway";
import { requireTools, run, waitUntil } from "../helpers/processes";

jest.setTimeout(30_000);

const SETTINGS: AcmeRenewal = {
    dnsNames: ["models.example.com", "www.example.com"],
    email: "ops@example.com",
    directoryUrl: "https://acme.example.com/directory",
    // One check a second: each test takes seconds.
    checkSeconds: 1,
};
/** Long enough for the script to have taken two more turns of its loop (checkSeconds 1). */
const TWO_CHECKS_MS = 2500;

/**
 * nginx: `-t -q` passes unless the replica's `nginx-t-refuses` exists; `-g …` "serves": writes its pid file, keeps a
 * copy of the certificate it starts on, logs `start`, `reload` (HUP), `quit` (QUIT: after `quit-seconds`, exits with
 * `quit-status`) and `term` (TERM) to the replica's nginx.log, and gives up after 90 s.
 */
const STUB_NGINX = `#!/bin/sh
set -u
R=$ACME_STUB_REPLICA
case "\${1:-}" in
-t)
    [ -e "$R/nginx-t-refuses" ] || exit 0
    echo 'nginx: [emerg] cannot load certificate key (stub)' >&2
    exit 1
    ;;
-g) ;;
*) echo "nginx stub: unexpected arguments: $*" >&2; exit 64 ;;
esac
# A shell starts a background command with QUIT and INT ignored, and a shell cannot trap a signal it was started with
# ignored (real nginx installs its own handlers): start again with both at their defaults.
if [ -z "\${ACME_STUB_SIGNALS:-}" ]; then exec env --default-signal=QUIT,INT ACME_STUB_SIGNALS=default "$0" "$@"; fi
trap 'echo reload >>"$R/nginx.log"' HUP
trap 'echo quit >>"$R/nginx.log"; sleep "$(cat "$R/quit-seconds" 2>/dev/null || echo 0)"; exit "$(cat "$R/quit-status" 2>/dev/null || echo 0)"' QUIT
trap 'echo term >>"$R/nginx.log"; exit 0' TERM
cp "$ACME_STUB_SANDBOX/state/live/tls.crt" "$R/started.crt"
echo start >>"$R/nginx.log"
echo $$ >"$R/nginx.pid"
i=0
while [ $i -lt 90 ]; do sleep 1; i=$((i + 1)); done
echo 'gave up waiting' >>"$R/nginx.log"
exit 1
`;

/**
 * lego: `lego … --server S --path P --domains D … run` logs "replica S D…" to the sandbox's lego-runs, then (after
 * `lego-seconds`) fails like an ACME server when `lego-fails` exists, or writes P/certificates/<first name>.crt and
 * .key: self-signed for the names, 90 days; with `lego-old` two-thirds of its 3 days already gone (due again at once);
 * with `lego-wrong-key` a key that is not the certificate's.
 */
const STUB_LEGO = `#!/bin/sh
set -u
S=$ACME_STUB_SANDBOX
lego_path='' server='' domains=''
while [ $# -gt 0 ]; do
    case "$1" in
    --path) lego_path=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --domains) domains="$domains\${domains:+ }$2"; shift 2 ;;
    --email | --http.webroot) shift 2 ;;
    --accept-tos | --http) shift ;;
    run) [ $# -eq 1 ] || { echo "lego stub: run comes last" >&2; exit 64; }; shift ;;
    *) echo "lego stub: unexpected argument $1" >&2; exit 64 ;;
    esac
done
[ -n "$lego_path" ] && [ -n "$server" ] && [ -n "$domains" ] || { echo "lego stub: needs --path, --server and --domains" >&2; exit 64; }
echo "$(basename "$ACME_STUB_REPLICA") $server $domains" >>"$S/lego-runs"
[ -e "$S/lego-seconds" ] && sleep "$(cat "$S/lego-seconds")"
first=\${domains%% *}
if [ -e "$S/lego-fails" ]; then
    echo "[INFO] [$first] acme: Obtaining bundled SAN certificate"
    echo "Could not obtain certificates:" >&2
    echo "[$first] acme: error: 400 :: urn:ietf:params:acme:error:connection :: 192.0.2.1: Fetching http://$first/.well-known/acme-challenge/stub: Connection refused" >&2
    exit 1
fi
san=$(printf 'DNS:%s,' $domains)
work="$lego_path/stub.$$"
mkdir -p "$work" "$lego_path/certificates"
if [ -e "$S/lego-old" ]; then
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$first" -addext "subjectAltName=\${san%,}" \\
        -keyout "$work/key" -out "$work/csr" 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
    : >"$work/index.txt"
    printf '[ca]\\ndefault_ca = stub\\n[stub]\\ndatabase = %s\\nnew_certs_dir = %s\\nserial = %s\\ndefault_md = sha256\\npolicy = names\\ncopy_extensions = copy\\n[names]\\ncommonName = supplied\\n' \\
        "$work/index.txt" "$work" "$work/serial" >"$work/ca.cnf"
    openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile "$work/key" -in "$work/csr" -create_serial -notext \\
        -startdate "$(date -u -d '-2 days' +%Y%m%d%H%M%SZ)" -enddate "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" -out "$work/crt" 2>"$work/log" \\
        || { cat "$work/log" >&2; exit 1; }
else
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj "/CN=$first" -addext "subjectAltName=\${san%,}" \\
        -keyout "$work/key" -out "$work/crt" 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
fi
if [ -e "$S/lego-wrong-key" ]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$work/key" 2>"$work/log" || { cat "$work/log" >&2; exit 1; }
fi
mv "$work/crt" "$lego_path/certificates/$first.crt" && mv "$work/key" "$lego_path/certificates/$first.key" && rm -rf "$work"
echo "[INFO] [$first] Server responded with a certificate."
`;

/** One gateway container: its own script, run dir and nginx pid file; the state dir (the volume) is the sandbox's. */
interface Replica {
    name: string;
    dir: string;
    script: string;
}

/** A replica's `plumberhub-acme serve`, running. */
interface Serving extends Replica {
    child: ChildProcess;
    output: () => string;
    exited: Promise<number | null>;
}

let root: string;
let state: string;
let children: ChildProcess[] = [];
let serving: Serving[] = [];

beforeAll(async () => {
    await requireTools({ dash: "dash", openssl: "openssl", flock: "util-linux", date: "coreutils", stat: "coreutils", env: "coreutils" });
    // The script needs GNU date (`-d`), the nginx stub GNU env (`--default-signal`): fail loudly on others.
    await run("date", ["-u", "-d", "@0", "+%s"]);
    await run("env", ["--default-signal=QUIT", "true"]);
});

beforeEach(() => {
    root = tempDir("acme-script-");
    state = path.join(root, "state");
    fs.mkdirSync(path.join(root, "bin"));
    fs.writeFileSync(path.join(root, "bin", "nginx"), STUB_NGINX, { mode: 0o755 });
    fs.writeFileSync(path.join(root, "bin", "lego"), STUB_LEGO, { mode: 0o755 });
});

afterEach(() => {
    // Each script ran in a process group of its own: nginx stub, loop, lego, openssl and sleeps go with it.
    for (const child of children) {
        try {
            process.kill(-(child.pid as number), "SIGKILL");
        } catch {
            // The group is gone already.
        }
    }
    children = [];
    serving = [];
    fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
});

/** A replica's directory and its rendered script. */
function replica(name: string, settings: Partial<AcmeRenewal> = {}): Replica {
    const dir = path.join(root, name);
    fs.mkdirSync(dir);
    // The only change to the rendered script: its three absolute locations move into the sandbox.
    let script = renderAcmeRenewalScript({ ...SETTINGS, ...settings });
    for (const [from, to] of [
        [ACME_PATHS.stateDir, state],
        [ACME_PATHS.runDir, path.join(dir, "run")],
        [GATEWAY_DEFAULTS.pidFile, path.join(dir, "nginx.pid")],
    ]) {
        if (!script.includes(`'${from}'`)) throw new Error(`the rendered script no longer sets ${from}: update the sandbox`);
        script = script.split(from).join(to);
    }
    const file = path.join(dir, "plumberhub-acme");
    fs.writeFileSync(file, script, { mode: 0o755 });
    return { name, dir, script: file };
}

function start(r: Replica, command: string, timeoutMs = 25_000): ChildProcess {
    const child = spawn("dash", [r.script, command], {
        detached: true,
        env: { ...process.env, PATH: `${path.join(root, "bin")}:${process.env.PATH}`, ACME_STUB_SANDBOX: root, ACME_STUB_REPLICA: r.dir },
        stdio: ["ignore", "pipe", "pipe"],
        timeout: timeoutMs,
        killSignal: "SIGKILL",
    });
    if (child.pid === undefined) throw new Error(`dash ${r.script} ${command} did not start`);
    children.push(child);
    return child;
}

/** `plumberhub-acme serve` of a replica, in the background. */
function serve(r: Replica): Serving {
    const child = start(r, "serve");
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const s = { ...r, child, output: () => output, exited };
    serving.push(s);
    return s;
}

/** `plumberhub-acme renew` in a replica: exit code (null: killed after `timeoutMs`) and output. */
function renew(r: Replica, timeoutMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = start(r, "renew", timeoutMs);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (chunk) => (stdout += chunk));
    child.stderr?.on("data", (chunk) => (stderr += chunk));
    // "close", not "exit": the output may still be in the pipes when the process has exited.
    return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

/** Waits for `check` (bounded); the failure carries every running script's log. */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
    try {
        await waitUntil(what, check, timeoutMs, 100);
    } catch (error) {
        const logs = serving.map((s) => `--- ${s.name}:\n${s.output()}`).join("\n");
        throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
    }
}

async function exitOf(s: Serving, timeoutMs = 10_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${s.name}'s serve did not exit within ${timeoutMs} ms:\n${s.output()}`)), timeoutMs);
    });
    try {
        return await Promise.race([s.exited, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lines(file: string): string[] {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

/** Each lego run: "replica server name…". */
const legoRuns = () => lines(path.join(root, "lego-runs"));
/** What a replica's nginx got: start, reload, quit, term. */
const nginxEvents = (r: Replica) => lines(path.join(r.dir, "nginx.log"));
const reloads = (r: Replica) => nginxEvents(r).filter((line) => line === "reload").length;
/** The certificate folder in use, as the live link names it ("certs/<time>-acme"). */
const live = () => fs.readlinkSync(path.join(state, "live"));
/** The folders the script reported nginx reloaded with. */
const reloadedWith = (s: Serving) => [...s.output().matchAll(/nginx reloaded with (\S+)/g)].map((m) => m[1]);
const retry = () => fs.readFileSync(path.join(state, "retry"), "utf8");
const status = () => JSON.parse(fs.readFileSync(path.join(state, "status", "certificate.json"), "utf8"));
const nowSeconds = () => Math.floor(Date.now() / 1000);
/** A marker file the stubs obey (in the sandbox, or in a replica's directory for nginx). */
const mark = (file: string, content = "") => fs.writeFileSync(file, content);

/** Until the clock's whole second is past the live certificate's publication (the script compares whole seconds). */
async function aSecondPastThePublication(): Promise<void> {
    const published = Math.floor(fs.statSync(path.join(state, "live", "names")).mtimeMs / 1000);
    await until("a second past the publication", () => nowSeconds() > published, 3000);
}

test("serve starts nginx on a temporary self-signed certificate, then issues, reloads nginx once and reports the status", async () => {
    const a = serve(replica("a"));
    await until("the issued certificate to be served", () => /-acme$/.test(live()) && reloads(a) === 1 && status().temporary === false);
    await pause(TWO_CHECKS_MS);

    const temporary = new X509Certificate(fs.readFileSync(path.join(a.dir, "started.crt")));
    expect(temporary.subjectAltName).toBe("DNS:models.example.com, DNS:www.example.com");
    expect(temporary.verify(temporary.publicKey)).toBe(true);
    expect(Date.parse(temporary.validTo) - Date.parse(temporary.validFrom)).toBe(7 * 86_400_000);
    expect(a.output()).toContain("no usable certificate: serving a temporary self-signed one until the ACME server issues one");

    expect(legoRuns()).toEqual(["a https://acme.example.com/directory models.example.com www.example.com"]);
    expect(nginxEvents(a)).toEqual(["start", "reload"]);
    expect(live()).toMatch(/^certs\/\d{8}T\d{6}\d+-acme$/);
    expect(reloadedWith(a)).toEqual([live()]);
    const issued = fs.readFileSync(path.join(state, "lego", "certificates", "models.example.com.crt"), "utf8");
    expect(fs.readFileSync(path.join(state, "live", "tls.crt"), "utf8")).toBe(issued);

    const certificate = new X509Certificate(issued);
    const end = Date.parse(certificate.validTo);
    const begin = Date.parse(certificate.validFrom);
    const second = (ms: number) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z");
    const reported = status();
    expect(reported).toEqual({
        notAfter: second(end),
        daysLeft: 89,
        renewAfter: second(begin + ((end - begin) * 2) / 3),
        temporary: false,
        checkedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(Math.abs(Date.parse(reported.checkedAt) - Date.now())).toBeLessThan(3000);
});

test("a failing lego keeps the temporary certificate, says why and retries after 30 s, then 60 s", async () => {
    mark(path.join(root, "lego-fails"));
    const a = serve(replica("a"));
    await until("lego's error in the log", () => a.output().includes("urn:ietf:params:acme:error:connection"));
    const [at, wait] = retry().trim().split(" ").map(Number);
    expect(wait).toBe(30);
    expect(at - nowSeconds()).toBeGreaterThanOrEqual(25);
    expect(at - nowSeconds()).toBeLessThanOrEqual(30);

    const log = a.output().split("\n");
    const failed = log.indexOf(
        "plumberhub-acme: renewal failed (lego said what follows): keeping the temporary self-signed certificate; next attempt in 30 s (or now: plumberhub-acme renew)",
    );
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(log.slice(failed + 1, failed + 4)).toEqual([
        "plumberhub-acme:   lego: [INFO] [models.example.com] acme: Obtaining bundled SAN certificate",
        "plumberhub-acme:   lego: Could not obtain certificates:",
        expect.stringMatching(/^plumberhub-acme: {3}lego: \[models\.example\.com\] acme: error: 400 :: urn:ietf:params:acme:error:connection :: /),
    ]);

    // The retry holds: no attempt at the next checks.
    await pause(TWO_CHECKS_MS);
    expect(legoRuns()).toHaveLength(1);
    expect(live()).toMatch(/-temporary$/);
    expect(nginxEvents(a)).toEqual(["start"]);
    expect(status().temporary).toBe(true);

    const forced = await renew(a);
    expect(forced).toEqual({ code: 1, stdout: "plumberhub-acme: failed (the container's log says more)\n", stderr: "" });
    expect(legoRuns()).toHaveLength(2);
    const [atAgain, waitAgain] = retry().trim().split(" ").map(Number);
    expect(waitAgain).toBe(60);
    expect(atAgain - nowSeconds()).toBeGreaterThanOrEqual(55);
    expect(atAgain - nowSeconds()).toBeLessThanOrEqual(60);
    expect(a.output()).toContain("renewal failed (lego said what follows): keeping the temporary self-signed certificate; next attempt in 60 s");
    expect(live()).toMatch(/-temporary$/);
});

test.each([
    ["an empty", ""],
    ["a blank", "\n"],
    ["a garbage", "tomorrow, perhaps\n"],
])("%s retry file does not stop renewals", async (_, content) => {
    mark(path.join(root, "lego-fails"));
    const a = serve(replica("a"));
    await until("the first failure's retry", () => fs.existsSync(path.join(state, "retry")) && retry().endsWith(" 30\n"));
    // Without the retry's wait (30 s), the next check (1 s) orders again.
    fs.writeFileSync(path.join(state, "retry.test"), content);
    fs.renameSync(path.join(state, "retry.test"), path.join(state, "retry"));
    fs.rmSync(path.join(root, "lego-fails"));
    await until("the certificate issued", () => /-acme$/.test(live()) && reloads(a) === 1, 8000);
    expect(legoRuns()).toHaveLength(2);
    expect(fs.existsSync(path.join(state, "retry"))).toBe(false);
});

test("a certificate whose key does not match is not published", async () => {
    const a = serve(replica("a"));
    await until("the first certificate served", () => /-acme$/.test(live()) && reloads(a) === 1);
    const served = live();
    const folders = fs.readdirSync(path.join(state, "certs")).sort();

    mark(path.join(root, "lego-wrong-key"));
    expect(await renew(a)).toEqual({ code: 1, stdout: "plumberhub-acme: failed (the container's log says more)\n", stderr: "" });
    await pause(TWO_CHECKS_MS);
    expect(legoRuns()).toHaveLength(2);
    expect(live()).toBe(served);
    expect(fs.readdirSync(path.join(state, "certs")).sort()).toEqual(folders);
    expect(nginxEvents(a)).toEqual(["start", "reload"]);
    expect(a.output()).toContain(
        `plumberhub-acme: renewal failed (lego's certificate and key in ${state}/lego/certificates could not be copied, or do not match): keeping the current certificate; next attempt in 30 s`,
    );
});

test("nginx -t refusing means no reload, and the reload comes at the next check once it passes", async () => {
    const a = replica("a");
    mark(path.join(a.dir, "nginx-t-refuses"));
    const s = serve(a);
    await until("the certificate issued", () => /-acme$/.test(live()));
    await pause(TWO_CHECKS_MS);
    expect(nginxEvents(a)).toEqual(["start"]);
    expect(reloadedWith(s)).toEqual([]);

    fs.rmSync(path.join(a.dir, "nginx-t-refuses"));
    await until("the reload", () => reloads(a) === 1, 5000);
    await pause(TWO_CHECKS_MS);
    expect(nginxEvents(a)).toEqual(["start", "reload"]);
    expect(reloadedWith(s)).toEqual([live()]);
    expect(legoRuns()).toHaveLength(1);
});

test("QUIT stops the renewal loop first, then nginx gracefully, and serve exits with nginx's status", async () => {
    // A certificate due again at every check, and an nginx that takes 3 s (three checks) to stop.
    mark(path.join(root, "lego-old"));
    const a = replica("a");
    mark(path.join(a.dir, "quit-seconds"), "3");
    mark(path.join(a.dir, "quit-status"), "3");
    const s = serve(a);
    await until("renewals at every check", () => legoRuns().length >= 2 && reloads(a) >= 1);

    process.kill(s.child.pid as number, "SIGQUIT");
    // A run the loop had started before the signal reached it may finish; none may start after.
    await pause(500);
    const runsAtStop = legoRuns().length;
    expect(await exitOf(s)).toBe(3);
    expect(nginxEvents(a).at(-1)).toBe("quit");
    expect(legoRuns()).toHaveLength(runsAtStop);
});

test("a changed directory URL makes the certificate due, and a new replica re-issues it", async () => {
    const a = serve(replica("a"));
    await until("the first certificate served", () => /-acme$/.test(live()) && reloads(a) === 1);
    const first = live();
    process.kill(a.child.pid as number, "SIGTERM");
    expect(await exitOf(a)).toBe(0);
    await aSecondPastThePublication();

    const b = serve(replica("b", { directoryUrl: "https://acme-v2.example.com/directory" }));
    await until("the certificate re-issued", () => live() !== first && reloads(b) === 1);
    expect(legoRuns()).toEqual([
        "a https://acme.example.com/directory models.example.com www.example.com",
        "b https://acme-v2.example.com/directory models.example.com www.example.com",
    ]);
    expect(fs.readFileSync(path.join(state, "live", "directory"), "utf8")).toBe("https://acme-v2.example.com/directory\n");
    // b started on a's certificate, not on a temporary one.
    expect(fs.readFileSync(path.join(b.dir, "started.crt"), "utf8")).toBe(
        fs.readFileSync(path.join(state, "certs", path.basename(first), "tls.crt"), "utf8"),
    );
});

test("a replica started before a newer certificate was published does not order for its old settings", async () => {
    const a = serve(replica("a"));
    await until("the first certificate served", () => /-acme$/.test(live()) && reloads(a) === 1);
    await aSecondPastThePublication();

    const b = serve(replica("b", { dnsNames: ["models.example.com", "api.example.com"] }));
    await until("b's certificate published", () => legoRuns().length === 2 && reloads(b) === 1);
    const published = live();
    expect(fs.readFileSync(path.join(state, "live", "names"), "utf8")).toBe("models.example.com api.example.com\n");
    await until("a serving b's certificate", () => reloadedWith(a).includes(published), 5000);
    await pause(TWO_CHECKS_MS + 500);
    expect(legoRuns()).toEqual([
        "a https://acme.example.com/directory models.example.com www.example.com",
        "b https://acme.example.com/directory models.example.com api.example.com",
    ]);
    expect(live()).toBe(published);
    expect(reloadedWith(a).at(-1)).toBe(published);
});

test("renew after serve restarted in the same container still reports the outcome", async () => {
    // A container restart keeps its run dir: on Kubernetes /tmp is the pod's emptyDir, which outlives the container.
    mark(path.join(root, "lego-fails"));
    const a = replica("a");
    const before = serve(a);
    await until("the first failure", () => before.output().includes("urn:ietf:params:acme:error:connection"));
    expect((await renew(a)).code).toBe(1);
    process.kill(before.child.pid as number, "SIGTERM");
    expect(await exitOf(before)).toBe(0);

    serve(a);
    await until("nginx started again", () => nginxEvents(a).filter((event) => event === "start").length === 2);
    // A forced renewal takes well under a second here; 10 s bounds the wait (the script's own bound is 600 s).
    expect(await renew(a, 10_000)).toEqual({ code: 1, stdout: "plumberhub-acme: failed (the container's log says more)\n", stderr: "" });
    expect(legoRuns()).toHaveLength(3);
});

test.each([
    ["no serve ever ran", false],
    ["the serve that ran has exited", true],
])("renew exits 2 when %s", async (_, stale) => {
    const a = replica("a");
    if (stale) {
        const gone = spawn("true");
        await new Promise((resolve) => gone.once("exit", resolve));
        fs.mkdirSync(path.join(a.dir, "run"));
        fs.writeFileSync(path.join(a.dir, "run", "serve.pid"), `${gone.pid}\n`);
    }
    expect(await renew(a)).toEqual({
        code: 2,
        stdout: "",
        stderr: "plumberhub-acme: no running gateway to ask (run this inside the gateway container)\n",
    });
});

test("two replicas starting together on one volume issue once and both reload to the same folder", async () => {
    // lego takes 2 s: the second replica's check comes while the first holds the lock.
    mark(path.join(root, "lego-seconds"), "2");
    const a = serve(replica("a"));
    const b = serve(replica("b"));
    await until("both serving the issued certificate", () => /-acme$/.test(live()) && reloads(a) === 1 && reloads(b) === 1);
    await pause(TWO_CHECKS_MS);
    expect(legoRuns()).toHaveLength(1);
    expect(reloadedWith(a)).toEqual([live()]);
    expect(reloadedWith(b)).toEqual([live()]);
    const temporaries = fs.readdirSync(path.join(state, "certs")).filter((folder) => folder.endsWith("-temporary"));
    expect(temporaries).toHaveLength(1);
    expect(fs.readFileSync(path.join(a.dir, "started.crt"), "utf8")).toBe(fs.readFileSync(path.join(b.dir, "started.crt"), "utf8"));
});
