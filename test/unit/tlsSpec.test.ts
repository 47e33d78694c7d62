import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { checkProvidedCertificate, LETS_ENCRYPT_PRODUCTION, planSelfSignedTls, validateAcme, validateHosts } from "../../components/config/tls";
import { makeCertificate, makeChainLikeServerCertificate, makeEcKey, TestChain } from "../helpers/pki";

// Fixtures come from the openssl CLI (node cannot sign certificates): about a second in all.
const NOW = new Date();
const DAY = 86_400_000;
let dir: string;
let chain: TestChain;
let pem: (file: string) => string;
let otherKey: string;
let expiredCert: string;
let unrelatedCert: string;

beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-tls-spec-"));
    pem = (file) => fs.readFileSync(file, "utf8");
    const plan = planSelfSignedTls({ dnsNames: ["gw.example.test", "*.apps.example.test"], ipAddresses: ["127.0.0.1", "::1"] });
    chain = await makeChainLikeServerCertificate(dir, "good", plan, NOW);
    otherKey = await makeEcKey(dir, "other");
    const expiredKey = await makeEcKey(dir, "expired");
    expiredCert = await makeCertificate(dir, {
        name: "expired",
        keyPath: expiredKey,
        commonName: "gw.example.test",
        isCa: false,
        allowedUses: plan.serverAllowedUses,
        dnsNames: ["gw.example.test"],
        notBefore: new Date(NOW.getTime() - 400 * DAY),
        notAfter: new Date(NOW.getTime() - 35 * DAY),
        issuer: { keyPath: chain.caKey, certPath: chain.caCert },
    });
    unrelatedCert = await makeCertificate(dir, {
        name: "unrelated",
        keyPath: otherKey,
        commonName: "someone else",
        isCa: true,
        allowedUses: plan.caAllowedUses,
        notBefore: NOW,
        notAfter: new Date(NOW.getTime() + DAY),
    });
}, 60_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hosts = (dnsNames: string[], ipAddresses: string[] = []) => ({ dnsNames, ipAddresses });

