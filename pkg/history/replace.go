package history

import "context"

// MarkReplaced marks the messages of conversation convID whose ID is fromID or later as
// replaced: /edit last asked an edited question instead of them. They stay in the
// conversation, for history show and search, but a continuation does not send them again.
// It returns how many it marked.
func (s *Store) MarkReplaced(ctx context.Context, convID string, fromID int64) (int, error) {
	return s.changeMessagesFrom(ctx, convID, fromID,
		`UPDATE messages SET replaced = 1 WHERE conversation_id = ? AND id >= ? AND replaced = 0`)
}
