// The stack program: one environment per stack (`dev`: swarm on the local Docker engine; `prod`: ACR + AKS).
// Every `plumberhub:*` key is validated before anything is created; see README "Config reference".
import { DEFAULT_HUB_NAME, ModelHub, readHubConfig, renewsInGateway } from "./components";

const { config, secrets } = readHubConfig();
// The name prefixes every resource; `npm run render` uses the same one so its files match what `up` creates.
const hub = new ModelHub(DEFAULT_HUB_NAME, { config, secrets });

export = {
    url: hub.url,
    models: hub.models,
    caCertPem: hub.caCertPem,
    // The expiry as of this `up`; a gateway that renews its own certificate (ACME over HTTP-01) tells it at /healthz/certificate.
    ...(renewsInGateway(config.gateway.acme) ? {} : { certificateNotAfter: hub.certificateNotAfter }),
    join: hub.join,
    passwords: hub.passwords, // secret
    registryLogin: hub.registryLogin, // secret
    // Only AKS has a cluster; an output that is always empty elsewhere would be a warning on every update.
    ...(config.target === "aks" ? { kubeconfig: hub.kubeconfig } : {}), // secret
    // Only on request: a client certificate that bypasses Entra ID (needs `aks.localAccounts`).
    ...(config.target === "aks" && config.aks.exportAdminKubeconfig ? { adminKubeconfig: hub.adminKubeconfig } : {}), // secret
};
