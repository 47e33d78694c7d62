import { installRecordingMocks } from "../helpers/pulumiMocks";

installRecordingMocks();

import { AcrRegistry, AksCluster, KubernetesGateway, KubernetesModel, validateAksClusterArgs } from "../../components/aks";
import { defaultAcrNamePrefix, validateAcrSettings, validateKubernetesGatewaySettings, validateKubernetesVersion } from "../../components/config/aks";
import { validateImageByDigest } from "../../components/config/image";
import { testModel } from "../helpers/models";

const hello = testModel("hello");

describe("AKS argument checks", () => {
    test("an ACR name with a dash is refused", () => {
        expect(() => validateAcrSettings({ registryName: "my-registry" })).toThrow(
            '`registryName` must be 5–50 letters and digits (ACR names have no `-` or `_`), got "my-registry"',
        );
    });

    test("an ACR name shorter than 5 characters is refused", () => {
        expect(() => validateAcrSettings({ registryName: "acr1" })).toThrow("`registryName` must be 5–50 letters and digits");
    });

    test("a name prefix too long for the random suffix is refused", () => {
        expect(() => validateAcrSettings({ namePrefix: "a".repeat(43) })).toThrow(
            `\`namePrefix\` must be 1–42 lower-case letters and digits (a 8-character random suffix is added), got "${"a".repeat(43)}"`,
        );
    });

    test("an unknown ACR sku is refused with the valid ones", () => {
        expect(() => validateAcrSettings({ sku: "Free" })).toThrow('`sku` must be one of `Basic`, `Standard`, `Premium`, got "Free"');
    });

    test("the default ACR prefix keeps only lower-case letters and digits", () => {
        expect(defaultAcrNamePrefix("Prod-Registry_1")).toBe("prodregistry1");
    });

    test("a Kubernetes version with a leading v is refused", () => {
        expect(() => validateKubernetesVersion("v1.33")).toThrow(
            '`kubernetesVersion` must look like `1.33` (newest patch) or `1.33.2`, without a leading `v`, got "v1.33"',
        );
        expect(() => validateKubernetesVersion("1.33.2")).not.toThrow();
    });

    test("a pool whose maximum is below its minimum is refused", () => {
        expect(() => validateAksClusterArgs("prod", { userPool: { minCount: 3, maxCount: 2 } })).toThrow(
            "`userPool.maxCount` must be an integer from `minCount` (3) to 1000 and at least 1, got 2",
        );
    });

    test("a system pool of zero nodes is refused", () => {
        expect(() => validateAksClusterArgs("prod", { systemPool: { minCount: 0 } })).toThrow(
            "`systemPool.minCount` must be an integer from 1 to 1000, got 0",
        );
    });

    test("a user pool may scale to zero", () => {
        expect(validateAksClusterArgs("prod", { userPool: { minCount: 0, maxCount: 2 } }).userPool).toEqual({
            name: "models",
            vmSize: "Standard_D4s_v5",
            minCount: 0,
            maxCount: 2,
        });
    });

    test("a pool name with upper-case letters is refused", () => {
        expect(() => validateAksClusterArgs("prod", { systemPool: { name: "System" } })).toThrow(
            '`systemPool.name` must be 1–12 lower-case letters and digits starting with a letter, got "System"',
        );
    });

    test("an existing cluster needs exactly one of kubeconfig and provider", () => {
        expect(() => validateAksClusterArgs("prod", { existing: {} })).toThrow("`existing` needs exactly one of `kubeconfig` and `provider`");
    });

    test("cluster settings next to an existing cluster are refused", () => {
        expect(() => validateAksClusterArgs("prod", { existing: { kubeconfig: "x" }, kubernetesVersion: "1.33", systemPool: {} })).toThrow(
            "`kubernetesVersion`, `systemPool` only apply to a cluster this component creates; remove them or `existing`",
        );
    });

    test("AcrPull on an existing cluster needs its kubelet identity", () => {
        expect(() => validateAksClusterArgs("prod", { existing: { kubeconfig: "x" }, registryId: "/r" })).toThrow(
            "`registryId` with `existing` needs `existing.kubeletObjectId` to grant AcrPull",
        );
    });

    test("an image by tag is refused", () => {
        expect(() => validateImageByDigest("myacr.azurecr.io/hello:1.0")).toThrow(
            '`image` must be pinned by digest, `registry/repo@sha256:<64 hex digits>` (e.g. `ModelImage.repoDigest`), got "myacr.azurecr.io/hello:1.0"',
        );
    });

    test("an Azure DNS label ending with a dash is refused", () => {
        expect(() => validateKubernetesGatewaySettings({ dnsLabel: "models-" })).toThrow(
            '`dnsLabel` must be 3–63 lower-case letters, digits and `-`, starting with a letter and not ending with `-` (it becomes {label}.{region}.cloudapp.azure.com), got "models-"',
        );
    });

    test("a gateway with zero replicas is refused", () => {
        expect(() => validateKubernetesGatewaySettings({ replicas: 0 })).toThrow("`replicas` must be an integer from 1 to 20, got 0");
    });

    test("a static IP that is not IPv4 is refused", () => {
        expect(() => validateKubernetesGatewaySettings({ staticIp: "my-ip" })).toThrow(
            '`staticIp` must be an IPv4 address such as `20.50.1.2` (an existing Azure public IP), got "my-ip"',
        );
    });

    test("a namespace with upper-case letters is refused", () => {
        expect(() => validateKubernetesGatewaySettings({ namespace: "Models" })).toThrow(
            '`namespace` must be a DNS-1123 label (1–63 lower-case letters, digits and `-`, starting and ending with a letter or digit), got "Models"',
        );
    });
});

describe("components rethrow bad args as resource errors", () => {
    test("AcrRegistry", () => {
        expect(() => new AcrRegistry("bad", { resourceGroupName: "rg", registryName: "a_b" })).toThrow(
            '`registryName` must be 5–50 letters and digits (ACR names have no `-` or `_`), got "a_b"',
        );
    });

    test("AksCluster", () => {
        expect(() => new AksCluster("bad", { kubernetesVersion: "latest" })).toThrow("`kubernetesVersion` must look like `1.33`");
    });

    test("KubernetesModel", () => {
        expect(() => new KubernetesModel("bad", { model: hello, image: "hello:latest" })).toThrow("`image` must be pinned by digest");
    });

    test("KubernetesGateway", () => {
        expect(
            () => new KubernetesGateway("bad", { models: [hello], tlsCertificate: "c", tlsKey: "k", htpasswd: "h", resolver: "kube-dns" }),
        ).toThrow('`resolver` must be the IPv4 address of the cluster\'s DNS service (kube-dns), such as `10.0.0.10`, got "kube-dns"');
    });

    test("the error is a Pulumi ResourceError", () => {
        let error: unknown;
        try {
            new AksCluster("bad2", { dnsPrefix: "-x" });
        } catch (e) {
            error = e;
        }
        expect((error as Error).constructor.name).toBe("ResourceError");
        expect((error as Error).message).toBe(
            '`dnsPrefix` must be 1–54 letters, digits and `-`, starting and ending with a letter or digit, got "-x"',
        );
    });
});
