/**
 * htpasswd lines for nginx `auth_basic_user_file` and for the Docker registry's htpasswd auth.
 * Pure: plain values in, file contents out (hashing is computation, not I/O).
 *
 * Schemes (see DESIGN.md "Credentials"):
 * - `ssha` — `{SSHA}base64(SHA-1(password ‖ salt) ‖ salt)`, implemented inside nginx itself
 *   (ngx_crypt_ssha), about 0.8 of no-auth throughput. For generated passwords only: with ≥ 128
 *   bits of entropy no hash speed makes guessing feasible, so a slow hash would only cap the gateway
 *   (nginx re-hashes on every request; bcrypt cost 10 ≈ 20 req/s per worker). SHA-1's collision
 *   weakness is irrelevant here: a password verifier needs preimage resistance, which is intact.
 * - `bcrypt` — `$2b$<cost>$…`, for passwords people choose (their only protection against an
 *   offline guess is hash cost) and for the Docker registry, which accepts bcrypt only. nginx hands
 *   `$2b$` to the system crypt(): glibc + libxcrypt (Debian ≥ 11) and musl (Alpine) support it.
 *
 * Salts are derived, not random, so a re-run renders byte-identical files (no diff, no restart):
 * salt = HMAC-SHA256(seed, scheme ‖ user ‖ password). The seed must be secret — with a known seed a
 * bcrypt salt would be a fast function of the password and bypass bcrypt's cost — and it is held in
 * the stack state next to the passwords themselves (Credentials makes it with @pulumi/random).
 */
import * as bcrypt from "bcryptjs";
import { createHash, createHmac } from "crypto";
import { BCRYPT_MAX_PASSWORD_BYTES, MIN_SALT_SEED_LENGTH, validateBcryptCost, validateUserName } from "../config/credentials";

export type HtpasswdScheme = "ssha" | "bcrypt";

/** One user's line to render. */
export interface HtpasswdEntry {
    /** User name: no `:`, whitespace or control characters (validated by `validateUserName`). */
    user: string;
    /** Clear-text password; never logged or echoed in errors. */
    password: string;
    scheme: HtpasswdScheme;
    /** bcrypt cost (log2 rounds), 4–17; required for `bcrypt`, ignored for `ssha`. */
    cost?: number;
}

/** Salt bytes for `{SSHA}` (nginx accepts any length after the 20-byte digest). */
export const SSHA_SALT_BYTES = 16;
/** bcrypt salts are always 16 bytes. */
const BCRYPT_SALT_BYTES = 16;

/** Deterministic salt: HMAC-SHA256(seed, scheme ‖ 0 ‖ user ‖ 0 ‖ password), first `bytes` bytes. */
export function deriveSalt(seed: string, scheme: HtpasswdScheme, user: string, password: string, bytes: number): Buffer {
    const mac = createHmac("sha256", seed).update(`plumberhub-htpasswd\0${scheme}\0${user}\0${password}`).digest();
    return mac.subarray(0, bytes);
}

/** `{SSHA}` hash of `password` with `salt`, as nginx and OpenLDAP read it. */
export function sshaHash(password: string, salt: Buffer): string {
    const digest = createHash("sha1").update(password, "utf8").update(salt).digest();
    return `{SSHA}${Buffer.concat([digest, salt]).toString("base64")}`;
}

/** `$2b$` bcrypt hash of `password` with a 16-byte `salt` and `cost`. */
export function bcryptHash(password: string, salt: Buffer, cost: number): string {
    const saltString = `$2b$${String(cost).padStart(2, "0")}$${bcrypt.encodeBase64(salt, BCRYPT_SALT_BYTES)}`;
    return bcrypt.hashSync(password, saltString);
}

function checkEntry(entry: HtpasswdEntry): void {
    validateUserName(entry.user);
    // The password is secret: errors give its length, never its value.
    if (entry.password.length === 0 || /[\r\n\0]/.test(entry.password)) {
        throw new Error(`password of user \`${entry.user}\` must be non-empty without line breaks or NUL (length ${entry.password.length})`);
    }
    if (entry.scheme === "bcrypt") {
        validateBcryptCost(entry.cost, `cost of user ${entry.user}`);
        const bytes = Buffer.byteLength(entry.password, "utf8");
        if (bytes > BCRYPT_MAX_PASSWORD_BYTES) {
            throw new Error(
                `password of user \`${entry.user}\` is ${bytes} bytes; bcrypt uses at most ${BCRYPT_MAX_PASSWORD_BYTES}, so use a shorter one`,
            );
        }
    } else if (entry.scheme !== "ssha") {
        throw new Error(`\`scheme\` of user \`${entry.user}\` must be "ssha" or "bcrypt", got ${JSON.stringify(entry.scheme)}`);
    }
}

/** One `user:hash` line (no newline). */
export function renderHtpasswdLine(entry: HtpasswdEntry, saltSeed: string): string {
    checkEntry(entry);
    if (saltSeed.length < MIN_SALT_SEED_LENGTH) {
        throw new Error(`\`saltSeed\` must be a secret of at least ${MIN_SALT_SEED_LENGTH} characters, got ${saltSeed.length}`);
    }
    const hash =
        entry.scheme === "ssha"
            ? sshaHash(entry.password, deriveSalt(saltSeed, "ssha", entry.user, entry.password, SSHA_SALT_BYTES))
            : bcryptHash(entry.password, deriveSalt(saltSeed, "bcrypt", entry.user, entry.password, BCRYPT_SALT_BYTES), entry.cost!);
    return `${entry.user}:${hash}`;
}

/** A whole htpasswd file: one line per entry in the given order, `\n`-terminated. Users must be unique. */
export function renderHtpasswd(entries: HtpasswdEntry[], saltSeed: string): string {
    const seen = new Set<string>();
    for (const { user } of entries) {
        if (seen.has(user)) throw new Error(`user \`${user}\` appears twice; htpasswd user names must be unique`);
        seen.add(user);
    }
    return entries.map((entry) => `${renderHtpasswdLine(entry, saltSeed)}\n`).join("");
}