describe("checkProvidedCertificate", () => {
    test("accepts a matching, current certificate whose SANs cover every host", () => {
        const info = checkProvidedCertificate(
            { certificatePem: pem(chain.serverCert), privateKeyPem: pem(chain.serverKey) },
            hosts(["gw.example.test", "model.apps.example.test"], ["127.0.0.1", "::1"]),
            NOW,
        );
        expect(info.subjectAltName).toBe("DNS:gw.example.test, DNS:*.apps.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
        expect(info.chain).toHaveLength(1);
    });

    test("refuses a key that does not match the certificate", () => {
        expect(() =>
            checkProvidedCertificate({ certificatePem: pem(chain.serverCert), privateKeyPem: pem(otherKey) }, hosts(["gw.example.test"]), NOW),
        ).toThrow(
            /^`privateKeyPem` does not match the certificate in `certificatePem` \(subject CN=gw.example.test, O=plumberhub\): certificate public key sha256 [0-9a-f]{16}…, key's public key sha256 [0-9a-f]{16}…; provide the key the certificate was issued for$/,
        );
    });

    test("refuses an expired certificate", () => {
        const notAfter = new Date(NOW.getTime() - 35 * DAY);
        notAfter.setUTCMilliseconds(0);
        expect(() =>
            checkProvidedCertificate(
                { certificatePem: pem(expiredCert), privateKeyPem: pem(path.join(dir, "expired.key")) },
                hosts(["gw.example.test"]),
                NOW,
            ),
        ).toThrow(
            `\`certificatePem\` expired on ${notAfter.toISOString()} (now ${NOW.toISOString()}); provide a certificate that is currently valid`,
        );
    });

    test("refuses a certificate whose SANs do not cover a host, listing the SANs", () => {
        expect(() =>
            checkProvidedCertificate(
                { certificatePem: pem(chain.serverCert), privateKeyPem: pem(chain.serverKey) },
                hosts(["gw.example.test", "api.example.test"], ["10.0.0.5"]),
                NOW,
            ),
        ).toThrow(
            "`certificatePem` does not cover `api.example.test`, `10.0.0.5`: its subject alternative names are " +
                "DNS:gw.example.test, DNS:*.apps.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1; " +
                "reissue the certificate with those names or remove them from `dnsNames`/`ipAddresses`",
        );
    });

    test("a wildcard SAN covers exactly one label", () => {
        const pems = { certificatePem: pem(chain.serverCert), privateKeyPem: pem(chain.serverKey) };
        expect(() => checkProvidedCertificate(pems, hosts(["a.apps.example.test"]), NOW)).not.toThrow();
        expect(() => checkProvidedCertificate(pems, hosts(["apps.example.test"]), NOW)).toThrow("does not cover `apps.example.test`");
        expect(() => checkProvidedCertificate(pems, hosts(["a.b.apps.example.test"]), NOW)).toThrow("does not cover `a.b.apps.example.test`");
    });

    test("a wildcard host must be in the SANs as that wildcard", () => {
        const pems = { certificatePem: pem(chain.serverCert), privateKeyPem: pem(chain.serverKey) };
        expect(() => checkProvidedCertificate(pems, hosts(["*.apps.example.test"]), NOW)).not.toThrow();
        expect(() => checkProvidedCertificate(pems, hosts(["*.example.test"]), NOW)).toThrow("does not cover `*.example.test`");
    });

    test("an IPv6 host matches its SAN in any spelling", () => {
        const pems = { certificatePem: pem(chain.serverCert), privateKeyPem: pem(chain.serverKey) };
        expect(() => checkProvidedCertificate(pems, hosts([], ["0:0:0:0:0:0:0:1"]), NOW)).not.toThrow();
    });

    test("accepts the server certificate followed by its issuer, and returns both", () => {
        const info = checkProvidedCertificate(
            { certificatePem: pem(chain.serverCert) + pem(chain.caCert), privateKeyPem: pem(chain.serverKey) },
            hosts(["gw.example.test"]),
            NOW,
        );
        expect(info.chain).toHaveLength(2);
    });

    test("refuses a second certificate that did not sign the first", () => {
        expect(() =>
            checkProvidedCertificate(
                { certificatePem: pem(chain.serverCert) + pem(unrelatedCert), privateKeyPem: pem(chain.serverKey) },
                hosts(["gw.example.test"]),
                NOW,
            ),
        ).toThrow("`certificatePem` certificate 2 did not sign certificate 1: list the server certificate first, then each issuer in order");
    });

    test("accepts a chain that ends at a certificate signed by the given CA", () => {
        expect(() =>
            checkProvidedCertificate(
                { certificatePem: pem(chain.serverCert), privateKeyPem: pem(chain.serverKey), caCertPem: pem(chain.caCert) },
                hosts(["gw.example.test"]),
                NOW,
            ),
        ).not.toThrow();
    });

    test("refuses a chain that does not lead to the given CA", () => {
        expect(() =>
            checkProvidedCertificate(
                { certificatePem: pem(chain.serverCert), privateKeyPem: pem(chain.serverKey), caCertPem: pem(unrelatedCert) },
                hosts(["gw.example.test"]),
                NOW,
            ),
        ).toThrow(
            "`certificatePem` does not lead to `caCertPem`: its last certificate (issuer CN=good plumberhub CA, O=plumberhub) " +
                "is neither the CA (subject CN=someone else) nor signed by it; add the missing intermediates or give the right CA",
        );
    });

    test("refuses text without a certificate", () => {
        expect(() =>
            checkProvidedCertificate({ certificatePem: "hello", privateKeyPem: pem(chain.serverKey) }, hosts(["gw.example.test"]), NOW),
        ).toThrow("`certificatePem` must hold at least one PEM certificate (-----BEGIN CERTIFICATE-----), found none");
    });

    test("refuses a key that is not a PEM private key, without echoing it", () => {
        expect(() =>
            checkProvidedCertificate({ certificatePem: pem(chain.serverCert), privateKeyPem: "not-a-key-s3cr3t" }, hosts(["gw.example.test"]), NOW),
        ).toThrow(/^`privateKeyPem` must be an unencrypted PEM private key \(PKCS#1, SEC1 or PKCS#8\); it could not be read \((?!.*s3cr3t)/);
    });
});

describe("planSelfSignedTls", () => {
    test("defaults: ECDSA P-256, 90-day certificate replaced 30 days early, 10-year CA", () => {
        expect(planSelfSignedTls({ dnsNames: ["gw.example.test"], ipAddresses: ["127.0.0.1"] })).toEqual({
            dnsNames: ["gw.example.test"],
            ipAddresses: ["127.0.0.1"],
            keyAlgorithm: "ECDSA",
            ecdsaCurve: "P256",
            commonName: "gw.example.test",
            organization: "plumberhub",
            caAllowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            serverAllowedUses: ["digital_signature", "server_auth"],
            caValidityHours: 87600,
            validityHours: 2160,
            renewBeforeHours: 720,
            rotationHours: 1440,
        });
    });

    test("refuses renewing no earlier than expiry", () => {
        expect(() => planSelfSignedTls({ dnsNames: ["gw.example.test"], validityHours: 100, renewBeforeHours: 100 })).toThrow(
            "`renewBeforeHours` must be less than `validityHours` (100), got 100: the certificate would be replaced on every run",
        );
    });

    test("refuses a CA that expires before the server certificate", () => {
        expect(() => planSelfSignedTls({ dnsNames: ["gw.example.test"], caValidityHours: 100 })).toThrow(
            "`caValidityHours` must be at least `validityHours` (2160), got 100",
        );
    });
});

describe("validateHosts", () => {
    test("refuses no hosts at all", () => {
        expect(() => validateHosts([], [])).toThrow(
            "`dnsNames` and `ipAddresses` are both empty: give the gateway at least one host name or IP address",
        );
    });

    test("refuses an upper-case DNS name", () => {
        expect(() => validateHosts(["GW.example.test"])).toThrow(
            '`dnsNames[0]` must be a lower-case DNS name (labels of letters, digits and `-`, optional leading `*.`), got "GW.example.test"',
        );
    });

    test("refuses a malformed IP address", () => {
        expect(() => validateHosts(["gw.example.test"], ["300.1.1.1"])).toThrow('`ipAddresses[0]` must be an IPv4 or IPv6 address, got "300.1.1.1"');
    });
});

describe("validateAcme", () => {
    const acme = { email: "ops@example.com", zoneName: "example.com" };

    test("defaults to Let's Encrypt production and 30 days of early renewal", () => {
        expect(validateAcme(acme, ["api.example.com"])).toEqual({ ...acme, serverUrl: LETS_ENCRYPT_PRODUCTION, renewBeforeDays: 30 });
    });

    test("refuses IP addresses", () => {
        expect(() => validateAcme(acme, ["api.example.com"], ["1.2.3.4"])).toThrow(
            '`ipAddresses` must be empty in acme mode (a DNS-01 challenge proves DNS names only), got ["1.2.3.4"]',
        );
    });

    test("refuses a name outside the DNS zone", () => {
        expect(() => validateAcme(acme, ["api.example.org"])).toThrow(
            '`dnsNames[0]` "api.example.org" is outside `acme.zoneName` "example.com": the DNS-01 challenge record could not be written',
        );
    });

    test("refuses a missing e-mail", () => {
        expect(() => validateAcme({ ...acme, email: "ops" }, ["api.example.com"])).toThrow(
            '`acme.email` must be an e-mail address such as ops@example.com (the ACME server sends expiry notices to it), got "ops"',
        );
    });
});
