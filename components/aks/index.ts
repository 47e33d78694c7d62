export * from "./acrRegistry";
export * from "./aksCluster";
export * from "./kubernetesModel";
export * from "./kubernetesGateway";
