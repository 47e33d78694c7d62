// Command tfgen writes a provider's Pulumi schema and bridge metadata: `tfgen NAME VERSION schema --out DIR`.
// The provider binaries embed both (what each Pulumi provider repository's own generate step does).
package main

import (
	"fmt"
	"os"

	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"plumberhub.local/engine/providers/mapping"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintf(os.Stderr, "usage: tfgen NAME VERSION schema --out DIR (NAME one of %v)\n", mapping.Names)
		os.Exit(2)
	}
	name, version := os.Args[1], os.Args[2]
	info, err := mapping.Info(name, version, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Args = append([]string{os.Args[0]}, os.Args[3:]...)
	if mapping.IsPluginFramework(name) {
		pftfgen.Main(name, info)
	} else {
		tfgen.Main(name, version, info)
	}
}
