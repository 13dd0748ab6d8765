package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/moonchat/moonchat/pkg/history"
)

// completeConversationsMax is how many recent conversations a Tab offers: enough to find
// this week's threads, few enough that the shell's menu stays readable.
const completeConversationsMax = 50

// completeTimeout bounds a Tab press: reading the recent ids takes about a millisecond, but a
// database being migrated or written by another moonchat must not freeze the shell.
const completeTimeout = 2 * time.Second

// CompleteConversations completes a conversation id (chat --conversation, history show/rm/
// export): the most recently updated conversations whose id starts with what was typed, each
// with its title as the description, newest first. Ids already on the command line are left
// out. A missing or broken database completes nothing; the command reports it when run.
func CompleteConversations(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		if f.History == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		store, err := f.History()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := context.Background()
		if cmd != nil && cmd.Context() != nil {
			ctx = cmd.Context()
		}
		ctx, cancel := context.WithTimeout(ctx, completeTimeout)
		defer cancel()
		recent, err := store.RecentIDs(ctx, completeConversationsMax)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// Ids are lowercase; Resolve accepts a prefix in any case, so completion does too.
		prefix := strings.ToLower(toComplete)
		var out []string
		for _, c := range recent {
			if !strings.HasPrefix(c.ID, prefix) || slices.Contains(args, c.ID) {
				continue
			}
			// A description is one line: shells cut it at a tab or a newline.
			if title := history.TitleFromPrompt(c.Title); title != "" {
				out = append(out, c.ID+"\t"+title)
			} else {
				out = append(out, c.ID)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
