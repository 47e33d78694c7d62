import { HubConfigError } from "../../components/config/environment";

/** The problems a config check reports (a `HubConfigError`); fails the test when the check accepts the config. */
export function problemsOf(run: () => unknown): string[] {
    try {
        run();
    } catch (error) {
        if (error instanceof HubConfigError) return error.problems;
        throw error;
    }
    throw new Error("expected the config to be refused");
}
