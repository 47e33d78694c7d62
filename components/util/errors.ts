import * as pulumi from "@pulumi/pulumi";

/**
 * Runs `check` and rethrows any error as a `pulumi.ResourceError` on `resource`, so the message
 * (which names the bad field) is shown against the component in `pulumi preview`.
 */
export function asResourceError<T>(resource: pulumi.Resource, check: () => T): T {
    try {
        return check();
    } catch (error) {
        throw new pulumi.ResourceError(error instanceof Error ? error.message : String(error), resource);
    }
}
