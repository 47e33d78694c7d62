/**
 * A one-component Pulumi program under recording mocks, run as its own node process by
 * `runMockedProgram` (see there). Reads `{ component, args, secrets }` from PLUMBERHUB_PROGRAM;
 * `secrets` are dotted paths into `args` to wrap in `pulumi.secret`, as config secrets arrive.
 */
import * as pulumi from "@pulumi/pulumi";
import { installRecordingMocks } from "./pulumiMocks";

installRecordingMocks({
    "random:index/randomPassword:RandomPassword": (args) => ({ result: "R".repeat(args.inputs.length) }),
});

// Required after the mocks are installed.
const components: Record<string, new (name: string, args: unknown) => pulumi.ComponentResource> = {
    Credentials: require("../../components/credentials").Credentials,
    ServerCertificate: require("../../components/tls").ServerCertificate,
};

const request = JSON.parse(process.env.PLUMBERHUB_PROGRAM ?? "{}") as { component: string; args: Record<string, unknown>; secrets: string[] };
for (const path of request.secrets) {
    const keys = path.split(".");
    const holder = keys.slice(0, -1).reduce<any>((node, key) => node[key], request.args);
    holder[keys[keys.length - 1]] = pulumi.secret(holder[keys[keys.length - 1]]);
}
new components[request.component]("program", request.args);
