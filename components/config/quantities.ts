/** Kubernetes quantities (`250m`, `512Mi`, `1G`): the one parser, for validation and for Docker's units. */
import { show } from "./checks";

/*
 * The grammar of k8s.io/apimachinery/pkg/api/resource (quantity.go):
 *   quantity ::= signedNumber suffix;  suffix ::= binarySI | decimalExponent | decimalSI
 *   binarySI ::= Ki | Mi | Gi | Ti | Pi | Ei;  decimalSI ::= n | u | m | "" | k | M | G | T | P | E
 *   decimalExponent ::= (e | E) signedNumber;  number ::= digits | digits.digits | digits. | .digits
 * `1E` is exa; `1E3` is an exponent.
 */
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;
const MULTIPLIERS: Record<string, number> = {
    n: 1e-9,
    u: 1e-6,
    m: 1e-3,
    "": 1,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
};

/**
 * Parses a Kubernetes quantity (`250m`, `0.5`, `2`, `512Mi`, `1G`, `1e3`) to a plain number:
 * cores for CPU, bytes for memory. Throws on anything that is not a quantity.
 * Used for Docker's NanoCPUs (`cores × 1e9`) and memory bytes.
 */
export function parseQuantity(q: string): number {
    const m = typeof q === "string" ? QUANTITY.exec(q) : null;
    if (!m) {
        throw new Error(`${show(q)} is not a Kubernetes quantity (e.g. "250m", "0.5", "512Mi", "1G", "1e3")`);
    }
    const [, sign, digits, suffix, exponent] = m;
    const magnitude = exponent !== undefined ? Number(`${digits}e${exponent}`) : Number(digits) * MULTIPLIERS[suffix ?? ""];
    return sign === "-" ? -magnitude : magnitude;
}

/** Whether `text` is a Kubernetes quantity. */
export function isQuantity(text: string): boolean {
    return QUANTITY.test(text);
}
