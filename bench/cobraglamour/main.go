// Command cobraglamour is the start-up yardstick for moonchat: a binary that links only cobra and
// glamour (moonchat's two heaviest start-up dependencies) and answers --version.
// bench/wholeprocess.sh compares `moonchat --version` and `moonchat chat --offline` with it.
package main

import (
	"fmt"
	"os"

	"github.com/charmbracelet/glamour"
	"github.com/spf13/cobra"
)

func main() {
	root := &cobra.Command{Use: "cobraglamour", Version: "0.0.0", SilenceUsage: true}
	root.AddCommand(&cobra.Command{
		Use: "render TEXT",
		RunE: func(_ *cobra.Command, args []string) error {
			r, err := glamour.NewTermRenderer(glamour.WithStandardStyle("dark"), glamour.WithWordWrap(80))
			if err != nil {
				return err
			}
			out, err := r.Render(args[0])
			fmt.Print(out)
			return err
		},
	})
	if err := root.Execute(); err != nil {
		os.Exit(1)
	}
}
