/**
 * Test fixtures for the gateway: a temp folder with the rendered nginx.conf + landing page, a
 * throwaway CA and server certificate (openssl CLI), an htpasswd file, and a real Debian nginx run
 * as our own process (`-p dir -c dir/nginx.conf -g "daemon off;"`) on loopback ports.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { GatewayConfig, landingFiles, renderGatewayFiles } from "../../components/render/gateway";
import { renderHtpasswd } from "../../components/render/htpasswd";
import { renderModelContainerFiles } from "../../components/render/modelContainer";
import { makeCertificate, makeEcKey, makeTestCa } from "./pki";
import { freePort, run, Service, startService, waitUntil } from "./processes";

/** A fresh temp folder readable by nginx's `nobody` workers (mkdtemp makes it 0700). */
export function tempDir(prefix: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    fs.chmodSync(dir, 0o755);
    return dir;
}

export interface TestTls {
    caPath: string;
    certificatePath: string;
    keyPath: string;
    ca: string;
}

/** A throwaway CA and a server certificate for `localhost` and 127.0.0.1 (openssl CLI, via ./pki). */
export async function makeTls(dir: string): Promise<TestTls> {
    const now = new Date(Date.now() - 60_000);
    const until = new Date(now.getTime() + 2 * 86_400_000);
    const issuer = await makeTestCa(dir, "gateway-ca", "plumberhub test CA", now, until);
    const caPath = issuer.certPath;
    const keyPath = await makeEcKey(dir, "gateway-server");
    const certificatePath = await makeCertificate(dir, {
        name: "gateway-server",
        keyPath,
        commonName: "localhost",
        isCa: false,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
        dnsNames: ["localhost"],
        ipAddresses: ["127.0.0.1"],
        notBefore: now,
        notAfter: until,
        issuer,
    });
    return { caPath, certificatePath, keyPath, ca: fs.readFileSync(caPath, "utf8") };
}

/** Writes an htpasswd file (salted SHA-1, the gateway's fast scheme) readable by nginx workers. */
export function writeHtpasswd(file: string, users: Record<string, string>): void {
    const entries = Object.entries(users).map(([user, password]) => ({ user, password, scheme: "ssha" as const }));
    fs.writeFileSync(file, renderHtpasswd(entries, "test-salt-seed-0123456789abcdef"), { mode: 0o644 });
}

/** Renders the gateway into `dir` (`nginx.conf`, the landing folder's files) and returns the config path. */
export function writeGateway(dir: string, config: GatewayConfig): string {
    const files = renderGatewayFiles(config);
    fs.mkdirSync(config.paths.landingDir, { recursive: true, mode: 0o755 });
    for (const [name, contents] of Object.entries(landingFiles(files))) {
        fs.writeFileSync(path.join(config.paths.landingDir, name), contents, { mode: 0o644 });
    }
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(conf, files["nginx.conf"]);
    return conf;
}

/** Paths inside a test folder for `GatewayConfig.paths`. */
export function gatewayPaths(dir: string): GatewayConfig["paths"] {
    return {
        htpasswd: path.join(dir, "htpasswd"),
        landingDir: path.join(dir, "www"),
        pidFile: path.join(dir, "nginx.pid"),
        tempDir: path.join(dir, "tmp"),
        accessLog: path.join(dir, "access.log"),
        errorLog: path.join(dir, "error.log"),
    };
}

/** `nginx -t` on a rendered config; rejects with nginx's message when the config is invalid. */
export async function nginxTest(dir: string, conf: string): Promise<string> {
    fs.mkdirSync(path.join(dir, "tmp"), { recursive: true });
    const { stderr } = await run("nginx", ["-t", "-p", dir, "-c", conf]);
    return stderr;
}

/** Real nginx in the foreground on the rendered config; resolves once `port` accepts connections. */
export async function startNginx(dir: string, conf: string, port: number): Promise<Service> {
    fs.mkdirSync(path.join(dir, "tmp"), { recursive: true });
    const nginx = startService("nginx", ["-p", dir, "-c", conf, "-g", "daemon off;"]);
    await waitUntil(
        `nginx on 127.0.0.1:${port}`,
        async () => {
            if (nginx.process.exitCode !== null) throw new Error(`nginx exited: ${nginx.output()}`);
            return isListening(port);
        },
        15_000,
        100,
    );
    return nginx;
}

