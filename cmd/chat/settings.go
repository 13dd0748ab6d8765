package chat

import "slices"

// Settings are what a question is asked with. They are parsed from the flags, the config
// file and -r's role into Options.Settings, which no run writes: a run (run.go, session.go)
// asks with its own copy, which a continued conversation changes (its model and system
// prompt), and in the session /model, /system, /role, /file, /image, /new and /resume.
type Settings struct {
	Model       string
	System      string
	Temperature *float64
	Role        string // -r: the role of the config file applied (role.go); /role changes it
	Title       string // --title: the saved conversation's title instead of its first prompt's line

	Features Features // files, images, web search, tools, Partial Mode, thinking (features.go)

	modelGiven, systemGiven bool     // -m, -s or a role: they override a continued conversation's
	inSession               bool     // asked in the interactive session (session.go)
	tools                   *toolbox // the run's tools (toolbox.go); the run closes it
}

// asking is a run's own copy of the settings.
func (opts *Options) asking() *Settings {
	s := opts.Settings
	// /file and /image append to the copy's lists, never to the parsed ones.
	s.Features.Files = slices.Clone(s.Features.Files)
	s.Features.Images = slices.Clone(s.Features.Images)
	return &s
}
