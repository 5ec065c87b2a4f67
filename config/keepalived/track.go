package keepalived

import (
	"slices"
	"strings"
	"time"
)

// TrackProcess is a vrrp_track_process block: a process whose presence
// tracking instances depend on.
type TrackProcess struct {
	// Name is the block's name; File and Line locate it.
	Name string
	File string
	Line int
	// Process is the process to match: its name (as in /proc/PID/comm),
	// or with FullCommand the first word of its command line.
	Process string
	// Params are the parameters after the process on the process line;
	// giving any sets FullCommand and ParamMatch "exact".
	Params []string
	// ParamMatch is how Params are matched: "" (not at all), "exact" (the
	// parameters are exactly these), "partial" (the first len(Params)
	// parameters are these) or "initial" (as partial, but the last one
	// may be longer).
	ParamMatch string
	// FullCommand matches the command line (/proc/PID/cmdline) rather
	// than the process name.
	FullCommand bool
	// Weight (default 0: FAULT without quorum) and Reverse are the default
	// weight of the instances tracking the process.
	Weight  int
	Reverse bool
	// Quorum and QuorumMax bound the number of matching processes for the
	// process to count as up: Quorum (default 1) at least, QuorumMax at
	// most (NoQuorumMax: no bound).
	Quorum    int
	QuorumMax int
	// ForkDelay delays counting the process up after a fork reached the
	// quorum; TerminateDelay delays counting it down after an exit lost
	// it (delay sets both; default 0).
	ForkDelay      time.Duration
	TerminateDelay time.Duration
}

// NoQuorumMax is TrackProcess.QuorumMax when quorum_max is not given.
const NoQuorumMax = -1

// TrackFile is a track_file block (vrrp_track_file is its deprecated
// name): a file holding a number that changes the tracking instances'
// priority.
type TrackFile struct {
	// Name is the block's name; File and Line locate it.
	Name string
	File string
	Line int
	// Path is the file watched.
	Path string
	// Weight (default 1) and Reverse are the default weight of the
	// instances tracking the file.
	Weight  int
	Reverse bool
	// InitFile is init_file: write InitValue to Path at start-up if it
	// does not exist, or always with InitOverwrite (not on a reload).
	InitFile      bool
	InitValue     int
	InitOverwrite bool
}

