// Package shim makes the upstream provider's constructor importable: it lives in an `internal` package, which Go
// lets only import paths under the upstream module's path import, and this module's path is one of those.
package shim

import (
	pfprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-provider-tls/internal/provider"
)

// NewProvider is the upstream Plugin Framework provider.
func NewProvider() pfprovider.Provider { return provider.New() }
