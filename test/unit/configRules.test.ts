/**
 * Every rule of components/config/, on its own: what it accepts, what it refuses and the message it refuses with.
 * The stack config, the components and the renderers call these; their own tests show the rules in place.
 */
import {
    validateAcrSettings,
    validateAzureDnsLabel,
    validateKubernetesVersion,
    validateNamespace,
    validateNodePool,
    USER_POOL_DEFAULTS,
} from "../../components/config/aks";
import { checkEntries, checkPort, checkText, closest, isDnsName, isIPv4, show, validateInteger, validatePort } from "../../components/config/checks";
import { validateBcryptCost, validateUserName } from "../../components/config/credentials";
import { httpsPortSuffix, validateGatewayTitle } from "../../components/config/gateway";
import { isImageReference, isPinnedByDigest, isRegistryHost, validateImageReference, validateRepositoryPath } from "../../components/config/image";
import { hasModelNameShape } from "../../components/config/model";
import {
    validateDockerHost,
    validateLabels,
    validatePlacementConstraint,
    validateSwarmName,
    validateSwarmPublishing,
} from "../../components/config/swarm";
import { validateRPackageList, validateRPackageName } from "../../components/config/validateModel";

const DIGEST = "a".repeat(64);

describe("image references", () => {
    test.each([
        "nginx",
        "nginx:1.28.0",
        "ghcr.io/team/model:1.0",
        "localhost:5000/models/hello",
        `registry/repo@sha256:${DIGEST}`,
        `repo:tag@sha256:${DIGEST}`,
    ])("accept %s", (image) => expect(isImageReference(image)).toBe(true));

    test.each(["", "Nginx", "nginx:1.28 0", 'nginx"', "nginx:1.28.0\nRUN evil", "-repo", "repo:", 42, undefined])("refuse %p", (image) =>
        expect(isImageReference(image)).toBe(false),
    );

    test("refuse a name over 255 characters", () => expect(isImageReference(`r/${"a".repeat(254)}`)).toBe(false));

    test("are refused with the field, an example fit for it and the bad value", () => {
        expect(() => validateImageReference("Bad Image", "models[0].image", "myregistry.azurecr.io/team/model:1.0")).toThrow(
            "`models[0].image` must be an image reference such as `myregistry.azurecr.io/team/model:1.0` or `registry/repo@sha256:<64 hex>` " +
                '(lower-case repository, tag of letters, digits, `_`, `.`, `-`), got "Bad Image"',
        );
    });
});

describe("pinned by digest", () => {
    test("takes a sha256 digest, with or without a tag", () => {
        expect(isPinnedByDigest(`repo@sha256:${DIGEST}`)).toBe(true);
        expect(isPinnedByDigest(`repo:1.0@sha256:${DIGEST}`)).toBe(true);
    });

    test("refuses a tag alone, a short digest, another algorithm and a non-string", () => {
        for (const image of ["repo:1.0", `repo@sha256:${DIGEST.slice(1)}`, `repo@sha512:${DIGEST}${DIGEST}`, 7])
            expect(isPinnedByDigest(image)).toBe(false);
    });
});

describe("registry hosts", () => {
    test.each(["ghcr.io", "registry.example.com:5000", "localhost:5000", "myregistry.azurecr.io"])("accept %s", (server) =>
        expect(isRegistryHost(server)).toBe(true),
    );

    test.each(["https://ghcr.io", "ghcr.io/team", "-bad.io", "bad-.io", "", "host:port", undefined])("refuse %p", (server) =>
        expect(isRegistryHost(server)).toBe(false),
    );
});

describe("repository paths", () => {
    test("accept lower-case path components", () => expect(() => validateRepositoryPath("models/hello-world_2")).not.toThrow());

    test("refuse upper case and a registry host, naming the example", () => {
        expect(() => validateRepositoryPath("Models/Hello", "repository", "team/model")).toThrow(
            '`repository` must be a lower-case Docker repository path such as `team/model`, got "Models/Hello"',
        );
        expect(() => validateRepositoryPath("ghcr.io:443/x")).toThrow("`repository` must be a lower-case Docker repository path");
    });
});