function isListening(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

/** Two distinct free loopback ports. */
export async function twoPorts(): Promise<[number, number]> {
    const a = await freePort();
    let b = await freePort();
    while (b === a) b = await freePort();
    return [a, b];
}

/** One request an upstream saw. */
export interface SeenRequest {
    method: string;
    url: string;
    headers: http.IncomingHttpHeaders;
    /** Which TCP connection it came on (1, 2, …): fewer connections than requests = keep-alive. */
    connection: number;
}

export interface RecordingUpstream {
    host: string;
    port: number;
    seen: SeenRequest[];
    /** TCP connections accepted so far. */
    connections: () => number;
    close: () => Promise<void>;
}

/**
 * An HTTP server on loopback that records every request. With `forwardTo` (a port on 127.0.0.1,
 * e.g. a plumber process) it relays the request and the response unchanged; otherwise it answers
 * 200 JSON `{ method, url, headers }` with `X-Request-ID: set-by-upstream`, and for a path starting
 * `/slow` only after `slowMs`.
 * An `Upgrade` request (WebSocket handshake) gets 101 and its bytes echoed back.
 */
export async function startRecordingUpstream(
    options: { host?: string; port?: number; forwardTo?: number; slowMs?: number } = {},
): Promise<RecordingUpstream> {
    const host = options.host ?? "127.0.0.1";
    const seen: SeenRequest[] = [];
    const ids = new WeakMap<object, number>();
    let connections = 0;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const server = http.createServer((req, res) => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, connection: ids.get(req.socket)! });
        if (options.forwardTo !== undefined) {
            const upstream = http.request(
                { host: "127.0.0.1", port: options.forwardTo, method: req.method, path: req.url, headers: req.headers, agent },
                (answer) => {
                    res.writeHead(answer.statusCode!, answer.headers);
                    answer.pipe(res);
                },
            );
            upstream.on("error", (error) => res.writeHead(599).end(String(error)));
            req.pipe(upstream);
            return;
        }
        const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
        // Its own X-Request-ID, which a gateway must not pass on next to its own.
        const answer = () => res.writeHead(200, { "content-type": "application/json", "x-request-id": "set-by-upstream" }).end(body);
        req.resume();
        if (req.url!.startsWith("/slow")) setTimeout(answer, options.slowMs ?? 5000).unref();
        else req.on("end", answer);
    });
    const sockets = new Set<net.Socket>(); // upgraded sockets are not closed by closeAllConnections
    server.on("connection", (socket) => {
        ids.set(socket, ++connections);
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
    });
    server.on("upgrade", (req, socket) => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, connection: ids.get(req.socket) ?? ++connections });
        socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
        socket.on("data", (chunk) => socket.write(chunk));
    });
    server.keepAliveTimeout = 120_000;
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, host, () => resolve());
    });
    return {
        host,
        port: (server.address() as net.AddressInfo).port,
        seen,
        connections: () => connections,
        close: async () => {
            agent.destroy();
            for (const socket of sockets) socket.destroy();
            await new Promise((resolve) => server.close(resolve));
        },
    };
}

/** A real R plumber process serving one of the example models through the model container's entrypoint. */
export interface PlumberModel {
    name: string;
    host: string;
    port: number;
    service: Service;
}

const REPO = path.resolve(__dirname, "../..");

/**
 * Starts `examples/models/<name>` with the rendered `entrypoint.R` (`Rscript entrypoint.R` with
 * MODEL_DIR, HOST, PORT, PUBLIC_PATH_PREFIX=/<name>). bos-rf is first trained (`Rscript build.R`)
 * in a copy of its folder under `workDir`. Resolves when `GET /healthz` answers.
 */
