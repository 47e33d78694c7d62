// Validates Kubernetes objects against the OpenAPI schemas compiled into `kubernetes-models` (ESM-only, so it runs
// in its own Node process; jest loads CommonJS). Input: a JSON array of objects on stdin. Output: a JSON array with
// one entry per object, `{ kind, name, errors }`, `errors` empty when the object is valid.
const input = JSON.parse(
    await new Promise((resolve) => {
        let text = "";
        process.stdin.on("data", (chunk) => (text += chunk));
        process.stdin.on("end", () => resolve(text));
    }),
);

const results = [];
for (const object of input) {
    const name = object?.metadata?.name;
    const kind = object?.kind;
    const apiVersion = object?.apiVersion;
    if (typeof kind !== "string" || typeof apiVersion !== "string" || !/^[A-Za-z]+$/.test(kind) || !/^[a-z0-9./]+$/.test(apiVersion)) {
        results.push({ kind, name, errors: [`not a Kubernetes object: apiVersion ${JSON.stringify(apiVersion)}, kind ${JSON.stringify(kind)}`] });
        continue;
    }
    let Model;
    try {
        Model = (await import(`kubernetes-models/${apiVersion}/${kind}`))[kind];
    } catch (error) {
        results.push({ kind, name, errors: [`no schema for ${apiVersion} ${kind}: ${error.code ?? error.message}`] });
        continue;
    }
    try {
        new Model(object).validate();
        results.push({ kind, name, errors: [] });
    } catch (error) {
        const details = (error.errors ?? []).map(
            (e) => `${e.instancePath || "/"} ${e.message}${e.params?.allowedValues ? ` ${JSON.stringify(e.params.allowedValues)}` : ""}`,
        );
        results.push({ kind, name, errors: details.length > 0 ? details : [error.message] });
    }
}
process.stdout.write(JSON.stringify(results));
