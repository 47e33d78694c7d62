import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_NAMESPACE } from "../config/aks";
import { MODEL_SERVICE_PORT } from "../config/routing";
import { modelObjectList, renderModelObjects } from "../render/kubernetes";
import { validateNamespace } from "../config/aks";
import { validateImageByDigest } from "../config/image";
import { Model } from "../config/model";
import { asResourceError } from "../util/errors";
import { childName, createKubernetesResource, withContainerImage } from "./kubernetesResources";

export interface KubernetesModelArgs {
    /** The validated model (from `validateModel`). */
    model: Model;
    /**
     * Image pinned by digest, `registry/repo@sha256:…` (e.g. `ModelImage.repoDigest`). Checked when the value is
     * known: a plain string at once, an Output when it resolves.
     */
    image: pulumi.Input<string>;
    /** Namespace (must exist; `AksCluster` creates it). Default `DEFAULT_NAMESPACE` (`models`). */
    namespace?: string;
    /** Kubernetes provider of the cluster (`AksCluster.provider`). Default: the ambient provider. */
    provider?: k8s.Provider;
    /**
     * Also expose the model directly on its own `LoadBalancer` Service, port 8000, bypassing the gateway (no TLS,
     * no auth: the walkthrough's direct exposure). Default false.
     */
    loadBalancer?: boolean;
    /**
     * The gateway's read timeout, seconds (`KubernetesGatewayArgs.limits.readTimeoutSeconds`): the longest request a
     * stopping pod finishes before the kubelet kills it. Default `GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds` (120).
     */
    gatewayReadTimeoutSeconds?: number;
    /** Resources the pods must wait for, e.g. `AksCluster.workloadDependencies` (AcrPull, namespace). Default none. */
    dependsOn?: pulumi.Resource[];
}

/** Checks the plain fields of `KubernetesModelArgs` (pure; throws naming the field). */
export function validateKubernetesModelArgs(args: KubernetesModelArgs): void {
    validateNamespace(args.namespace ?? DEFAULT_NAMESPACE);
    if (typeof args.image === "string") validateImageByDigest(args.image);
}

/**
 * One model on Kubernetes: a NetworkPolicy `model-{name}` (in: the gateway's pods on `http`, anyone too with
 * `loadBalancer`; out: the cluster DNS, and public addresses with `egress: "internet"`), a Deployment (image by
 * digest, requests/limits, startup/readiness probes on `/healthz` and liveness on TCP, a preStop drain, non-root with
 * a read-only root filesystem and a writable `/tmp`, rolling update without unavailable pods, spread over zones and
 * nodes, config checksum), a ClusterIP Service `model-{name}` (the only Services the gateway's DNS routing
 * resolves), an HPA when the model autoscales, a PDB when it has more than one replica, and optionally its own
 * LoadBalancer. The objects come from `renderModelObjects`, the same ones the YAML export writes.
 */
export class KubernetesModel extends pulumi.ComponentResource {
    /** The ClusterIP Service's name, `model-{name}`. */
    public readonly serviceName: pulumi.Output<string>;
    /** In-cluster address the gateway routes to: `http://model-{model}.{namespace}.svc.cluster.local:8000`. */
    public readonly internalUrl: pulumi.Output<string>;
    /** `http://{ip}:8000` of the model's own LoadBalancer (undefined without `loadBalancer` or before an IP is assigned). */
    public readonly publicUrl: pulumi.Output<string | undefined>;
    /** The image the pods run. */
    public readonly image: pulumi.Output<string>;

    constructor(name: string, args: KubernetesModelArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:aks:KubernetesModel", name, {}, opts);
        asResourceError(this, () => validateKubernetesModelArgs(args));
        const namespace = args.namespace ?? DEFAULT_NAMESPACE;
        const image = pulumi.output(args.image).apply((value) => {
            validateImageByDigest(value);
            return value;
        });
        // Rendered with a placeholder image, which is then swapped for the digest (known only at deploy time).
        const objects = renderModelObjects(args.model, {
            namespace,
            image: "placeholder",
            loadBalancer: args.loadBalancer,
            gatewayReadTimeoutSeconds: args.gatewayReadTimeoutSeconds,
        });
        const childOpts = { parent: this, provider: args.provider };
        const created = new Map<object, pulumi.CustomResource>();
        for (const object of modelObjectList(objects)) {
            const isDeployment = object === objects.deployment;
            const suffix = object === objects.loadBalancer ? "public" : undefined;
            created.set(
                object,
                createKubernetesResource(
                    childName(name, object, suffix),
                    isDeployment ? withContainerImage(object, image) : object,
                    isDeployment ? { ...childOpts, dependsOn: args.dependsOn } : childOpts,
                ),
            );
        }

        const service = created.get(objects.service) as k8s.core.v1.Service;
        this.serviceName = service.metadata.name;
        this.internalUrl = pulumi.interpolate`http://${service.metadata.name}.${namespace}.svc.cluster.local:${MODEL_SERVICE_PORT}`;
        const publicService = objects.loadBalancer ? (created.get(objects.loadBalancer) as k8s.core.v1.Service) : undefined;
        this.publicUrl = publicService
            ? publicService.status.apply((status) => {
                  const ingress = status?.loadBalancer?.ingress?.[0];
                  const host = ingress?.ip ?? ingress?.hostname;
                  return host ? `http://${host}:${MODEL_SERVICE_PORT}` : undefined;
              })
            : pulumi.output(undefined);
        this.image = image;
        this.registerOutputs({ serviceName: this.serviceName, internalUrl: this.internalUrl, publicUrl: this.publicUrl, image: this.image });
    }
}
