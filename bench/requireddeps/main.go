// Command requireddeps is the floor under moonchat's start-up: bench/cobraglamour plus the
// libraries the project's own requirements put in the binary (the MCP Go SDK for MCP tools,
// client_golang and go-redis for serve, modernc.org/sqlite for history, readline for the
// session, yaml for LiteLLM configs), linked but unused. Go initialises every linked package
// before main, so this is what --version costs before moonchat runs any code of its own.
// bench/wholeprocess.sh reports moonchat against it and it against cobraglamour.
package main

import (
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "github.com/reeflective/readline"
	_ "go.yaml.in/yaml/v3"
	_ "modernc.org/sqlite"

	"github.com/moonchat/moonchat/bench/yardstick"
)

func main() { yardstick.Main("requireddeps") }
