import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubernetesModel } from "../aks/kubernetesModel";
import { Model } from "../config/model";
import { PlatformStack } from "./platformStack";

/** The AKS side of a `TeamModel`: a Kubernetes provider from the platform's kubeconfig, and the model in its namespace. */
export function deployTeamModelOnAks(
    name: string,
    model: Model,
    image: pulumi.Input<string>,
    platform: PlatformStack,
    parent: pulumi.Resource,
): void {
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig: platform.kubeconfig! }, { parent });
    new KubernetesModel(name, { model, image, namespace: platform.join.namespace, provider }, { parent });
}