export async function startExampleModel(name: "hello" | "bos-rf", workDir: string, host = "127.0.0.1", port?: number): Promise<PlumberModel> {
    const entrypoint = path.join(workDir, "entrypoint.R");
    if (!fs.existsSync(entrypoint)) fs.writeFileSync(entrypoint, renderModelContainerFiles({ packages: [], port: 8000 })["entrypoint.R"]);
    let modelDir = path.join(REPO, "examples/models", name);
    if (fs.existsSync(path.join(modelDir, "build.R"))) {
        const copy = path.join(workDir, `model-${name}`);
        if (!fs.existsSync(copy)) {
            fs.cpSync(modelDir, copy, { recursive: true });
            await run("Rscript", ["build.R"], { cwd: copy, timeoutMs: 300_000 });
        }
        modelDir = copy;
    }
    const chosen = port ?? (await freePort());
    const service = startService("Rscript", [entrypoint], {
        env: { ...process.env, MODEL_DIR: modelDir, HOST: host, PORT: String(chosen), PUBLIC_PATH_PREFIX: `/${name}` },
    });
    try {
        await waitUntil(
            `plumber ${name} on ${host}:${chosen}`,
            async () => {
                if (service.process.exitCode !== null) throw new Error(`Rscript exited: ${service.output()}`);
                return (await fetch(`http://${host}:${chosen}/healthz`, { signal: AbortSignal.timeout(2000) })).ok;
            },
            120_000,
            250,
        );
    } catch (error) {
        await service.stop();
        throw new Error(`${(error as Error).message}\n${service.output()}`, { cause: error });
    }
    return { name, host, port: chosen, service };
}

/**
 * dnsmasq on 127.0.0.1:`port` answering `records` (name → IPv4) and NXDOMAIN for anything else in
 * `localDomain`; no upstream servers, no /etc/hosts. `--log-queries` to stderr: `queried()` lists
 * every name asked, to prove which names the gateway looked up.
 */
export async function startDnsmasq(
    port: number,
    records: Record<string, string>,
    localDomain: string,
): Promise<Service & { queried: () => string[] }> {
    const args = [
        "--keep-in-foreground",
        "--log-facility=-",
        "--log-queries",
        `--port=${port}`,
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        `--local=/${localDomain}/`,
        "--pid-file=",
        "--user=root",
        "--group=root",
        ...Object.entries(records).map(([name, ip]) => `--address=/${name}/${ip}`),
    ];
    const dnsmasq = startService("dnsmasq", args);
    await waitUntil(
        `dnsmasq on 127.0.0.1:${port}`,
        () => {
            if (dnsmasq.process.exitCode !== null) throw new Error(`dnsmasq exited: ${dnsmasq.output()}`);
            return /started, version/.test(dnsmasq.output());
        },
        10_000,
        100,
    );
    const queried = () => [...dnsmasq.output().matchAll(/query\[\w+\] (\S+) from/g)].map((m) => m[1]);
    return { ...dnsmasq, queried };
}

/**
 * Sends `head` (request line + headers, CRLF-separated, without the final blank line) byte for byte
 * over plain TCP or TLS — unlike fetch, nothing normalizes the path — and returns the status and the
 * whole response. `Connection: close` is added.
 */
