// The stack program: one environment per stack (`dev`: swarm on the local Docker engine; `prod`: ACR + AKS).
// Every `plumberhub:*` key is validated before anything is created; see README "Config reference".
import { DEFAULT_HUB_NAME, ModelHub, readHubConfig } from "./components";

const { config, secrets } = readHubConfig();
// The name prefixes every resource; `npm run render` uses the same one so its files match what `up` creates.
const hub = new ModelHub(DEFAULT_HUB_NAME, { config, secrets });

export const url = hub.url;
export const models = hub.models;
export const caCertPem = hub.caCertPem;
export const join = hub.join;
export const passwords = hub.passwords; // secret
export const registryLogin = hub.registryLogin; // secret
export const kubeconfig = hub.kubeconfig; // secret (AKS)
