// The stack program: one environment per stack (`dev`: swarm on the local Docker engine; `prod`: ACR + AKS).
// Every `plumberhub:*` key is validated before anything is created; see README "Config reference".
import { ModelHub, readHubConfig } from "./components";

const { config, secrets } = readHubConfig();
const hub = new ModelHub("plumberhub", { config, secrets });

export const url = hub.url;
export const models = hub.models;
export const caCertPem = hub.caCertPem;
export const join = hub.join;
export const passwords = hub.passwords; // secret
export const registryLogin = hub.registryLogin; // secret
export const kubeconfig = hub.kubeconfig; // secret (AKS)
