import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { installRecordingMocks, isSecret, isSecretInput, parentRecorder, promiseOf, runMockedProgram, secretInputOf } from "../helpers/pulumiMocks";
import { makeCertificate, makeChainLikeServerCertificate, makeEcKey, TestChain } from "../helpers/pki";

// What the providers would compute. A Rotating named "later-…" stands for the same Rotating after
// it was recreated (its rotation time passed): its timestamps are later.
// The out-of-process program tests start node + @pulumi/pulumi (1–5 s on a busy machine).
jest.setTimeout(30_000);

const recorded = installRecordingMocks({
    "tls:index/privateKey:PrivateKey": (args) => ({ privateKeyPem: `KEY(${args.name})` }),
    "tls:index/selfSignedCert:SelfSignedCert": (args) => ({ certPem: `CA(${args.name})` }),
    "tls:index/certRequest:CertRequest": (args) => ({ certRequestPem: `CSR(${args.name})` }),
    "tls:index/locallySignedCert:LocallySignedCert": (args) => ({ certPem: `CERT(${args.name})`, validityEndTime: "2027-02-23T10:00:00Z" }),
    "time:index/rotating:Rotating": (args) =>
        args.name.startsWith("later-")
            ? { rfc3339: "2027-01-24T10:00:00Z", rotationRfc3339: "2027-03-25T10:00:00Z" }
            : { rfc3339: "2026-11-25T10:00:00Z", rotationRfc3339: "2027-01-24T10:00:00Z" },
    "acme:index/registration:Registration": (args) => ({ registrationUrl: "https://acme.example/acct/1", accountKeyPem: args.inputs.accountKeyPem }),
    "acme:index/certificate:Certificate": (args) => ({
        certificatePem: `ACME-CERT(${args.name})\n`,
        issuerPem: `ACME-ISSUER(${args.name})\n`,
        privateKeyPem: `ACME-KEY(${args.name})`,
        certificateNotAfter: "2027-03-01T08:00:00Z",
    }),
});

import { ServerCertificate, ServerCertificateArgs } from "../../components/tls";

const HOSTS = { dnsNames: ["gw.example.test"], ipAddresses: ["127.0.0.1"] };

