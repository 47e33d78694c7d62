import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { HtpasswdEntry, renderHtpasswd } from "../render/htpasswd";
import { checkSuppliedPassword, CredentialsPolicy, SALT_SEED_LENGTH, validateCredentials } from "../config/credentials";
import { asResourceError } from "../util/errors";

/** One gateway/registry user. */
export interface CredentialsUser {
    /** User name (letters, digits, `.`, `_`, `@`, `-`; 1–64 characters). Unique. */
    name: string;
    /**
     * A password to use instead of a generated one — pass a config secret
     * (`config.requireSecret(...)`), at least 12 characters, at most 72 bytes. Default: generated
     * (`passwordLength` letters and digits, ≥ 128 bits).
     */
    password?: pulumi.Input<string>;
}

export interface CredentialsArgs {
    /** The users, at least one. Whether each has a `password` decides what is created, so the list is plain. */
    users: CredentialsUser[];
    /** Generated password length, characters (letters and digits: 5.95 bits each). Default 32 (190 bits); min 22 (131 bits). */
    passwordLength?: number;
    /** bcrypt cost (log2 rounds) for supplied passwords in both files. Default 10. Range 4–17. */
    suppliedBcryptCost?: number;
    /** bcrypt cost (log2 rounds) for generated passwords in `registryHtpasswd`. Default 5. Range 4–17. */
    registryBcryptCost?: number;
}

/** The htpasswd lines of every user for one consumer (nginx or the registry). */
function entriesFor(
    users: CredentialsUser[],
    passwords: Record<string, string>,
    scheme: (user: CredentialsUser) => Pick<HtpasswdEntry, "scheme" | "cost">,
): HtpasswdEntry[] {
    return users.map((user) => ({ user: user.name, password: passwords[user.name], ...scheme(user) }));
}

/**
 * Users and passwords for the gateway's basic auth and the swarm registry.
 *
 * - Generated passwords (`@pulumi/random`, letters and digits, ≥ 128 bits) get `{SSHA}` in the
 *   nginx file: nginx checks it in microseconds, and their entropy makes a slow hash pointless.
 * - Supplied passwords get bcrypt (`suppliedBcryptCost`), in both files.
 * - `registryHtpasswd` is all bcrypt (the Docker registry accepts nothing else).
 * - Salts come from a secret seed kept in state, so re-runs render byte-identical files.
 */
export class Credentials extends pulumi.ComponentResource {
    /** User names, in the order given. */
    public readonly userNames: pulumi.Output<string[]>;
    /** Secret: user name → clear-text password. */
    public readonly passwords: pulumi.Output<Record<string, string>>;
    /** Secret: contents of nginx's `auth_basic_user_file`. */
    public readonly htpasswd: pulumi.Output<string>;
    /** Secret: contents of the Docker registry's htpasswd file (bcrypt only). */
    public readonly registryHtpasswd: pulumi.Output<string>;

    constructor(name: string, args: CredentialsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:credentials:Credentials", name, {}, opts);
        const users = args.users ?? [];
        const policy: CredentialsPolicy = asResourceError(this, () =>
            validateCredentials(
                users.map((user) => ({ name: user.name, supplied: user.password !== undefined })),
                {
                    ...(args.passwordLength !== undefined && { passwordLength: args.passwordLength }),
                    ...(args.suppliedBcryptCost !== undefined && { suppliedBcryptCost: args.suppliedBcryptCost }),
                    ...(args.registryBcryptCost !== undefined && { registryBcryptCost: args.registryBcryptCost }),
                },
            ),
        );

        // Secret: see render/htpasswd.ts for why the seed must not leak.
        const saltSeed = new random.RandomPassword(`${name}-salt-seed`, { length: SALT_SEED_LENGTH, special: false }, { parent: this });

        const passwordOutputs: Record<string, pulumi.Output<string>> = {};
        for (const user of users) {
            passwordOutputs[user.name] =
                user.password !== undefined
                    ? pulumi.output(user.password).apply((password) =>
                          asResourceError(this, () => {
                              checkSuppliedPassword(user.name, password);
                              return password;
                          }),
                      )
                    : new random.RandomPassword(
                          `${name}-${user.name}`,
                          // Letters and digits only, no minimum counts (minimums would lower entropy).
                          { length: policy.passwordLength, special: false, upper: true, lower: true, numeric: true },
                          { parent: this },
                      ).result;
        }
        const material = pulumi.all([saltSeed.result, pulumi.all(passwordOutputs)]);
        const supplied = (user: CredentialsUser) => user.password !== undefined;

        this.userNames = pulumi.output(users.map((user) => user.name));
        this.passwords = pulumi.secret(material.apply(([, passwords]) => passwords));
        this.htpasswd = pulumi.secret(
            material.apply(([seed, passwords]) =>
                asResourceError(this, () =>
                    renderHtpasswd(
                        entriesFor(users, passwords, (user) =>
                            supplied(user) ? { scheme: "bcrypt", cost: policy.suppliedBcryptCost } : { scheme: "ssha" },
                        ),
                        seed,
                    ),
                ),
            ),
        );
        this.registryHtpasswd = pulumi.secret(
            material.apply(([seed, passwords]) =>
                asResourceError(this, () =>
                    renderHtpasswd(
                        entriesFor(users, passwords, (user) => ({
                            scheme: "bcrypt",
                            cost: supplied(user) ? policy.suppliedBcryptCost : policy.registryBcryptCost,
                        })),
                        seed,
                    ),
                ),
            ),
        );

        this.registerOutputs({
            userNames: this.userNames,
            passwords: this.passwords,
            htpasswd: this.htpasswd,
            registryHtpasswd: this.registryHtpasswd,
        });
    }
}
