/**
 * Whether the stateful resources — the ACR registry and its images, the swarm registry's data volume, the AKS
 * resource group and cluster — outlive `pulumi destroy` and a replacement when nothing says otherwise: the default of
 * `plumberhub:protectState` and of the components' own switches (`AcrRegistry.protectState`,
 * `AksCluster.protectState`, `SwarmRegistry.retainData`). Throwaway stacks (the local `dev` stack, tests) turn it off.
 */
export const DEFAULT_PROTECT_STATE = true;