function inputsOf(type: string, name: string) {
    const found = recorded.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`no ${type} ${name} among ${recorded.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return found.inputs;
}

async function selfSigned(name: string, extra: Partial<ServerCertificateArgs> = {}) {
    const { transformation, links } = parentRecorder();
    const tls = new ServerCertificate(name, { mode: "selfSigned", ...HOSTS, ...extra }, { transformations: [transformation] });
    await promiseOf(tls.certChainPem);
    return { tls, links };
}

/** The replacement trigger each child was given, resolved. */
async function triggers(links: { name: string; opts: pulumi.ResourceOptions }[]): Promise<Record<string, unknown>> {
    const result: Record<string, unknown> = {};
    for (const link of links) if (link.opts.replacementTrigger !== undefined) result[link.name] = await promiseOf(link.opts.replacementTrigger);
    return result;
}

beforeEach(() => {
    recorded.length = 0;
});

describe("ServerCertificate selfSigned", () => {
    test("makes a CA key and certificate, a server key, request and certificate, and a rotation", async () => {
        await selfSigned("gw");
        expect(recorded.map((r) => `${r.type} ${r.name}`).sort()).toEqual([
            "plumberhub:tls:ServerCertificate gw",
            "time:index/rotating:Rotating gw-rotation",
            "tls:index/certRequest:CertRequest gw-server-csr",
            "tls:index/locallySignedCert:LocallySignedCert gw-server",
            "tls:index/privateKey:PrivateKey gw-ca-key",
            "tls:index/privateKey:PrivateKey gw-server-key",
            "tls:index/selfSignedCert:SelfSignedCert gw-ca",
        ]);
    });

    test("the CA is an ECDSA P-256 CA certificate for signing, valid 10 years", async () => {
        await selfSigned("gw");
        expect(inputsOf("tls:index/privateKey:PrivateKey", "gw-ca-key")).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        expect(inputsOf("tls:index/selfSignedCert:SelfSignedCert", "gw-ca")).toEqual({
            privateKeyPem: secretInputOf("KEY(gw-ca-key)"),
            isCaCertificate: true,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            validityPeriodHours: 87600,
            subject: { organization: "plumberhub", commonName: "gw plumberhub CA" },
            setSubjectKeyId: true,
        });
    });

    test("the server request carries the gateway's DNS names and IPs as SANs", async () => {
        await selfSigned("gw", { dnsNames: ["gw.example.test", "*.apps.example.test"], ipAddresses: ["127.0.0.1", "::1"] });
        expect(inputsOf("tls:index/certRequest:CertRequest", "gw-server-csr")).toEqual({
            privateKeyPem: secretInputOf("KEY(gw-server-key)"),
            dnsNames: ["gw.example.test", "*.apps.example.test"],
            ipAddresses: ["127.0.0.1", "::1"],
            subject: { organization: "plumberhub", commonName: "gw.example.test" },
        });
    });

    test("the server certificate is for server auth, signed by the CA, with the chosen validity", async () => {
        await selfSigned("gw", { validityHours: 720, renewBeforeHours: 240 });
        expect(inputsOf("tls:index/locallySignedCert:LocallySignedCert", "gw-server")).toEqual({
            certRequestPem: "CSR(gw-server-csr)",
            caPrivateKeyPem: secretInputOf("KEY(gw-ca-key)"),
            caCertPem: "CA(gw-ca)",
            allowedUses: ["digital_signature", "server_auth"],
            validityPeriodHours: 720,
            earlyRenewalHours: 240,
            setSubjectKeyId: true,
        });
    });

    test("the rotation period is the validity minus the renewal margin", async () => {
        await selfSigned("gw", { validityHours: 720, renewBeforeHours: 240 });
        expect(inputsOf("time:index/rotating:Rotating", "gw-rotation")).toEqual({ rotationHours: 480 });
    });

    test("the server key and certificate, and only they, have the rotation time as replacement trigger", async () => {
        const { links } = await selfSigned("gw");
        expect(await triggers(links)).toEqual({ "gw-server-key": "2027-01-24T10:00:00Z", "gw-server": "2027-01-24T10:00:00Z" });
    });

    test("a recreated rotation changes the trigger values, so the engine replaces key and certificate", async () => {
        const before = await triggers((await selfSigned("gw")).links);
        const after = await triggers((await selfSigned("later-gw")).links);
        expect(after["later-gw-server"]).toBe("2027-03-25T10:00:00Z");
        expect(after["later-gw-server"]).not.toBe(before["gw-server"]);
        expect(after["later-gw-server-key"]).not.toBe(before["gw-server-key"]);
    });

    test("an unchanged rotation gives the same trigger values, so nothing is replaced", async () => {
        const first = await triggers((await selfSigned("gw")).links);
        const second = await triggers((await selfSigned("gw2")).links);
        expect(second["gw2-server"]).toBe(first["gw-server"]);
    });

    test("every child is parented to the component", async () => {
        const { tls, links } = await selfSigned("gw");
        for (const link of links.filter((l) => l.name !== "gw")) expect(link.parent).toBe(tls);
    });

    test("outputs the server certificate as chain, the CA certificate, and the server key as a secret", async () => {
        const { tls } = await selfSigned("gw");
        expect(await promiseOf(tls.certChainPem)).toBe("CERT(gw-server)\n");
        expect(await promiseOf(tls.certificatePem)).toBe("CERT(gw-server)");
        expect(await promiseOf(tls.caCertPem)).toBe("CA(gw-ca)");
        expect(await promiseOf(tls.privateKeyPem)).toBe("KEY(gw-server-key)");
        expect(await isSecret(tls.privateKeyPem)).toBe(true);
    });

    test("tells the server certificate's expiry, as the tls provider reports it, in plain text", async () => {
        const { tls } = await selfSigned("gw");
        expect(await promiseOf(tls.notAfter)).toBe("2027-02-23T10:00:00Z");
        expect(await isSecret(tls.notAfter)).toBe(false);
    });

    test("refuses a renewal margin as long as the validity up front", () => {
        expect(() => new ServerCertificate("gw", { mode: "selfSigned", ...HOSTS, validityHours: 48, renewBeforeHours: 48 })).toThrow(
            "`renewBeforeHours` must be less than `validityHours` (48), got 48: the certificate would be replaced on every run",
        );
    });

    test("refuses an unknown mode up front", () => {
        expect(() => new ServerCertificate("gw", { mode: "letsencrypt" as never, ...HOSTS })).toThrow(
            '`mode` must be one of selfSigned, provided, acme, got "letsencrypt"',
        );
    });
});

describe("ServerCertificate provided", () => {
    const NOW = new Date();
    const DAY = 86_400_000;
    let dir: string;
    let chain: TestChain;
    let read: (file: string) => string;
    let expired: { cert: string; key: string };
    let otherKey: string;

    beforeAll(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-tls-provided-"));
        read = (file) => fs.readFileSync(file, "utf8");
        const { planSelfSignedTls } = await import("../../components/config/tls");
        chain = await makeChainLikeServerCertificate(dir, "good", planSelfSignedTls(HOSTS), NOW);
        otherKey = await makeEcKey(dir, "other");
        const expiredKey = await makeEcKey(dir, "expired");
        const expiredCert = await makeCertificate(dir, {
            name: "expired",
            keyPath: expiredKey,
            commonName: "gw.example.test",
            isCa: false,
            allowedUses: ["digital_signature", "server_auth"],
            dnsNames: ["gw.example.test"],
            ipAddresses: ["127.0.0.1"],
            notBefore: new Date(NOW.getTime() - 100 * DAY),
            notAfter: new Date(NOW.getTime() - DAY),
            issuer: { keyPath: chain.caKey, certPath: chain.caCert },
        });
        expired = { cert: read(expiredCert), key: read(expiredKey) };
    }, 60_000);

    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

    function provided(certificatePem: string, privateKeyPem: string, dnsNames = HOSTS.dnsNames) {
        return { mode: "provided", dnsNames, ipAddresses: HOSTS.ipAddresses, certificatePem, privateKeyPem };
    }

    test("a good certificate and key pass through; the chain ends at the CA; the key stays secret", async () => {
        const tls = new ServerCertificate("gw", {
            mode: "provided",
            ...HOSTS,
            certificatePem: pulumi.secret(read(chain.serverCert) + read(chain.caCert)),
            privateKeyPem: pulumi.secret(read(chain.serverKey)),
        });
        expect(await promiseOf(tls.certChainPem)).toBe(read(chain.serverCert) + read(chain.caCert));
        expect(await promiseOf(tls.caCertPem)).toBe(read(chain.caCert));
        expect(await promiseOf(tls.privateKeyPem)).toBe(read(chain.serverKey));
        expect(await isSecret(tls.privateKeyPem)).toBe(true);
        expect(recorded.filter((r) => r.type !== "plumberhub:tls:ServerCertificate")).toEqual([]);
    });

    test("tells the provided certificate's expiry in plain text, though the certificate came as a secret", async () => {
        const tls = new ServerCertificate("gw", provided(read(chain.serverCert), read(chain.serverKey)) as ServerCertificateArgs);
        const expected = new Date(new crypto.X509Certificate(read(chain.serverCert)).validTo).toISOString().replace(".000Z", "Z");
        expect(await promiseOf(tls.notAfter)).toBe(expected);
        expect(await isSecret(tls.notAfter)).toBe(false);
    });

    test("a program with a good certificate runs to the end", async () => {
        const result = await runMockedProgram("ServerCertificate", provided(read(chain.serverCert), read(chain.serverKey)), [
            "certificatePem",
            "privateKeyPem",
        ]);
        expect(result).toEqual({ code: 0, output: "" });
    });

    test("a key that does not match fails the program with its message, without the key", async () => {
        const key = read(otherKey);
        const { code, output } = await runMockedProgram("ServerCertificate", provided(read(chain.serverCert), key), [
            "certificatePem",
            "privateKeyPem",
        ]);
        expect(code).not.toBe(0);
        expect(output).toMatch(/`privateKeyPem` does not match the certificate in `certificatePem` \(subject CN=gw.example.test, O=plumberhub\)/);
        expect(output).not.toContain(key.split("\n")[1]);
    });

    test("an expired certificate fails the program with its message", async () => {
        const { code, output } = await runMockedProgram("ServerCertificate", provided(expired.cert, expired.key), [
            "certificatePem",
            "privateKeyPem",
        ]);
        expect(code).not.toBe(0);
        expect(output).toMatch(
            /`certificatePem` expired on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z \(now [^)]+\); provide a certificate that is currently valid/,
        );
    });

    test("a certificate that does not cover the host fails the program with its message", async () => {
        const { code, output } = await runMockedProgram(
            "ServerCertificate",
            provided(read(chain.serverCert), read(chain.serverKey), ["api.example.test"]),
            ["certificatePem", "privateKeyPem"],
        );
        expect(code).not.toBe(0);
        expect(output).toContain(
            "`certificatePem` does not cover `api.example.test`: its subject alternative names are DNS:gw.example.test, IP Address:127.0.0.1; " +
                "reissue the certificate with those names or remove them from `dnsNames`/`ipAddresses`",
        );
    });

    test("refuses provided mode without a key up front", () => {
        expect(() => new ServerCertificate("gw", { mode: "provided", ...HOSTS, certificatePem: "x" })).toThrow(
            '`certificatePem` and `privateKeyPem` must both be set when `mode` is "provided"',
        );
    });
});

describe("ServerCertificate acme", () => {
    const acme = {
        email: "ops@example.com",
        zoneName: "example.com",
        azureDns: { subscriptionId: "sub-1", resourceGroup: "dns-rg", tenantId: "tenant-1", clientId: "client-1", clientSecret: "azure-s3cret" },
    };

    async function acmeTls() {
        const tls = new ServerCertificate("gw", { mode: "acme", dnsNames: ["api.example.com", "docs.example.com"], acme });
        await promiseOf(tls.certChainPem);
        return tls;
    }

    test("registers an account with an ECDSA key through a provider pointed at Let's Encrypt production", async () => {
        await acmeTls();
        expect(inputsOf("pulumi:providers:acme", "gw-acme").serverUrl).toBe("https://acme-v02.api.letsencrypt.org/directory");
        expect(inputsOf("tls:index/privateKey:PrivateKey", "gw-acme-account-key")).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
        expect(inputsOf("acme:index/registration:Registration", "gw-acme-account")).toEqual({
            accountKeyPem: secretInputOf("KEY(gw-acme-account-key)"),
            emailAddress: "ops@example.com",
        });
    });

    test("requests the names with an Azure DNS challenge in the zone, renewing 30 days early", async () => {
        await acmeTls();
        const inputs = inputsOf("acme:index/certificate:Certificate", "gw-acme-cert");
        expect({ ...inputs, dnsChallenges: undefined }).toEqual({
            accountKeyPem: secretInputOf("KEY(gw-acme-account-key)"),
            commonName: "api.example.com",
            subjectAlternativeNames: ["docs.example.com"],
            keyType: "P256",
            minDaysRemaining: 30,
            dnsChallenges: undefined,
        });
        const [challenge] = inputs.dnsChallenges.value;
        expect(challenge.provider).toBe("azuredns");
        expect({ ...challenge.config, AZURE_CLIENT_SECRET: undefined }).toEqual({
            AZURE_SUBSCRIPTION_ID: "sub-1",
            AZURE_RESOURCE_GROUP: "dns-rg",
            AZURE_ZONE_NAME: "example.com",
            AZURE_TENANT_ID: "tenant-1",
            AZURE_CLIENT_ID: "client-1",
            AZURE_AUTH_METHOD: "env",
            AZURE_CLIENT_SECRET: undefined,
        });
    });

    test("the challenge settings, which hold the Azure client secret, reach the provider as a secret", async () => {
        await acmeTls();
        const challenges = inputsOf("acme:index/certificate:Certificate", "gw-acme-cert").dnsChallenges;
        expect(isSecretInput(challenges)).toBe(true);
        expect(challenges.value[0].config.AZURE_CLIENT_SECRET).toBe("azure-s3cret");
    });

    test("outputs certificate plus issuer as chain, the issuer as CA, and the key as a secret", async () => {
        const tls = await acmeTls();
        expect(await promiseOf(tls.certChainPem)).toBe("ACME-CERT(gw-acme-cert)\nACME-ISSUER(gw-acme-cert)\n");
        expect(await promiseOf(tls.caCertPem)).toBe("ACME-ISSUER(gw-acme-cert)\n");
        expect(await promiseOf(tls.privateKeyPem)).toBe("ACME-KEY(gw-acme-cert)");
        expect(await isSecret(tls.privateKeyPem)).toBe(true);
    });

    test("tells the certificate's expiry as the ACME provider reports it", async () => {
        expect(await promiseOf((await acmeTls()).notAfter)).toBe("2027-03-01T08:00:00Z");
    });

    test("refuses IP addresses up front", () => {
        expect(() => new ServerCertificate("gw", { mode: "acme", dnsNames: ["api.example.com"], ipAddresses: ["1.2.3.4"], acme })).toThrow(
            '`ipAddresses` must be empty in acme mode (a DNS-01 challenge proves DNS names only), got ["1.2.3.4"]',
        );
    });
});
