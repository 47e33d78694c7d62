import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { RegistryLogin } from "../image/modelImage";
import { ACR_SUFFIX_LENGTH, AcrSku, DEFAULT_ACR_SKU, defaultAcrNamePrefix, validateAcrSettings } from "../config/aks";
import { DEFAULT_PROTECT_STATE } from "../config/stateProtection";
import { asResourceError } from "../util/errors";
import { ACR_TOKEN_USERNAME, exchangeAcrRefreshToken } from "./acrTokenExchange";

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
    /**
     * Guard the registry and every image in it: `protect` (a `pulumi destroy` or a replacing change stops) and
     * `retainOnDelete` (once unprotected, Pulumi only forgets it; delete it by hand with `az acr delete`). Default
     * `DEFAULT_PROTECT_STATE` (true); false for throwaway stacks.
     */
    protectState?: boolean;
}

/**
 * The push login of an ACR for the identity running Pulumi, without the admin user: the identity's Entra ID token
 * for Azure Resource Manager (`authorization.getClientToken`) exchanged for an ACR refresh token
 * (`exchangeAcrRefreshToken`), with user `00000000-0000-0000-0000-000000000000`. Pushing needs AcrPush (or
 * Contributor or Owner, which include push) on the registry. The token is valid for about 3 hours from the start of
 * `pulumi up`; both values are secret.
 *
 * During `pulumi preview` nothing is exchanged and the password is unknown: the Docker provider pushes nothing in a
 * preview, so it never needs it; a registry created in the same run has no login server yet; and a read-only
 * identity (a pull request's preview) can preview without push rights or a token being minted.
 */
export function acrPushLogin(loginServer: pulumi.Input<string>, parent: pulumi.Resource): RegistryLogin {
    const username = pulumi.secret(ACR_TOKEN_USERNAME);
    if (pulumi.runtime.isDryRun()) {
        // Pulumi's own `unknown`: a value computed at `pulumi up`, as a resource's output is.
        return { server: loginServer, username, password: pulumi.secret(pulumi.output(pulumi.unknown as unknown as string)) };
    }
    const tenantId = authorization.getClientConfigOutput({ parent }).tenantId;
    const accessToken = pulumi.secret(authorization.getClientTokenOutput({}, { parent }).token);
    const password = pulumi
        .all([loginServer, tenantId, accessToken])
        .apply(([server, tenant, token]) => exchangeAcrRefreshToken({ loginServer: server, tenantId: tenant, accessToken: token }));
    return { server: loginServer, username, password: pulumi.secret(password) };
}

/**
 * An Azure Container Registry for the model images, with the admin user off. `ModelImage` pushes as the identity
 * running Pulumi (`acrPushLogin`: its Entra ID token exchanged for an ACR token, as `az acr login` does), which needs
 * AcrPush (or Contributor or Owner, which include push) on the registry; AKS pulls through an AcrPull role
 * assignment to the kubelet identity (`AksCluster`), so no pull secret exists in the cluster. Kept in Azure when
 * protected and kept in Azure unless `protectState` is false.
 */
export class AcrRegistry extends pulumi.ComponentResource {
    /** The registry's Azure resource id (scope of the AcrPull role assignment). */
    public readonly registryId: pulumi.Output<string>;
    /** The registry's name. */
    public readonly registryName: pulumi.Output<string>;
    /** Host to push to and pull from, e.g. `plumberhubab12cd34.azurecr.io`. */
    public readonly loginServer: pulumi.Output<string>;
    /** Push user: `00000000-0000-0000-0000-000000000000`, which marks the password as an ACR token (secret). */
    public readonly username: pulumi.Output<string>;
    /** ACR refresh token of the identity running Pulumi, valid for about 3 hours; unknown during a preview (secret). */
    public readonly password: pulumi.Output<string>;
    /** `loginServer`, `username` and `password` together, as `ModelImage` takes them. */
    public readonly login: RegistryLogin;

    constructor(name: string, args: AcrRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("plumberhub:aks:AcrRegistry", name, {}, opts);
        asResourceError(this, () => validateAcrSettings(args));
        const protectState = args.protectState ?? DEFAULT_PROTECT_STATE;

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
                // Pushes log in with Entra ID tokens (acrPushLogin): no shared password to leak or rotate.
                adminUserEnabled: false,
                tags: args.tags,
            },
            { parent: this, protect: protectState, retainOnDelete: protectState },
        );
        const login = acrPushLogin(registry.loginServer, this);

        this.registryId = registry.id;
        this.registryName = registry.name;
        this.loginServer = registry.loginServer;
        this.username = pulumi.output(login.username);
        this.password = pulumi.output(login.password);
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
