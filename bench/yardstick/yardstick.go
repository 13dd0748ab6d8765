// Package yardstick is the command both start-up yardsticks run (bench/cobraglamour and
// bench/requireddeps): cobra's root with --version and one glamour command, so the two differ
// only in what else they link.
package yardstick

import (
	"fmt"
	"os"

	"github.com/charmbracelet/glamour"
	"github.com/spf13/cobra"
)

// Main runs the yardstick command called name and exits.
func Main(name string) {
	root := &cobra.Command{Use: name, Version: "0.0.0", SilenceUsage: true}
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
