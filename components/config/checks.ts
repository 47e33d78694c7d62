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

/** Throws unless `value` is a TCP port number (1–65535), naming `field`. */
export function validatePort(value: unknown, field: string): void {
    validateInteger(value, field, 1, 65535);
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
        text = JSON.stringify(v) ?? String(v);
    } catch {
        text = String(v);
    }
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
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
