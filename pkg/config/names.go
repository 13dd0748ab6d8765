package config

import "fmt"

// Name is the name of a setting the code asks for. Code asks only with these constants:
// Config.Value panics on a name that is not in the table, so a misspelt name is a programming
// error that any test reaching the call catches, not a silent default. Names typed by users
// (config get/set, the file, flags) are checked with Find or Lookup first.
type Name string

// The settings, in the order of the table in keys.go.
const (
	KeyAPIKey        Name = "api_key"
	KeyAPIBase       Name = "api_base"
	KeyRegion        Name = "region"
	KeyModel         Name = "model"
	KeyTemperature   Name = "temperature"
	KeyMaxTokens     Name = "max_tokens"
	KeyFormat        Name = "format"
	KeyWrap          Name = "wrap"
	KeyStyle         Name = "style"
	KeySaveHistory   Name = "save_history"
	KeyTimeout       Name = "timeout"
	KeyMaxRetries    Name = "max_retries"
	KeyProxy         Name = "proxy"
	KeyAutoModels    Name = "auto_models"
	KeyShowReasoning Name = "show_reasoning"
	KeyMCPDefault    Name = "mcp_default"
	KeyAllowTools    Name = "allow_tools"
)

// names lists the constants, for the test that holds them and the table together.
var names = []Name{KeyAPIKey, KeyAPIBase, KeyRegion, KeyModel, KeyTemperature, KeyMaxTokens,
	KeyFormat, KeyWrap, KeyStyle, KeySaveHistory, KeyTimeout, KeyMaxRetries, KeyProxy,
	KeyAutoModels, KeyShowReasoning, KeyMCPDefault, KeyAllowTools}

// mustLookup is the key of a name the code asks for; an unknown one is a bug, reported at once.
func mustLookup(name Name) Key {
	k, ok := Lookup(string(name))
	if !ok {
		panic(fmt.Sprintf("config: unknown key %q asked for (use a config.Key… constant)", string(name)))
	}
	return k
}
