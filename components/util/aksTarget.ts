/**
 * The AKS target's SDKs (@pulumi/azure-native, @pulumi/kubernetes) are optional peer dependencies: a swarm-only
 * install has neither. Code that serves both targets loads the AKS wiring through this, only when a stack is on AKS,
 * and says what to install when the SDKs are missing.
 */
export function loadAksWiring<T>(load: () => T): T {
    try {
        return load();
    } catch (error) {
        const { code, message } = error as { code?: string; message?: string };
        if (code === "MODULE_NOT_FOUND" && /@pulumi\/(azure-native|kubernetes)\b/.test(message ?? "")) {
            throw new Error(
                `the AKS target needs @pulumi/azure-native and @pulumi/kubernetes: npm install @pulumi/azure-native @pulumi/kubernetes (${message?.split("\n")[0]})`,
                { cause: error },
            );
        }
        throw error;
    }
}
