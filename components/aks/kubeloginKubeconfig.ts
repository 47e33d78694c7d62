/**
 * The user kubeconfig of an Entra ID cluster (`listClusterUserCredential`, format `exec`) runs `kubelogin get-token`
 * with AKS's default login mode (`devicecode`, a person at a browser). Pure: no Pulumi.
 */
import { parseDocument } from "yaml";
import type { KubeloginMode } from "../config/aks";

/**
 * Modes that keep the kubeconfig's `--client-id`, `--tenant-id` and `--environment` (kubelogin's rule): a person's
 * sign-in through AKS's public client app, and `spn`, which keeps the tenant and cloud but takes its own client id
 * from `AZURE_CLIENT_ID` / `AAD_SERVICE_PRINCIPAL_CLIENT_ID` at run time.
 */
const MODES_KEEPING_CLIENT_ARGS: readonly KubeloginMode[] = ["devicecode", "interactive", "spn", "ropc"];

/** The value after `flag` in an argument list, if any. */
function argAfter(args: string[], flag: string): string | undefined {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The `kubelogin get-token` arguments for `mode`, rebuilt from AKS's ones the way `kubelogin convert-kubeconfig
 * --login <mode>` does without further flags: `--login` and `--server-id` always; client id, tenant id and cloud
 * (`--environment`) only for the modes that need them from the kubeconfig (the others take the identity from their
 * environment, e.g. `az login` or `AZURE_CLIENT_ID` / `AZURE_TENANT_ID` / `AZURE_FEDERATED_TOKEN_FILE`).
 */
export function kubeloginArgs(args: string[], mode: KubeloginMode): string[] {
    const serverId = argAfter(args, "--server-id");
    if (!serverId) throw new Error(`the kubelogin arguments have no \`--server-id\`: ${JSON.stringify(args)}`);
    const rebuilt = ["get-token", "--login", mode, "--server-id", serverId];
    const keep = (flag: string) => {
        const value = argAfter(args, flag);
        if (value !== undefined) rebuilt.push(flag, value);
    };
    if (MODES_KEEPING_CLIENT_ARGS.includes(mode)) ["--client-id", "--tenant-id", "--environment"].forEach(keep);
    // azurepipelines signs in with a service connection of the kubeconfig's tenant.
    if (mode === "azurepipelines") keep("--tenant-id");
    return rebuilt;
}

/**
 * `kubeconfig` with every user that runs kubelogin switched to `mode` (other users and all other fields unchanged).
 * Throws when no user runs kubelogin: an Entra ID cluster's exec kubeconfig always has one.
 */
export function useKubeloginMode(kubeconfig: string, mode: KubeloginMode): string {
    const doc = parseDocument(kubeconfig);
    const users = (doc.toJS() as { users?: { user?: { exec?: { command?: string; args?: string[] } } }[] }).users ?? [];
    let converted = 0;
    users.forEach((entry, i) => {
        const exec = entry.user?.exec;
        // kubelogin's own test for "this user runs kubelogin".
        if (!exec?.command?.toLowerCase().includes("kubelogin")) return;
        doc.setIn(["users", i, "user", "exec", "args"], doc.createNode(kubeloginArgs(exec.args ?? [], mode)));
        converted++;
    });
    if (converted === 0) throw new Error("the kubeconfig has no user that runs kubelogin (exec format of an Entra ID cluster expected)");
    return doc.toString();
}
