// `plumberhub/aks`: the Azure Container Registry and AKS components (the `aks` target of ModelHub is made of these).
// They need the optional peer dependencies @pulumi/azure-native and @pulumi/kubernetes.
export * from "./acrRegistry";
export * from "./aksCluster";
export * from "./kubeloginKubeconfig";
export * from "./kubernetesModel";
export * from "./kubernetesGateway";
