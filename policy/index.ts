// The plumberhub policy pack: `pulumi preview --policy-pack policy` (or `policyPacks: policy` in pulumi/actions).
// Only wiring: the rules and the labels they rely on are in ./rules.ts.
import { PolicyPack } from "@pulumi/policy";
import { asResourcePolicy, asStackPolicy, RULES, STACK_RULES } from "./rules";

new PolicyPack("plumberhub", {
    enforcementLevel: "mandatory",
    policies: [...RULES.map(asResourcePolicy), ...STACK_RULES.map(asStackPolicy)],
});
