/**
 * The gateway's TLS: host names, the self-signed plan, and the checks on a provided certificate.
 * Plain data and node's crypto, no Pulumi: the component and the real openssl tests read the same plan.
 */
import { createHash, createPrivateKey, createPublicKey, KeyObject, X509Certificate } from "crypto";
import { isIP } from "net";
import { isDnsName } from "./checks";

/** `selfSigned`: own CA + server cert (@pulumi/tls); `provided`: PEMs from config; `acme`: Let's Encrypt. */
export type TlsMode = "selfSigned" | "provided" | "acme";
export const TLS_MODES: readonly TlsMode[] = ["selfSigned", "provided", "acme"];

/** Names the gateway answers to. */
export interface TlsHosts {
    /** DNS names (lower case; a leading `*.` is a wildcard for one label). */
    dnsNames: string[];
    /** IPv4/IPv6 addresses clients use to reach the gateway directly. */
    ipAddresses: string[];
}

/** Everything the self-signed mode passes to @pulumi/tls (and the real tests pass to openssl). */
export interface SelfSignedTlsPlan extends TlsHosts {
    /** Key algorithm for CA and server keys: ECDSA P-256 (fast handshakes, accepted everywhere TLS 1.2+ is). */
    keyAlgorithm: "ECDSA";
    ecdsaCurve: "P256";
    /** Subject common name of the server certificate (first DNS name, else first IP). */
    commonName: string;
    /** Subject organisation of both certificates. */
    organization: string;
    /** @pulumi/tls `allowedUses` of the CA certificate. */
    caAllowedUses: string[];
    /** @pulumi/tls `allowedUses` of the server certificate. */
    serverAllowedUses: string[];
    /** CA certificate lifetime, hours. */
    caValidityHours: number;
    /** Server certificate lifetime, hours. */
    validityHours: number;
    /** Hours before expiry at which the server key and certificate are replaced. */
    renewBeforeHours: number;
    /** `time.Rotating` period, hours: validityHours − renewBeforeHours. */
    rotationHours: number;
}

/** The host names and self-signed settings, as ServerCertificate takes them (its Args extend this). */
export interface SelfSignedTlsInput {
    /** DNS names of the gateway: the SANs (selfSigned, acme) or the names the certificate must cover (provided). Default none. */
    dnsNames?: string[];
    /** IP addresses of the gateway, likewise; not in `acme` mode. Default none. */
    ipAddresses?: string[];
    /** selfSigned: server certificate lifetime, hours. Default 2160 (90 days). */
    validityHours?: number;
    /** selfSigned: replace server key and certificate this many hours before expiry. Default 720 (30 days). */
    renewBeforeHours?: number;
    /** selfSigned: CA lifetime, hours. Default 87600 (10 years); the CA is not rotated. */
    caValidityHours?: number;
    /** selfSigned: subject organisation. Default "plumberhub". */
    organization?: string;
}

