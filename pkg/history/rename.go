package history

import (
	"context"
	"database/sql"
)

// Rename sets the title of conversation id. The time of its last activity stays: a new name
// is not a new message.
func (s *Store) Rename(ctx context.Context, id, title string) (Conversation, error) {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		return updateConversation(ctx, tx, id, `UPDATE conversations SET title = ? WHERE id = ?`, title)
	})
	if err != nil {
		return Conversation{}, err
	}
	return s.conversation(ctx, s.db, id)
}
