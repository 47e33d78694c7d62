// Package mapping holds how each upstream Terraform provider's resources and fields are named in Pulumi: the
// tokens and names the npm SDKs in package.json (`@pulumi/docker`, `@pulumi/random`, `@pulumi/tls`,
// `@pulumiverse/time`) send. Pulumi's own provider modules are not served by the Go module proxy here, so this is
// what their `resources.go` would contribute; `test/engine/providerSchemas.test.ts` checks the generated schemas
// against the SDKs' resource types and property names.
package mapping

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shim "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"

	timeshim "github.com/hashicorp/terraform-provider-time/shim"
	tlsshim "github.com/hashicorp/terraform-provider-tls/shim"
	dockershim "github.com/terraform-providers/terraform-provider-docker/shim"
	randomshim "github.com/terraform-providers/terraform-provider-random/shim"
)

// The providers this module builds, by plugin name, with the npm package whose names they speak: the one list,
// read by scripts/get-engine.sh and test/engine/providerSchemas.test.ts too.
//
//go:embed providers.json
var providersJSON []byte

// Names lists the providers this module builds, sorted.
var Names = func() []string {
	var packages map[string]string
	if err := json.Unmarshal(providersJSON, &packages); err != nil {
		panic(fmt.Sprintf("mapping/providers.json: %v", err))
	}
	names := make([]string, 0, len(packages))
	for name := range packages {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}()

// Info is the bridge description of provider `name` reporting `version` (the npm SDK's plugin version).
// `metadata` is the bridge metadata generated next to the schema (nil while generating it).
func Info(name, version string, metadata []byte) (tfbridge.ProviderInfo, error) {
	var info tfbridge.ProviderInfo
	switch name {
	case "docker":
		info = docker(version)
	case "random":
		info = random(version)
	case "tls":
		info = standard("tls", pfbridge.ShimProvider(tlsshim.NewProvider()), version)
	case "time":
		info = standard("time", pfbridge.ShimProvider(timeshim.NewProvider()), version)
	default:
		return info, fmt.Errorf("unknown provider %q (known: %v)", name, Names)
	}
	if metadata == nil {
		metadata = []byte("{}")
	}
	info.MetadataInfo = tfbridge.NewProviderMetadata(metadata)
	return info, nil
}

// IsPluginFramework says which bridge serves the provider: the Plugin Framework one or the SDKv2 one.
func IsPluginFramework(name string) bool { return name != "docker" }

// standard maps `name_thing` to `name:index/thing:Thing`, the naming of @pulumi/tls and @pulumiverse/time.
func standard(name string, p shim.Provider, version string) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{P: p, Name: name, Version: version}
	info.MustComputeTokens(tokens.SingleModule(name+"_", "index", tokens.MakeStandard(name)))
	return info
}

// random keeps the `Random` prefix: `random_password` is `random:index/randomPassword:RandomPassword`.
func random(version string) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{P: pfbridge.ShimProvider(randomshim.NewProvider()), Name: "random", Version: version}
	standardToken := tokens.MakeStandard("random")
	info.MustComputeTokens(tokens.SingleModule("random_", "index", func(module, name string) (string, error) {
		return standardToken(module, "Random"+name)
	}))
	return info
}

// docker follows @pulumi/docker: `docker_config` is `ServiceConfig`, `docker_image` is `RemoteImage` (and its data
// source `getRemoteImage`), a container's `command` and `networksAdvanced` stay singular, the provider's
// `host` defaults to DOCKER_HOST or the local socket, and `registry_auth` is a list named `registryAuth`.
func docker(version string) tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(dockershim.NewProvider(version)),
		Name:    "docker",
		Version: version,
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{
				EnvVars: []string{"DOCKER_HOST"},
				ComputeDefault: func(context.Context, tfbridge.ComputeDefaultOptions) (interface{}, error) {
					return localDockerSocket(), nil
				},
			}},
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
			"docker_image":  {Tok: "docker:index/remoteImage:RemoteImage"},
			// Lists the bridge would pluralise, which @pulumi/docker keeps singular.
			"docker_container": {Fields: map[string]*tfbridge.SchemaInfo{
				"command":           {Name: "command"},
				"networks_advanced": {Name: "networksAdvanced"},
			}},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: "docker:index/getRemoteImage:getRemoteImage"},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	return info
}

func localDockerSocket() string {
	if runtime.GOOS == "windows" {
		return "npipe:////./pipe/docker_engine"
	}
	return "unix:///var/run/docker.sock"
}
