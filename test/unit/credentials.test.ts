import * as bcrypt from "bcryptjs";
import * as pulumi from "@pulumi/pulumi";
import { installRecordingMocks, isSecret, parentRecorder, promiseOf, runMockedProgram } from "../helpers/pulumiMocks";

const SEED = "SeedSeedSeedSeedSeedSeedSeedSeedSeedSeed123";
const OTHER_SEED = "OtherSeedOtherSeedOtherSeedOtherSeedOther12";

// The random provider's answer: the salt seed (another one for resources named "reseeded-…") and a
// per-user password that depends only on the user, so two components with the same users see the same state.
// The out-of-process program tests start node + @pulumi/pulumi (1–5 s on a busy machine).
jest.setTimeout(30_000);

const recorded = installRecordingMocks({
    "random:index/randomPassword:RandomPassword": (args) => {
        if (args.name.endsWith("-salt-seed")) return { result: args.name.startsWith("reseeded-") ? OTHER_SEED : SEED };
        const user = args.name.slice(args.name.indexOf("-") + 1);
        return { result: `Gen${user}`.padEnd(args.inputs.length, "x") };
    },
});

import { Credentials } from "../../components/credentials";
import { sshaHash } from "../../components/render/htpasswd";

const SUPPLIED = "a long passphrase of bob";

function users() {
    return [{ name: "alice" }, { name: "bob", password: pulumi.secret(SUPPLIED) }, { name: "ci-bot" }];
}

function linesOf(file: string): Record<string, string> {
    return Object.fromEntries(
        file
            .trimEnd()
            .split("\n")
            .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1)]),
    );
}

/** Whether an `{SSHA}` hash matches `password` (salt = bytes after the 20-byte SHA-1 digest). */
function sshaMatches(hash: string, password: string): boolean {
    const salt = Buffer.from(hash.slice("{SSHA}".length), "base64").subarray(20);
    return sshaHash(password, salt) === hash;
}

beforeEach(() => {
    recorded.length = 0;
});

