import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubernetesObject } from "../render/kubernetes";

/**
 * A rendered object with some fields replaced by Pulumi inputs (an image digest, secret data): the rendered
 * object stays the single source of truth, only values known at deploy time are swapped in.
 */
export type KubernetesObjectInput = { [field: string]: pulumi.Input<unknown> } & { apiVersion: string; kind: string };

/** Each class takes its own args type; the rendered object is the args of its kind. */
type Constructor = new (name: string, args: never, opts?: pulumi.CustomResourceOptions) => pulumi.CustomResource;

/** The part of a Deployment spec an image is swapped into; the rest passes through. */
interface DeploymentSpec {
    template: { spec: { containers: Record<string, unknown>[]; [field: string]: unknown }; [field: string]: unknown };
    [field: string]: unknown;
}

/** The typed `@pulumi/kubernetes` class of each kind the renderers produce. */
const CLASSES: Record<string, Constructor> = {
    "v1/Namespace": k8s.core.v1.Namespace,
    "v1/ConfigMap": k8s.core.v1.ConfigMap,
    "v1/PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
    "v1/Secret": k8s.core.v1.Secret,
    "v1/Service": k8s.core.v1.Service,
    "apps/v1/Deployment": k8s.apps.v1.Deployment,
    "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2.HorizontalPodAutoscaler,
    "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy,
};

/** Creates the `@pulumi/kubernetes` resource for a rendered object (typed class, so awaits and diffs are the usual). */
export function createKubernetesResource(
    name: string,
    object: KubernetesObject | KubernetesObjectInput,
    opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
    const Class = CLASSES[`${object.apiVersion}/${object.kind}`];
    if (!Class) throw new Error(`no Pulumi resource class for ${object.apiVersion} ${object.kind}`);
    return new Class(name, object as never, opts);
}

/** Child resource name for a rendered object: `{component}-{kind}[-{suffix}]`, e.g. `hello-deployment`. */
export function childName(component: string, object: { kind: string }, suffix?: string): string {
    const kind = object.kind.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `-${c.toLowerCase()}`));
    return suffix ? `${component}-${kind}-${suffix}` : `${component}-${kind}`;
}

/** A rendered Deployment with the image of container `index` replaced (the rendered one is a placeholder). */
export function withContainerImage(deployment: KubernetesObject, image: pulumi.Input<string>, index = 0): KubernetesObjectInput {
    const spec = deployment.spec as DeploymentSpec;
    const containers = spec.template.spec.containers.map((c, i) => (i === index ? { ...c, image } : c));
    return {
        ...deployment,
        spec: { ...spec, template: { ...spec.template, spec: { ...spec.template.spec, containers } } },
    };
}
