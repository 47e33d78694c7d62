/**
 * Gateway and registry users: names, password policy, hash costs. Plain data, no Pulumi.
 *
 * Generated passwords are drawn from the 62 letters and digits (no symbols: they survive shells,
 * URLs and `docker login` unquoted). Entropy = length × log2(62) = length × 5.954 bits, so 22
 * characters give 131 bits (the floor for ≥ 128) and the default 32 give 190.5 bits.
 */
import { show, validateInteger } from "./checks";

/** Size of the generated-password alphabet: A–Z, a–z, 0–9. */
export const PASSWORD_ALPHABET_SIZE = 62;
/** Entropy a generated password must reach, in bits. */
export const MIN_PASSWORD_BITS = 128;
/** Shortest generated password that reaches MIN_PASSWORD_BITS: ceil(128 / log2 62) = 22. */
export const MIN_GENERATED_PASSWORD_LENGTH = Math.ceil(MIN_PASSWORD_BITS / Math.log2(PASSWORD_ALPHABET_SIZE));
/** Shortest password a person may supply (they are not random, so length is a weak stand-in). */
export const MIN_SUPPLIED_PASSWORD_LENGTH = 12;
/** bcrypt ignores bytes after the 72nd; longer passwords would silently be truncated. */
export const BCRYPT_MAX_PASSWORD_BYTES = 72;
/** Length of the generated seed of the htpasswd salts: 43 letters and digits, 256 bits. */
export const SALT_SEED_LENGTH = 43;
/** A salt seed shorter than this is refused: like a generated password, it must carry MIN_PASSWORD_BITS. */
export const MIN_SALT_SEED_LENGTH = MIN_GENERATED_PASSWORD_LENGTH;
/** bcrypt costs accepted: 4 is bcrypt's floor; 17 is the ceiling of Apache `htpasswd -C`. */
export const BCRYPT_COST_RANGE = { min: 4, max: 17 } as const;

/** Bits of entropy of a generated password of `length` characters. */
export function passwordEntropyBits(length: number): number {
    return length * Math.log2(PASSWORD_ALPHABET_SIZE);
}

/** The choices a Credentials component makes, with defaults filled in. */
export interface CredentialsPolicy {
    /** Generated password length in characters. Default 32 (190 bits). */
    passwordLength: number;
    /**
     * bcrypt cost for supplied passwords, in the gateway and registry files. Default 10: the usual
     * floor for human-chosen passwords (≈ 60 ms per check: `npm run bench:auth` measures 17 req/s per nginx worker for
     * such a user — humans opening docs, not machine clients, which should use generated passwords).
     */
    suppliedBcryptCost: number;
    /**
     * bcrypt cost for generated passwords in the registry file. Default 5 (Apache htpasswd's own
     * default): the registry checks bcrypt on every API call and a push makes dozens, while 128+
     * bits of entropy already make guessing infeasible at any cost.
     */
    registryBcryptCost: number;
}

/** Defaults of `CredentialsPolicy` (the reasons are on its fields). */
export const CREDENTIALS_POLICY_DEFAULTS: Readonly<CredentialsPolicy> = Object.freeze({
    passwordLength: 32,
    suppliedBcryptCost: 10,
    registryBcryptCost: 5,
});

/** A user as validation sees it: the password itself may be a secret still to come. */
export interface UserShape {
    name: string;
    /** Whether a password is supplied (else one is generated). */
    supplied: boolean;
}

/** A gateway user name: safe in htpasswd files (no `:`), nginx maps and URLs; 1–64 characters. */
export const USER_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/** Throws unless `user` can stand left of the `:` in an htpasswd line and in a URL. */
export function validateUserName(user: unknown, field = "user"): asserts user is string {
    if (typeof user !== "string" || !USER_NAME.test(user)) {
        throw new Error(
            `\`${field}\` must be a user name of 1 to 64 letters, digits, \`.\`, \`_\`, \`@\` or \`-\`, starting with a letter or digit, got ${show(user)}`,
        );
    }
}

/** Throws unless `cost` is an integer bcrypt cost in range. */
export function validateBcryptCost(cost: unknown, field: string): void {
    validateInteger(cost, field, BCRYPT_COST_RANGE.min, BCRYPT_COST_RANGE.max);
}

/** Validates the users and options of a Credentials component; returns the policy with defaults. */
export function validateCredentials(users: UserShape[], options: Partial<CredentialsPolicy> = {}): CredentialsPolicy {
    if (!Array.isArray(users) || users.length === 0) {
        throw new Error(`\`users\` must list at least one user, got ${JSON.stringify(users)}`);
    }
    const seen = new Set<string>();
    users.forEach((user, i) => {
        validateUserName(user.name, `users[${i}].name`);
        if (seen.has(user.name)) throw new Error(`\`users[${i}].name\` ${JSON.stringify(user.name)} appears twice; user names must be unique`);
        seen.add(user.name);
    });
    const policy: CredentialsPolicy = { ...CREDENTIALS_POLICY_DEFAULTS, ...options };
    // Generated passwords are ASCII: characters are bytes.
    if (
        !Number.isInteger(policy.passwordLength) ||
        policy.passwordLength < MIN_GENERATED_PASSWORD_LENGTH ||
        policy.passwordLength > BCRYPT_MAX_PASSWORD_BYTES
    ) {
        throw new Error(
            `\`passwordLength\` must be an integer from ${MIN_GENERATED_PASSWORD_LENGTH} (${MIN_PASSWORD_BITS} bits) to ${BCRYPT_MAX_PASSWORD_BYTES} (bcrypt's limit), got ${JSON.stringify(policy.passwordLength)}`,
        );
    }
    validateBcryptCost(policy.suppliedBcryptCost, "suppliedBcryptCost");
    validateBcryptCost(policy.registryBcryptCost, "registryBcryptCost");
    return policy;
}

/**
 * Checks a supplied password once its secret value is known (at preview, config secrets are).
 * The message names the user and the length, never the password.
 */
export function checkSuppliedPassword(user: string, password: string): void {
    if (typeof password !== "string" || password.length < MIN_SUPPLIED_PASSWORD_LENGTH) {
        const length = typeof password === "string" ? password.length : 0;
        throw new Error(`supplied password of user \`${user}\` must have at least ${MIN_SUPPLIED_PASSWORD_LENGTH} characters, got ${length}`);
    }
}