describe("Credentials", () => {
    test("generates a 32-character letters-and-digits password for each user without one", async () => {
        const credentials = new Credentials("hub", { users: users() });
        await promiseOf(credentials.htpasswd);
        const generated = recorded.filter((r) => r.type === "random:index/randomPassword:RandomPassword" && !r.name.endsWith("-salt-seed"));
        expect(generated.map((r) => r.name).sort()).toEqual(["hub-alice", "hub-ci-bot"]);
        for (const r of generated) {
            expect(r.inputs).toEqual({ length: 32, special: false, upper: true, lower: true, numeric: true });
        }
    });

    test("creates no random password for a user who supplied one", async () => {
        const credentials = new Credentials("hub", { users: users() });
        await promiseOf(credentials.htpasswd);
        expect(recorded.find((r) => r.name === "hub-bob")).toBeUndefined();
    });

    test("makes a 43-character salt seed (256 bits)", async () => {
        await promiseOf(new Credentials("hub", { users: users() }).htpasswd);
        expect(recorded.find((r) => r.name === "hub-salt-seed")?.inputs).toEqual({ length: 43, special: false });
    });

    test("passwords, htpasswd and registryHtpasswd are all secret, even when no input was", async () => {
        // Generated users only: the mocked random provider returns plain values, so nothing comes in secret.
        const credentials = new Credentials("hub", { users: [{ name: "alice" }, { name: "ci-bot" }] });
        expect(await isSecret(credentials.passwords)).toBe(true);
        expect(await isSecret(credentials.htpasswd)).toBe(true);
        expect(await isSecret(credentials.registryHtpasswd)).toBe(true);
    });

    test("passwords maps each user to the generated or supplied password", async () => {
        const passwords = await promiseOf(new Credentials("hub", { users: users() }).passwords);
        expect(passwords).toEqual({ alice: "Genalice".padEnd(32, "x"), bob: SUPPLIED, "ci-bot": "Genci-bot".padEnd(32, "x") });
    });

    test("htpasswd holds {SSHA} for generated passwords and bcrypt cost 10 for the supplied one, each matching its password", async () => {
        const credentials = new Credentials("hub", { users: users() });
        const lines = linesOf(await promiseOf(credentials.htpasswd));
        const passwords = await promiseOf(credentials.passwords);
        expect(Object.keys(lines)).toEqual(["alice", "bob", "ci-bot"]);
        expect(sshaMatches(lines.alice, passwords.alice)).toBe(true);
        expect(sshaMatches(lines["ci-bot"], passwords["ci-bot"])).toBe(true);
        expect(lines.bob).toMatch(/^\$2b\$10\$/);
        expect(bcrypt.compareSync(SUPPLIED, lines.bob)).toBe(true);
        expect(bcrypt.compareSync("not the password", lines.bob)).toBe(false);
    });

    test("registryHtpasswd is bcrypt only: cost 5 for generated passwords, 10 for supplied", async () => {
        const credentials = new Credentials("hub", { users: users() });
        const lines = linesOf(await promiseOf(credentials.registryHtpasswd));
        const passwords = await promiseOf(credentials.passwords);
        expect(lines.alice).toMatch(/^\$2b\$05\$/);
        expect(lines.bob).toMatch(/^\$2b\$10\$/);
        for (const user of ["alice", "bob", "ci-bot"]) expect(bcrypt.compareSync(passwords[user], lines[user])).toBe(true);
    });

    test("two evaluations with the same state give byte-identical htpasswd files", async () => {
        const first = new Credentials("hub", { users: users() });
        const second = new Credentials("hub2", { users: users() });
        expect(await promiseOf(second.htpasswd)).toBe(await promiseOf(first.htpasswd));
        expect(await promiseOf(second.registryHtpasswd)).toBe(await promiseOf(first.registryHtpasswd));
    });

    test("a different salt seed gives different htpasswd lines for the same passwords", async () => {
        const first = await promiseOf(new Credentials("hub", { users: users() }).htpasswd);
        const reseeded = await promiseOf(new Credentials("reseeded-hub", { users: users() }).htpasswd);
        expect(reseeded).not.toBe(first);
    });

    test("every child is parented to the component and named after it", async () => {
        const { transformation, links } = parentRecorder();
        const credentials = new Credentials("hub", { users: users() }, { transformations: [transformation] });
        await promiseOf(credentials.htpasswd);
        const children = links.filter((link) => link.name !== "hub");
        expect(children.map((link) => link.name).sort()).toEqual(["hub-alice", "hub-ci-bot", "hub-salt-seed"]);
        for (const link of children) expect(link.parent).toBe(credentials);
    });

    test("a program with a supplied password shorter than 12 characters fails with the message, not the password", async () => {
        const { code, output } = await runMockedProgram("Credentials", { users: [{ name: "bob", password: "hunter2" }] }, ["users.0.password"]);
        expect(code).not.toBe(0);
        expect(output).toContain("supplied password of user `bob` must have at least 12 characters, got 7");
        expect(output).not.toContain("hunter2");
    });

    test("the same program with a 12-character supplied password runs to the end", async () => {
        const { code, output } = await runMockedProgram("Credentials", { users: [{ name: "bob", password: "hunter2hunt2" }] }, ["users.0.password"]);
        expect({ code, output }).toEqual({ code: 0, output: "" });
    });

    test("refuses a duplicate user name up front", () => {
        expect(() => new Credentials("hub", { users: [{ name: "alice" }, { name: "alice" }] })).toThrow(
            '`users[1].name` "alice" appears twice; user names must be unique',
        );
    });

    test("refuses a password length under 128 bits up front", () => {
        expect(() => new Credentials("hub", { users: [{ name: "alice" }], passwordLength: 16 })).toThrow(
            "`passwordLength` must be an integer from 22 (128 bits) to 72 (bcrypt's limit), got 16",
        );
    });
});
