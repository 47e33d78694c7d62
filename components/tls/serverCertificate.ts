import * as acme from "@pulumiverse/acme";
import * as time from "@pulumiverse/time";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import {
    checkProvidedCertificate,
    planSelfSignedTls,
    rfc3339,
    SelfSignedTlsInput,
    TLS_MODES,
    TlsMode,
    validateAcme,
    validateHosts,
} from "../config/tls";
import { asResourceError } from "../util/errors";

/** Azure DNS credentials for the ACME DNS-01 challenge (lego's `azuredns` provider). */
export interface AcmeAzureDnsArgs {
    /** Subscription of the DNS zone. */
    subscriptionId: pulumi.Input<string>;
    /** Resource group of the DNS zone. */
    resourceGroup: pulumi.Input<string>;
    /** Entra tenant. Default: from the environment of `pulumi up`. */
    tenantId?: pulumi.Input<string>;
    /** Service principal client id (needs "DNS Zone Contributor" on the zone). Default: ambient identity. */
    clientId?: pulumi.Input<string>;
    /** Service principal secret — pass a config secret. Default: ambient identity (`authMethod`). */
    clientSecret?: pulumi.Input<string>;
    /** lego `AZURE_AUTH_METHOD`: `env`, `msi`, `cli`, `wli` or `oidc`. Default: `env` when `clientSecret` is set, else lego's default chain. */
    authMethod?: "env" | "msi" | "cli" | "wli" | "oidc";
}

/** `acme` mode: Let's Encrypt with a DNS-01 challenge in Azure DNS. For public host names only. */
export interface ServerCertificateAcmeArgs {
    /** Account contact e-mail (expiry notices). */
    email: string;
    /** ACME directory URL. Default Let's Encrypt production (`LETS_ENCRYPT_STAGING` for trials). */
    serverUrl?: string;
    /** Azure DNS zone holding the names, e.g. `example.com`. */
    zoneName: string;
    /** Renew when fewer than this many days remain (the provider renews during `pulumi up`). Default 30. */
    renewBeforeDays?: number;
    azureDns: AcmeAzureDnsArgs;
}

/** Host names and selfSigned settings come from `SelfSignedTlsInput` (dnsNames, ipAddresses, validityHours, …). */
export interface ServerCertificateArgs extends SelfSignedTlsInput {
    /** Where the certificate comes from. Plain: it decides which resources exist. */
    mode: TlsMode;
    /** provided: PEM server certificate, then intermediates (a config secret or value). */
    certificatePem?: pulumi.Input<string>;
    /** provided: PEM private key of that certificate (a config secret), unencrypted. */
    privateKeyPem?: pulumi.Input<string>;
    /** provided: PEM of the CA clients should trust. Default: the last certificate of `certificatePem`. */
    caCertPem?: pulumi.Input<string>;
    /** acme: account, zone and Azure credentials. */
    acme?: ServerCertificateAcmeArgs;
}

/** What every mode yields. */
interface TlsMaterial {
    certificatePem: pulumi.Output<string>;
    certChainPem: pulumi.Output<string>;
    caCertPem: pulumi.Output<string>;
    privateKeyPem: pulumi.Output<string>;
    /** The server certificate's expiry, RFC 3339 in UTC to the second, as each source reports it. */
    notAfter: pulumi.Output<string>;
}

/** PEM blocks joined one per line-terminated block (providers differ on trailing newlines). */
function joinPem(...blocks: string[]): string {
    return blocks.map((block) => `${block.trim()}\n`).join("");
}

/** Type token this component had as `GatewayTls`: stacks deployed then keep their certificates (an alias, no replacement). */
const FORMER_TYPE = "plumberhub:tls:GatewayTls";

/**
 * The TLS certificate, key and CA of one HTTPS server of the hub (the gateway; on a swarm also the registry), in
 * one of three modes:
 * - `selfSigned`: ECDSA P-256 CA and server certificate via @pulumi/tls, rotated before expiry by a
 *   `time.Rotating` replacement trigger (the tls provider's `earlyRenewalHours` only flags a
 *   certificate for renewal when a refresh happens inside the window; it never replaces on its own).
 *   Run deployments with `pulumi up --refresh` so the rotation is noticed.
 * - `provided`: PEMs from config, checked at preview (key match, validity, SAN coverage).
 * - `acme`: Let's Encrypt via @pulumiverse/acme, DNS-01 challenge in Azure DNS.
 */
