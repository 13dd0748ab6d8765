// Command requireddeps is the floor under moonchat's start-up: bench/cobraglamour plus the
// libraries the project's own requirements put in the binary (the MCP Go SDK for MCP tools,
// client_golang and go-redis for serve, modernc.org/sqlite for history, readline for the
// session, yaml for LiteLLM configs), linked but unused. Go initialises every linked package
// before main, so this is what --version costs before moonchat runs any code of its own.
// bench/wholeprocess.sh reports moonchat against it and it against cobraglamour.
package main

import (
	"fmt"
	"os"

	"github.com/charmbracelet/glamour"
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/reeflective/readline"
	"github.com/spf13/cobra"
	_ "go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"
)

func main() {
	root := &cobra.Command{Use: "requireddeps", Version: "0.0.0", SilenceUsage: true}
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
