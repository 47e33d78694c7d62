/**
 * `tls: acme` over HTTP-01, renewed inside the gateway: the renewal script's renderer, the nginx locations it needs,
 * the swarm gateway's plan and stack file, and the `plumberhub:gateway.acme` config. The script itself runs against
 * pebble in test/real/acme.real.test.ts.
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { checkStackConfig } from "../../components/config/stackConfig";
import { problemsOf } from "../helpers/configProblems";
import { ACME_PATHS, AcmeRenewal, renderAcmeRenewalScript, renderGatewayFiles, validateAcmeRenewal } from "../../components/render/gateway";
import { gatewayAcme, swarmGatewayOptions, swarmStackInput } from "../../components/render/hubConfigInputs";
import { planSwarmStack, renderSwarmStackFiles, STACK_FILE_NAME } from "../../components/render/swarm";
import { PROJECT_DIR, stackConfig } from "../helpers/stackProgram";

const RENEWAL: AcmeRenewal = { dnsNames: ["models.example.com"], email: "ops@example.com", directoryUrl: "https://acme.example.com/dir" };

describe("the renewal script", () => {
    test("is valid POSIX shell (dash, Debian's /bin/sh)", () => {
        const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-acme-")), "plumberhub-acme");
        fs.writeFileSync(file, renderAcmeRenewalScript({ ...RENEWAL, caBundle: true }));
        try {
            expect(() => execFileSync("dash", ["-n", file], { stdio: "pipe" })).not.toThrow();
        } finally {
            fs.rmSync(path.dirname(file), { recursive: true, force: true });
        }
    });

    test("asks lego for every name over HTTP-01 with the webroot nginx serves", () => {
        const script = renderAcmeRenewalScript({ ...RENEWAL, dnsNames: ["models.example.com", "api.example.com"] });
        expect(script).toContain("DOMAINS='models.example.com api.example.com'");
        expect(script).toContain("FIRST='models.example.com'");
        expect(script).toContain(`WEBROOT='${ACME_PATHS.webroot}'`);
        expect(script).toContain('--http --http.webroot "$WEBROOT"');
        expect(script).toContain("EMAIL='ops@example.com'");
        expect(script).toContain("DIRECTORY='https://acme.example.com/dir'");
    });

    test("trusts the CA bundle for the ACME server only when one is mounted", () => {
        expect(renderAcmeRenewalScript({ ...RENEWAL, caBundle: true })).toContain(`export LEGO_CA_CERTIFICATES='${ACME_PATHS.caBundle}'`);
        expect(renderAcmeRenewalScript(RENEWAL)).not.toContain("LEGO_CA_CERTIFICATES");
    });

    test("renews at two-thirds of the certificate's lifetime", () => {
        expect(renderAcmeRenewalScript(RENEWAL)).toContain('[ "$(date -u +%s)" -ge $((start + (end - start) * 2 / 3)) ]');
    });

    test("checks every 60 s and waits at most an hour between failed attempts by default", () => {
        const script = renderAcmeRenewalScript(RENEWAL);
        expect(script).toContain("CHECK_SECONDS=60\n");
        expect(script).toContain("RETRY_SECONDS=3600\n");
    });

    test.each<[string, Partial<AcmeRenewal>, string]>([
        [
            "a wildcard name",
            { dnsNames: ["*.example.com"] },
            "`acme.dnsNames[0]` must be a lower-case DNS name (an HTTP-01 challenge proves one name",
        ],
        [
            "an IP address",
            { dnsNames: ["192.0.2.1"] },
            "`acme.dnsNames[0]` must be a lower-case DNS name (an HTTP-01 challenge proves one name: no wildcard, no IP address)",
        ],
        ["no name", { dnsNames: [] }, "`acme.dnsNames` must list at least one DNS name, got []"],
        ["a quote in the e-mail", { email: "o'ps@example.com" }, "`acme.email` must be an e-mail address such as ops@example.com"],
        ["a command in the e-mail", { email: "$(reboot)@example.com" }, "`acme.email` must be an e-mail address"],
        ["a plain-http directory", { directoryUrl: "http://acme.example.com/dir" }, "`acme.directoryUrl` must be an https:// ACME directory URL"],
        ["a quote in the directory", { directoryUrl: "https://acme.example.com/d'ir" }, "`acme.directoryUrl` must be an https:// ACME directory URL"],
        ["a zero check interval", { checkSeconds: 0 }, "`acme.checkSeconds` must be a whole number of seconds from 1 to 86400, got 0"],
        ["a fractional retry", { retrySeconds: 1.5 }, "`acme.retrySeconds` must be a whole number of seconds from 1 to 604800, got 1.5"],
    ])("refuses %s, naming the field", (_, change, message) => {
        expect(() => validateAcmeRenewal({ ...RENEWAL, ...change })).toThrow(message);
        expect(() => renderAcmeRenewalScript({ ...RENEWAL, ...change })).toThrow(message);
    });
});

describe("nginx with an ACME certificate", () => {
    const config = (acme: boolean) =>
        renderGatewayFiles({
            models: [],
            routing: { mode: "static" },
            tls: {
                certificatePath: ACME_PATHS.certificate,
                keyPath: ACME_PATHS.key,
                ...(acme ? { acme: { webroot: ACME_PATHS.webroot, statusFile: ACME_PATHS.status } } : {}),
            },
            paths: { htpasswd: "/etc/plumberhub/htpasswd", landingDir: "/usr/share/nginx/html" },
        })["nginx.conf"];
    /** The plain-HTTP server: from its comment to the HTTPS server's certificate. */
    const httpServer = (conf: string) => conf.slice(conf.indexOf("# HTTP: only"), conf.indexOf("ssl_certificate "));

    test("the HTTP server serves the challenge from the webroot, without auth, and still redirects everything else", () => {
        const http = httpServer(config(true));
        expect(http).toContain(`location ^~ /.well-known/acme-challenge/ {\n            root ${ACME_PATHS.webroot};`);
        expect(http).not.toContain("auth_basic");
        expect(http).toContain("location / { return 301 https://");
    });

    test("/healthz/certificate serves the status file without auth and without caching", () => {
        const conf = config(true);
        const location = conf.slice(
            conf.indexOf("location = /healthz/certificate {"),
            conf.indexOf("}", conf.indexOf("location = /healthz/certificate {")),
        );
        expect(location).toContain("auth_basic off;");
        expect(location).toContain(`alias ${ACME_PATHS.status};`);
        expect(location).toContain('add_header Cache-Control "no-store" always;');
        expect(location).toContain("add_header Strict-Transport-Security");
    });

    test("without ACME neither location exists", () => {
        const conf = config(false);
        expect(conf).not.toContain("acme-challenge");
        expect(conf).not.toContain("/healthz/certificate");
    });
});

