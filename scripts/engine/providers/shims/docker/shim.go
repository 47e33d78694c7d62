// Package shim makes the upstream provider's constructor importable: it lives in an `internal` package, which Go
// lets only import paths under the upstream module's path import, and this module's path is one of those.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider is kreuzwerker's SDKv2 provider (services, networks, configs, secrets, volumes, images); its
// Plugin Framework half (compose, buildx builders) is not bridged.
func NewProvider(version string) *schema.Provider { return provider.New(version)() }