describe("model names", () => {
    test.each(["a", "hello", "bos-rf", "m1", "a".repeat(40)])("have the shape of %s", (name) => expect(hasModelNameShape(name)).toBe(true));

    test.each(["", "1model", "Hello", "bos_rf", "ends-", "a".repeat(41), null])("do not have the shape of %p", (name) =>
        expect(hasModelNameShape(name)).toBe(false),
    );
});

describe("R packages", () => {
    test.each(["MASS", "data.table", "R6", "ggplot2"])("%s is a package name", (pkg) =>
        expect(() => validateRPackageName(pkg, "packages[0]")).not.toThrow(),
    );

    test.each(["x", "pkg.", "2pkg", "bad name", "x; rm -rf /", 3])("%p is refused with the entry named", (pkg) => {
        expect(() => validateRPackageName(pkg, "packages[2]")).toThrow(
            `\`packages[2]\` must be an R package name (letters, digits and \`.\`, starting with a letter, at least 2 characters, not ending in \`.\`), got ${show(pkg)}`,
        );
    });

    test("a list is required", () => {
        expect(() => validateRPackageList("MASS", "packages")).toThrow('`packages` must be a list of R package names, got "MASS"');
        expect(() => validateRPackageList([], "packages")).not.toThrow();
    });
});

describe("user names", () => {
    test.each(["alice", "a", "team.bot_1@example-org", "x".repeat(64)])("accept %s", (user) => expect(() => validateUserName(user)).not.toThrow());

    test.each(["", "a:b", ".alice", "al ice", "x".repeat(65), 5])("refuse %p", (user) => {
        expect(() => validateUserName(user, "users[1]")).toThrow(
            `\`users[1]\` must be a user name of 1 to 64 letters, digits, \`.\`, \`_\`, \`@\` or \`-\`, starting with a letter or digit, got ${show(user)}`,
        );
    });
});

describe("bcrypt costs", () => {
    test("take 4 to 17", () => {
        expect(() => validateBcryptCost(4, "cost")).not.toThrow();
        expect(() => validateBcryptCost(17, "cost")).not.toThrow();
    });

    test("refuse outside that range and fractions", () => {
        for (const cost of [3, 18, 10.5, "10"])
            expect(() => validateBcryptCost(cost, "suppliedBcryptCost")).toThrow(
                `\`suppliedBcryptCost\` must be an integer from 4 to 17, got ${show(cost)}`,
            );
    });
});

describe("integers and ports", () => {
    test("an integer in range passes, anything else names the range", () => {
        expect(() => validateInteger(3, "replicas", 1, 5)).not.toThrow();
        expect(() => validateInteger(6, "replicas", 1, 5)).toThrow("`replicas` must be an integer from 1 to 5, got 6");
        expect(() => validateInteger(NaN, "replicas", 1, 5)).toThrow("`replicas` must be an integer from 1 to 5, got NaN");
    });

    test("a port is 1 to 65535", () => {
        expect(() => validatePort(65535, "port")).not.toThrow();
        expect(() => validatePort(0, "port")).toThrow("`port` must be an integer from 1 to 65535, got 0");
        expect(() => validatePort(65536, "port")).toThrow("`port` must be an integer from 1 to 65535, got 65536");
    });

    test("a port setting falls back to its default when unset and collects a bad value", () => {
        const problems: string[] = [];
        expect(checkPort(undefined, "gateway.httpsPort", 443, problems)).toBe(443);
        expect(checkPort(8443, "gateway.httpsPort", 443, problems)).toBe(8443);
        expect(checkPort("8443", "gateway.httpsPort", 443, problems)).toBe(443);
        expect(problems).toEqual(['`gateway.httpsPort` must be an integer from 1 to 65535, got "8443"']);
    });
});

describe("a list of entries", () => {
    test("keeps the good entries once, in order, and names each bad or repeated one", () => {
        const problems: string[] = [];
        expect(checkEntries(["alice", "b:ob", "carol", "alice"], "users", validateUserName, problems)).toEqual(["alice", "carol"]);
        expect(problems).toEqual([
            '`users[1]` must be a user name of 1 to 64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit, got "b:ob"',
            '`users[3]` "alice" is listed twice',
        ]);
    });
});

