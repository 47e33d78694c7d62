import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, parseAllDocuments } from "yaml";
import {
    AZURE_DNS_LABEL_ANNOTATION,
    AZURE_PROBE_FAILURES_ANNOTATION,
    AZURE_PROBE_INTERVAL_ANNOTATION,
    GATEWAY_DRAIN_SECONDS,
    CONFIG_CHECKSUM_ANNOTATION,
    DEFAULT_DENY_POLICY_NAME,
    gatewayObjectList,
    KubernetesGatewayAcme,
    KUBERNETES_GATEWAY_PATHS,
    KubernetesObject,
    MODEL_DRAIN_SECONDS,
    REDACTED,
    renderGatewayObjects,
    renderKubernetesGatewayFiles,
    renderKubernetesManifests,
    renderModelObjects,
    SKIP_AWAIT_ANNOTATION,
    toKubernetesYaml,
} from "../../components/render/kubernetes";
import { ACME_PATHS, GATEWAY_DEFAULTS, renderGatewayAcmeScript } from "../../components/render/gateway";
import { validateKubernetesGatewayArgs } from "../../components/aks/kubernetesGateway";
import { GATEWAY_SETTINGS_DEFAULTS } from "../../components/config/gateway";
import { Model } from "../../components/config/model";
import { LETS_ENCRYPT_STAGING } from "../../components/config/tls";
import { testModel } from "../helpers/models";
import { findObject, kubernetesSchemaErrors, validateKubernetesObjects } from "../helpers/kubernetesSchema";
import { isAllowed, NetworkPolicy, PodEndpoint } from "../helpers/networkPolicy";
import { makeCertificate, makeEcKey } from "../helpers/pki";

const digest = (name: string) => `plumberhubab12cd34.azurecr.io/${name}@sha256:${"b".repeat(64)}`;

const model = testModel;

const models = [
    model("hello"),
    model("bos-rf", { replicas: 3, env: { MODEL_SEED: "42" }, users: ["alice"] }),
    model("iris", { autoscaling: { minReplicas: 2, maxReplicas: 6, targetCpuUtilization: 60 }, port: 8123 }),
];

const gateway = {
    tlsCert: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    tlsKey: "-----BEGIN PRIVATE KEY-----\nsecret-key\n-----END PRIVATE KEY-----\n",
    htpasswd: "alice:{SSHA}c2VjcmV0LWhhc2g=\n",
    dnsLabel: "plumberhub-prod",
    skipLoadBalancerAwait: true,
};

function manifests(): KubernetesObject[] {
    return renderKubernetesManifests({
        namespace: "models",
        models,
        images: Object.fromEntries(models.map((m) => [m.name, digest(m.name)])),
        loadBalancedModels: ["hello"],
        gateway,
    });
}

const find = findObject;

