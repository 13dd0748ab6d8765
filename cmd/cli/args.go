package cli

import (
	"errors"
	"fmt"
	"strings"

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

// closestSubcommand is the subcommand name nearest to typed: one it starts, else the one at the
// smallest edit distance (a swap of two letters counts as one edit), if at most 2.
func closestSubcommand(cmd *cobra.Command, typed string) string {
	typed = strings.ToLower(typed)
	best, bestDist := "", 3
	for _, c := range cmd.Commands() {
		if !c.IsAvailableCommand() {
			continue
		}
		name := c.Name()
		if strings.HasPrefix(name, typed) {
			return name
		}
		if d := osaDistance(typed, name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// osaDistance is the optimal string alignment distance: Levenshtein plus transpositions.
func osaDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

func quote(s string) string { return `"` + s + `"` }
