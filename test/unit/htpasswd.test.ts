import { bcryptHash, deriveSalt, renderHtpasswd, renderHtpasswdLine, sshaHash } from "../../components/render/htpasswd";
import { checkSuppliedPassword, MIN_GENERATED_PASSWORD_LENGTH, passwordEntropyBits, validateCredentials } from "../../components/config/credentials";

const SEED = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
const SALT_0_TO_15 = Buffer.from(Array.from({ length: 16 }, (_, i) => i));

describe("hash functions against independent implementations", () => {
    test("{SSHA} of a known password and salt equals Python hashlib's result", () => {
        // python3: "{SSHA}" + b64encode(sha1(b"correct horse" + bytes(range(16))).digest() + bytes(range(16)))
        expect(sshaHash("correct horse", SALT_0_TO_15)).toBe("{SSHA}SbfVjMGTkcdPCA/6xGSjKvPl7QsAAQIDBAUGBwgJCgsMDQ4P");
    });

    test("bcrypt of a known password and salt equals the system crypt()'s result", () => {
        // python3: crypt.crypt("correct horse", "$2b$05$..CA.uOD/eaGAOmJB.yMBu") (libxcrypt)
        expect(bcryptHash("correct horse", SALT_0_TO_15, 5)).toBe("$2b$05$..CA.uOD/eaGAOmJB.yMBuIiq3ZpINtwHaNw18Rp7ZaHcKREQK/g6");
    });
});

describe("renderHtpasswd", () => {
    const entries = [
        { user: "alice", password: "generatedPasswordOf32Characters0", scheme: "ssha" as const },
        { user: "bob", password: "a person's own passphrase", scheme: "bcrypt" as const, cost: 5 },
    ];

    test("renders one user:hash line per entry, in order, newline-terminated", () => {
        const lines = renderHtpasswd(entries, SEED).split("\n");
        expect(lines).toHaveLength(3);
        expect(lines[0]).toMatch(/^alice:\{SSHA\}[A-Za-z0-9+/]{48}$/);
        expect(lines[1]).toMatch(/^bob:\$2b\$05\$[./A-Za-z0-9]{53}$/);
        expect(lines[2]).toBe("");
    });

    test("the same seed and passwords give byte-identical files", () => {
        expect(renderHtpasswd(entries, SEED)).toBe(
            renderHtpasswd(
                entries.map((entry) => ({ ...entry })),
                SEED,
            ),
        );
    });

    test("another seed gives other salts, so other lines", () => {
        const other = renderHtpasswd(entries, `${SEED}x`).split("\n");
        const first = renderHtpasswd(entries, SEED).split("\n");
        expect(other[0]).not.toBe(first[0]);
        expect(other[1]).not.toBe(first[1]);
    });

    test("the {SSHA} salt is the seed-derived one", () => {
        const line = renderHtpasswdLine(entries[0], SEED);
        const salt = deriveSalt(SEED, "ssha", "alice", entries[0].password, 16);
        expect(line).toBe(`alice:${sshaHash(entries[0].password, salt)}`);
    });

    test("a changed password changes the salt too", () => {
        expect(deriveSalt(SEED, "ssha", "alice", "one", 16).equals(deriveSalt(SEED, "ssha", "alice", "two", 16))).toBe(false);
    });

    test("refuses a duplicate user", () => {
        expect(() => renderHtpasswd([entries[0], entries[0]], SEED)).toThrow("user `alice` appears twice; htpasswd user names must be unique");
    });

    test("refuses a user name with a colon", () => {
        expect(() => renderHtpasswdLine({ ...entries[0], user: "a:b" }, SEED)).toThrow(
            '`user` must be a user name of 1 to 64 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or digit, got "a:b"',
        );
    });

    test("refuses a short seed", () => {
        expect(() => renderHtpasswdLine(entries[0], "short")).toThrow("`saltSeed` must be a secret of at least 22 characters, got 5");
    });

    test("refuses a password with a line break without echoing it", () => {
        expect(() => renderHtpasswdLine({ ...entries[0], password: "abc\ndef" }, SEED)).toThrow(
            "password of user `alice` must be non-empty without line breaks or NUL (length 7)",
        );
    });

    test("refuses a bcrypt password over 72 bytes", () => {
        expect(() => renderHtpasswdLine({ ...entries[1], password: "é".repeat(40) }, SEED)).toThrow(
            "password of user `bob` is 80 bytes; bcrypt uses at most 72, so use a shorter one",
        );
    });

    test("refuses a bcrypt cost outside 4–17", () => {
        expect(() => renderHtpasswdLine({ ...entries[1], cost: 3 }, SEED)).toThrow("`cost of user bob` must be an integer from 4 to 17, got 3");
    });
});

describe("credentials policy", () => {
    test("22 letters and digits are the fewest that reach 128 bits", () => {
        expect(MIN_GENERATED_PASSWORD_LENGTH).toBe(22);
        expect(passwordEntropyBits(21)).toBeLessThan(128);
        expect(passwordEntropyBits(22)).toBeGreaterThanOrEqual(128);
        expect(passwordEntropyBits(32)).toBeCloseTo(190.5, 1);
    });

    test("defaults: 32-character passwords, bcrypt cost 10 for supplied, 5 for generated registry lines", () => {
        expect(validateCredentials([{ name: "alice", supplied: false }])).toEqual({
            passwordLength: 32,
            suppliedBcryptCost: 10,
            registryBcryptCost: 5,
        });
    });

    test("refuses an empty user list", () => {
        expect(() => validateCredentials([])).toThrow("`users` must list at least one user, got []");
    });

    test("refuses a duplicate user name", () => {
        expect(() =>
            validateCredentials([
                { name: "a", supplied: false },
                { name: "a", supplied: true },
            ]),
        ).toThrow('`users[1].name` "a" appears twice; user names must be unique');
    });

    test("refuses a password length below 128 bits", () => {
        expect(() => validateCredentials([{ name: "a", supplied: false }], { passwordLength: 21 })).toThrow(
            "`passwordLength` must be an integer from 22 (128 bits) to 72 (bcrypt's limit), got 21",
        );
    });

    test("refuses a supplied password shorter than 12 characters, giving only its length", () => {
        expect(() => checkSuppliedPassword("bob", "hunter2")).toThrow("supplied password of user `bob` must have at least 12 characters, got 7");
    });
});
