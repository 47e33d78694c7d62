import { installRecordingMocks } from "../helpers/pulumiMocks";

installRecordingMocks();

import { AcrRegistry, AksCluster, KubernetesGateway, KubernetesModel, validateAksClusterArgs } from "../../components/aks";
import { defaultAcrNamePrefix, validateAcrSettings, validateKubernetesGatewaySettings, validateKubernetesVersion } from "../../components/config/aks";
import { validateImageByDigest } from "../../components/config/image";
import { parse } from "yaml";
import { kubeloginArgs, useKubeloginMode } from "../../components/aks/kubeloginKubeconfig";
import { AKS_CLIENT_ID, AKS_SERVER_ID, AKS_TENANT_ID, AKS_USER_KUBECONFIG } from "../helpers/aksKubeconfig";
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

    test("a created cluster refuses a pinned patch version, since AKS upgrades patches itself", () => {
        expect(() => validateAksClusterArgs("prod", { kubernetesVersion: "1.33.2" })).toThrow(
            '`kubernetesVersion` "1.33.2" pins a patch, but AKS upgrades patches itself (auto-upgrade channel `patch`); give the minor version, "1.33"',
        );
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
        expect(validateAksClusterArgs("prod", { userPool: { minCount: 0, maxCount: 2 } })?.userPool).toEqual({
            name: "models",
            vmSize: "Standard_D4s_v5",
            minCount: 0,
            maxCount: 2,
        });
    });

    test("without settings, both pools have 2 nodes at least, over three zones, on the Standard tier", () => {
        expect(validateAksClusterArgs("prod", {})).toEqual({
            systemPool: { name: "system", vmSize: "Standard_D2s_v5", minCount: 2, maxCount: 3 },
            userPool: { name: "models", vmSize: "Standard_D4s_v5", minCount: 2, maxCount: 5 },
            availabilityZones: ["1", "2", "3"],
            tier: "Standard",
            kubeloginMode: "azurecli",
            maintenanceWindow: { day: "Sunday", startHourUtc: 2, durationHours: 4 },
        });
    });

    test("a system pool of one node is allowed (a test cluster)", () => {
        expect(validateAksClusterArgs("prod", { systemPool: { minCount: 1 } })?.systemPool.minCount).toBe(1);
    });

    test("a zone other than 1, 2 or 3 is refused", () => {
        expect(() => validateAksClusterArgs("prod", { availabilityZones: ["1", "4"] })).toThrow(
            '`availabilityZones` must be a list of distinct zones "1", "2", "3" (`[]` for a region without zones), got ["1","4"]',
        );
    });

    test("a zone listed twice is refused", () => {
        expect(() => validateAksClusterArgs("prod", { availabilityZones: ["1", "1"] })).toThrow(
            "`availabilityZones` must be a list of distinct zones",
        );
    });

    test("no zones is allowed, for a region without zones", () => {
        expect(validateAksClusterArgs("prod", { availabilityZones: [] })?.availabilityZones).toEqual([]);
    });

    test("an unknown tier is refused with the valid ones", () => {
        expect(() => validateAksClusterArgs("prod", { tier: "Basic" as never })).toThrow(
            '`tier` must be one of "Free", "Standard", "Premium", got "Basic"',
        );
    });

    test("an admin group that is not a GUID is refused", () => {
        expect(() => validateAksClusterArgs("prod", { adminGroupObjectIds: ["aks-admins"] })).toThrow(
            '`adminGroupObjectIds[0]` must be a GUID such as `00000000-0000-0000-0000-000000000000`, got "aks-admins"',
        );
    });

    test("admin groups given as one string instead of a list are refused, naming the field and value", () => {
        expect(() => validateAksClusterArgs("prod", { adminGroupObjectIds: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee" as never })).toThrow(
            '`adminGroupObjectIds` must be a list of Entra ID object ids (GUIDs), got "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"',
        );
    });

    test("authorized ranges given as one string instead of a list are refused, naming the field and value", () => {
        expect(() => validateAksClusterArgs("prod", { authorizedIpRanges: "203.0.113.0/24" as never })).toThrow(
            '`authorizedIpRanges` must be a non-empty list of IPv4 CIDR ranges such as `203.0.113.0/24`, got "203.0.113.0/24"',
        );
    });

    test("zones given as one string instead of a list are refused, naming the field and value", () => {
        expect(() => validateAksClusterArgs("prod", { availabilityZones: "1" as never })).toThrow(
            '`availabilityZones` must be a list of distinct zones "1", "2", "3" (`[]` for a region without zones), got "1"',
        );
    });

    test("an authorized range that is not an IPv4 CIDR is refused", () => {
        expect(() => validateAksClusterArgs("prod", { authorizedIpRanges: ["203.0.113.0/33"] })).toThrow(
            '`authorizedIpRanges[0]` must be an IPv4 CIDR range such as `203.0.113.0/24`, got "203.0.113.0/33"',
        );
    });

    test("an empty list of authorized ranges is refused", () => {
        expect(() => validateAksClusterArgs("prod", { authorizedIpRanges: [] })).toThrow(
            "`authorizedIpRanges` must be a non-empty list of IPv4 CIDR ranges such as `203.0.113.0/24`, got []",
        );
    });

    test("authorized ranges and a private cluster together are refused", () => {
        expect(() => validateAksClusterArgs("prod", { authorizedIpRanges: ["203.0.113.7/32"], privateCluster: true })).toThrow(
            "`authorizedIpRanges` and `privateCluster` exclude each other: a private API server has no public address to restrict; keep one",
        );
    });

    test("exporting the admin kubeconfig without local accounts is refused", () => {
        expect(() => validateAksClusterArgs("prod", { exportAdminKubeconfig: true })).toThrow(
            "`exportAdminKubeconfig` needs `localAccounts: true`: with local accounts disabled (the default) AKS issues no admin kubeconfig",
        );
        expect(() => validateAksClusterArgs("prod", { exportAdminKubeconfig: true, localAccounts: true })).not.toThrow();
    });

    test("an unknown kubelogin mode is refused with kubelogin's modes", () => {
        expect(() => validateAksClusterArgs("prod", { kubeloginMode: "browser" as never })).toThrow(
            '`kubeloginMode` must be one of "azurecli", "workloadidentity", "spn", "msi", "azd", "azurepipelines", "devicecode", "interactive", "ropc", got "browser"',
        );
    });

    test("a maintenance window on an unknown day is refused", () => {
        expect(() => validateAksClusterArgs("prod", { maintenanceWindow: { day: "Sun" as never } })).toThrow(
            '`maintenanceWindow.day` must be one of "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", got "Sun"',
        );
    });

    test("a maintenance window starting at hour 24 is refused", () => {
        expect(() => validateAksClusterArgs("prod", { maintenanceWindow: { startHourUtc: 24 } })).toThrow(
            "`maintenanceWindow.startHourUtc` must be an integer from 0 to 23, got 24",
        );
    });

    test("a maintenance window shorter than AKS's 4 hours is refused", () => {
        expect(() => validateAksClusterArgs("prod", { maintenanceWindow: { durationHours: 2 } })).toThrow(
            "`maintenanceWindow.durationHours` must be an integer from 4 to 24, got 2",
        );
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

    test("Entra ID and upgrade settings next to an existing cluster are refused", () => {
        expect(() => validateAksClusterArgs("prod", { existing: { kubeconfig: "x" }, kubeloginMode: "msi", maintenanceWindow: {} })).toThrow(
            "`kubeloginMode`, `maintenanceWindow` only apply to a cluster this component creates; remove them or `existing`",
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

describe("the kubelogin mode of the user kubeconfig (as `kubelogin convert-kubeconfig --login`)", () => {
    const execOf = (kubeconfig: string) => parse(kubeconfig).users[0].user.exec;

    test("azurecli keeps only the server id: the tenant and identity come from `az login`", () => {
        expect(execOf(useKubeloginMode(AKS_USER_KUBECONFIG, "azurecli")).args).toEqual([
            "get-token",
            "--login",
            "azurecli",
            "--server-id",
            AKS_SERVER_ID,
        ]);
    });

    test("workloadidentity drops AKS's public client id, so AZURE_CLIENT_ID names the identity", () => {
        expect(execOf(useKubeloginMode(AKS_USER_KUBECONFIG, "workloadidentity")).args).toEqual([
            "get-token",
            "--login",
            "workloadidentity",
            "--server-id",
            AKS_SERVER_ID,
        ]);
    });

    test("spn keeps the client id, tenant and cloud of the kubeconfig", () => {
        expect(kubeloginArgs(execOf(AKS_USER_KUBECONFIG).args, "spn")).toEqual([
            "get-token",
            "--login",
            "spn",
            "--server-id",
            AKS_SERVER_ID,
            "--client-id",
            AKS_CLIENT_ID,
            "--tenant-id",
            AKS_TENANT_ID,
            "--environment",
            "AzurePublicCloud",
        ]);
    });

    test("azurepipelines keeps the tenant only", () => {
        expect(kubeloginArgs(execOf(AKS_USER_KUBECONFIG).args, "azurepipelines")).toEqual([
            "get-token",
            "--login",
            "azurepipelines",
            "--server-id",
            AKS_SERVER_ID,
            "--tenant-id",
            AKS_TENANT_ID,
        ]);
    });

    test("everything but the arguments stays as AKS wrote it", () => {
        const before = parse(AKS_USER_KUBECONFIG);
        const after = parse(useKubeloginMode(AKS_USER_KUBECONFIG, "msi"));
        delete before.users[0].user.exec.args;
        delete after.users[0].user.exec.args;
        expect(after).toEqual(before);
    });

    test("arguments without a server id are refused", () => {
        expect(() => kubeloginArgs(["get-token", "--login", "devicecode"], "azurecli")).toThrow(
            'the kubelogin arguments have no `--server-id`: ["get-token","--login","devicecode"]',
        );
    });

    test("a kubeconfig whose users do not run kubelogin is refused", () => {
        expect(() => useKubeloginMode("apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: t\n", "azurecli")).toThrow(
            "the kubeconfig has no user that runs kubelogin (exec format of an Entra ID cluster expected)",
        );
    });
});