/** `Pulumi.dev.yaml` with `gateway` changed, validated with the local images (whose gateway image has lego). */
function devConfig(gateway: Record<string, unknown>, more: Record<string, string> = {}, localImages = true) {
    const entries = stackConfig("dev");
    const current = JSON.parse(entries["plumberhub:gateway"]) as Record<string, unknown>;
    return checkStackConfig({ ...entries, "plumberhub:gateway": JSON.stringify({ ...current, ...gateway }), ...more }, () => false, PROJECT_DIR, {
        localImages,
    }).config;
}

const ACME_HOST = { host: "models.example.com", tls: "acme" };

describe("plumberhub:gateway.acme", () => {
    test("the HTTP-01 challenge is the default, against Let's Encrypt production, for the gateway's host", () => {
        const config = devConfig({ ...ACME_HOST, acme: { email: "ops@example.com" } });
        expect(config.gateway.acme?.challenge).toBe("http");
        expect(gatewayAcme(config.gateway)).toEqual({
            renewal: { dnsNames: ["models.example.com"], email: "ops@example.com", directoryUrl: "https://acme-v02.api.letsencrypt.org/directory" },
        });
    });

    test("staging: true picks Let's Encrypt's staging directory", () => {
        const config = devConfig({ ...ACME_HOST, acme: { email: "ops@example.com", staging: true } });
        expect(gatewayAcme(config.gateway)?.renewal.directoryUrl).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
    });

    test("a private ACME server comes with its directory and CA bundle", () => {
        const pem = selfSignedPem();
        const config = devConfig({
            ...ACME_HOST,
            acme: { email: "ops@example.com", directoryUrl: "https://acme.internal:14000/dir", caBundle: pem },
        });
        expect(gatewayAcme(config.gateway)).toMatchObject({ renewal: { directoryUrl: "https://acme.internal:14000/dir" }, caBundlePem: pem });
    });

    test("the azureDns challenge needs its zone, subscription and resource group, and renews during up instead", () => {
        expect(problemsOf(() => devConfig({ ...ACME_HOST, acme: { email: "ops@example.com", challenge: "azureDns" } }))).toEqual([
            '`plumberhub:gateway.acme.zoneName` is required with `plumberhub:gateway.acme.challenge` "azureDns", got undefined',
            '`plumberhub:gateway.acme.subscriptionId` is required with `plumberhub:gateway.acme.challenge` "azureDns", got undefined',
            '`plumberhub:gateway.acme.resourceGroup` is required with `plumberhub:gateway.acme.challenge` "azureDns", got undefined',
        ]);
        const config = devConfig({
            ...ACME_HOST,
            acme: { email: "ops@example.com", challenge: "azureDns", zoneName: "example.com", subscriptionId: "sub", resourceGroup: "dns" },
        });
        expect(gatewayAcme(config.gateway)).toBeUndefined();
    });

    test.each<[string, Record<string, unknown>, string]>([
        ["no e-mail", {}, "`plumberhub:gateway.acme.email` must be an e-mail address such as ops@example.com"],
        ["an unknown challenge", { email: "ops@example.com", challenge: "dns" }, "`plumberhub:gateway.acme.challenge` must be one of"],
        [
            "an http directory",
            { email: "ops@example.com", directoryUrl: "http://acme.internal/dir" },
            "`plumberhub:gateway.acme.directoryUrl` must be an https://",
        ],
        [
            "staging with a directory",
            { email: "ops@example.com", staging: true, directoryUrl: "https://acme.internal/dir" },
            "`plumberhub:gateway.acme.staging` and `plumberhub:gateway.acme.directoryUrl` are both set",
        ],
        [
            "a CA bundle that is no certificate",
            { email: "ops@example.com", caBundle: "hello" },
            "`plumberhub:gateway.acme.caBundle` must hold PEM certificates",
        ],
        [
            "a DNS zone with the http challenge",
            { email: "ops@example.com", challenge: "http", zoneName: "example.com" },
            '`plumberhub:gateway.acme.zoneName` is used with `plumberhub:gateway.acme.challenge` "azureDns" only',
        ],
    ])("refuses %s, naming the field", (_, acme, message) => {
        const problems = problemsOf(() => devConfig({ ...ACME_HOST, acme }));
        expect(problems.some((problem) => problem.startsWith(message))).toBe(true);
    });

    test("a config that names a DNS zone and no challenge keeps the DNS-01 challenge it was written for", () => {
        const config = devConfig({
            ...ACME_HOST,
            acme: { email: "ops@example.com", zoneName: "example.com", subscriptionId: "sub", resourceGroup: "dns" },
        });
        expect(config.gateway.acme?.challenge).toBe("azureDns");
    });

    test("a CA bundle needs the private server's directory: it replaces the system roots", () => {
        expect(problemsOf(() => devConfig({ ...ACME_HOST, acme: { email: "ops@example.com", caBundle: selfSignedPem() } }))).toEqual([
            "`plumberhub:gateway.acme.caBundle` needs `plumberhub:gateway.acme.directoryUrl`: the bundle replaces the system roots, so it is for a private ACME server's directory",
        ]);
    });

    test("refuses an IP address as host: HTTP-01 proves names", () => {
        expect(problemsOf(() => devConfig({ host: "192.0.2.10", tls: "acme", acme: { email: "ops@example.com" } }))).toEqual([
            '`plumberhub:gateway.host` must be the public DNS name the certificate is for with `tls: acme`, got "192.0.2.10"',
        ]);
    });

    test("on a swarm the gateway image must be named (the public nginx image has no lego)", () => {
        expect(problemsOf(() => devConfig({ ...ACME_HOST, acme: { email: "ops@example.com" } }, {}, false))).toEqual([
            '`plumberhub:swarm.gatewayImage` is required with `plumberhub:gateway.acme.challenge` "http": an nginx image with lego and openssl (README "Certificates" has its Dockerfile; scripts/build-local-images.sh builds one)',
        ]);
    });

    test("on a swarm one gateway replica: the renewal's volume is local to a node", () => {
        expect(problemsOf(() => devConfig({ ...ACME_HOST, replicas: 2, acme: { email: "ops@example.com" } }))).toEqual([
            '`plumberhub:gateway.replicas` must be 1 with `plumberhub:gateway.acme.challenge` "http" on a swarm, got 2: the renewal\'s volume is local to one node',
        ]);
    });

    test("refuses localhost: an ACME server cannot reach it", () => {
        expect(problemsOf(() => devConfig({ host: "localhost", tls: "acme", acme: { email: "ops@example.com" } }))).toEqual([
            '`plumberhub:gateway.host` must be the public DNS name the certificate is for with `tls: acme`, got "localhost"',
        ]);
    });

    test("on AKS a private ACME server must listen on 443, the one port the gateway's egress policy opens", () => {
        const entries = stackConfig("prod");
        const gateway = {
            ...JSON.parse(entries["plumberhub:gateway"]),
            tls: "acme",
            acme: { email: "ops@example.com", directoryUrl: "https://acme.internal:14000/dir" },
        };
        const aks = { ...JSON.parse(entries["plumberhub:aks"]), gatewayImage: `registry.example.com/nginx-lego@sha256:${"a".repeat(64)}` };
        const problems = problemsOf(() =>
            checkStackConfig(
                { ...entries, "plumberhub:gateway": JSON.stringify(gateway), "plumberhub:aks": JSON.stringify(aks) },
                () => false,
                PROJECT_DIR,
            ),
        );
        expect(problems).toEqual([
            '`plumberhub:gateway.acme.directoryUrl` must be on port 443 on Kubernetes (the gateway\'s egress NetworkPolicy lets the renewal reach TCP 443 only), got "https://acme.internal:14000/dir"',
        ]);
    });

    test("on AKS the http challenge needs a gateway image with lego and openssl", () => {
        const entries = stackConfig("prod");
        const gateway = { ...JSON.parse(entries["plumberhub:gateway"]), tls: "acme", acme: { email: "ops@example.com" } };
        const problems = problemsOf(() => checkStackConfig({ ...entries, "plumberhub:gateway": JSON.stringify(gateway) }, () => false, PROJECT_DIR));
        expect(problems).toEqual([
            '`plumberhub:aks.gatewayImage` is required with `plumberhub:gateway.acme.challenge` "http": an nginx image with lego and openssl (README "Certificates" has its Dockerfile; scripts/build-local-images.sh builds one)',
        ]);
    });
});

