package cli

import (
	"errors"
	"fmt"

	"github.com/moonchat/moonchat/pkg/suggest"

	"github.com/spf13/cobra"
)

// NoArgs is cobra.NoArgs as a usage error (exit 2), with the way to get help.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &UsageError{Err: fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args[0]), Hint: helpHint(cmd)}
	}
	return nil
}

// UnknownSubcommand is the RunE of a command that only groups subcommands: alone it shows its
// help; with an argument that names no subcommand it is a usage error (exit 2), so that a typo
// in a script fails instead of printing help and succeeding.
func UnknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := "unknown command " + quote(args[0]) + " for " + quote(cmd.CommandPath())
	if s := closestSubcommand(cmd, args[0]); s != "" {
		msg += " (did you mean " + quote(s) + "?)"
	}
	return &UsageError{Err: errors.New(msg), Hint: helpHint(cmd)}
}

func helpHint(cmd *cobra.Command) string {
	return fmt.Sprintf("run '%s --help' for usage", cmd.CommandPath())
}

// closestSubcommand is the available subcommand the user most likely meant by typed.
func closestSubcommand(cmd *cobra.Command, typed string) string {
	var names []string
	for _, c := range cmd.Commands() {
		if c.IsAvailableCommand() {
			names = append(names, c.Name())
		}
	}
	return suggest.Closest(typed, names)
}

func quote(s string) string { return `"` + s + `"` }
