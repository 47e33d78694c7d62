/**
 * The htpasswd renderer's lines against the real consumers: Debian nginx 1.22 (auth_basic, both
 * schemes), Apache `htpasswd -v` (bcrypt; it has no {SSHA}), and openssl's SHA-1 for the {SSHA} line.
 */
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { renderHtpasswd } from "../../components/render/htpasswd";
import { request, startNginx, tempDir } from "../helpers/gateway";
import { writeMinimalNginxConf } from "../helpers/nginxConf";
import { freePort, requireTools, run, Service } from "../helpers/processes";

jest.setTimeout(60_000);

const SEED = randomBytes(32).toString("base64url");
// A generated-style password (32 letters/digits) and a person's passphrase.
const GENERATED = randomBytes(24)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .slice(0, 32)
    .padEnd(32, "Z");
const SUPPLIED = "a person's own passphrase";
const entries = [
    { user: "machine", password: GENERATED, scheme: "ssha" as const },
    { user: "person", password: SUPPLIED, scheme: "bcrypt" as const, cost: 10 },
    { user: "registry", password: GENERATED, scheme: "bcrypt" as const, cost: 5 },
];

let dir: string;
let htpasswdFile: string;
let nginx: Service;
let url: string;

beforeAll(async () => {
    await requireTools({ nginx: "nginx-light", htpasswd: "apache2-utils", openssl: "openssl" });
    dir = tempDir("plumberhub-htpasswd-");
    htpasswdFile = path.join(dir, "htpasswd");
    fs.writeFileSync(htpasswdFile, renderHtpasswd(entries, SEED), { mode: 0o644 });
    fs.writeFileSync(path.join(dir, "hello.txt"), "hello\n", { mode: 0o644 });
    const port = await freePort();
    const conf = writeMinimalNginxConf(
        dir,
        `    server {
        listen 127.0.0.1:${port};
        root ${dir};
        location / {
            auth_basic "plumberhub";
            auth_basic_user_file ${htpasswdFile};
        }
    }`,
    );
    nginx = await startNginx(dir, conf, port);
    url = `http://127.0.0.1:${port}/hello.txt`;
});

afterAll(async () => {
    await nginx?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("nginx auth_basic with rendered htpasswd lines", () => {
    test("no credentials: 401 with a Basic challenge", async () => {
        const reply = await request(url);
        expect(reply.status).toBe(401);
        expect(reply.headers["www-authenticate"]).toBe('Basic realm="plumberhub"');
    });

    test.each(entries.map((entry) => [entry.user, entry.scheme, entry.password] as const))(
        "%s (%s): wrong password gets 401",
        async (user, _scheme, password) => {
            expect((await request(url, { user, password: `${password}x` })).status).toBe(401);
        },
    );

    test.each(entries.map((entry) => [entry.user, entry.scheme, entry.password] as const))(
        "%s (%s): right password gets 200 and the file",
        async (user, _scheme, password) => {
            const reply = await request(url, { user, password });
            expect({ status: reply.status, body: reply.body }).toEqual({ status: 200, body: "hello\n" });
        },
    );

    test("nginx logged no crypt errors", () => {
        expect(fs.readFileSync(path.join(dir, "error.log"), "utf8")).not.toMatch(/crypt|emerg|alert/);
    });
});

describe("htpasswd -v (Apache apr_password_validate)", () => {
    test.each([
        ["person", SUPPLIED],
        ["registry", GENERATED],
    ])("accepts the right password for bcrypt user %s", async (user, password) => {
        const { stderr } = await run("htpasswd", ["-vb", htpasswdFile, user, password]);
        expect(stderr.trim()).toBe(`Password for user ${user} correct.`);
    });

    test("rejects a wrong password for a bcrypt line", async () => {
        await expect(run("htpasswd", ["-vb", htpasswdFile, "person", "wrong password"])).rejects.toThrow("password verification failed");
    });

    test("does not support {SSHA} (so that line is checked with openssl below)", async () => {
        await expect(run("htpasswd", ["-vb", htpasswdFile, "machine", GENERATED])).rejects.toThrow("password verification failed");
    });
});

describe("{SSHA} line against openssl's SHA-1", () => {
    test("the digest in the line is SHA-1 of password followed by the salt in the line", async () => {
        const line = fs
            .readFileSync(htpasswdFile, "utf8")
            .split("\n")
            .find((l) => l.startsWith("machine:"))!;
        const decoded = Buffer.from(line.slice("machine:{SSHA}".length), "base64");
        const [digest, salt] = [decoded.subarray(0, 20), decoded.subarray(20)];
        expect(salt).toHaveLength(16);
        const input = path.join(dir, "ssha-input");
        fs.writeFileSync(input, Buffer.concat([Buffer.from(GENERATED, "utf8"), salt]));
        const { stdout } = await run("openssl", ["dgst", "-sha1", "-r", input]);
        expect(stdout.split(" ")[0]).toBe(digest.toString("hex"));
    });
});
