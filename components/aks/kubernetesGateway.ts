import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
    GatewayObjects,
    GatewayObjectsOptions,
    gatewayObjectList,
    KubernetesGatewayAcme,
    renderGatewayObjects,
    renderKubernetesGatewayFiles,
    validateKubernetesGatewayAcme,
} from "../render/kubernetes";
import { GatewayLimits, validateGatewayCertificateSource } from "../render/gateway";
import { DEFAULT_NAMESPACE, validateKubernetesGatewaySettings } from "../config/aks";
import { DEFAULT_PROTECT_STATE } from "../config/stateProtection";
import { Model } from "../config/model";
import { asResourceError } from "../util/errors";
import { childName, createKubernetesResource, KubernetesObjectInput } from "./kubernetesResources";

export interface KubernetesGatewayArgs {
    /** Models listed on the landing page, with their user lists. Any model Service in the namespace is routed (DNS). */
    models: Model[];
    /** Namespace of the gateway and the models. Default `DEFAULT_NAMESPACE` (`models`). */
    namespace?: string;
    /** Kubernetes provider of the cluster (`AksCluster.provider`). Default: the ambient provider. */
    provider?: k8s.Provider;
    /** PEM certificate chain, server certificate first (`ServerCertificate.certChainPem`). Required without `acme`, refused with it. */
    tlsCertificate?: pulumi.Input<string>;
    /** PEM private key (`ServerCertificate.privateKeyPem`); stored in a Secret. Required without `acme`, refused with it. */
    tlsKey?: pulumi.Input<string>;
    /**
     * The certificate from an ACME server over HTTP-01, renewed inside the gateway pods (`KubernetesGatewayAcme`: names,
     * contact, directory on port 443, an optional CA bundle, plain values; the state volume's StorageClass, default
     * `azurefile-csi`, and size, default `1Gi`). Adds a ReadWriteMany PersistentVolumeClaim and lets the pods reach TCP
     * 443 on public addresses; `image` must then have lego, openssl, GNU date and flock. Replaces `tlsCertificate` and
     * `tlsKey`. Default none.
     */
    acme?: KubernetesGatewayAcme;
    /**
     * Keep the ACME state claim (account and certificates: a new order counts against the ACME server's rate limits)
     * when Pulumi deletes it (`retainOnDelete`). Default `DEFAULT_PROTECT_STATE` (true).
     */
    retainAcmeData?: boolean;
    /** htpasswd lines of the gateway users (`Credentials.htpasswd`); stored in a Secret. */
    htpasswd: pulumi.Input<string>;
    /** nginx image, pinned. Default `DEFAULT_GATEWAY_IMAGE`. */
    image?: string;
    /** Gateway pods. Default 2. */
    replicas?: number;
    /** kube-dns address for nginx's per-request resolving. Default `AKS_DNS_SERVICE_IP` (what `AksCluster` sets up). */
    resolver?: string;
    /** Azure DNS label of the LoadBalancer IP: `{label}.{location}.cloudapp.azure.com`. Default none. */
    dnsLabel?: string;
    /** Azure region, to spell the `dnsLabel` host in `url`. Default none (then `url` uses the IP). */
    location?: string;
    /** Host name clients use (your own DNS record); wins over `dnsLabel` in `url`. Default none. */
    hostname?: string;
    /** Existing static public IP for the LoadBalancer. Default: Azure assigns one. */
    staticIp?: string;
    /** Resource group of `staticIp` when it is not the cluster's node resource group. Default none. */
    staticIpResourceGroup?: string;
    /** Do not wait for the LoadBalancer's address (`pulumi.com/skipAwait`); `url` may then be unknown. Default false. */
    skipLoadBalancerAwait?: boolean;
    /** Request limits and timeouts (`readTimeoutSeconds` also sets the pods' termination grace period). Default: the gateway renderer's. */
    limits?: GatewayLimits;
    /** Landing page title. Default `GATEWAY_SETTINGS_DEFAULTS.title`. */
    title?: string;
    /**
     * Per-model metrics at `/metrics` (Prometheus text format, behind the basic auth): `image` needs Debian's nginx
     * with its Lua module (README "Metrics"). Default false.
     */
    metrics?: boolean;
    /** Resources the pods must wait for, e.g. `AksCluster.workloadDependencies`. Default none. */
    dependsOn?: pulumi.Resource[];
}

/** Checks the plain fields of `KubernetesGatewayArgs` (pure; throws naming the field). */
export function validateKubernetesGatewayArgs(args: KubernetesGatewayArgs): void {
    validateKubernetesGatewaySettings(args);
    validateGatewayCertificateSource(
        { certificate: args.tlsCertificate !== undefined, key: args.tlsKey !== undefined, acme: args.acme !== undefined },
        { certificate: "tlsCertificate", key: "tlsKey", acme: "acme" },
    );
    if (args.acme !== undefined) validateKubernetesGatewayAcme(args.acme, "acme");
    if (args.dnsLabel === undefined && args.location !== undefined && args.hostname === undefined) {
        throw new Error("`location` only spells the `dnsLabel` host: give `dnsLabel` too, or leave `location` out");
    }
}

/**
 * The environment's nginx gateway on Kubernetes: 2 pinned nginx pods with nginx.conf and the landing page from a
 * ConfigMap, TLS and htpasswd from Secrets (a checksum of all of them rolls the pods on change), a PDB, and a
 * `LoadBalancer` Service on 80/443 with an optional static IP and Azure DNS label, NetworkPolicies that let clients
 * reach the gateway pods on their listen ports only and the pods reach only model pods and the cluster DNS, and the
 * namespace's `default-deny` NetworkPolicy (one gateway per hub namespace). `/{model}/…` goes to the Service
 * `model-{model}` of the namespace, resolved per request through kube-dns. With `acme` the pods get their certificate
 * from an ACME server themselves (HTTP-01), keeping it on a shared PersistentVolumeClaim, instead of a TLS Secret, and
 * may also reach TCP 443 on public addresses.
 */
