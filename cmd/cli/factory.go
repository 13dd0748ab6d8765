// Package cli holds what every command shares: the Factory that hands out streams, settings
// and API clients, the error types, and the exit codes that the root maps errors to.
package cli

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/moonchat/moonchat/pkg/build"
	"github.com/moonchat/moonchat/pkg/config"
	"github.com/moonchat/moonchat/pkg/emulator"
	"github.com/moonchat/moonchat/pkg/history"
	"github.com/moonchat/moonchat/pkg/iostreams"
	"github.com/moonchat/moonchat/pkg/moonshot"
)

// Factory gives commands their dependencies. Tests build one with iostreams.Test() and point
// the environment at the emulator.
type Factory struct {
	IOStreams *iostreams.IOStreams
	// Config loads the settings once (flags are added by the command through SetFlag).
	Config func() (*config.Config, error)
	// HTTPClient builds the HTTP client for a proxy URL ("" = environment).
	HTTPClient func(proxy string) (*http.Client, error)
	// History opens the conversation database on first use and returns the same store after
	// that, so a command that never reads or saves history never touches the file.
	History func() (*history.Store, error)
	// Now is the clock (elapsed times, history timestamps).
	Now func() time.Time
	// RetryBaseDelay and MaxRetryDelay tune the backoff; zero keeps the client's defaults.
	// Tests shorten them.
	RetryBaseDelay, MaxRetryDelay time.Duration
	// Interrupts hands Ctrl-C to an interactive session: until release is called, each Ctrl-C
	// arrives on presses instead of canceling the command's context, so that it stops one
	// answer and not the session. The root sets it (only the root handles signals); it is nil
	// where nothing delivers signals, and tests set their own.
	Interrupts func() (presses <-chan os.Signal, release func())

	closeHistory func() error
}

// errHistoryClosed is what History returns once Close has run.
var errHistoryClosed = errors.New("the history database is closed")

// Close releases what the command opened through the factory: the history database. The
// root calls it once the command has run; History fails after it.
func (f *Factory) Close() error {
	if f.closeHistory == nil {
		return nil
	}
	return f.closeHistory()
}

// New returns the production factory.
func New(ios *iostreams.IOStreams) *Factory {
	var (
		once sync.Once
		cfg  *config.Config
		err  error

		historyOnce  sync.Once
		historyStore *history.Store
		historyErr   error
	)
	return &Factory{
		IOStreams: ios,
		Config: func() (*config.Config, error) {
			once.Do(func() { cfg, err = config.Load() })
			return cfg, err
		},
		History: func() (*history.Store, error) {
			historyOnce.Do(func() {
				path, err := history.DefaultPath()
				if err != nil {
					historyErr = err
					return
				}
				historyStore, historyErr = history.Open(path)
			})
			return historyStore, historyErr
		},
		HTTPClient: NewHTTPClient,
		Now:        time.Now,
		closeHistory: func() error {
			// A store that was never opened stays unopened: History now fails instead.
			historyOnce.Do(func() { historyErr = errHistoryClosed })
			if historyStore == nil {
				return nil
			}
			store := historyStore
			historyStore, historyErr = nil, errHistoryClosed
			return store.Close()
		},
	}
}

// ClientOptions are the per-command parts of a client.
type ClientOptions struct {
	Offline bool
	// Streaming requests get a per-attempt timeout for the first byte; a non-streamed answer's
	// headers only come when it is complete, so it is bounded by the command's context only.
	Streaming bool
	OnRetry   func(attempt int, wait time.Duration, err error)
}

// OfflineAPIKey is the key used with the built-in emulator; it is not a secret.
const OfflineAPIKey = "sk-offline"

// firstByteTimeout bounds the wait for a streamed answer to begin, per attempt.
const firstByteTimeout = 2 * time.Minute

// Client builds a Moonshot client from the resolved settings. Offline, it talks to the
// in-process emulator: no key, no network.
func (f *Factory) Client(cfg *config.Config, opts ClientOptions) (*moonshot.Client, error) {
	retries := cfg.Value(config.KeyMaxRetries).Int()
	o := moonshot.Options{
		UserAgent:      "moonchat/" + build.Short(),
		MaxRetries:     &retries,
		OnRetry:        opts.OnRetry,
		RetryBaseDelay: f.RetryBaseDelay,
		MaxRetryDelay:  f.MaxRetryDelay,
	}
	if opts.Streaming {
		o.Timeout = firstByteTimeout
	}
	if opts.Offline {
		o.APIKey = OfflineAPIKey
		o.BaseURL = emulator.OfflineBaseURL
		o.HTTPClient = emulator.OfflineClient(emulator.Config{APIKey: OfflineAPIKey, NoRecord: true})
		return moonshot.NewClient(o)
	}
	o.APIKey = cfg.Value(config.KeyAPIKey).Raw
	o.BaseURL = cfg.APIBase()
	hc, err := f.HTTPClient(cfg.Value(config.KeyProxy).Raw)
	if err != nil {
		return nil, err
	}
	o.HTTPClient = hc
	c, err := moonshot.NewClient(o)
	if err != nil {
		return nil, &UsageError{Err: fmt.Errorf("api_base: %w", err)}
	}
	return c, nil
}
