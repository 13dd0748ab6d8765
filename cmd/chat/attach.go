package chat

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/moonchat/moonchat/cmd/cli"
	"github.com/moonchat/moonchat/pkg/converse"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// maxImageBytes: an image travels base64-encoded (4/3 larger) inside the request body, which
// Moonshot limits to about 100 MB, with room left for the rest of the request.
const maxImageBytes = 70 << 20

// loadAttachments reads the -f files and the -i images. Nothing is sent.
// Reading stops when ctx ends: stdin and a FIFO may wait for an idle writer.
func (opts *Options) loadAttachments(ctx context.Context, paths, imagePaths []string) (files []converse.File, images []moonshot.ContentPart, err error) {
	for _, path := range paths {
		a := converse.File{Name: path}
		a.Data, err = cli.ReadCancellable(ctx, func() ([]byte, error) {
			if path == "-" {
				return readLimited(opts.IO.In, "standard input", moonshot.MaxFileBytes)
			}
			return readFile(path, moonshot.MaxFileBytes)
		})
		if path == "-" {
			a.Name = "stdin"
		}
		if err != nil {
			return nil, nil, err
		}
		files = append(files, a)
	}
	for _, path := range imagePaths {
		data, err := cli.ReadCancellable(ctx, func() ([]byte, error) { return readFile(path, maxImageBytes) })
		if err != nil {
			return nil, nil, err
		}
		mime := http.DetectContentType(data)
		switch mime {
		case "image/png", "image/jpeg", "image/webp", "image/gif":
		default:
			return nil, nil, cli.Usagef("-i %s: %s is not an image Moonshot accepts (png, jpeg, webp, gif)", path, mime)
		}
		images = append(images, moonshot.ContentPart{Type: "image_url",
			ImageURL: &moonshot.MediaURL{URL: "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(data)}})
	}
	return files, images, nil
}

func readFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		// Not wrapped: an *fs.PathError would read as a network failure to cli.Describe.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, cli.Usagef("%s: %v", path, pe.Err)
		}
		return nil, cli.Usagef("%v", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil {
		switch {
		case st.IsDir():
			return nil, cli.Usagef("%s is a directory; attach its files one by one", path)
		case st.Mode().IsRegular() && st.Size() > limit:
			return nil, tooBig(path, limit)
		}
	}
	return readLimited(f, path, limit)
}

func readLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, tooBig(name, limit)
	}
	return data, nil
}

func tooBig(name string, limit int64) error {
	return cli.Usagef("%s is larger than %d MB, the most Moonshot accepts here", name, limit>>20)
}

// fileCache opens the cache of uploads; offline there is none (every run has a new emulator),
// and a cache that cannot be read is started afresh rather than stopping the question.
func (opts *Options) fileCache() *moonshot.FileCache {
	if opts.Offline {
		return nil
	}
	path, err := moonshot.DefaultFileCachePath()
	if err != nil {
		opts.notice("%v; documents will be uploaded again next time", err)
		return nil
	}
	cache, err := moonshot.OpenFileCache(path)
	if err != nil {
		opts.notice("%v; starting a new one", err)
		return moonshot.NewFileCache(path)
	}
	return cache
}

// expandHome turns a leading ~/ into the home directory: the session has no shell to do it.
func expandHome(path string) string {
	if rest, ok := strings.CutPrefix(path, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return path
}
