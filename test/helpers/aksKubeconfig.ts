/**
 * What AKS answers `listClusterUserCredential?format=exec` with for an Entra ID cluster (the shape `az aks
 * get-credentials` writes): no token or key, only `kubelogin get-token` with AKS's server and client app ids.
 */
export const AKS_TENANT_ID = "72f988bf-0000-0000-0000-000000000000";
/** AKS's Entra ID server app (the token audience), the same in every tenant. */
export const AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";
/** AKS's public client app that kubelogin signs people in with. */
export const AKS_CLIENT_ID = "80faf920-1908-4b52-b5ef-a8e7bedfc67a";

export const AKS_USER_KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: Q0EgY2VydGlmaWNhdGU=
    server: https://prod-5e1b.hcp.westeurope.azmk8s.io:443
  name: prod-cluster
contexts:
- context:
    cluster: prod-cluster
    user: clusterUser_prod-rg_prod-cluster
  name: prod-cluster
current-context: prod-cluster
kind: Config
preferences: {}
users:
- name: clusterUser_prod-rg_prod-cluster
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - ${AKS_SERVER_ID}
      - --client-id
      - ${AKS_CLIENT_ID}
      - --tenant-id
      - ${AKS_TENANT_ID}
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: kubelogin is not installed
      interactiveMode: IfAvailable
      provideClusterInfo: false
`;

/** The invoke answer: the kubeconfig base64-encoded, as Azure returns it. */
export function userCredentialsAnswer(): Record<string, unknown> {
    return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(AKS_USER_KUBECONFIG).toString("base64") }] };
}
