// scripts/get-engine.sh builds the CLI from scripts/engine/pulumi/go.mod: it must be the version of @pulumi/pulumi in
// package-lock.json, or the engine tests would test another engine than users run.
import * as fs from "fs";
import * as path from "path";
import { PROJECT_DIR } from "../helpers/stackProgram";

test("the engine's Go module builds the Pulumi CLI and SDK of @pulumi/pulumi's version", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package-lock.json"), "utf8"));
    const version = lock.packages["node_modules/@pulumi/pulumi"].version as string;
    const goMod = fs.readFileSync(path.join(PROJECT_DIR, "scripts/engine/pulumi/go.mod"), "utf8");
    const pinned = (module: string) => new RegExp(`^\\s*${module.replace(/[./]/g, "\\$&")} v(\\S+)$`, "m").exec(goMod)?.[1];
    expect([pinned("github.com/pulumi/pulumi/pkg/v3"), pinned("github.com/pulumi/pulumi/sdk/v3")]).toEqual([version, version]);
});
