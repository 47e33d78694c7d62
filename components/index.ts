// `plumberhub`: the hub, the stack config and the parts both targets share. The swarm components are in
// `plumberhub/swarm`, the AKS ones in `plumberhub/aks` (whose SDKs, @pulumi/azure-native and @pulumi/kubernetes, are
// optional peer dependencies). README "Using the components from another stack" shows them in use.
export * from "./config";
export { ModelHub } from "./hub/modelHub";
export type { ModelHubArgs } from "./hub/modelHub";
export { TeamModel, serviceHost, validateTeamModelArgs } from "./hub/teamModel";
export type { TeamModelArgs } from "./hub/teamModel";
export { readPlatformStack, validatePlatformJoin } from "./hub/platformStack";
export type { PlatformRegistryLogin, PlatformStack, ReadPlatformStackOptions } from "./hub/platformStack";
export { readHubConfig } from "./hub/readHubConfig";
export type { HubSecrets } from "./hub/readHubConfig";
export type { HubJoinInfo, ModelEndpoint } from "./hub/hubParts";
export { isLoopbackRegistry, ModelImage, validateModelImageArgs } from "./image/modelImage";
export type { ModelImageArgs, RegistryLogin } from "./image/modelImage";
export { Credentials } from "./credentials/credentials";
export type { CredentialsArgs, CredentialsUser } from "./credentials/credentials";
export { ServerCertificate } from "./tls/serverCertificate";
export type { AcmeAzureDnsArgs, ServerCertificateAcmeArgs, ServerCertificateArgs } from "./tls/serverCertificate";
export { DEFAULT_BASE_IMAGE } from "./render/modelContainer";
export { DEFAULT_GATEWAY_IMAGE } from "./render/gateway";
export { DEFAULT_REGISTRY_IMAGE } from "./render/swarm";
