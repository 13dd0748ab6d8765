-- The schema of moonchat's history database at version 2 (migrations 1 and 2 of
-- pkg/history/schema.go as released), frozen here to test upgrades from it.

CREATE TABLE conversations (
	-- seq is a stable rowid for the external-content title index; an implicit
	-- rowid could be renumbered by VACUUM and desynchronise the index.
	seq        INTEGER PRIMARY KEY,
	id         TEXT NOT NULL UNIQUE,
	title      TEXT NOT NULL DEFAULT '',
	model      TEXT NOT NULL DEFAULT '',
	system     TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX conversations_by_update ON conversations(updated_at, seq);
CREATE INDEX conversations_by_title ON conversations(title);

CREATE TABLE messages (
	id                INTEGER PRIMARY KEY,
	conversation_id   TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
	role              TEXT NOT NULL,
	content           TEXT NOT NULL DEFAULT '',
	reasoning_content TEXT NOT NULL DEFAULT '',
	name              TEXT NOT NULL DEFAULT '',
	tool_call_id      TEXT NOT NULL DEFAULT '',
	tool_calls        TEXT, -- JSON exactly as sent or received; NULL when none
	prompt_tokens     INTEGER NOT NULL DEFAULT 0,
	completion_tokens INTEGER NOT NULL DEFAULT 0,
	cached_tokens     INTEGER NOT NULL DEFAULT 0,
	finish_reason     TEXT NOT NULL DEFAULT '',
	interrupted       INTEGER NOT NULL DEFAULT 0,
	incomplete        INTEGER NOT NULL DEFAULT 0,
	model             TEXT NOT NULL DEFAULT '',
	created_at        TEXT NOT NULL
);
CREATE INDEX messages_by_conversation ON messages(conversation_id, id);

-- The trigram tokenizer matches any substring of three or more characters,
-- which is what makes Chinese and Japanese text (no spaces between words)
-- searchable; shorter terms fall back to LIKE (see search.go).
CREATE VIRTUAL TABLE messages_fts USING fts5(
	content, content='messages', content_rowid='id', tokenize='trigram');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
	INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
	INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;

CREATE VIRTUAL TABLE conversations_fts USING fts5(
	title, content='conversations', content_rowid='seq', tokenize='trigram');
CREATE TRIGGER conversations_fts_insert AFTER INSERT ON conversations BEGIN
	INSERT INTO conversations_fts(rowid, title) VALUES (new.seq, new.title);
END;
CREATE TRIGGER conversations_fts_delete AFTER DELETE ON conversations BEGIN
	INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.seq, old.title);
END;
CREATE TRIGGER conversations_fts_update AFTER UPDATE OF title ON conversations BEGIN
	INSERT INTO conversations_fts(conversations_fts, rowid, title) VALUES ('delete', old.seq, old.title);
	INSERT INTO conversations_fts(rowid, title) VALUES (new.seq, new.title);
END;

ALTER TABLE messages ADD COLUMN replaced INTEGER NOT NULL DEFAULT 0;

PRAGMA user_version = 2;