describe("Kubernetes objects of an AKS environment", () => {
    test("every object of a 3-model environment validates against the Kubernetes OpenAPI schema", async () => {
        const objects = manifests();
        expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
            "Namespace/models",
            "NetworkPolicy/model-hello",
            "Deployment/hello",
            "Service/model-hello",
            "Service/hello-public",
            "NetworkPolicy/model-bos-rf",
            "Deployment/bos-rf",
            "Service/model-bos-rf",
            "PodDisruptionBudget/bos-rf",
            "NetworkPolicy/model-iris",
            "Deployment/iris",
            "Service/model-iris",
            "HorizontalPodAutoscaler/iris",
            "PodDisruptionBudget/iris",
            "NetworkPolicy/default-deny",
            "NetworkPolicy/gateway-ingress",
            "NetworkPolicy/gateway-egress",
            "ConfigMap/gateway-config",
            "Secret/gateway-tls",
            "Secret/gateway-htpasswd",
            "Deployment/gateway",
            "Service/gateway",
            "PodDisruptionBudget/gateway",
        ]);
        expect(await kubernetesSchemaErrors(objects)).toEqual([]);
    });

    test("the rendered YAML parses back to the same objects, secrets redacted, and passes the same schema check", async () => {
        const objects = manifests();
        const yamlText = toKubernetesYaml(objects);
        const parsed = parseAllDocuments(yamlText).map((d) => d.toJSON() as KubernetesObject);
        expect(parsed).toHaveLength(objects.length);
        expect(find(parsed, "Deployment", "bos-rf")).toEqual(find(objects, "Deployment", "bos-rf"));
        expect(find(parsed, "Secret", "gateway-tls").stringData).toEqual({ "tls.crt": REDACTED, "tls.key": REDACTED });
        expect(yamlText).not.toContain("secret-key");
        expect(yamlText).not.toContain("c2VjcmV0LWhhc2g=");
        expect(await kubernetesSchemaErrors(parsed)).toEqual([]);
    });

    test("a broken object fails the schema check with the field named", async () => {
        const deployment = structuredClone(find(manifests(), "Deployment", "hello"));
        deployment.spec.template.spec.containers[0].ports[0].containerPort = "http";
        const service = structuredClone(find(manifests(), "Service", "model-hello"));
        service.spec.type = "Public";
        const results = await validateKubernetesObjects([deployment, service]);
        expect(results).toEqual([
            { kind: "Deployment", name: "hello", errors: ["/spec/template/spec/containers/0/ports/0/containerPort must be integer"] },
            {
                kind: "Service",
                name: "model-hello",
                errors: ['/spec/type must be equal to one of the allowed values ["ClusterIP","ExternalName","LoadBalancer","NodePort"]'],
            },
        ]);
    });

    test("a YAML document with a wrong field type fails the schema check", async () => {
        const yamlText = toKubernetesYaml([find(manifests(), "HorizontalPodAutoscaler", "iris")]).replace("maxReplicas: 6", "maxReplicas: six");
        expect(await kubernetesSchemaErrors([parse(yamlText)])).toEqual(["HorizontalPodAutoscaler/iris: /spec/maxReplicas must be integer"]);
    });

    test("a model's Deployment runs the image by digest, non-root, read-only, with a writable /tmp and no pull secret", () => {
        const { deployment } = renderModelObjects(models[0], { namespace: "models", image: digest("hello") });
        const pod = deployment.spec.template.spec;
        const container = pod.containers[0];
        expect(container.image).toBe(digest("hello"));
        expect(pod.imagePullSecrets).toBeUndefined();
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, seccompProfile: { type: "RuntimeDefault" } });
        expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        expect(container.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
        expect(pod.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }]);
        expect(container.resources).toEqual({ requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "500m", memory: "1Gi" } });
    });

    test("startup and readiness probes hit /healthz and give a slow model five minutes to start; liveness only connects", () => {
        const container = renderModelObjects(models[0], { namespace: "models", image: digest("hello") }).deployment.spec.template.spec.containers[0];
        const httpGet = { path: "/healthz", port: "http" };
        expect(container.startupProbe).toEqual({ httpGet, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 60 });
        expect(container.readinessProbe.httpGet).toEqual(httpGet);
        expect(container.livenessProbe).toEqual({ tcpSocket: { port: "http" }, periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 5 });
    });

    test("a stopping model pod sleeps (no shell needed) while it leaves the endpoints, within a grace that covers the default read timeout", () => {
        const pod = renderModelObjects(models[0], { namespace: "models", image: digest("hello") }).deployment.spec.template.spec;
        expect(pod.containers[0].lifecycle).toEqual({ preStop: { sleep: { seconds: 10 } } });
        expect(GATEWAY_SETTINGS_DEFAULTS.readTimeoutSeconds).toBe(120);
        expect(pod.terminationGracePeriodSeconds).toBe(140); // 10 s drain + 120 s read timeout + 10 s
    });

    test("a model pod's grace covers the gateway's configured read timeout", () => {
        const options = { namespace: "models", image: digest("hello"), gatewayReadTimeoutSeconds: 600 };
        expect(renderModelObjects(models[0], options).deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(620);
    });

    test("the review YAML gives model and gateway pods the grace of the gateway's configured read timeout", () => {
        const objects = renderKubernetesManifests({
            namespace: "models",
            models,
            images: Object.fromEntries(models.map((m) => [m.name, digest(m.name)])),
            gateway: { ...gateway, limits: { readTimeoutSeconds: 300 } },
        });
        const grace = (name: string) => find(objects, "Deployment", name).spec.template.spec.terminationGracePeriodSeconds;
        expect(grace("hello")).toBe(320); // 10 s drain + 300 s + 10 s
        expect(grace("gateway")).toBe(325); // 15 s drain + 300 s + 10 s
    });

    test("model pods prefer spreading over zones and nodes; gateway pods must spread over nodes and prefer zones", () => {
        const objects = manifests();
        const spread = (name: string) => find(objects, "Deployment", name).spec.template.spec.topologySpreadConstraints;
        const expected = (selector: object, hostname: string) =>
            [
                ["topology.kubernetes.io/zone", "ScheduleAnyway"],
                ["kubernetes.io/hostname", hostname],
            ].map(([topologyKey, whenUnsatisfiable]) => ({
                maxSkew: 1,
                topologyKey,
                whenUnsatisfiable,
                nodeTaintsPolicy: "Honor",
                labelSelector: selector,
            }));
        expect(spread("bos-rf")).toEqual(expected(find(objects, "Deployment", "bos-rf").spec.selector, "ScheduleAnyway"));
        expect(spread("gateway")).toEqual(expected(find(objects, "Deployment", "gateway").spec.selector, "DoNotSchedule"));
    });

    test("rolling updates never take a pod away before its replacement is ready", () => {
        const { deployment } = renderModelObjects(models[1], { namespace: "models", image: digest("bos-rf") });
        expect(deployment.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        expect(deployment.spec.replicas).toBe(3);
    });

    test("the Service is model-{name}, the only name the gateway resolves, and maps port 8000 to the container's port", () => {
        const { service } = renderModelObjects(models[2], { namespace: "models", image: digest("iris") });
        expect(service.metadata.name).toBe("model-iris");
        expect(service.spec.type).toBe("ClusterIP");
        expect(service.spec.ports).toEqual([{ name: "http", port: 8000, targetPort: "http", protocol: "TCP" }]);
        const { deployment } = renderModelObjects(models[2], { namespace: "models", image: digest("iris") });
        expect(deployment.spec.template.spec.containers[0].ports).toEqual([{ name: "http", containerPort: 8123, protocol: "TCP" }]);
    });

    test("an autoscaled model gets an HPA on CPU and no fixed replica count", () => {
        const objects = renderModelObjects(models[2], { namespace: "models", image: digest("iris") });
        expect(objects.deployment.spec.replicas).toBeUndefined();
        expect(objects.autoscaler?.spec).toMatchObject({
            scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "iris" },
            minReplicas: 2,
            maxReplicas: 6,
            metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 60 } } }],
        });
    });

    test("the HPA scales up at once but down only after 5 quiet minutes, one pod a minute", () => {
        const { behavior } = renderModelObjects(models[2], { namespace: "models", image: digest("iris") }).autoscaler!.spec;
        expect(behavior.scaleUp.stabilizationWindowSeconds).toBe(0);
        expect(behavior.scaleDown).toEqual({ stabilizationWindowSeconds: 300, policies: [{ type: "Pods", value: 1, periodSeconds: 60 }] });
    });

    test("a single-replica model gets no PDB, HPA or public Service", () => {
        const objects = renderModelObjects(models[0], { namespace: "models", image: digest("hello") });
        expect(objects.disruptionBudget).toBeUndefined();
        expect(objects.autoscaler).toBeUndefined();
        expect(objects.loadBalancer).toBeUndefined();
    });

    test("a model alone (a team's, from another stack) brings its own NetworkPolicy, which isolates its pods both ways", () => {
        const { networkPolicy, deployment } = renderModelObjects(models[0], { namespace: "models", image: digest("hello") });
        expect(networkPolicy.metadata).toMatchObject({ name: "model-hello", namespace: "models" });
        expect(networkPolicy.spec.podSelector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
        expect(networkPolicy.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    });

    test("a model's pods get in only from gateway pods on http, and out only to the cluster DNS by default", () => {
        const { networkPolicy } = renderModelObjects(models[0], { namespace: "models", image: digest("hello") });
        expect(networkPolicy.spec.ingress).toEqual([
            {
                from: [{ podSelector: { matchLabels: { "app.kubernetes.io/component": "gateway", "app.kubernetes.io/part-of": "plumberhub" } } }],
                ports: [{ protocol: "TCP", port: "http" }],
            },
        ]);
        expect(networkPolicy.spec.egress).toHaveLength(1);
        expect(networkPolicy.spec.egress[0].to[0].podSelector).toEqual({ matchLabels: { "k8s-app": "kube-dns" } });
    });

    test("a public model's pods also get in from anywhere on http; an internet model's pods also get out to public addresses", () => {
        const publicModel = renderModelObjects(models[0], { namespace: "models", image: digest("hello"), loadBalancer: true }).networkPolicy;
        expect(publicModel.spec.ingress[1]).toEqual({ ports: [{ protocol: "TCP", port: "http" }] });
        const internet = renderModelObjects(model("fetcher", { egress: "internet" }), {
            namespace: "models",
            image: digest("fetcher"),
        }).networkPolicy;
        expect(internet.spec.egress[1].to[0].ipBlock.cidr).toBe("0.0.0.0/0");
        expect(internet.spec.egress[1].to[0].ipBlock.except).toContain("169.254.0.0/16");
    });

    test("changing a model's environment changes the pod template's checksum", () => {
        const checksum = (m: Model) =>
            renderModelObjects(m, { namespace: "models", image: digest(m.name) }).deployment.spec.template.metadata.annotations[
                CONFIG_CHECKSUM_ANNOTATION
            ];
        expect(checksum(models[1])).toBe(checksum(model("bos-rf", { replicas: 3, env: { MODEL_SEED: "42" } })));
        expect(checksum(models[1])).not.toBe(checksum(model("bos-rf", { replicas: 3, env: { MODEL_SEED: "43" } })));
    });

    test("the model container gets its port, public prefix and stop wait like on swarm", () => {
        const container = renderModelObjects(models[1], { namespace: "models", image: digest("bos-rf") }).deployment.spec.template.spec.containers[0];
        expect(container.env).toEqual([
            { name: "MODEL_SEED", value: "42" },
            { name: "PLUMBERHUB_IDLE_WAIT_SECONDS", value: "120" },
            { name: "PORT", value: "8000" },
            { name: "PUBLIC_PATH_PREFIX", value: "/bos-rf" },
        ]);
    });

    test("a stopping model waits for R as long as the gateway's read timeout, within the pod's grace", () => {
        const pod = renderModelObjects(models[1], { namespace: "models", image: digest("bos-rf"), gatewayReadTimeoutSeconds: 600 }).deployment.spec
            .template.spec;
        expect(pod.containers[0].env).toContainEqual({ name: "PLUMBERHUB_IDLE_WAIT_SECONDS", value: "600" });
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(600 + MODEL_DRAIN_SECONDS);
    });

    test("the gateway routes by DNS to the namespace's model- Services through kube-dns, never to a bare Service name", () => {
        const config = find(manifests(), "ConfigMap", "gateway-config");
        const conf: string = config.data["nginx.conf"];
        expect(conf).toContain("resolver 10.0.0.10");
        expect(conf).toContain('set $plumberhub_upstream_host "model-${plumberhub_model}.models.svc.cluster.local";');
        expect(conf).not.toContain('"${plumberhub_model}.models.svc.cluster.local"');
        expect(conf).toContain("proxy_pass http://$plumberhub_upstream_host:8000;");
        expect(config.data["site-index.html"]).toContain("bos-rf");
    });

    test("the gateway's egress NetworkPolicy lets its pods reach model pods on their http port and the cluster DNS, nothing else", () => {
        const objects = manifests();
        const policy = find(objects, "NetworkPolicy", "gateway-egress");
        const gateway = find(objects, "Deployment", "gateway");
        expect(policy.spec.podSelector.matchLabels).toEqual(gateway.spec.selector.matchLabels);
        expect(policy.spec.policyTypes).toEqual(["Egress"]);
        expect(policy.spec.egress).toEqual([
            {
                to: [{ podSelector: { matchLabels: { "app.kubernetes.io/component": "model", "app.kubernetes.io/part-of": "plumberhub" } } }],
                ports: [{ protocol: "TCP", port: "http" }],
            },
            {
                to: [
                    {
                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                    },
                ],
                ports: [
                    { protocol: "UDP", port: 53 },
                    { protocol: "TCP", port: 53 },
                ],
            },
        ]);
    });

    test("the gateway's ingress NetworkPolicy lets anyone reach its pods on the ports nginx listens on, nothing else", () => {
        const objects = manifests();
        const policy = find(objects, "NetworkPolicy", "gateway-ingress");
        const gateway = find(objects, "Deployment", "gateway");
        expect(policy.spec.podSelector.matchLabels).toEqual(gateway.spec.selector.matchLabels);
        expect(policy.spec.policyTypes).toEqual(["Ingress"]);
        expect(policy.spec.ingress).toEqual([
            {
                ports: [
                    { protocol: "TCP", port: "http" },
                    { protocol: "TCP", port: "https" },
                ],
            },
        ]);
        expect(gateway.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name)).toEqual(["http", "https"]);
    });

    test("the gateway's pods carry the labels every model's NetworkPolicy lets in", () => {
        const objects = manifests();
        const gatewayLabels = find(objects, "Deployment", "gateway").spec.template.metadata.labels;
        for (const model of models) {
            const allowed = find(objects, "NetworkPolicy", `model-${model.name}`).spec.ingress[0].from[0].podSelector.matchLabels;
            expect(gatewayLabels).toMatchObject(allowed);
        }
    });

    test("every model's pods carry the labels the gateway's NetworkPolicy lets it reach, and the port it names", () => {
        const objects = manifests();
        const allowed = find(objects, "NetworkPolicy", "gateway-egress").spec.egress[0];
        for (const model of models) {
            const pod = find(objects, "Deployment", model.name).spec.template;
            expect(pod.metadata.labels).toMatchObject(allowed.to[0].podSelector.matchLabels);
            expect(pod.spec.containers[0].ports.map((p: { name: string }) => p.name)).toContain(allowed.ports[0].port);
        }
        expect(find(objects, "Deployment", "gateway").spec.template.metadata.labels["app.kubernetes.io/component"]).toBe("gateway");
    });

    test("the gateway rolls without dropping a request: surge first, ready on TLS and auth, a drain before a graceful stop, a PDB", () => {
        const objects = manifests();
        const deployment = find(objects, "Deployment", "gateway");
        const pod = deployment.spec.template.spec;
        const [nginx] = pod.containers;
        expect(deployment.spec.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        expect(nginx.readinessProbe.exec.command).toEqual([
            "sh",
            "-c",
            "curl -fsk -o /dev/null https://127.0.0.1:8443/healthz && [ \"$(curl -sk -o /dev/null -w '%{http_code}' https://127.0.0.1:8443/)\" = 401 ]",
        ]);
        const drain: string = nginx.lifecycle.preStop.exec.command[2];
        expect(drain).toMatch(/^sleep 15; nginx -s quit; while .*kill -0/);
        expect(pod.terminationGracePeriodSeconds).toBe(145); // 15 s drain + 120 s default read timeout + 10 s
        expect(nginx.readinessProbe.periodSeconds).toBe(5);
        expect(deployment.spec.minReadySeconds).toBe(10); // two readiness periods
        expect(find(objects, "PodDisruptionBudget", "gateway").spec).toEqual({ maxUnavailable: 1, selector: deployment.spec.selector });
    });

    test("the gateway's LoadBalancer carries the DNS label and skip-await annotations and keeps client addresses", () => {
        const service = find(manifests(), "Service", "gateway");
        expect(service.metadata.annotations).toMatchObject({ [AZURE_DNS_LABEL_ANNOTATION]: "plumberhub-prod", [SKIP_AWAIT_ANNOTATION]: "true" });
        expect(service.spec.type).toBe("LoadBalancer");
        expect(service.spec.externalTrafficPolicy).toBe("Local");
        expect(service.spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 443]);
    });

    test("the load balancer takes a stopping gateway's node out within the drain: its probe timing is set and shorter", () => {
        const annotations = find(manifests(), "Service", "gateway").metadata.annotations ?? {};
        const probeOutSeconds = Number(annotations[AZURE_PROBE_INTERVAL_ANNOTATION]) * Number(annotations[AZURE_PROBE_FAILURES_ANNOTATION]);
        expect(probeOutSeconds).toBe(10);
        expect(GATEWAY_DRAIN_SECONDS).toBeGreaterThan(probeOutSeconds);
    });

    test("a new gateway certificate changes the gateway pods' checksum", () => {
        const checksum = (tlsCert: string) =>
            find(
                renderKubernetesManifests({
                    namespace: "models",
                    models,
                    images: Object.fromEntries(models.map((m) => [m.name, digest(m.name)])),
                    gateway: { ...gateway, tlsCert },
                }),
                "Deployment",
                "gateway",
            ).spec.template.metadata.annotations[CONFIG_CHECKSUM_ANNOTATION];
        expect(checksum("cert-1")).not.toBe(checksum("cert-2"));
    });

    test("a model without an image is refused with its name", () => {
        expect(() => renderKubernetesManifests({ models, images: {} })).toThrow(
            "`images` has no image for model `hello`; give one per model (by digest)",
        );
    });
});