export class ServerCertificate extends pulumi.ComponentResource {
    /** The server certificate (PEM). */
    public readonly certificatePem: pulumi.Output<string>;
    /** Server certificate then intermediates (PEM): nginx `ssl_certificate`, registry `certificate`. */
    public readonly certChainPem: pulumi.Output<string>;
    /** The CA certificate clients trust (PEM): `curl --cacert`, docker `certs.d/<host>/ca.crt`. */
    public readonly caCertPem: pulumi.Output<string>;
    /** Secret: the server private key (PEM): nginx `ssl_certificate_key`. */
    public readonly privateKeyPem: pulumi.Output<string>;
    /** When the server certificate expires: RFC 3339 in UTC to the second, e.g. `2027-02-28T10:00:00Z`. */
    public readonly notAfter: pulumi.Output<string>;

    constructor(name: string, args: ServerCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:tls:ServerCertificate", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { type: FORMER_TYPE }] });
        if (!TLS_MODES.includes(args.mode)) {
            throw new pulumi.ResourceError(`\`mode\` must be one of ${TLS_MODES.join(", ")}, got ${JSON.stringify(args.mode)}`, this);
        }
        const material =
            args.mode === "selfSigned" ? this.selfSigned(name, args) : args.mode === "provided" ? this.provided(args) : this.acme(name, args);

        this.certificatePem = material.certificatePem;
        this.certChainPem = material.certChainPem;
        this.caCertPem = material.caCertPem;
        this.privateKeyPem = pulumi.secret(material.privateKeyPem);
        this.notAfter = material.notAfter;
        this.registerOutputs({
            certificatePem: this.certificatePem,
            certChainPem: this.certChainPem,
            caCertPem: this.caCertPem,
            privateKeyPem: this.privateKeyPem,
            notAfter: this.notAfter,
        });
    }

    private selfSigned(name: string, args: ServerCertificateArgs): TlsMaterial {
        const plan = asResourceError(this, () => planSelfSignedTls(args));
        const keyArgs = { algorithm: plan.keyAlgorithm, ecdsaCurve: plan.ecdsaCurve };
        const subject = { organization: plan.organization };

        const caKey = new tls.PrivateKey(`${name}-ca-key`, keyArgs, { parent: this, additionalSecretOutputs: ["privateKeyPem"] });
        const caCert = new tls.SelfSignedCert(
            `${name}-ca`,
            {
                privateKeyPem: caKey.privateKeyPem,
                isCaCertificate: true,
                allowedUses: plan.caAllowedUses,
                validityPeriodHours: plan.caValidityHours,
                subject: { ...subject, commonName: `${name} plumberhub CA` },
                setSubjectKeyId: true,
            },
            { parent: this },
        );

        // Recreated once `rotationHours` have passed since it was made; its new timestamp is the
        // replacement trigger of the server key and certificate, so both are replaced
        // `renewBeforeHours` before the old certificate expires. The time provider notices the
        // passed rotation time when it reads state, so deployments must refresh:
        // `pulumi up --refresh` (hashicorp/terraform-provider-time#118).
        const rotation = new time.Rotating(`${name}-rotation`, { rotationHours: plan.rotationHours }, { parent: this });
        const rotated = { parent: this, replacementTrigger: rotation.rotationRfc3339 };

        const serverKey = new tls.PrivateKey(`${name}-server-key`, keyArgs, { ...rotated, additionalSecretOutputs: ["privateKeyPem"] });
        const request = new tls.CertRequest(
            `${name}-server-csr`,
            {
                privateKeyPem: serverKey.privateKeyPem,
                dnsNames: plan.dnsNames,
                ipAddresses: plan.ipAddresses,
                subject: { ...subject, commonName: plan.commonName },
            },
            { parent: this },
        );
        const serverCert = new tls.LocallySignedCert(
            `${name}-server`,
            {
                certRequestPem: request.certRequestPem,
                caPrivateKeyPem: caKey.privateKeyPem,
                caCertPem: caCert.certPem,
                allowedUses: plan.serverAllowedUses,
                validityPeriodHours: plan.validityHours,
                // Also flag the certificate when a refresh lands in the window (belt and braces).
                earlyRenewalHours: plan.renewBeforeHours,
                setSubjectKeyId: true,
            },
            rotated,
        );
        return {
            certificatePem: serverCert.certPem,
            certChainPem: serverCert.certPem.apply((pem) => joinPem(pem)),
            caCertPem: caCert.certPem,
            privateKeyPem: serverKey.privateKeyPem,
            // The provider gives nanoseconds; the certificate holds whole seconds.
            notAfter: serverCert.validityEndTime.apply((end) => rfc3339(new Date(end))),
        };
    }

