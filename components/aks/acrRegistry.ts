import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { RegistryLogin } from "../image/modelImage";
import { ACR_SUFFIX_LENGTH, AcrSku, DEFAULT_ACR_SKU, defaultAcrNamePrefix, validateAcrSettings } from "../config/aks";
import { asResourceError } from "../util/errors";

export interface AcrRegistryArgs {
    /** Resource group the registry goes in. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region. Default: the resource group's. */
    location?: pulumi.Input<string>;
    /**
     * Exact registry name: 5–50 letters and digits, globally unique (it becomes `{name}.azurecr.io`).
     * Default: `namePrefix` plus an 8-character random suffix.
     */
    registryName?: string;
    /** Prefix of the generated name: 1–42 lower-case letters and digits. Default: the component name's letters and digits. */
    namePrefix?: string;
    /** `Basic`, `Standard` or `Premium`. Default `Basic`. */
    sku?: AcrSku;
    /** Tags on the registry. Default none. */
    tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * An Azure Container Registry for the model images. The admin user is enabled only so that `ModelImage` can push
 * (its credentials are secret outputs); AKS pulls through an AcrPull role assignment to the kubelet identity
 * (`AksCluster`), so no pull secret exists in the cluster.
 */
export class AcrRegistry extends pulumi.ComponentResource {
    /** The registry's Azure resource id (scope of the AcrPull role assignment). */
    public readonly registryId: pulumi.Output<string>;
    /** The registry's name. */
    public readonly registryName: pulumi.Output<string>;
    /** Host to push to and pull from, e.g. `plumberhubab12cd34.azurecr.io`. */
    public readonly loginServer: pulumi.Output<string>;
    /** Push user (secret). */
    public readonly username: pulumi.Output<string>;
    /** Push password (secret). */
    public readonly password: pulumi.Output<string>;
    /** `loginServer`, `username` and `password` together, as `ModelImage` takes them. */
    public readonly login: RegistryLogin;

    constructor(name: string, args: AcrRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:aks:AcrRegistry", name, {}, opts);
        asResourceError(this, () => validateAcrSettings(args));

        let registryName: pulumi.Input<string>;
        if (args.registryName !== undefined) {
            registryName = args.registryName;
        } else {
            // ACR names are global and allow no `-`, so Pulumi's auto-naming cannot be used: add our own suffix.
            const suffix = new random.RandomString(
                `${name}-suffix`,
                { length: ACR_SUFFIX_LENGTH, special: false, upper: false, lower: true, numeric: true },
                { parent: this },
            );
            registryName = pulumi.interpolate`${args.namePrefix ?? defaultAcrNamePrefix(name)}${suffix.result}`;
        }
        const registry = new containerregistry.Registry(
            `${name}-registry`,
            {
                registryName,
                resourceGroupName: args.resourceGroupName,
                location: args.location,
                sku: { name: args.sku ?? DEFAULT_ACR_SKU },
                adminUserEnabled: true,
                tags: args.tags,
            },
            { parent: this },
        );
        const credentials = containerregistry.listRegistryCredentialsOutput(
            { registryName: registry.name, resourceGroupName: args.resourceGroupName },
            { parent: this },
        );

        this.registryId = registry.id;
        this.registryName = registry.name;
        this.loginServer = registry.loginServer;
        this.username = pulumi.secret(credentials.apply((c) => required(c.username, "username")));
        this.password = pulumi.secret(credentials.apply((c) => required(c.passwords?.[0]?.value, "password")));
        this.login = { server: this.loginServer, username: this.username, password: this.password };
        this.registerOutputs({
            registryId: this.registryId,
            registryName: this.registryName,
            loginServer: this.loginServer,
            username: this.username,
            password: this.password,
            login: this.login,
        });
    }
}

function required(value: string | undefined, what: string): string {
    if (!value) throw new Error(`the registry returned no admin ${what}: is \`adminUserEnabled\` on?`);
    return value;
}