describe("the AKS gateway with ACME (HTTP-01), renewed in its pods", () => {
    const acme: KubernetesGatewayAcme = {
        renewal: { dnsNames: ["models.example.com"], email: "ops@example.com", directoryUrl: LETS_ENCRYPT_STAGING },
    };
    const settings = { namespace: "models", models };
    const { htpasswd } = gateway;

    /** The gateway's objects with ACME, nginx.conf rendered for it. */
    function acmeGateway(options: KubernetesGatewayAcme = acme) {
        return renderGatewayObjects({ namespace: "models", ...renderKubernetesGatewayFiles(settings, { acme: true }), htpasswd, acme: options });
    }
    const podOf = (objects = acmeGateway()) => objects.deployment.spec.template.spec;

    let caBundlePem: string;
    beforeAll(async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plumberhub-acme-ca-"));
        try {
            const keyPath = await makeEcKey(dir, "ca");
            const now = Date.now();
            const certificate = await makeCertificate(dir, {
                name: "ca",
                keyPath,
                commonName: "private ACME server CA",
                isCa: true,
                allowedUses: ["cert_signing"],
                notBefore: new Date(now - 60_000),
                notAfter: new Date(now + 86_400_000),
            });
            caBundlePem = fs.readFileSync(certificate, "utf8");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test("its objects, with a CA bundle, validate against the Kubernetes OpenAPI schema: a PVC and no TLS Secret", async () => {
        const objects = gatewayObjectList(acmeGateway({ ...acme, caBundlePem }));
        expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
            "NetworkPolicy/default-deny",
            "NetworkPolicy/gateway-ingress",
            "NetworkPolicy/gateway-egress",
            "ConfigMap/gateway-config",
            "PersistentVolumeClaim/gateway-acme",
            "Secret/gateway-htpasswd",
            "Deployment/gateway",
            "Service/gateway",
            "PodDisruptionBudget/gateway",
        ]);
        expect(acmeGateway().tlsSecret).toBeUndefined();
        expect(await kubernetesSchemaErrors(objects)).toEqual([]);
    });

    test("the container runs the renewal script, mounted executable from the ConfigMap that holds it", () => {
        const objects = acmeGateway();
        const pod = podOf(objects);
        const [container] = pod.containers;
        expect(container.command).toEqual([ACME_PATHS.script, "serve"]);
        expect(objects.config.data["plumberhub-acme"]).toBe(renderGatewayAcmeScript(acme));
        expect(container.volumeMounts).toContainEqual({ name: "config", mountPath: ACME_PATHS.script, subPath: "plumberhub-acme", readOnly: true });
        const config = pod.volumes.find((v: { name: string }) => v.name === "config");
        expect(config.configMap.items).toContainEqual({ key: "plumberhub-acme", path: "plumberhub-acme", mode: 0o555 });
        expect(container.volumeMounts.map((m: { name: string }) => m.name)).not.toContain("tls");
        expect(pod.volumes.map((v: { name: string }) => v.name)).not.toContain("tls");
    });

    test("nginx serves the certificate from the renewal's volume and the challenge from its webroot, not from a Secret", () => {
        const conf: string = acmeGateway().config.data["nginx.conf"];
        expect(conf).toContain(`ssl_certificate ${ACME_PATHS.certificate};`);
        expect(conf).toContain(`ssl_certificate_key ${ACME_PATHS.key};`);
        expect(conf).toContain("/.well-known/acme-challenge/");
        expect(conf).toContain(ACME_PATHS.webroot);
        expect(conf).not.toContain(KUBERNETES_GATEWAY_PATHS.tls);
    });

    test("the renewal's state is a ReadWriteMany claim, azurefile-csi and 1Gi by default, mounted at the state folder", () => {
        const objects = acmeGateway();
        expect(objects.acmeVolumeClaim?.spec).toEqual({
            accessModes: ["ReadWriteMany"],
            storageClassName: "azurefile-csi",
            resources: { requests: { storage: "1Gi" } },
        });
        const pod = podOf(objects);
        expect(pod.containers[0].volumeMounts).toContainEqual({ name: "acme", mountPath: ACME_PATHS.stateDir });
        expect(pod.volumes).toContainEqual({ name: "acme", persistentVolumeClaim: { claimName: "gateway-acme" } });
    });

    test("a storage class and size of one's own go on the claim", () => {
        const claim = acmeGateway({ ...acme, storageClassName: "azurefile-csi-premium", storageSize: "100Gi" }).acmeVolumeClaim;
        expect(claim?.spec).toMatchObject({ storageClassName: "azurefile-csi-premium", resources: { requests: { storage: "100Gi" } } });
    });

    test("a CA bundle goes into the ConfigMap and is mounted where the script tells lego to trust it", () => {
        const objects = acmeGateway({ ...acme, caBundlePem });
        expect(objects.config.data["acme-ca.pem"]).toBe(caBundlePem);
        expect(objects.config.data["plumberhub-acme"]).toContain(`export LEGO_CA_CERTIFICATES='${ACME_PATHS.caBundle}'`);
        expect(podOf(objects).containers[0].volumeMounts).toContainEqual({
            name: "config",
            mountPath: ACME_PATHS.caBundle,
            subPath: "acme-ca.pem",
            readOnly: true,
        });
        expect(acmeGateway().config.data["acme-ca.pem"]).toBeUndefined();
    });

    test("the pod stays non-root with a read-only root: the state volume and /tmp are its only writable mounts", () => {
        const pod = podOf();
        const [container] = pod.containers;
        expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 101, fsGroup: 101 });
        expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
        const writable = container.volumeMounts.filter((m: { readOnly?: boolean }) => !m.readOnly).map((m: { mountPath: string }) => m.mountPath);
        expect(writable).toEqual([ACME_PATHS.stateDir, "/tmp"]);
        // The script's per-container files are on /tmp.
        expect(ACME_PATHS.runDir.startsWith("/tmp/")).toBe(true);
    });

    test("the egress policy lets the gateway reach public addresses on 443 only: never private, link-local or Azure's wireserver", () => {
        const objects = acmeGateway();
        const policies = [objects.defaultDeny, objects.egressPolicy] as unknown as NetworkPolicy[];
        const { metadata, spec } = objects.deployment.spec.template;
        const pod: PodEndpoint = { namespace: "models", labels: metadata.labels, ip: "10.244.0.10", ports: spec.containers[0].ports };
        const verdict = (ip: string, port: number) => (isAllowed(policies, {}, { from: pod, to: { ip }, port }) ? "allowed" : "denied");
        expect(verdict("172.65.32.248", 443)).toBe("allowed"); // an ACME server
        expect(verdict("172.65.32.248", 80)).toBe("denied");
        for (const ip of ["10.0.0.1", "10.244.1.5", "172.16.0.1", "192.168.1.1", "169.254.169.254", "168.63.129.16"]) {
            expect([ip, verdict(ip, 443)]).toEqual([ip, "denied"]);
        }
        expect(objects.defaultDeny.metadata.name).toBe(DEFAULT_DENY_POLICY_NAME);
    });

    test("a stopping gateway still drains: the preStop's nginx -s quit finds the pid file the renewal script waits for", () => {
        const objects = acmeGateway();
        const drain: string = podOf(objects).containers[0].lifecycle.preStop.exec.command[2];
        expect(drain).toMatch(/^sleep 15; nginx -s quit; while .*kill -0/);
        expect(drain).toContain(GATEWAY_DEFAULTS.pidFile);
        expect(objects.config.data["nginx.conf"]).toContain(`pid ${GATEWAY_DEFAULTS.pidFile};`);
        expect(objects.config.data["plumberhub-acme"]).toContain(`PIDFILE='${GATEWAY_DEFAULTS.pidFile}'`);
    });

    test("a changed renewal config changes the pod template's checksum", () => {
        const checksum = (options: KubernetesGatewayAcme) =>
            acmeGateway(options).deployment.spec.template.metadata.annotations[CONFIG_CHECKSUM_ANNOTATION];
        expect(checksum(acme)).toBe(checksum({ ...acme }));
        expect(checksum(acme)).not.toBe(checksum({ ...acme, renewal: { ...acme.renewal, checkSeconds: 300 } }));
    });

    test("a certificate and ACME together, or neither, or half a certificate, are refused naming the fields", () => {
        const files = renderKubernetesGatewayFiles(settings, { acme: true });
        const render = (extra: object) => () => renderGatewayObjects({ namespace: "models", ...files, htpasswd, ...extra });
        expect(render({ acme, tlsCert: "c", tlsKey: "k" })).toThrow(
            "`tlsCert` and `tlsKey` are not used with `acme` (the gateway gets its certificate from the ACME server): give one or the other",
        );
        expect(render({ tlsCert: "c" })).toThrow(
            "`tlsCert` and `tlsKey` go together: give both (a certificate of your own) or neither (with `acme`)",
        );
        expect(render({})).toThrow(
            "the gateway needs a certificate: give `tlsCert` and `tlsKey` (a certificate of your own) or `acme` (one from an ACME server)",
        );
    });

    test("an nginx.conf rendered without ACME is refused with ACME, so the pod never looks for a certificate it lacks", () => {
        expect(() => renderGatewayObjects({ namespace: "models", ...renderKubernetesGatewayFiles(settings), htpasswd, acme })).toThrow(
            "`nginxConf` does not serve the ACME renewal's certificate but `acme` is set: render it with `renderKubernetesGatewayFiles(settings, { acme: true })`",
        );
    });

    test("bad ACME settings are refused naming the field", () => {
        const refused = (options: KubernetesGatewayAcme) => () => acmeGateway(options);
        expect(refused({ ...acme, renewal: { ...acme.renewal, dnsNames: ["*.example.com"] } })).toThrow("`acme.renewal.dnsNames[0]` must be");
        expect(refused({ ...acme, renewal: { ...acme.renewal, directoryUrl: "https://acme.internal:14000/dir" } })).toThrow(
            '`acme.renewal.directoryUrl` must be on port 443 on Kubernetes (the gateway\'s egress NetworkPolicy lets the renewal reach TCP 443 only), got "https://acme.internal:14000/dir"',
        );
        expect(refused({ ...acme, caBundlePem: "hello" })).toThrow(
            "`acme.caBundlePem` must hold PEM certificates (-----BEGIN CERTIFICATE-----), found none",
        );
        expect(refused({ ...acme, storageClassName: "Azure Files" })).toThrow(
            '`acme.storageClassName` must be a StorageClass name such as `azurefile-csi`, got "Azure Files"',
        );
        expect(refused({ ...acme, storageSize: "lots" })).toThrow(
            '`acme.storageSize` must be a Kubernetes quantity of bytes such as `1Gi`, got "lots"',
        );
    });

    test("a directory URL that names port 443 is accepted", () => {
        const claim = acmeGateway({ ...acme, renewal: { ...acme.renewal, directoryUrl: "https://acme.example.com:443/directory" } }).acmeVolumeClaim;
        expect(claim?.kind).toBe("PersistentVolumeClaim");
    });

    test("KubernetesGateway's args name its own fields when the certificate source is wrong or ACME is bad", () => {
        const args = { models, htpasswd };
        expect(() => validateKubernetesGatewayArgs({ ...args, acme, tlsCertificate: "c", tlsKey: "k" })).toThrow(
            "`tlsCertificate` and `tlsKey` are not used with `acme` (the gateway gets its certificate from the ACME server): give one or the other",
        );
        expect(() => validateKubernetesGatewayArgs({ ...args, tlsKey: "k" })).toThrow(
            "`tlsCertificate` and `tlsKey` go together: give both (a certificate of your own) or neither (with `acme`)",
        );
        expect(() => validateKubernetesGatewayArgs(args)).toThrow(
            "the gateway needs a certificate: give `tlsCertificate` and `tlsKey` (a certificate of your own) or `acme` (one from an ACME server)",
        );
        expect(() => validateKubernetesGatewayArgs({ ...args, acme: { ...acme, storageSize: "0" } })).toThrow(
            '`acme.storageSize` must be a Kubernetes quantity of bytes such as `1Gi`, got "0"',
        );
        expect(() => validateKubernetesGatewayArgs({ ...args, acme })).not.toThrow();
        expect(() => validateKubernetesGatewayArgs({ ...args, tlsCertificate: "c", tlsKey: "k" })).not.toThrow();
    });
});