describe("the swarm gateway with ACME", () => {
    const config = devConfig({ ...ACME_HOST, acme: { email: "ops@example.com" } });
    const secrets = { htpasswd: "alice:{SSHA}x\n" };
    const plan = planSwarmStack(swarmStackInput(config, { hello: "img:1", "bos-rf": "img:2" }, secrets, "hub"));
    const gateway = plan.services.find((service) => service.name === "gateway")!;

    test("runs the renewal script, which starts nginx", () => {
        expect(gateway.command).toEqual([ACME_PATHS.script, "serve"]);
        expect(gateway.configs.find((file) => file.target === ACME_PATHS.script)?.mode).toBe(0o555);
    });

    test("keeps its state on a named volume of the stack", () => {
        expect(gateway.volumes).toEqual([{ source: "hub-gateway-acme", target: ACME_PATHS.stateDir }]);
        expect(plan.volumes).toContain("hub-gateway-acme");
        expect(swarmGatewayOptions(config, "hub").acmeVolume).toBe("hub-gateway-acme");
    });

    test("mounts no certificate or key secret", () => {
        expect(gateway.secrets.map((file) => file.target)).toEqual(["/run/secrets/htpasswd"]);
        expect(plan.secrets.map((file) => file.key)).toEqual(["htpasswd"]);
    });

    test("the stack file gives the command and the volume", () => {
        const stack = parse(renderSwarmStackFiles(plan)[STACK_FILE_NAME]) as {
            services: Record<string, { command?: string[]; volumes?: unknown[] }>;
            volumes: Record<string, unknown>;
        };
        expect(stack.services.gateway.command).toEqual([ACME_PATHS.script, "serve"]);
        expect(stack.services.gateway.volumes).toEqual([{ type: "volume", source: "hub-gateway-acme", target: ACME_PATHS.stateDir }]);
        expect(stack.volumes["hub-gateway-acme"]).toEqual({ name: "hub-gateway-acme" });
    });

    test("refuses a certificate secret next to ACME", () => {
        expect(() =>
            planSwarmStack(swarmStackInput(config, { hello: "img:1", "bos-rf": "img:2" }, { ...secrets, tlsCertificate: "x" }, "hub")),
        ).toThrow("`gateway.secrets.tlsCertificate` and `gateway.secrets.tlsKey` are not used with `gateway.acme`");
    });

    test("a plan with the renewal's files but no volume is refused", () => {
        const input = swarmStackInput(config, { hello: "img:1", "bos-rf": "img:2" }, secrets, "hub");
        const { acmeVolume: _, ...options } = input.gateway!.options!;
        expect(() => planSwarmStack({ ...input, gateway: { ...input.gateway!, options } })).toThrow(
            "`acmeVolume` is required with ACME: the renewal keeps its account and certificates there",
        );
    });
});

function selfSignedPem(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-ca-"));
    try {
        // prettier-ignore
        execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", `/CN=ca-${crypto.randomBytes(4).toString("hex")}`, "-keyout", path.join(dir, "k"), "-out", path.join(dir, "c")], { stdio: "ignore" });
        return fs.readFileSync(path.join(dir, "c"), "utf8");
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
