package mcphost_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/moonchat/moonchat/pkg/mcphost"
)

// A run configures its servers, lists their tools for the model, asks the user (or the
// AllowList) before each call, and closes the Host when the run ends. It needs npx and the
// network, so it is compiled but not run by go test.
func ExampleHost() {
	host, err := mcphost.New(map[string]mcphost.ServerConfig{
		"files": {Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-filesystem", "/tmp"}},
	}, mcphost.Options{LogDir: "/tmp/mcp-logs", CallTimeout: 30 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer host.Close() // stops every server, and whatever they started

	ctx := context.Background()
	tools, err := host.Tools(ctx) // starts the servers, once
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tools {
		fmt.Println(t.Server, t.Name)
	}

	allow, _ := mcphost.NewAllowList([]string{"files/list_directory"})
	if allow.Allows("files", "list_directory") {
		res, err := host.Call(ctx, "files", "list_directory", `{"path":"/tmp"}`)
		if err != nil {
			log.Fatal(err) // the server is gone, the call timed out, or ctx ended
		}
		fmt.Println(res.Content()) // what the model reads: at most 64 KB, "error: ..." on failure
	}
}