export function rawRequest(port: number, head: string, ca?: string, timeoutMs = 10_000): Promise<{ status: number; response: string }> {
    return new Promise((resolve, reject) => {
        const socket: net.Socket = ca ? tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost" }) : net.connect(port, "127.0.0.1");
        let response = "";
        socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no response in ${timeoutMs} ms to ${JSON.stringify(head)}`)));
        socket.once(ca ? "secureConnect" : "connect", () => socket.write(`${head}\r\nConnection: close\r\n\r\n`));
        socket.on("data", (chunk: Buffer) => (response += chunk.toString()));
        socket.once("error", reject);
        socket.once("close", () => {
            const match = /^HTTP\/1\.[01] (\d{3})/.exec(response);
            if (match) resolve({ status: Number(match[1]), response });
            else reject(new Error(`not an HTTP response to ${JSON.stringify(head)}: ${JSON.stringify(response)}`));
        });
    });
}

/** An `Authorization: Basic …` header value. */
export function basicAuth(user: string, password: string): string {
    return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

export interface Reply {
    status: number;
    headers: http.IncomingHttpHeaders;
    body: string;
}

/** One HTTP(S) request (https trusts only `ca`); Basic credentials from `user`/`password`. */
export function request(
    url: string,
    options: {
        method?: string;
        headers?: Record<string, string>;
        body?: string | Buffer;
        ca?: string;
        user?: string;
        password?: string;
        /** TLS server name (SNI) checked against the certificate. Default `localhost`. */
        servername?: string;
    } = {},
): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.user !== undefined) headers.authorization = basicAuth(options.user, options.password ?? "");
    const client = url.startsWith("https:") ? https : http;
    return new Promise((resolve, reject) => {
        const req = client.request(
            url,
            {
                method: options.method ?? "GET",
                headers,
                ca: options.ca,
                servername: options.servername ?? "localhost",
                agent: false,
                timeout: 30_000,
            },
            (res) => {
                let body = "";
                res.setEncoding("utf8");
                res.on("data", (chunk) => (body += chunk));
                res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
            },
        );
        req.on("timeout", () => req.destroy(new Error(`timeout: ${url}`)));
        req.on("error", reject);
        req.end(options.body);
    });
}

/** Paths that must never reach an upstream, with the status the gateway answers. */
export const HOSTILE: [string, number][] = [
    ["/../etc/passwd", 400],
    ["/hello/../../etc/passwd", 400],
    ["/%2e%2e/hello/echo", 400],
    ["/hello/%2e%2e/%2E%2E/etc/passwd", 400],
    ["/hello%2fecho", 400],
    ["/hello/%2Fetc/passwd", 400],
    ["/hello/..%5c..%5cetc", 400],
    ["/hello/\\..\\secret", 400],
    ["/hello/%252e%252e/etc", 400],
    ["/hello/echo%0d%0aX-Injected:%20yes", 400],
    ["/hello/echo%00.json", 400],
    ["//evil.com/hello/echo", 400],
    ["/hello//echo", 400],
    ["/hello/./echo", 400],
    ["/evil.com/", 404],
    ["/hello.evil.com/echo", 404],
    ["/hello@evil.com/echo", 404],
    ["/HELLO/echo", 404],
    ["/Hello/echo", 404],
    [`/${"a".repeat(41)}/x`, 404],
    ["/_plumberhub_acl/bos-rf", 404],
    ["/kubernetes/api", 404],
    ["/-hello/echo", 404],
];

/** What would show in an upstream's request log if any hostile path had got through. */
export const HOSTILE_TRACES = /evil|passwd|secret|Injected|\.\.|%2e|%2f|%5c|%00|\/\/|_plumberhub|kubernetes|aaaa/i;

/** The certificate a TLS server on 127.0.0.1:`port` serves for `servername` (sha256 of its DER), verified against `ca`. */
export function servedCertificate(port: number, ca: string, servername = "localhost"): Promise<string> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port, servername, ca }, () => {
            const der = socket.getPeerCertificate().raw;
            socket.end();
            resolve(crypto.createHash("sha256").update(der).digest("hex"));
        });
        socket.once("error", reject);
    });
}

/** The certificate a TLS server on 127.0.0.1:`port` serves for `servername`: verified against `ca`, or unverified without one. */
export function servedX509(port: number, servername: string, ca?: string): Promise<crypto.X509Certificate> {
    return new Promise((resolve, reject) => {
        const socket = tls.connect({ host: "127.0.0.1", port, servername, ...(ca ? { ca } : { rejectUnauthorized: false }) }, () => {
            const certificate = socket.getPeerX509Certificate();
            socket.end();
            if (certificate) resolve(certificate);
            else reject(new Error(`no certificate served on 127.0.0.1:${port}`));
        });
        socket.once("error", reject);
    });
}

/** sha256 of a PEM certificate's DER, as `servedCertificate` reports it. */
export function fingerprint(pem: string): string {
    return crypto.createHash("sha256").update(new crypto.X509Certificate(pem).raw).digest("hex");
}
