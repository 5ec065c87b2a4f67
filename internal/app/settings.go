package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/vrrpguard/vrrpguard/config"
	"github.com/vrrpguard/vrrpguard/config/keepalived"
	"github.com/vrrpguard/vrrpguard/rules"
)

// settings is the configuration a command runs with: the embedded default
// overlaid by at most one vrrpguard YAML file, plus expectations from
// keepalived.conf files and the YAML's expect entries.
type settings struct {
	file       *config.File
	keepalived []*keepalived.Config
	expected   []rules.Expected
	params     rules.Params
}

// loadSettings reads the --config files (keepalived.conf or vrrpguard YAML,
// recognised by content). Warnings (unknown keepalived keywords, merged
// files that disagree) go to warn with file:line; errors are fatal.
func loadSettings(paths []string, warn io.Writer) (*settings, error) {
	s := &settings{file: config.Default()}
	yamlSeen := ""
	var kfiles []*keepalived.Config
	for _, p := range paths {
		kind, err := config.Detect(p)
		if err != nil {
			return nil, err
		}
		switch kind {
		case config.KindYAML:
			if yamlSeen != "" {
				return nil, fmt.Errorf("%s: only one vrrpguard YAML file may be given (already read %s)", p, yamlSeen)
			}
			yamlSeen = p
			f, err := config.LoadYAML(p)
			if err != nil {
				return nil, err
			}
			s.file = f
		case config.KindKeepalived:
			k, ws, err := keepalived.Load(p)
			for _, w := range ws {
				fmt.Fprintf(warn, "warning: %s\n", w)
			}
			if err != nil {
				return nil, err
			}
			kfiles = append(kfiles, k)
		default:
			return nil, fmt.Errorf("%s: neither a keepalived.conf nor a vrrpguard YAML file", p)
		}
	}
	for _, p := range s.file.Keepalived {
		k, ws, err := keepalived.Load(p)
		for _, w := range ws {
			fmt.Fprintf(warn, "warning: %s\n", w)
		}
		if err != nil {
			return nil, err
		}
		kfiles = append(kfiles, k)
	}
	s.keepalived = kfiles
	exp, ws := config.Expectations(kfiles, s.file.Expect)
	for _, w := range ws {
		fmt.Fprintf(warn, "warning: %s\n", w)
	}
	s.expected = exp
	s.params = s.file.Rules
	if err := s.params.Validate(); err != nil {
		where := yamlSeen
		if where == "" {
			where = "built-in defaults"
		}
		return nil, fmt.Errorf("%s: rules: %w", where, err)
	}
	return s, nil
}

// rulesExpected is what the engine expects: a keepalived.conf names the
// node's interface, which is not the watcher's (nor a capture file's), so
// only YAML expect entries, written for the watcher, pin one.
func (s *settings) rulesExpected() []rules.Expected {
	return s.file.ForWatcher(s.expected)
}

// newEngine builds the rules engine from the settings.
func (s *settings) newEngine() (*rules.Engine, error) {
	return rules.New(s.params, s.rulesExpected())
}

// configError prints a configuration error: each *config.Error on its own
// line, as file:line: message.
func configError(w io.Writer, cmd string, err error) {
	type multi interface{ Unwrap() []error }
	var m multi
	if errors.As(err, &m) {
		for _, e := range m.Unwrap() {
			fmt.Fprintf(w, "vrrpguard %s: %v\n", cmd, e)
		}
		return
	}
	fmt.Fprintf(w, "vrrpguard %s: %v\n", cmd, err)
}

// prefixWriter prefixes each write (one warning line) with p.
type prefixWriter struct {
	w io.Writer
	p string
}

func (pw prefixWriter) Write(b []byte) (int, error) {
	if _, err := io.WriteString(pw.w, pw.p); err != nil {
		return 0, err
	}
	return pw.w.Write(b)
}
