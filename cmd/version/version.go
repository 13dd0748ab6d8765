// Package version implements `moonchat version`.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/build"
)

// NewCmdVersion builds the command.
func NewCmdVersion(f *cli.Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Show the version, commit, build date and Go version",
		Long:    "Show moonchat's version, the commit and date it was built from, and the Go version.\nBuilds made with `go install` read these from the Go build information.",
		Example: "$ moonchat version\n$ moonchat version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			info := build.Get()
			if asJSON {
				return cli.WriteJSONLine(f.IOStreams.Out, info)
			}
			_, err := fmt.Fprint(f.IOStreams.Out, info.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