    private provided(args: ServerCertificateArgs): TlsMaterial {
        const hosts = asResourceError(this, () => validateHosts(args.dnsNames, args.ipAddresses));
        if (args.certificatePem === undefined || args.privateKeyPem === undefined) {
            throw new pulumi.ResourceError('`certificatePem` and `privateKeyPem` must both be set when `mode` is "provided"', this);
        }
        // Config secrets are known at preview, so this check fails `pulumi preview`, not the rollout.
        const checked = pulumi
            .all([args.certificatePem, args.privateKeyPem, args.caCertPem])
            .apply(([certificatePem, privateKeyPem, caCertPem]) =>
                asResourceError(this, () => checkProvidedCertificate({ certificatePem, privateKeyPem, caCertPem }, hosts, new Date())),
            );
        const caCertPem = pulumi.all([checked, args.caCertPem]).apply(([info, ca]) => ca ?? info.chain[info.chain.length - 1]);
        return {
            certificatePem: checked.apply((info) => info.chain[0]),
            certChainPem: checked.apply((info) => joinPem(...info.chain)),
            caCertPem,
            privateKeyPem: pulumi.all([checked, args.privateKeyPem]).apply(([, key]) => key),
            notAfter: pulumi.unsecret(checked.apply((info) => rfc3339(info.notAfter))),
        };
    }

    private acme(name: string, args: ServerCertificateArgs): TlsMaterial {
        const settings = asResourceError(this, () => validateAcme(args.acme, args.dnsNames, args.ipAddresses));
        const azure = args.acme!.azureDns;
        const dnsNames = args.dnsNames!;

        const provider = new acme.Provider(`${name}-acme`, { serverUrl: settings.serverUrl }, { parent: this });
        const accountKey = new tls.PrivateKey(
            `${name}-acme-account-key`,
            { algorithm: "ECDSA", ecdsaCurve: "P256" },
            { parent: this, additionalSecretOutputs: ["privateKeyPem"] },
        );
        const registration = new acme.Registration(
            `${name}-acme-account`,
            { accountKeyPem: accountKey.privateKeyPem, emailAddress: settings.email },
            { parent: this, provider },
        );
        // lego's azuredns settings; unset values fall back to the environment of `pulumi up`.
        const authMethod = azure.authMethod ?? (azure.clientSecret !== undefined ? "env" : undefined);
        const config: Record<string, pulumi.Input<string>> = {
            AZURE_SUBSCRIPTION_ID: azure.subscriptionId,
            AZURE_RESOURCE_GROUP: azure.resourceGroup,
            AZURE_ZONE_NAME: settings.zoneName,
            ...(azure.tenantId !== undefined && { AZURE_TENANT_ID: azure.tenantId }),
            ...(azure.clientId !== undefined && { AZURE_CLIENT_ID: azure.clientId }),
            ...(azure.clientSecret !== undefined && { AZURE_CLIENT_SECRET: pulumi.secret(azure.clientSecret) }),
            ...(authMethod !== undefined && { AZURE_AUTH_METHOD: authMethod }),
        };
        const certificate = new acme.Certificate(
            `${name}-acme-cert`,
            {
                accountKeyPem: registration.accountKeyPem,
                commonName: dnsNames[0],
                subjectAlternativeNames: dnsNames.slice(1),
                keyType: "P256",
                minDaysRemaining: settings.renewBeforeDays,
                dnsChallenges: [{ provider: "azuredns", config }],
            },
            { parent: this, provider, additionalSecretOutputs: ["privateKeyPem", "certificateP12"] },
        );
        return {
            certificatePem: certificate.certificatePem,
            certChainPem: pulumi.all([certificate.certificatePem, certificate.issuerPem]).apply(([leaf, issuer]) => joinPem(leaf, issuer)),
            caCertPem: certificate.issuerPem,
            privateKeyPem: certificate.privateKeyPem,
            notAfter: certificate.certificateNotAfter,
        };
    }
}
