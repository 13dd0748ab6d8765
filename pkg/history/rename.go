package history

import (
	"context"
	"database/sql"
)

// Rename sets the title of conversation id. The time of its last activity stays: a new name
// is not a new message.
func (s *Store) Rename(ctx context.Context, id, title string) (Conversation, error) {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET title = ? WHERE id = ?`, title, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notFound(id)
		}
		return nil
	})
	if err != nil {
		return Conversation{}, err
	}
	return s.conversation(ctx, s.db, id)
}