export class KubernetesGateway extends pulumi.ComponentResource {
    /** `https://{host}` of the gateway (undefined until the LoadBalancer has an address, unless a host is known). */
    public readonly url: pulumi.Output<string | undefined>;
    /** Public IP or host name the LoadBalancer got (undefined until assigned). */
    public readonly loadBalancerAddress: pulumi.Output<string | undefined>;
    /** The gateway Service's name. */
    public readonly serviceName: pulumi.Output<string>;
    /** The rendered nginx.conf (no secrets in it), for review. */
    public readonly nginxConf: pulumi.Output<string>;

    constructor(name: string, args: KubernetesGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:aks:KubernetesGateway", name, {}, opts);
        // Validation first, then nginx.conf and the landing page, whose renderer checks the models and limits.
        const files = asResourceError(this, () => {
            validateKubernetesGatewayArgs(args);
            return renderKubernetesGatewayFiles(
                {
                    namespace: args.namespace ?? DEFAULT_NAMESPACE,
                    models: args.models,
                    resolver: args.resolver,
                    limits: args.limits,
                    title: args.title,
                    metrics: args.metrics,
                },
                { acme: args.acme !== undefined },
            );
        });
        const options: Omit<GatewayObjectsOptions, "tlsCert" | "tlsKey" | "htpasswd"> = {
            ...files,
            namespace: args.namespace ?? DEFAULT_NAMESPACE,
            acme: args.acme,
            image: args.image,
            replicas: args.replicas,
            dnsLabel: args.dnsLabel,
            staticIp: args.staticIp,
            staticIpResourceGroup: args.staticIpResourceGroup,
            skipLoadBalancerAwait: args.skipLoadBalancerAwait,
            // The grace period covers the longest request nginx waits for.
            readTimeoutSeconds: args.limits?.readTimeoutSeconds,
        };
        // Objects without secrets are rendered now (known in previews); the Secrets and the Deployment (whose
        // checksum covers the secret files) once the certificate, key and htpasswd are known. With ACME there is
        // no certificate or key to wait for.
        const certificate = (tlsCert: string, tlsKey: string) => (args.acme ? {} : { tlsCert, tlsKey });
        const plain = renderGatewayObjects({ ...options, ...certificate("", ""), htpasswd: "" });
        const rendered = pulumi
            .all([args.tlsCertificate ?? "", args.tlsKey ?? "", args.htpasswd])
            .apply(([tlsCert, tlsKey, htpasswd]) => renderGatewayObjects({ ...options, ...certificate(tlsCert, tlsKey), htpasswd }));
        const fromSecrets = (pick: (o: GatewayObjects) => KubernetesObjectInput | undefined, field: string, secret: boolean) => {
            const value = rendered.apply((o) => pick(o)?.[field]);
            // A SHA-256 of the files reveals nothing of them, so the Deployment spec stays readable in diffs.
            return secret ? pulumi.secret(value) : pulumi.unsecret(value);
        };
        const inputs = new Map<object, KubernetesObjectInput>([
            [plain.htpasswdSecret, { ...plain.htpasswdSecret, stringData: fromSecrets((o) => o.htpasswdSecret, "stringData", true) }],
            [plain.deployment, { ...plain.deployment, spec: fromSecrets((o) => o.deployment, "spec", false) }],
        ]);
        // Child names of the kinds the gateway has more than one of.
        const suffixes = new Map<object, string>([
            [plain.htpasswdSecret, "htpasswd"],
            [plain.defaultDeny, "default-deny"],
            [plain.ingressPolicy, "ingress"],
            [plain.egressPolicy, "egress"],
        ]);
        if (plain.tlsSecret) {
            inputs.set(plain.tlsSecret, { ...plain.tlsSecret, stringData: fromSecrets((o) => o.tlsSecret, "stringData", true) });
            suffixes.set(plain.tlsSecret, "tls");
        }
        const childOpts = { parent: this, provider: args.provider };
        const created = new Map<object, pulumi.CustomResource>();
        for (const object of gatewayObjectList(plain)) {
            const resourceName = childName(name, object, suffixes.get(object));
            const input = inputs.get(object) ?? object;
            const opts =
                object === plain.deployment
                    ? { ...childOpts, dependsOn: args.dependsOn }
                    : object === plain.acmeVolumeClaim
                      ? { ...childOpts, retainOnDelete: args.retainAcmeData ?? DEFAULT_PROTECT_STATE }
                      : childOpts;
            created.set(object, createKubernetesResource(resourceName, input, opts));
        }

        const service = created.get(plain.service) as k8s.core.v1.Service;
        this.serviceName = service.metadata.name;
        this.loadBalancerAddress = service.status.apply((status) => {
            const ingress = status?.loadBalancer?.ingress?.[0];
            return ingress?.ip ?? ingress?.hostname ?? undefined;
        });
        const knownHost = args.hostname ?? (args.dnsLabel && args.location ? `${args.dnsLabel}.${args.location}.cloudapp.azure.com` : undefined);
        this.url = knownHost ? pulumi.output(`https://${knownHost}`) : this.loadBalancerAddress.apply((a) => (a ? `https://${a}` : undefined));
        this.nginxConf = pulumi.output(files.nginxConf);
        this.registerOutputs({
            url: this.url,
            loadBalancerAddress: this.loadBalancerAddress,
            serviceName: this.serviceName,
            nginxConf: this.nginxConf,
        });
    }
}
