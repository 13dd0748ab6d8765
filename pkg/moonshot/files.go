package moonshot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"time"
)

// Limits of Moonshot's files API (docs/moonshot-api.md §6).
const (
	MaxFileBytes = 100 << 20 // per file
	MaxFiles     = 1000      // per account
)

// File purposes. file-extract is the one moonchat uses: Moonshot extracts the text of a
// document (pdf, docx, xlsx, pptx, images by OCR…) for a system message.
const (
	PurposeFileExtract = "file-extract"
	PurposeImage       = "image"
	PurposeVideo       = "video"
	PurposeBatch       = "batch"
)

// File is Moonshot's file object.
type File struct {
	ID            string `json:"id"`
	Object        string `json:"object"`
	Bytes         int64  `json:"bytes"`
	CreatedAt     int64  `json:"created_at"`
	Filename      string `json:"filename"`
	Purpose       string `json:"purpose"`
	Status        string `json:"status"` // "ok" (2024) or "ready" (2026); "error" when extraction failed
	StatusDetails string `json:"status_details"`
}

// Created is CreatedAt as a time.
func (f *File) Created() time.Time { return time.Unix(f.CreatedAt, 0) }

// FileContent is the answer of GET /files/{id}/content for a file-extract upload.
type FileContent struct {
	// Raw is the response body exactly as received. Moonshot's guide puts it, verbatim, in a
	// system message; file ids cannot be referenced in chat for file-extract files.
	Raw      string `json:"-"`
	Content  string `json:"content"` // the extracted text
	FileType string `json:"file_type"`
	Filename string `json:"filename"`
	Title    string `json:"title"`
	Type     string `json:"type"`
}

// tooLarge is the local refusal of a file above MaxFileBytes.
func tooLarge(name string, size int64) error {
	return invalid("%s is %.1f MB; Moonshot accepts files of at most %d MB", name, float64(size)/(1<<20), MaxFileBytes>>20)
}

// UploadFile uploads a file (POST /files, multipart). The whole file is read first, so that a
// retry can resend it and a file over MaxFileBytes is refused before anything is sent.
func (c *Client) UploadFile(ctx context.Context, name string, r io.Reader, purpose string) (*File, error) {
	if n, ok := knownSize(r); ok && n > MaxFileBytes {
		return nil, tooLarge(name, n)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > MaxFileBytes {
		return nil, tooLarge(name, int64(len(data)))
	}
	return c.upload(ctx, name, data, purpose)
}

// knownSize is the size of readers that know it without being read (open files, in-memory
// readers), so that a huge file is refused at once.
func knownSize(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len()), true
	case interface{ Stat() (fs.FileInfo, error) }:
		if st, err := v.Stat(); err == nil && st.Mode().IsRegular() {
			return st.Size(), true
		}
	}
	return 0, false
}

func (c *Client) upload(ctx context.Context, name string, data []byte, purpose string) (*File, error) {
	if len(data) == 0 {
		return nil, invalid("%s is empty; Moonshot refuses empty files", name)
	}
	if len(data) > MaxFileBytes {
		return nil, tooLarge(name, int64(len(data)))
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("purpose", purpose); err != nil {
		return nil, err
	}
	part, err := mw.CreateFormFile("file", filepath.Base(name))
	if err != nil {
		return nil, err
	}
	if _, err := part.Write(data); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	var f File
	if _, err := c.Do(ctx, http.MethodPost, "/files", body.Bytes(), mw.FormDataContentType(), &f); err != nil {
		return nil, err
	}
	if f.ID == "" {
		return nil, &APIError{Type: ErrTypeUnexpectedOutput, Message: "the upload answer has no file id"}
	}
	return &f, nil
}

// ListFiles lists the account's files (GET /files).
func (c *Client) ListFiles(ctx context.Context) ([]File, error) {
	var out struct {
		Data []File `json:"data"`
	}
	if _, err := c.doJSON(ctx, http.MethodGet, "/files", nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetFile returns one file's object (GET /files/{id}).
func (c *Client) GetFile(ctx context.Context, id string) (*File, error) {
	var f File
	if _, err := c.doJSON(ctx, http.MethodGet, "/files/"+url.PathEscape(id), nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// DeleteFile deletes a file (DELETE /files/{id}).
func (c *Client) DeleteFile(ctx context.Context, id string) error {
	var out struct {
		Deleted bool `json:"deleted"`
	}
	if _, err := c.doJSON(ctx, http.MethodDelete, "/files/"+url.PathEscape(id), nil, &out); err != nil {
		return err
	}
	if !out.Deleted {
		return &APIError{Type: ErrTypeUnexpectedOutput, Message: "file " + id + " was not deleted"}
	}
	return nil
}

// FileContent returns the text Moonshot extracted from a file-extract upload
// (GET /files/{id}/content).
func (c *Client) FileContent(ctx context.Context, id string) (*FileContent, error) {
	var raw json.RawMessage
	if _, err := c.doJSON(ctx, http.MethodGet, "/files/"+url.PathEscape(id)+"/content", nil, &raw); err != nil {
		return nil, err
	}
	var fc FileContent
	if err := json.Unmarshal(raw, &fc); err != nil {
		// A bare JSON string is the whole text.
		if json.Unmarshal(raw, &fc.Content) != nil {
			return nil, &APIError{Type: ErrTypeUnexpectedOutput, Message: "could not decode the file content: " + err.Error()}
		}
	}
	fc.Raw = string(raw)
	return &fc, nil
}

// Extraction is a document's text as Moonshot extracted it.
type Extraction struct {
	FileID  string
	Content *FileContent
	// Uploaded is false when the file was already on the server (found in the cache).
	Uploaded bool
}

// ExtractFile returns the text Moonshot extracts from a document, uploading it with purpose
// file-extract unless cache (which may be nil) knows an upload of the same bytes to the same
// base URL. A cached id that the server no longer knows is forgotten and the file uploaded
// again. New uploads are added to the cache; saving it is the caller's business.
func (c *Client) ExtractFile(ctx context.Context, name string, data []byte, cache *FileCache) (*Extraction, error) {
	if len(data) > MaxFileBytes {
		return nil, tooLarge(name, int64(len(data)))
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	if cache != nil {
		if cached, ok := cache.Lookup(c.base, digest, PurposeFileExtract); ok {
			content, err := c.FileContent(ctx, cached.FileID)
			switch {
			case err == nil:
				return &Extraction{FileID: cached.FileID, Content: content}, nil
			case isNotFound(err):
				cache.Forget(c.base, cached.FileID)
			default:
				return nil, err
			}
		}
	}
	f, err := c.upload(ctx, name, data, PurposeFileExtract)
	if err != nil {
		return nil, err
	}
	if cache != nil {
		// Recorded before the extraction is read, so that a failure below does not leave a
		// file in the account that moonchat cannot find again (files prune).
		cache.Add(CachedFile{SHA256: digest, BaseURL: c.base, FileID: f.ID, Name: filepath.Base(name),
			Bytes: int64(len(data)), Purpose: PurposeFileExtract, Uploaded: time.Now().UTC().Truncate(time.Second)})
	}
	if f.Status == "error" {
		return nil, &APIError{Type: ErrTypeServer, Message: fmt.Sprintf("Moonshot could not extract the text of %s: %s", name, f.StatusDetails)}
	}
	content, err := c.FileContent(ctx, f.ID)
	if err != nil {
		return nil, err
	}
	return &Extraction{FileID: f.ID, Content: content, Uploaded: true}, nil
}

func isNotFound(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}