// TrackProcess returns the vrrp_track_process with the given name, or nil.
func (k *Config) TrackProcess(name string) *TrackProcess {
	for _, p := range k.TrackProcesses {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// TrackFile returns the track_file with the given name, or nil.
func (k *Config) TrackFile(name string) *TrackFile {
	for _, f := range k.TrackFiles {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// trackProcess reads a vrrp_track_process block. Like keepalived, a bad
// setting is reported and ignored, and a block without a process is
// dropped.
func (p *parser) trackProcess(blk *node) error {
	name, err := blockName(blk)
	if err != nil {
		return err
	}
	if prev := p.k.TrackProcess(name); prev != nil {
		return errAt(blk, "duplicate vrrp_track_process %q (first defined at %s:%d)", name, prev.File, prev.Line)
	}
	tp := &TrackProcess{Name: name, File: blk.file, Line: blk.line, Quorum: 1, QuorumMax: NoQuorumMax}
	weightSet := false
	for _, n := range blk.children {
		switch n.kw() {
		case "process":
			p.noBlock(n)
			if tp.Process != "" {
				p.warn(n, "process already set for vrrp_track_process %s; keepalived ignores this one", name)
				continue
			}
			if len(n.words) < 2 || n.words[1] == "" {
				p.warn(n, "process: missing process name; keepalived ignores it")
				continue
			}
			tp.Process = n.words[1]
			if len(n.words) > 2 {
				tp.Params = slices.Clone(n.words[2:])
				if tp.ParamMatch == "" {
					tp.ParamMatch = "exact"
				}
				tp.FullCommand = true
			}
		case "param_match":
			p.noBlock(n)
			switch {
			case len(n.words) == 1:
				tp.ParamMatch, tp.FullCommand = "exact", true
			case n.words[1] == "initial" || n.words[1] == "partial":
				tp.ParamMatch, tp.FullCommand = n.words[1], true
				p.extra(n, 2)
			default:
				p.warn(n, "param_match: invalid type %q (want initial or partial); keepalived ignores it", n.words[1])
			}
		case "weight":
			if weightSet {
				p.warn(n, "weight already set for vrrp_track_process %s; keepalived ignores this one", name)
				continue
			}
			w, rev, ok := p.blockWeight(n, "vrrp_track_process "+name, -254, 254)
			if ok {
				tp.Weight, tp.Reverse, weightSet = w, rev, w != 0
			}
		case "quorum":
			v, err := p.uintArg(n, 1, 65535)
			if err != nil {
				p.soften(err)
				continue
			}
			if tp.QuorumMax != NoQuorumMax && int(v) > tp.QuorumMax {
				p.warn(n, "quorum %d is greater than quorum_max %d; keepalived ignores it", v, tp.QuorumMax)
				continue
			}
			tp.Quorum = int(v)
		case "quorum_max":
			v, err := p.uintArg(n, 0, 65535)
			if err != nil {
				p.soften(err)
				continue
			}
			if (v != 0 || tp.Quorum > 1) && int(v) < tp.Quorum {
				p.warn(n, "quorum_max %d is less than quorum %d; keepalived ignores it", v, tp.Quorum)
				continue
			}
			tp.QuorumMax = int(v)
			if v == 0 {
				tp.Quorum = 0
			} else if tp.Quorum == 0 {
				tp.Quorum = 1
			}
		case "delay", "fork_delay", "terminate_delay":
			d, err := p.timerArg(n, time.Microsecond, time.Hour)
			if err != nil {
				p.soften(err)
				continue
			}
			if n.kw() != "fork_delay" {
				tp.TerminateDelay = d
			}
			if n.kw() != "terminate_delay" {
				tp.ForkDelay = d
			}
		case "full_command":
			p.noBlock(n)
			p.extra(n, 1)
			tp.FullCommand = true
		default:
			p.skip(n, "vrrp_track_process "+name)
			continue
		}
		p.read("vrrp_track_process", n)
	}
	if tp.Process == "" {
		p.warn(blk, "vrrp_track_process %s has no process; keepalived removes it", name)
		return nil
	}
	p.k.TrackProcesses = append(p.k.TrackProcesses, tp)
	return nil
}

// trackFile reads a track_file (or vrrp_track_file) block. Like
// keepalived, a bad setting is reported and ignored, and a block without a
// file is dropped.
func (p *parser) trackFile(blk *node) error {
	name, err := blockName(blk)
	if err != nil {
		return err
	}
	if prev := p.k.TrackFile(name); prev != nil {
		return errAt(blk, "duplicate track_file %q (first defined at %s:%d)", name, prev.File, prev.Line)
	}
	if blk.kw() == "vrrp_track_file" {
		p.warn(blk, "vrrp_track_file is deprecated; keepalived reads it as track_file")
	}
	tf := &TrackFile{Name: name, File: blk.file, Line: blk.line, Weight: 1}
	for _, n := range blk.children {
		switch n.kw() {
		case "file":
			p.noBlock(n)
			if tf.Path != "" {
				p.warn(n, "file already set for track_file %s; keepalived ignores this one", name)
				continue
			}
			if len(n.words) < 2 || n.words[1] == "" {
				p.warn(n, "file: missing file name; keepalived ignores it")
				continue
			}
			tf.Path = n.words[1]
			p.extra(n, 2)
		case "weight":
			if tf.Weight != 1 {
				p.warn(n, "weight already set for track_file %s; keepalived ignores this one", name)
				continue
			}
			w, rev, ok := p.blockWeight(n, "track_file "+name, -254, 254)
			if !ok {
				w, rev = 1, false
			}
			tf.Weight, tf.Reverse = w, rev
		case "init_file":
			p.noBlock(n)
			tf.InitFile, tf.InitValue, tf.InitOverwrite = true, 0, false
			for _, w := range n.words[1:] {
				switch {
				case w == "overwrite":
					tf.InitOverwrite = true
				case w != "" && (w[0] == '-' || w[0] >= '0' && w[0] <= '9'):
					v, ok := parseInt(w)
					if !ok || v < -1<<31 || v >= 1<<31 {
						p.warn(n, "init_file: invalid value %q; keepalived writes 0", w)
						v = 0
					} else if v < -254 || v > 254 {
						p.warn(n, "init_file: value %d is outside the sensible range -254-254", v)
					}
					tf.InitValue = int(v)
				default:
					p.warn(n, "init_file: unknown option %q ignored", w)
				}
			}
		default:
			p.skip(n, blk.kw()+" "+name)
			continue
		}
		p.read("track_file", n)
	}
	if tf.Path == "" {
		p.warn(blk, "track_file %s has no file; keepalived ignores it", name)
		return nil
	}
	p.k.TrackFiles = append(p.k.TrackFiles, tf)
	return nil
}

// blockWeight reads "weight N [reverse]" of a vrrp_track_process or
// track_file block; ok is false (with a warning) for a bad number.
func (p *parser) blockWeight(n *node, what string, lo, hi int64) (w int, reverse, ok bool) {
	p.noBlock(n)
	if len(n.words) < 2 {
		p.warn(n, "weight: missing value for %s; keepalived ignores it", what)
		return 0, false, false
	}
	v, good := parseInt(n.words[1])
	if !good || v < lo || v > hi {
		p.warn(n, "weight %q for %s must be %d-%d; keepalived ignores it", n.words[1], what, lo, hi)
		return 0, false, false
	}
	if len(n.words) > 2 {
		if n.words[2] == "reverse" {
			reverse = true
		} else {
			p.warn(n, "weight: unknown option %q for %s ignored", n.words[2], what)
		}
		p.extra(n, 3)
	}
	return int(v), reverse, true
}

// trackedNames resolves the entries of an instance's or sync group's
// track_process or track_file block (kind) against the blocks defined so
// far (defined: by name; later: defined after this point, for the
// warning), with keepalived's weight syntax, taking the defaults of the
// block when an entry has no weight.
func (p *parser) trackedNames(blk *node, list []Track, kind, block string, defined func(string) (w int, rev, ok bool), later func(string) *node) ([]Track, error) {
	lines, err := p.valueLines(blk)
	if err != nil {
		return nil, err
	}
	for _, n := range lines {
		name := n.words[0]
		dw, drev, found := defined(name)
		if !found {
			if d := later(name); d != nil {
				p.warn(n, "%s %s: %s %s is defined after this point (%s); keepalived only finds those defined before, and ignores this entry", kind, name, block, name, d.pos())
			} else {
				p.warn(n, "%s %s: no %s %s is defined; keepalived ignores this entry", kind, name, block, name)
			}
			continue
		}
		if slices.ContainsFunc(list, func(t Track) bool { return t.Name == name }) {
			p.warn(n, "duplicate %s %s; keepalived ignores it", kind, name)
			continue
		}
		t := Track{Name: name, Weight: dw, Reverse: drev}
		if len(n.words) > 1 {
			if n.words[1] != "weight" {
				p.warn(n, "%s %s: unknown option %q; keepalived ignores this entry", kind, name, n.words[1])
				continue
			}
			if len(n.words) < 3 {
				p.warn(n, "%s %s: weight without a value; keepalived ignores this entry", kind, name)
				continue
			}
			v, good := parseInt(n.words[2])
			if !good || v < -254 || v > 254 {
				p.warn(n, "%s %s: weight must be -254-254, got %q; keepalived uses the %s's weight", kind, name, n.words[2], block)
			} else {
				t.Weight = int(v)
			}
			if len(n.words) > 3 {
				switch n.words[3] {
				case "reverse":
					t.Reverse = true
				case "noreverse":
					t.Reverse = false
				default:
					p.warn(n, "%s %s: unknown weight option %q ignored", kind, name, n.words[3])
				}
			}
			if len(n.words) > 4 {
				p.warn(n, "%s %s: extra words %q ignored", kind, name, strings.Join(n.words[4:], " "))
			}
		}
		list = append(list, t)
	}
	return list, nil
}

// trackProcesses reads an instance's or sync group's track_process block.
func (p *parser) trackProcesses(blk *node, list []Track) ([]Track, error) {
	return p.trackedNames(blk, list, "track_process", "vrrp_track_process",
		func(name string) (int, bool, bool) {
			if tp := p.k.TrackProcess(name); tp != nil {
				return tp.Weight, tp.Reverse, true
			}
			return 0, false, false
		},
		func(name string) *node { return p.laterBlock("vrrp_track_process", name) })
}

// trackFiles reads an instance's or sync group's track_file block.
func (p *parser) trackFiles(blk *node, list []Track) ([]Track, error) {
	return p.trackedNames(blk, list, "track_file", "track_file",
		func(name string) (int, bool, bool) {
			if tf := p.k.TrackFile(name); tf != nil {
				return tf.Weight, tf.Reverse, true
			}
			return 0, false, false
		},
		func(name string) *node {
			if d := p.laterBlock("track_file", name); d != nil {
				return d
			}
			return p.laterBlock("vrrp_track_file", name)
		})
}

// laterBlock returns the top-level block "kw name" if the file defines
// one (used, after the name was not found, to say it comes too late).
func (p *parser) laterBlock(kw, name string) *node {
	if p.root == nil {
		return nil
	}
	for _, n := range p.root.children {
		if n.kw() == kw && len(n.words) == 2 && n.words[1] == name {
			return n
		}
	}
	return nil
}
