import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { userCredentialsAnswer } from "./aksKubeconfig";
import { installRecordingMocks, RecordedResource, settle } from "./pulumiMocks";

/** What the real providers compute and the stack program reads, for every provider the hub uses. */
export const PROVIDER_OUTPUTS: Parameters<typeof installRecordingMocks>[0] = {
    "random:index/randomPassword:RandomPassword": (args) => ({ result: `pw-${args.name}-`.padEnd(args.inputs.length, "x") }),
    "random:index/randomString:RandomString": () => ({ result: "ab12cd34" }),
    "tls:index/privateKey:PrivateKey": (args) => ({ privateKeyPem: `KEY(${args.name})` }),
    "tls:index/selfSignedCert:SelfSignedCert": (args) => ({ certPem: `CA(${args.name})` }),
    "tls:index/certRequest:CertRequest": (args) => ({ certRequestPem: `CSR(${args.name})` }),
    "tls:index/locallySignedCert:LocallySignedCert": (args) => ({ certPem: `CERT(${args.name})`, validityEndTime: "2027-02-23T10:00:00Z" }),
    "time:index/rotating:Rotating": () => ({ rfc3339: "2026-11-25T10:00:00Z", rotationRfc3339: "2027-01-24T10:00:00Z" }),
    "docker:index/registryImage:RegistryImage": () => ({ sha256Digest: `sha256:${"d".repeat(64)}` }),
    "azure-native:resources:ResourceGroup": (args) => ({ name: `${args.name}-7f3a` }),
    "azure-native:containerregistry:Registry": (args) => ({ name: args.inputs.registryName, loginServer: `${args.inputs.registryName}.azurecr.io` }),
    "azure-native:containerservice:ManagedCluster": (args) => ({
        name: `${args.name}-5e1b`,
        identityProfile: { kubeletidentity: { objectId: "99999999-8888-7777-6666-555555555555", clientId: "kubelet", resourceId: "/kubelet" } },
    }),
};

/** The admin kubeconfig the mocked cluster returns when asked. */
export const ADMIN_KUBECONFIG = "apiVersion: v1\nkind: Config\nusers:\n- name: clusterAdmin\n  user:\n    client-key-data: QURNSU4=\n";

export const PROVIDER_CALLS: Parameters<typeof installRecordingMocks>[1] = {
    "azure-native:authorization:getClientToken": () => ({ token: "arm-access-token" }),
    "azure-native:containerservice:listManagedClusterUserCredentials": userCredentialsAnswer,
    // Answered only for `aks.exportAdminKubeconfig`: a client certificate, what AKS's admin credentials are.
    "azure-native:containerservice:listManagedClusterAdminCredentials": () => ({
        kubeconfigs: [{ name: "clusterAdmin", value: Buffer.from(ADMIN_KUBECONFIG).toString("base64") }],
    }),
    "azure-native:authorization:getClientConfig": () => ({
        subscriptionId: "11111111-2222-3333-4444-555555555555",
        tenantId: "t",
        clientId: "c",
        objectId: "o",
    }),
};

export const PROJECT_DIR = path.resolve(__dirname, "..", "..");

/** The `config:` map of `Pulumi.<stack>.yaml`, as the Pulumi CLI hands it to the program (objects as JSON text). */
export function stackConfig(stack: string): Record<string, string> {
    const file = parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
    return configMap(file.config);
}

export function configMap(values: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]));
}

/** The ACR refresh token programs under these mocks push with. */
export const ACR_REFRESH_TOKEN = "acr-refresh-token";

/**
 * Installs the mocks once per test file (`extraOutputs` adds or overrides provider outputs by type); returns the recording.
 * The ACR token exchange, an HTTPS call to the registry (tested against a local server in acrLogin.test.ts), answers
 * `ACR_REFRESH_TOKEN`.
 */
let recorded: RecordedResource[] = [];
export function installProgramMocks(extraOutputs: Parameters<typeof installRecordingMocks>[0] = {}): RecordedResource[] {
    recorded = installRecordingMocks({ ...PROVIDER_OUTPUTS, ...extraOutputs }, PROVIDER_CALLS);
    jest.doMock("../../components/aks/acrTokenExchange", () => ({
        ...jest.requireActual("../../components/aks/acrTokenExchange"),
        exchangeAcrRefreshToken: () => Promise.resolve(ACR_REFRESH_TOKEN),
    }));
    return recorded;
}

/**
 * Evaluates the stack program (`index.ts`) with `config` under the installed mocks (the recording starts empty), in a fresh module registry so
 * it runs again each time. Returns its exports; throws what the program throws.
 */
export async function runStackProgram(config: Record<string, string>, secretKeys: string[] = []): Promise<Record<string, pulumi.Output<unknown>>> {
    recorded.length = 0;
    pulumi.runtime.setAllConfig(config, secretKeys);
    let exported: Record<string, pulumi.Output<unknown>> = {};
    jest.isolateModules(() => {
        exported = require(path.join(PROJECT_DIR, "index"));
    });
    await settle();
    return exported;
}
