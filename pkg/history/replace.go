package history

import (
	"context"
	"database/sql"
	"time"
)

// MarkReplaced marks the messages of conversation convID whose ID is fromID or later as
// replaced: /edit last asked an edited question instead of them. They stay in the
// conversation, for history show and search, but a continuation does not send them again.
// It returns how many it marked.
func (s *Store) MarkReplaced(ctx context.Context, convID string, fromID int64) (int, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE conversations SET updated_at = ? WHERE id = ?`,
			formatTime(time.Now()), convID)
		if err != nil {
			return err
		}
		if found, err := res.RowsAffected(); err != nil {
			return err
		} else if found == 0 {
			return notFound(convID)
		}
		res, err = tx.ExecContext(ctx, `UPDATE messages SET replaced = 1 WHERE conversation_id = ? AND id >= ? AND replaced = 0`, convID, fromID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
