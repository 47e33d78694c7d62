/**
 * Builds keys and certificates with the real `openssl` CLI, from the same parameters ServerCertificate
 * passes to @pulumi/tls (the tls provider plugin cannot run on these machines). Used for fixtures
 * (provided-mode checks) and for the real chain tests (openssl verify, curl against nginx).
 */
import * as fs from "fs";
import * as path from "path";
import { SelfSignedTlsPlan } from "../../components/config/tls";
import { run } from "./processes";

/** @pulumi/tls `allowedUses` → openssl keyUsage / extendedKeyUsage names. An unknown use throws. */
const KEY_USAGE: Record<string, string> = {
    digital_signature: "digitalSignature",
    content_commitment: "nonRepudiation",
    key_encipherment: "keyEncipherment",
    data_encipherment: "dataEncipherment",
    key_agreement: "keyAgreement",
    cert_signing: "keyCertSign",
    crl_signing: "cRLSign",
};
const EXT_KEY_USAGE: Record<string, string> = { server_auth: "serverAuth", client_auth: "clientAuth" };

/** @pulumi/tls curve names → openssl curve names. */
const CURVES: Record<string, string> = { P224: "P-224", P256: "P-256", P384: "P-384", P521: "P-521" };

export interface CertificateRequest {
    /** File stem: `<dir>/<name>.pem`. */
    name: string;
    keyPath: string;
    commonName: string;
    organization?: string;
    isCa: boolean;
    /** @pulumi/tls allowed uses. */
    allowedUses: string[];
    dnsNames?: string[];
    ipAddresses?: string[];
    notBefore: Date;
    notAfter: Date;
    /** Issuer key and certificate; self-signed when absent. */
    issuer?: { keyPath: string; certPath: string };
}

