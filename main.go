// Command moonchat talks to Moonshot AI's Kimi models from the terminal.
package main

import (
	"os"

	"github.com/moonchat/moonchat/cmd"
)

func main() {
	os.Exit(cmd.Main())
}