describe("a string setting with a default", () => {
    test("is the value, or the default when unset", () => {
        const problems: string[] = [];
        expect(checkText("net", "plumberhub", (n) => validateSwarmName(n, "network"), problems)).toBe("net");
        expect(checkText(undefined, "plumberhub", (n) => validateSwarmName(n, "network"), problems)).toBe("plumberhub");
        expect(problems).toEqual([]);
    });

    test("collects what its validator refuses", () => {
        const problems: string[] = [];
        checkText(42, "plumberhub", (n) => validateSwarmName(n, "swarm.network"), problems);
        expect(problems).toEqual(['`swarm.network` must be 1–63 letters, digits, "_", "." or "-" starting with a letter or digit, got 42']);
    });
});

describe("addresses and DNS names", () => {
    test("IPv4: dotted quads without leading zeros", () => {
        expect(["127.0.0.1", "10.0.0.10", "255.255.255.255"].every(isIPv4)).toBe(true);
        expect(["256.0.0.1", "01.2.3.4", "1.2.3", "::1", "localhost"].some(isIPv4)).toBe(false);
    });

    test("DNS names: lower-case labels, a leading wildcard only when asked", () => {
        expect(isDnsName("models.example.com")).toBe(true);
        expect(isDnsName("*.example.com")).toBe(false);
        expect(isDnsName("*.example.com", true)).toBe(true);
        expect(["Example.com", "-a.com", "a..com", `${"a".repeat(64)}.com`, "a".repeat(254)].some((n) => isDnsName(n))).toBe(false);
    });

    test("an https URL leaves out port 443 only", () => {
        expect(httpsPortSuffix(443)).toBe("");
        expect(httpsPortSuffix(8443)).toBe(":8443");
    });
});

describe("messages", () => {
    test("show values as the user wrote them, one line", () => {
        expect(show("a")).toBe('"a"');
        expect(show(undefined)).toBe("undefined");
        expect(show(Infinity)).toBe("Infinity");
        expect(show(() => 1)).toBe("function (anonymous)");
        expect(show(10n)).toBe("10");
        expect(show("x".repeat(200))).toHaveLength(80);
    });

    test("suggest the nearest known key for a typo", () => {
        expect(closest("gatway", ["gateway", "models"])).toBe("gateway");
        expect(closest("zzz", ["gateway", "models"])).toBeUndefined();
    });
});

describe("swarm", () => {
    test.each(["unix:///var/run/docker.sock", "npipe:////./pipe/docker_engine", "ssh://deploy@manager", "ssh://manager:2222", "tcp://10.0.0.5:2376"])(
        "Docker host %s is accepted",
        (host) => expect(() => validateDockerHost(host)).not.toThrow(),
    );

    test.each(["http://manager:2375", "tcp://manager", "unix://relative.sock", "manager", ""])("Docker host %p is refused", (host) => {
        expect(() => validateDockerHost(host, "swarm.host")).toThrow(
            `\`swarm.host\` must be unix:///path/to/docker.sock, npipe:////./pipe/name, ssh://[user@]host[:port] or tcp://host:port, got ${show(host)}`,
        );
    });

    test("object names are 1–63 characters starting with a letter or digit", () => {
        expect(() => validateSwarmName("plumberhub_net.1", "network")).not.toThrow();
        for (const name of ["", "-net", "a".repeat(64), "my net"])
            expect(() => validateSwarmName(name, "network")).toThrow("`network` must be 1–63 letters");
    });

    test("placement constraints are attribute, == or !=, value", () => {
        expect(() => validatePlacementConstraint("node.role == worker", "constraints[0]")).not.toThrow();
        expect(() => validatePlacementConstraint("node.labels.zone!=b", "constraints[0]")).not.toThrow();
        expect(() => validatePlacementConstraint("node.role = worker", "constraints[0]")).toThrow(
            '`constraints[0]` must look like "node.role == manager" (attribute, == or !=, value), got "node.role = worker"',
        );
    });

    test("labels have Docker keys and string values", () => {
        expect(() => validateLabels({ "com.example/team": "a" }, "labels")).not.toThrow();
        expect(() => validateLabels({ "-key": "a" }, "labels")).toThrow(
            '`labels` keys must be letters, digits, ".", "_", "/", "-" and values strings, got "-key": "a"',
        );
        expect(() => validateLabels({ key: 1 }, "labels")).toThrow('got "key": 1');
    });

    test("endpoint and publish modes are known", () => {
        expect(() => validateSwarmPublishing({ endpointMode: "rr" }, "swarm", false)).toThrow(
            '`swarm.endpointMode` must be "vip" or "dnsrr", got "rr"',
        );
        expect(() => validateSwarmPublishing({ publishMode: "mesh" }, "swarm", false)).toThrow(
            '`swarm.publishMode` must be "ingress" or "host", got "mesh"',
        );
    });

    test("a service that publishes ports with dnsrr must publish them on the host", () => {
        expect(() => validateSwarmPublishing({ endpointMode: "dnsrr" }, "swarm", true)).toThrow(
            '`swarm.publishMode` must be "host" when `swarm.endpointMode` is "dnsrr": Docker refuses ingress-published ports on a dnsrr service',
        );
        expect(() => validateSwarmPublishing({ endpointMode: "dnsrr", publishMode: "host" }, "swarm", true)).not.toThrow();
        expect(() => validateSwarmPublishing({ endpointMode: "dnsrr" }, "swarm", false)).not.toThrow();
    });
});

