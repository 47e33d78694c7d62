//go:build tools

// The Pulumi CLI is built from this module (`go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi`); importing it
// here keeps its requirements in go.mod and go.sum.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