/** A new EC private key (PEM, PKCS#8) at `<dir>/<name>.key`; returns the path. */
export async function makeEcKey(dir: string, name: string, curve = "P256"): Promise<string> {
    const openSslCurve = CURVES[curve];
    if (!openSslCurve) throw new Error(`no openssl name for curve ${curve}`);
    const keyPath = path.join(dir, `${name}.key`);
    await run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${openSslCurve}`, "-out", keyPath]);
    return keyPath;
}

/** A self-signed test CA, `<dir>/<name>.key` and `<dir>/<name>.pem`, valid from `notBefore` to `notAfter`: the issuer of test certificates. */
export async function makeTestCa(
    dir: string,
    name: string,
    commonName: string,
    notBefore: Date,
    notAfter: Date,
): Promise<{ keyPath: string; certPath: string }> {
    const keyPath = await makeEcKey(dir, name);
    const certPath = await makeCertificate(dir, {
        name,
        keyPath,
        commonName,
        isCa: true,
        allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        notBefore,
        notAfter,
    });
    return { keyPath, certPath };
}

function openSslDate(date: Date): string {
    return date
        .toISOString()
        .replace(/[-:T]/g, "")
        .replace(/\.\d{3}Z$/, "Z");
}

function extensions(request: CertificateRequest): string {
    const keyUsage: string[] = [];
    const extKeyUsage: string[] = [];
    for (const use of request.allowedUses) {
        if (KEY_USAGE[use]) keyUsage.push(KEY_USAGE[use]);
        else if (EXT_KEY_USAGE[use]) extKeyUsage.push(EXT_KEY_USAGE[use]);
        else throw new Error(`no openssl mapping for @pulumi/tls allowed use ${use}`);
    }
    const sans = [...(request.dnsNames ?? []).map((name) => `DNS:${name}`), ...(request.ipAddresses ?? []).map((ip) => `IP:${ip}`)];
    // Go's x509 (the tls provider) marks basicConstraints and keyUsage critical, extKeyUsage not.
    return [
        "[ext]",
        `basicConstraints = critical, CA:${request.isCa ? "TRUE" : "FALSE"}`,
        ...(keyUsage.length ? [`keyUsage = critical, ${keyUsage.join(", ")}`] : []),
        ...(extKeyUsage.length ? [`extendedKeyUsage = ${extKeyUsage.join(", ")}`] : []),
        ...(sans.length ? [`subjectAltName = ${sans.join(", ")}`] : []),
        "subjectKeyIdentifier = hash",
        ...(request.issuer ? ["authorityKeyIdentifier = keyid"] : []),
        "",
    ].join("\n");
}

/** Signs a certificate with `openssl ca` (which, unlike `x509`/`req`, takes exact start and end dates). Returns its path. */
export async function makeCertificate(dir: string, request: CertificateRequest): Promise<string> {
    const db = path.join(dir, `${request.name}-ca-db`);
    fs.mkdirSync(db, { recursive: true });
    fs.writeFileSync(path.join(db, "index.txt"), "");
    fs.writeFileSync(path.join(db, "serial"), "01\n");
    const config = path.join(db, "openssl.cnf");
    fs.writeFileSync(
        config,
        [
            "[ca]",
            "default_ca = plumberhub_test",
            "[plumberhub_test]",
            `database = ${path.join(db, "index.txt")}`,
            `new_certs_dir = ${db}`,
            `serial = ${path.join(db, "serial")}`,
            "default_md = sha256",
            "policy = any",
            "unique_subject = no",
            "copy_extensions = none",
            "[any]",
            "commonName = supplied",
            "organizationName = optional",
            "",
        ].join("\n"),
    );
    const extFile = path.join(db, "ext.cnf");
    fs.writeFileSync(extFile, extensions(request));
    const csr = path.join(db, "request.csr");
    const subject = `${request.organization ? `/O=${request.organization}` : ""}/CN=${request.commonName}`;
    await run("openssl", ["req", "-new", "-key", request.keyPath, "-subj", subject, "-out", csr]);
    const certPath = path.join(dir, `${request.name}.pem`);
    const signer = request.issuer
        ? ["-cert", request.issuer.certPath, "-keyfile", request.issuer.keyPath]
        : ["-selfsign", "-keyfile", request.keyPath];
    await run("openssl", [
        "ca",
        "-batch",
        "-notext",
        "-config",
        config,
        ...signer,
        "-in",
        csr,
        "-out",
        certPath,
        "-extfile",
        extFile,
        "-extensions",
        "ext",
        "-startdate",
        openSslDate(request.notBefore),
        "-enddate",
        openSslDate(request.notAfter),
    ]);
    return certPath;
}

/** Paths of a CA + server chain. */
export interface TestChain {
    caKey: string;
    caCert: string;
    serverKey: string;
    serverCert: string;
}

const HOUR_MS = 3_600_000;

/**
 * A CA and server certificate made the way ServerCertificate's selfSigned mode makes them: the plan's
 * key algorithm and curve, subjects, allowed uses, SANs and validity periods, starting at `now`.
 */
export async function makeChainLikeServerCertificate(dir: string, name: string, plan: SelfSignedTlsPlan, now = new Date()): Promise<TestChain> {
    if (plan.keyAlgorithm !== "ECDSA") throw new Error(`makeChainLikeServerCertificate knows ECDSA only, plan has ${plan.keyAlgorithm as string}`);
    const caKey = await makeEcKey(dir, `${name}-ca`, plan.ecdsaCurve);
    const caCert = await makeCertificate(dir, {
        name: `${name}-ca`,
        keyPath: caKey,
        commonName: `${name} plumberhub CA`,
        organization: plan.organization,
        isCa: true,
        allowedUses: plan.caAllowedUses,
        notBefore: now,
        notAfter: new Date(now.getTime() + plan.caValidityHours * HOUR_MS),
    });
    const serverKey = await makeEcKey(dir, `${name}-server`, plan.ecdsaCurve);
    const serverCert = await makeCertificate(dir, {
        name: `${name}-server`,
        keyPath: serverKey,
        commonName: plan.commonName,
        organization: plan.organization,
        isCa: false,
        allowedUses: plan.serverAllowedUses,
        dnsNames: plan.dnsNames,
        ipAddresses: plan.ipAddresses,
        notBefore: now,
        notAfter: new Date(now.getTime() + plan.validityHours * HOUR_MS),
        issuer: { keyPath: caKey, certPath: caCert },
    });
    return { caKey, caCert, serverKey, serverCert };
}
