/** Where a hub runs: a Docker Swarm (one engine or many) or Azure Kubernetes Service. */
export type HubTarget = "swarm" | "aks";
export const HUB_TARGETS: readonly HubTarget[] = ["swarm", "aks"];
