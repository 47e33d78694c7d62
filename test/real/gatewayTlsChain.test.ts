/**
 * A CA + server chain made the way ServerCertificate's selfSigned mode makes it, checked by real clients.
 *
 * The @pulumi/tls provider plugin cannot be downloaded here, so the chain is built with the openssl
 * CLI from the very plan the component passes to @pulumi/tls (`planSelfSignedTls`: ECDSA P-256,
 * subjects, allowed uses, SANs, validity). What this proves is that those parameters make a chain
 * openssl and curl accept over TLS 1.2 and 1.3 — not that the Go provider encodes them identically.
 */
import * as fs from "fs";
import { checkProvidedCertificate, planSelfSignedTls, SelfSignedTlsPlan } from "../../components/config/tls";
import { startNginx, tempDir } from "../helpers/gateway";
import { writeMinimalNginxConf } from "../helpers/nginxConf";
import { makeCertificate, makeChainLikeServerCertificate, makeEcKey, TestChain } from "../helpers/pki";
import { freePort, requireTools, run, Service } from "../helpers/processes";

jest.setTimeout(60_000);

const HOST = "gw.plumberhub.test";
let dir: string;
let plan: SelfSignedTlsPlan;
let chain: TestChain;
let nginx: Service;
let port: number;

beforeAll(async () => {
    await requireTools({ nginx: "nginx-light", openssl: "openssl", curl: "curl" });
    dir = tempDir("plumberhub-tls-chain-");
    plan = planSelfSignedTls({ dnsNames: [HOST, "*.models.plumberhub.test"], ipAddresses: ["127.0.0.1", "::1"] });
    chain = await makeChainLikeServerCertificate(dir, "gw", plan);
    for (const file of Object.values(chain)) fs.chmodSync(file, 0o644);
    port = await freePort();
    const conf = writeMinimalNginxConf(
        dir,
        `    server {
        listen 127.0.0.1:${port} ssl;
        ssl_certificate ${chain.serverCert};
        ssl_certificate_key ${chain.serverKey};
        ssl_protocols TLSv1.2 TLSv1.3;
        location / { return 200 "$ssl_protocol\\n"; }
    }`,
    );
    nginx = await startNginx(dir, conf, port);
});

afterAll(async () => {
    await nginx?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** curl over TLS to 127.0.0.1 as `host`, trusting only the test CA; resolves to stdout or rejects with curl's error. */
function curl(host: string, extra: string[] = []): Promise<string> {
    return run("curl", [
        "-sS",
        "--fail",
        "--cacert",
        chain.caCert,
        "--resolve",
        `${host}:${port}:127.0.0.1`,
        ...extra,
        `https://${host}:${port}/`,
    ]).then((result) => result.stdout);
}

describe("the chain itself", () => {
    test("openssl verify accepts the server certificate for TLS server use", async () => {
        const { stdout } = await run("openssl", ["verify", "-CAfile", chain.caCert, "-purpose", "sslserver", chain.serverCert]);
        expect(stdout.trim()).toBe(`${chain.serverCert}: OK`);
    });

    test("the server certificate carries the plan's SANs and usages", async () => {
        const { stdout } = await run("openssl", [
            "x509",
            "-in",
            chain.serverCert,
            "-noout",
            "-ext",
            "subjectAltName,keyUsage,extendedKeyUsage,basicConstraints",
        ]);
        expect(stdout).toContain(`DNS:${HOST}, DNS:*.models.plumberhub.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`);
        expect(stdout).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
        expect(stdout).toMatch(/X509v3 Extended Key Usage: \s*TLS Web Server Authentication\n/);
        expect(stdout).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    });

    test("its lifetime is the plan's validity", async () => {
        const { stdout } = await run("openssl", ["x509", "-in", chain.serverCert, "-noout", "-startdate", "-enddate"]);
        const [start, end] = [...stdout.matchAll(/=(.+)$/gm)].map((m) => new Date(m[1]).getTime());
        expect((end - start) / 3_600_000).toBe(plan.validityHours);
    });

    test("provided mode's check accepts what selfSigned mode makes", () => {
        const read = (file: string) => fs.readFileSync(file, "utf8");
        expect(() =>
            checkProvidedCertificate(
                { certificatePem: read(chain.serverCert), privateKeyPem: read(chain.serverKey) },
                { dnsNames: [HOST, "a.models.plumberhub.test"], ipAddresses: ["127.0.0.1"] },
                new Date(),
            ),
        ).not.toThrow();
    });
});

describe("curl --cacert against real nginx", () => {
    test("TLS 1.2 to the DNS name succeeds", async () => {
        expect(await curl(HOST, ["--tlsv1.2", "--tls-max", "1.2"])).toBe("TLSv1.2\n");
    });

    test("TLS 1.3 to the DNS name succeeds", async () => {
        expect(await curl(HOST, ["--tlsv1.3"])).toBe("TLSv1.3\n");
    });

    test("a name under the wildcard SAN succeeds", async () => {
        expect(await curl("iris.models.plumberhub.test", ["--tlsv1.3"])).toBe("TLSv1.3\n");
    });

    test("the IP address SAN succeeds", async () => {
        const { stdout } = await run("curl", ["-sS", "--fail", "--cacert", chain.caCert, `https://127.0.0.1:${port}/`]);
        expect(stdout).toBe("TLSv1.3\n");
    });

    test("a name outside the SANs is refused", async () => {
        await expect(curl("other.plumberhub.test")).rejects.toThrow(
            /SSL: no alternative certificate subject name matches target host name 'other.plumberhub.test'/,
        );
    });

    test("trusting another CA instead, the certificate is refused", async () => {
        const otherKey = await makeEcKey(dir, "other-ca");
        const otherCa = await makeCertificate(dir, {
            name: "other-ca",
            keyPath: otherKey,
            commonName: "other CA",
            isCa: true,
            allowedUses: plan.caAllowedUses,
            notBefore: new Date(),
            notAfter: new Date(Date.now() + 86_400_000),
        });
        await expect(
            run("curl", ["-sS", "--fail", "--cacert", otherCa, "--resolve", `${HOST}:${port}:127.0.0.1`, `https://${HOST}:${port}/`]),
        ).rejects.toThrow("curl: (60) SSL certificate problem: unable to get local issuer certificate");
    });
});
