/**
 * Checks shared by every validator of user input (model specs, stack config): each pushes one line per
 * problem — the field path in backticks, the bad value, what is valid — and returns the cleaned value.
 */

export function checkKeys(obj: Record<string, unknown>, known: string[], at: string, problems: string[]): void {
    for (const key of Object.keys(obj)) {
        if (known.includes(key)) continue;
        const near = closest(key, known);
        const hint = near ? `did you mean \`${near}\`?` : `known keys: ${known.join(", ")}`;
        problems.push(`\`${at}.${key}\` is not a known key; ${hint}`);
    }
}

export function checkInteger(value: unknown, at: string, min: number, max: number, fallback: number, problems: string[]): number {
    if (value === undefined) return fallback;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        problems.push(`\`${at}\` must be an integer from ${min} to ${max}, got ${show(value)}`);
        return fallback;
    }
    return value;
}

/** Throws unless `value` is an integer from `min` to `max`, naming `field`. */
export function validateInteger(value: unknown, field: string, min: number, max: number): void {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        throw new Error(`\`${field}\` must be an integer from ${min} to ${max}, got ${show(value)}`);
    }
}

/** Whether `value` is a dotted IPv4 address (no leading zeros). */
export function isIPv4(value: unknown): value is string {
    return typeof value === "string" && /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(value);
}

/** Whether `name` is a lower-case DNS name (≤ 253 characters, labels of letters, digits and `-`); `*.` first with `wildcard`. */
export function isDnsName(name: unknown, wildcard = false): name is string {
    const label = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?";
    return typeof name === "string" && name.length <= 253 && new RegExp(`^${wildcard ? "(\\*\\.)?" : ""}${label}(\\.${label})*$`).test(name);
}

/** Highest TCP port number. */
export const MAX_PORT = 65535;

/** A port setting (1–65535), or `fallback` when unset; a bad value becomes a problem. */
export function checkPort(value: unknown, at: string, fallback: number, problems: string[]): number {
    return checkInteger(value, at, 1, MAX_PORT, fallback, problems);
}

/** Throws unless `value` is a TCP port number (1–65535), naming `field`. */
export function validatePort(value: unknown, field: string): void {
    validateInteger(value, field, 1, MAX_PORT);
}

export function isObject(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A bad value as the user would write it, shortened so messages stay one line. */
export function show(v: unknown): string {
    if (v === undefined) return "undefined";
    if (typeof v === "number" && !Number.isFinite(v)) return String(v);
    let text: string;
    try {
        text = JSON.stringify(v) ?? describeUnserializable(v);
    } catch {
        text = describeUnserializable(v);
    }
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** What JSON cannot spell: functions, symbols, bigints, cycles. */
function describeUnserializable(v: unknown): string {
    if (typeof v === "function") return `function ${v.name || "(anonymous)"}`;
    if (typeof v === "symbol" || typeof v === "bigint") return v.toString();
    return Object.prototype.toString.call(v);
}

/** The known key nearest to a typo (edit distance ≤ 2, or a prefix of ≥ 3 characters), if any. */
export function closest(key: string, known: string[]): string | undefined {
    const typo = key.toLowerCase();
    let best: string | undefined;
    let bestDistance = Infinity;
    for (const k of known) {
        const candidate = k.toLowerCase();
        const prefix = typo.length >= 3 && (candidate.startsWith(typo) || typo.startsWith(candidate));
        const d = prefix ? 1 : editDistance(typo, candidate);
        if (d < bestDistance) [best, bestDistance] = [k, d];
    }
    return bestDistance <= 2 ? best : undefined;
}

function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        prev = row;
    }
    return prev[b.length];
}

// ---------------------------------------------------------------------------------------------
// Collecting problems: the stack config reports every problem at once