/** Validates host names and IPs; at least one of either. */
export function validateHosts(dnsNames: string[] = [], ipAddresses: string[] = []): TlsHosts {
    dnsNames.forEach((host, i) => {
        if (!isDnsName(host, true)) {
            throw new Error(
                `\`dnsNames[${i}]\` must be a lower-case DNS name (labels of letters, digits and \`-\`, optional leading \`*.\`), got ${JSON.stringify(host)}`,
            );
        }
    });
    ipAddresses.forEach((ip, i) => {
        if (typeof ip !== "string" || isIP(ip) === 0) {
            throw new Error(`\`ipAddresses[${i}]\` must be an IPv4 or IPv6 address, got ${JSON.stringify(ip)}`);
        }
    });
    if (dnsNames.length + ipAddresses.length === 0) {
        throw new Error("`dnsNames` and `ipAddresses` are both empty: give the gateway at least one host name or IP address");
    }
    return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

function positiveInteger(value: number, field: string): number {
    if (!Number.isInteger(value) || value < 1) throw new Error(`\`${field}\` must be a whole number of hours ≥ 1, got ${JSON.stringify(value)}`);
    return value;
}

/** Validates the self-signed inputs and fills the defaults. */
export function planSelfSignedTls(input: SelfSignedTlsInput): SelfSignedTlsPlan {
    const hosts = validateHosts(input.dnsNames, input.ipAddresses);
    const validityHours = positiveInteger(input.validityHours ?? 2160, "validityHours");
    const renewBeforeHours = positiveInteger(input.renewBeforeHours ?? 720, "renewBeforeHours");
    const caValidityHours = positiveInteger(input.caValidityHours ?? 87600, "caValidityHours");
    if (renewBeforeHours >= validityHours) {
        throw new Error(
            `\`renewBeforeHours\` must be less than \`validityHours\` (${validityHours}), got ${renewBeforeHours}: the certificate would be replaced on every run`,
        );
    }
    if (caValidityHours < validityHours) {
        throw new Error(`\`caValidityHours\` must be at least \`validityHours\` (${validityHours}), got ${caValidityHours}`);
    }
    return {
        ...hosts,
        keyAlgorithm: "ECDSA",
        ecdsaCurve: "P256",
        commonName: hosts.dnsNames[0] ?? hosts.ipAddresses[0],
        organization: input.organization ?? "plumberhub",
        caAllowedUses: ["cert_signing", "crl_signing", "digital_signature"],
        // ECDSA keys sign; `key_encipherment` (RSA key transport) does not apply.
        serverAllowedUses: ["digital_signature", "server_auth"],
        caValidityHours,
        validityHours,
        renewBeforeHours,
        rotationHours: validityHours - renewBeforeHours,
    };
}

/** A time as RFC 3339 in UTC, cut to the second as certificates hold it (`2027-02-28T10:00:00Z`). */
export function rfc3339(time: Date): string {
    return new Date(Math.floor(time.getTime() / 1000) * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** The PEMs of `provided` mode. */
export interface ProvidedPems {
    /** Server certificate first, then any intermediates. */
    certificatePem: string;
    /** Unencrypted private key of the server certificate (PKCS#1, SEC1 or PKCS#8). */
    privateKeyPem: string;
    /** The CA clients will trust; when given, the chain must end at it or at a certificate it signed. */
    caCertPem?: string;
}

/** What the check learnt from a good provided certificate. */
export interface ProvidedCertificateInfo {
    /** The server certificate's expiry. */
    notAfter: Date;
    /** Its subject alternative names as openssl prints them. */
    subjectAltName: string;
    /** The certificates of `certificatePem`, each re-encoded as PEM, server first. */
    chain: string[];
}

function splitPemCertificates(pem: string): string[] {
    return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

function publicKeyFingerprint(key: KeyObject): string {
    return createHash("sha256")
        .update(key.export({ type: "spki", format: "der" }))
        .digest("hex")
        .slice(0, 16);
}

/** Whether `cert` names `host` in its SANs (wildcard hosts must appear literally; subject CN is ignored as browsers do). */
function covers(cert: X509Certificate, host: string): boolean {
    if (isIP(host)) return cert.checkIP(host) !== undefined;
    if (host.startsWith("*.")) {
        return (cert.subjectAltName ?? "").split(", ").some((san) => san.toLowerCase() === `dns:${host}`);
    }
    return cert.checkHost(host, { subject: "never", wildcards: true, partialWildcards: false, multiLabelWildcards: false }) !== undefined;
}

function checkChainEndsAtCa(last: X509Certificate, caCertPem: string): void {
    let ca: X509Certificate;
    try {
        ca = new X509Certificate(caCertPem);
    } catch (error) {
        throw new Error(`\`caCertPem\` must be a PEM certificate; it could not be parsed (${(error as Error).message})`, { cause: error });
    }
    if (last.fingerprint256 === ca.fingerprint256) return;
    if (!last.checkIssued(ca) || !last.verify(ca.publicKey)) {
        throw new Error(
            `\`certificatePem\` does not lead to \`caCertPem\`: its last certificate (issuer ${last.issuer.replace(/\n/g, ", ")}) ` +
                `is neither the CA (subject ${ca.subject.replace(/\n/g, ", ")}) nor signed by it; add the missing intermediates or give the right CA`,
        );
    }
}

/**
 * Checks a provided certificate and key before anything is deployed: both parse, the key belongs
 * to the certificate, the certificate is valid at `now`, each intermediate signed the one before,
 * the chain ends at `caCertPem` when one is given, and the SANs cover every host. Throws a message naming the field; never echoes the key.
 */
export function checkProvidedCertificate(pems: ProvidedPems, hosts: TlsHosts, now: Date): ProvidedCertificateInfo {
    const blocks = splitPemCertificates(pems.certificatePem ?? "");
    if (blocks.length === 0) {
        throw new Error("`certificatePem` must hold at least one PEM certificate (-----BEGIN CERTIFICATE-----), found none");
    }
    const chain = blocks.map((block, i) => {
        try {
            return new X509Certificate(block);
        } catch (error) {
            throw new Error(`\`certificatePem\` certificate ${i + 1} of ${blocks.length} could not be parsed: ${(error as Error).message}`, {
                cause: error,
            });
        }
    });
    const leaf = chain[0];
    let key: KeyObject;
    try {
        key = createPrivateKey(pems.privateKeyPem ?? "");
    } catch (error) {
        throw new Error(
            `\`privateKeyPem\` must be an unencrypted PEM private key (PKCS#1, SEC1 or PKCS#8); it could not be read (${(error as Error).message})`,
            { cause: error },
        );
    }
    if (!leaf.checkPrivateKey(key)) {
        throw new Error(
            `\`privateKeyPem\` does not match the certificate in \`certificatePem\` (subject ${leaf.subject.replace(/\n/g, ", ")}): ` +
                `certificate public key sha256 ${publicKeyFingerprint(leaf.publicKey)}…, key's public key sha256 ${publicKeyFingerprint(createPublicKey(key))}…; provide the key the certificate was issued for`,
        );
    }
    const notBefore = new Date(leaf.validFrom);
    const notAfter = new Date(leaf.validTo);
    if (notAfter.getTime() <= now.getTime()) {
        throw new Error(
            `\`certificatePem\` expired on ${notAfter.toISOString()} (now ${now.toISOString()}); provide a certificate that is currently valid`,
        );
    }
    if (notBefore.getTime() > now.getTime()) {
        throw new Error(
            `\`certificatePem\` is not valid before ${notBefore.toISOString()} (now ${now.toISOString()}); provide a certificate that is currently valid`,
        );
    }
    for (let i = 1; i < chain.length; i++) {
        if (!chain[i - 1].verify(chain[i].publicKey)) {
            throw new Error(
                `\`certificatePem\` certificate ${i + 1} did not sign certificate ${i}: list the server certificate first, then each issuer in order`,
            );
        }
    }
    if (pems.caCertPem !== undefined) checkChainEndsAtCa(chain[chain.length - 1], pems.caCertPem);
    const uncovered = [...hosts.dnsNames, ...hosts.ipAddresses].filter((host) => !covers(leaf, host));
    if (uncovered.length > 0) {
        throw new Error(
            `\`certificatePem\` does not cover ${uncovered.map((host) => `\`${host}\``).join(", ")}: its subject alternative names are ` +
                `${leaf.subjectAltName ?? "(none)"}; reissue the certificate with those names or remove them from \`dnsNames\`/\`ipAddresses\``,
        );
    }
    return { notAfter, subjectAltName: leaf.subjectAltName ?? "", chain: chain.map((cert) => cert.toString()) };
}

/** Let's Encrypt's production directory (the default) and its staging directory (untrusted certs, high limits). */
export const LETS_ENCRYPT_PRODUCTION = "https://acme-v02.api.letsencrypt.org/directory";
export const LETS_ENCRYPT_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory";

/** Whether the gateway gets and renews its certificate itself (`tls: acme` with the HTTP-01 challenge). */
export function renewsInGateway(acme: { challenge?: AcmeChallenge } | undefined): boolean {
    return acme?.challenge === "http";
}

/** The ACME directory of a config: the given URL, else Let's Encrypt's staging or production directory. */
export function acmeDirectoryUrl(acme: { directoryUrl?: string; staging?: boolean }): string {
    return acme.directoryUrl ?? (acme.staging ? LETS_ENCRYPT_STAGING : LETS_ENCRYPT_PRODUCTION);
}

/** How `tls: acme` proves the names: `http` (HTTP-01 through the gateway, renewed in it) or `azureDns` (DNS-01 at deploy). */
export type AcmeChallenge = "http" | "azureDns";
export const ACME_CHALLENGES: readonly AcmeChallenge[] = ["http", "azureDns"];

/** An e-mail address as ACME servers take it; no quote or space, so it can be written into a script. */
const ACME_EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
/** An https URL without characters a shell or lego would read differently. */
const ACME_DIRECTORY_URL = /^https:\/\/[A-Za-z0-9.-]+(:\d{1,5})?(\/[A-Za-z0-9._~%/+-]*)?$/;

/** Checks an ACME account's contact e-mail; throws naming `field`. */
export function checkAcmeEmail(email: unknown, field: string): asserts email is string {
    if (typeof email !== "string" || !ACME_EMAIL.test(email)) {
        throw new Error(
            `\`${field}\` must be an e-mail address such as ops@example.com (the ACME server sends expiry notices to it), got ${JSON.stringify(email)}`,
        );
    }
}

/** Checks an ACME directory URL; throws naming `field`. */
export function checkAcmeDirectoryUrl(url: unknown, field: string): asserts url is string {
    if (typeof url !== "string" || !ACME_DIRECTORY_URL.test(url)) {
        throw new Error(`\`${field}\` must be an https:// ACME directory URL such as ${LETS_ENCRYPT_PRODUCTION}, got ${JSON.stringify(url)}`);
    }
}

/**
 * Checks that an ACME directory is on https's own port: where the gateway may reach it only on TCP 443 (its egress
 * NetworkPolicy on Kubernetes). Throws naming `field`.
 */
export function checkAcmeDirectoryOnHttpsPort(url: string, field: string): void {
    // `URL` leaves out https's default port.
    if (new URL(url).port !== "") {
        throw new Error(
            `\`${field}\` must be on port 443 on Kubernetes (the gateway's egress NetworkPolicy lets the renewal reach TCP 443 only), got ${JSON.stringify(url)}`,
        );
    }
}

/** Checks a PEM bundle of CA certificates (at least one, each parseable); throws naming `field`. */
export function checkCaBundle(pem: unknown, field: string): asserts pem is string {
    const blocks = typeof pem === "string" ? splitPemCertificates(pem) : [];
    if (blocks.length === 0) {
        throw new Error(`\`${field}\` must hold PEM certificates (-----BEGIN CERTIFICATE-----), found none`);
    }
    blocks.forEach((block, i) => {
        try {
            new X509Certificate(block);
        } catch (error) {
            throw new Error(`\`${field}\` certificate ${i + 1} of ${blocks.length} could not be parsed: ${(error as Error).message}`, {
                cause: error,
            });
        }
    });
}

/** The plain (non-secret) part of `acme` mode, as validation sees it. */
export interface AcmeShape {
    email: string;
    serverUrl?: string;
    /** Azure DNS zone that holds the `_acme-challenge` TXT records, e.g. `example.com`. */
    zoneName: string;
    /** Renew when fewer than this many days remain. Default 30. */
    renewBeforeDays?: number;
}

/**
 * Validates `acme` mode: a contact e-mail, an https directory, DNS names only (the DNS-01 challenge
 * proves names, not addresses), each name inside the Azure DNS zone that answers the challenge.
 */
export function validateAcme(acme: AcmeShape | undefined, dnsNames: string[] = [], ipAddresses: string[] = []): Required<AcmeShape> {
    if (!acme) throw new Error('`acme` must be set when `mode` is "acme" (e-mail, Azure DNS zone and credentials)');
    validateHosts(dnsNames, ipAddresses);
    if (ipAddresses.length > 0) {
        throw new Error(`\`ipAddresses\` must be empty in acme mode (a DNS-01 challenge proves DNS names only), got ${JSON.stringify(ipAddresses)}`);
    }
    checkAcmeEmail(acme.email, "acme.email");
    const serverUrl = acme.serverUrl ?? LETS_ENCRYPT_PRODUCTION;
    checkAcmeDirectoryUrl(serverUrl, "acme.serverUrl");
    const zone = (acme.zoneName ?? "").toLowerCase();
    if (!isDnsName(zone)) {
        throw new Error(`\`acme.zoneName\` must be the Azure DNS zone name, e.g. "example.com", got ${JSON.stringify(acme.zoneName)}`);
    }
    dnsNames.forEach((host, i) => {
        const bare = host.replace(/^\*\./, "");
        if (bare !== zone && !bare.endsWith(`.${zone}`)) {
            throw new Error(
                `\`dnsNames[${i}]\` ${JSON.stringify(host)} is outside \`acme.zoneName\` ${JSON.stringify(zone)}: the DNS-01 challenge record could not be written`,
            );
        }
    });
    const renewBeforeDays = acme.renewBeforeDays ?? 30;
    if (!Number.isInteger(renewBeforeDays) || renewBeforeDays < 1 || renewBeforeDays > 60) {
        throw new Error(
            `\`acme.renewBeforeDays\` must be a whole number of days from 1 to 60 (certificates last 90), got ${JSON.stringify(renewBeforeDays)}`,
        );
    }
    return { email: acme.email, serverUrl, zoneName: zone, renewBeforeDays };
}