describe("gateway", () => {
    test("a title is 1 to 80 characters", () => {
        expect(() => validateGatewayTitle("Team models")).not.toThrow();
        expect(() => validateGatewayTitle("", "gateway.title")).toThrow('`gateway.title` must be a string of 1 to 80 characters, got ""');
        expect(() => validateGatewayTitle("t".repeat(81))).toThrow("`title` must be a string of 1 to 80 characters");
    });
});

describe("AKS", () => {
    test("namespaces are DNS-1123 labels", () => {
        expect(() => validateNamespace("models")).not.toThrow();
        expect(() => validateNamespace("Models", "aks.namespace")).toThrow(
            '`aks.namespace` must be a DNS-1123 label (1–63 lower-case letters, digits and `-`, starting and ending with a letter or digit), got "Models"',
        );
    });

    test("Azure DNS labels are 3–63 characters, starting with a letter, not ending with -", () => {
        expect(() => validateAzureDnsLabel("models1", "dnsLabel")).not.toThrow();
        for (const label of ["ab", "1models", "models-", "Models"]) {
            expect(() => validateAzureDnsLabel(label, "gateway.dnsLabel")).toThrow(
                `\`gateway.dnsLabel\` must be 3–63 lower-case letters, digits and \`-\`, starting with a letter and not ending with \`-\` (it becomes {label}.{region}.cloudapp.azure.com), got ${show(label)}`,
            );
        }
    });

    test("Kubernetes versions are 1.x or 1.x.y without a v", () => {
        expect(() => validateKubernetesVersion("1.33")).not.toThrow();
        expect(() => validateKubernetesVersion("1.33.2")).not.toThrow();
        expect(() => validateKubernetesVersion("v1.33")).toThrow(
            '`kubernetesVersion` must look like `1.33` (newest patch) or `1.33.2`, without a leading `v`, got "v1.33"',
        );
    });

    test("ACR name prefixes are lower-case letters and digits, short enough for the random suffix", () => {
        expect(() => validateAcrSettings({ namePrefix: "plumberhub" })).not.toThrow();
        expect(() => validateAcrSettings({ namePrefix: "Plumber-Hub" })).toThrow("`namePrefix` must be 1–42 lower-case letters and digits");
        expect(() => validateAcrSettings({ namePrefix: "a".repeat(43) })).toThrow("`namePrefix` must be 1–42 lower-case letters and digits");
    });

    test("a user pool may scale to zero, the system pool may not", () => {
        expect(validateNodePool({ minCount: 0 }, "aks.userPool", { ...USER_POOL_DEFAULTS }, false).minCount).toBe(0);
        expect(() => validateNodePool({ minCount: 0 }, "aks.systemPool", { ...USER_POOL_DEFAULTS }, true)).toThrow(
            "`aks.systemPool.minCount` must be an integer from 1 to 1000, got 0",
        );
    });
});