/** `value` as an object with known `keys` (unknown ones reported); `{}` when absent or not an object. */
export function objectOrEmpty(value: unknown, at: string, shape: string, keys: string[], problems: string[]): Record<string, unknown> {
    if (value === undefined) return {};
    if (!isObject(value)) {
        problems.push(`\`${at}\` must be an object ${shape}, got ${show(value)}`);
        return {};
    }
    checkKeys(value, keys, at, problems);
    return value;
}

/** `allowed` as messages list it: `"a", "b"`. */
function listOfAllowed(allowed: readonly string[]): string {
    return allowed.map((a) => `"${a}"`).join(", ");
}

/** Throws unless `value` is one of `allowed`, naming `field` (the throwing twin of `checkEnum`). */
export function validateOneOf(value: unknown, allowed: readonly string[], field: string): void {
    if (!(allowed as readonly unknown[]).includes(value)) {
        throw new Error(`\`${field}\` must be one of ${listOfAllowed(allowed)}, got ${show(value)}`);
    }
}

/** One of `allowed`, else `fallback` and a problem (`required`: absent is a problem too). */
export function checkEnum<T extends string>(
    value: unknown,
    at: string,
    allowed: readonly T[],
    fallback: T | undefined,
    problems: string[],
    required = false,
): T | undefined {
    if (value === undefined && !required) return fallback;
    if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
    problems.push(
        `\`${at}\` ${value === undefined ? "is required" : `must be one of ${listOfAllowed(allowed)}, got ${show(value)}`}${value === undefined ? `: one of ${listOfAllowed(allowed)}` : ""}`,
    );
    return fallback;
}

/** A list of distinct strings each `valid`, else `fallback` and a problem per bad item. */
export function checkList(
    value: unknown,
    at: string,
    what: string,
    valid: (item: string) => boolean,
    fallback: string[],
    problems: string[],
): string[] {
    if (value === undefined) return fallback;
    if (!Array.isArray(value)) {
        problems.push(`\`${at}\` must be a list of ${what}, got ${show(value)}`);
        return fallback;
    }
    return checkEntries(
        value,
        at,
        (item, field) => {
            if (typeof item !== "string" || !valid(item)) throw new Error(`\`${field}\` must be one of ${what}, got ${show(item)}`);
        },
        problems,
    );
}

/**
 * The distinct entries of a list, in order, each checked by a throwing validator that names its entry (`at[i]`);
 * a bad or repeated entry becomes a problem.
 */
export function checkEntries(list: unknown[], at: string, validate: (item: unknown, field: string) => void, problems: string[]): string[] {
    const seen: string[] = [];
    list.forEach((item, i) => {
        const field = `${at}[${i}]`;
        try {
            validate(item, field);
        } catch (error) {
            problems.push((error as Error).message);
            return;
        }
        const entry = item as string; // the validators accept strings only
        if (seen.includes(entry)) problems.push(`\`${field}\` ${show(entry)} is listed twice`);
        else seen.push(entry);
    });
    return seen;
}

/** Like `collect`, for validators that name a bare field (`\`namePrefix\``): the field is put under `at`. */
export function collectAt<T>(problems: string[], at: string, check: () => T): T | undefined {
    const local: string[] = [];
    const result = collect(local, check);
    problems.push(...local.map((problem) => problem.replace(/^`([\w.]+)`/, `\`${at}.$1\``)));
    return result;
}

/**
 * A string setting with a default, checked by a throwing validator: the value, or the default when unset.
 * A bad value becomes a problem (the config is then rejected, so the default returned for it is never used).
 */
export function checkText(value: unknown, fallback: string, validate: (text: unknown) => void, problems: string[]): string {
    const text = value ?? fallback;
    collect(problems, () => validate(text));
    return typeof text === "string" ? text : fallback;
}

/** Runs a validator that throws; its message becomes one problem. */
export function collect<T>(problems: string[], check: () => T): T | undefined {
    try {
        return check();
    } catch (error) {
        problems.push((error as Error).message);
        return undefined;
    }
}

/** Whether a throwing validator accepts. */
export function isValid(check: () => void): boolean {
    try {
        check();
        return true;
    } catch {
        return false;
    }
}
