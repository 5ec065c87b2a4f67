package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/output"
)

// jsonOutput is what vrrpguard printed with --format json, decoded: one
// typed value per line.
type jsonOutput struct {
	findings []output.FindingJSON
	events   []output.EventJSON
	adverts  []output.Advert
	arps     []output.ARP
	nds      []output.ND
	invalid  []output.Invalid
}

// decodeJSONLines decodes JSON-lines output. Every non-empty line must be
// a JSON object of a known type whose fields all belong to that type and
// whose times parse; with logs, a line may also be a log record (slog's
// text form, "time=… level=… msg=…"), which is checked and skipped.
// Anything else fails the test. With partial, the text after the last
// newline is a line still being written and is left out.
func decodeJSONLines(t testing.TB, s string, logs, partial bool) jsonOutput {
	t.Helper()
	lines := strings.Split(s, "\n")
	if partial {
		lines = lines[:len(lines)-1]
	}
	var o jsonOutput
	for n, line := range lines {
		switch {
		case line == "":
		case strings.HasPrefix(line, "{"):
			if err := o.add(line); err != nil {
				t.Fatalf("output line %d: %v: %s", n+1, err, line)
			}
		case logs && strings.HasPrefix(line, "time="):
			if _, err := parseLogRecord(line); err != nil {
				t.Fatalf("output line %d: log record: %v: %s", n+1, err, line)
			}
		default:
			t.Fatalf("output line %d is neither a JSON object nor a log record: %q", n+1, line)
		}
	}
	return o
}

// add decodes one JSON line into o.
func (o *jsonOutput) add(line string) error {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(line), &head); err != nil {
		return err
	}
	var err error
	switch head.Type {
	case "finding":
		var f output.FindingJSON
		if err = strictJSON(line, &f); err == nil {
			err = jsonTimes(f.Time, f.FirstSeen, f.LastSeen)
			if err == nil && (f.Kind == "" || (f.State != "raised" && f.State != "resolved")) {
				err = fmt.Errorf("finding without kind or state")
			}
			o.findings = append(o.findings, f)
		}
	case "event":
		var e output.EventJSON
		if err = strictJSON(line, &e); err == nil {
			err = jsonTimes(e.Time)
			o.events = append(o.events, e)
		}
	case "advert":
		var a output.Advert
		if err = strictJSON(line, &a); err == nil {
			err = jsonTimes(a.Time)
			o.adverts = append(o.adverts, a)
		}
	case "arp":
		var a output.ARP
		if err = strictJSON(line, &a); err == nil {
			err = jsonTimes(a.Time)
			o.arps = append(o.arps, a)
		}
	case "nd":
		var a output.ND
		if err = strictJSON(line, &a); err == nil {
			err = jsonTimes(a.Time)
			o.nds = append(o.nds, a)
		}
	case "invalid":
		var a output.Invalid
		if err = strictJSON(line, &a); err == nil {
			err = jsonTimes(a.Time)
			o.invalid = append(o.invalid, a)
		}
	default:
		err = fmt.Errorf("unknown type %q", head.Type)
	}
	return err
}

// strictJSON decodes line into v, refusing unknown fields and trailing data.
func strictJSON(line string, v any) error {
	dec := json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the object")
	}
	return nil
}

func jsonTimes(ts ...string) error {
	for _, s := range ts {
		if _, err := parseJSONTime(s); err != nil {
			return err
		}
	}
	return nil
}

// parseJSONTime parses a time of the JSON output; the zero time is an
// error too.
func parseJSONTime(s string) (time.Time, error) {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return tm, fmt.Errorf("time %q: %w", s, err)
	}
	if tm.IsZero() || tm.Year() < 2000 {
		return tm, fmt.Errorf("time %q is not set", s)
	}
	return tm, nil
}

// jsonTime is parseJSONTime failing the test.
func jsonTime(t testing.TB, what, s string) time.Time {
	t.Helper()
	tm, err := parseJSONTime(s)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return tm
}

// procJSON decodes what p (run with --format json) printed on its standard
// output and error so far.
func procJSON(t testing.TB, p *netlab.Proc) jsonOutput {
	t.Helper()
	exited := !p.Running() // before reading: then the output is complete
	return decodeJSONLines(t, p.Output(), true, !exited)
}

// finding returns the first finding of kind in state, if any.
func (o jsonOutput) finding(kind, state string) (output.FindingJSON, bool) {
	for _, f := range o.findings {
		if f.Kind == kind && f.State == state {
			return f, true
		}
	}
	return output.FindingJSON{}, false
}

// kinds counts the findings in state by kind.
func (o jsonOutput) kinds(state string) map[string]int {
	m := map[string]int{}
	for _, f := range o.findings {
		if f.State == state {
			m[f.Kind]++
		}
	}
	return m
}

// reasons lists the reasons of the events, in order.
func (o jsonOutput) reasons() []string {
	var r []string
	for _, e := range o.events {
		r = append(r, e.Reason)
	}
	return r
}

// waitJSONFinding waits until p (run with --format json) printed a finding of
// kind in state, and returns it.
func waitJSONFinding(t testing.TB, p *netlab.Proc, kind, state string, timeout time.Duration) output.FindingJSON {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		exited := !p.Running()
		if f, ok := procJSON(t, p).finding(kind, state); ok {
			return f
		}
		if exited || time.Now().After(deadline) {
			t.Fatalf("no %s %s within %v (exited: %v); the process printed:\n%s", kind, state, timeout, exited, p.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// parseLogRecord parses a log record in slog's text form: key=value pairs
// separated by spaces, values quoted (Go syntax) when they need it. It
// must have a time, a level and a message.
func parseLogRecord(line string) (map[string]string, error) {
	rec := map[string]string{}
	s := line
	for {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		eq := strings.IndexByte(s, '=')
		if eq <= 0 || strings.ContainsAny(s[:eq], ` "`) {
			return nil, fmt.Errorf("no key=value at %q", s)
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err != nil {
				return nil, fmt.Errorf("value of %s: %w", key, err)
			}
			if val, err = strconv.Unquote(q); err != nil {
				return nil, fmt.Errorf("value of %s: %w", key, err)
			}
			s = s[len(q):]
		} else {
			end := strings.IndexByte(s, ' ')
			if end < 0 {
				end = len(s)
			}
			val, s = s[:end], s[end:]
		}
		if _, dup := rec[key]; dup {
			return nil, fmt.Errorf("key %s twice", key)
		}
		rec[key] = val
	}
	if _, err := time.Parse(time.RFC3339Nano, rec["time"]); err != nil {
		return nil, fmt.Errorf("time: %w", err)
	}
	if rec["level"] == "" || rec["msg"] == "" {
		return nil, errors.New("no level or msg")
	}
	return rec, nil
}

// logRecords returns the log records among the complete lines of out (the
// lines starting "time="); one that does not parse fails the test.
func logRecords(t testing.TB, out string) []map[string]string {
	t.Helper()
	lines := strings.Split(out, "\n")
	var recs []map[string]string
	for _, line := range lines[:len(lines)-1] {
		if !strings.HasPrefix(line, "time=") {
			continue
		}
		rec, err := parseLogRecord(line)
		if err != nil {
			t.Fatalf("log record: %v: %s", err, line)
		}
		recs = append(recs, rec)
	}
	return recs
}

// waitLogRecord waits until p logged a record with every key=value of want.
func waitLogRecord(t testing.TB, p *netlab.Proc, want map[string]string, timeout time.Duration) map[string]string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, rec := range logRecords(t, p.Output()) {
			if matchRecord(rec, want) {
				return rec
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log record with %v within %v; the process printed:\n%s", want, timeout, p.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func matchRecord(rec, want map[string]string) bool {
	for k, v := range want {
		if got, ok := rec[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// TestDecodeJSONLinesRefusesBadLines checks the decoder the lab tests rely
// on: what it accepts and what fails the test.
func TestDecodeJSONLinesRefusesBadLines(t *testing.T) {
	const (
		finding = `{"type":"finding","time":"2026-01-02T03:04:05.1Z","kind":"no_master","state":"raised","severity":"critical","interface":"eth0","family":"ipv4","vrid":5,"sources":[],"macs":[],"vips":[],"first_seen":"2026-01-02T03:04:05Z","last_seen":"2026-01-02T03:04:05Z","message":"m","fingerprint":"f"}`
		event   = `{"type":"event","event":"master_change","time":"2026-01-02T03:04:05Z","interface":"eth0","family":"ipv4","vrid":5,"new":"10.0.0.1","new_mac":"02:00:00:00:00:01","priority":100,"reason":"election"}`
		logLine = `time=2026-01-02T03:04:05.000Z level=INFO msg="finding raised" kind=no_master vrid=5 message="a b \"c\""`
	)
	good := finding + "\n" + logLine + "\n" + event + "\n"
	o := decodeJSONLines(t, good, true, false)
	if len(o.findings) != 1 || o.findings[0].Kind != "no_master" || len(o.events) != 1 || o.events[0].Reason != "election" {
		t.Errorf("decoded %+v", o)
	}
	// A line still being written is left for later.
	if o := decodeJSONLines(t, good+finding[:40], true, true); len(o.findings) != 1 {
		t.Errorf("partial line: %+v", o)
	}
	rec, err := parseLogRecord(logLine)
	if err != nil || rec["msg"] != "finding raised" || rec["kind"] != "no_master" || rec["message"] != `a b "c"` {
		t.Errorf("log record %v, %v", rec, err)
	}
	for name, bad := range map[string]string{
		"truncated JSON":     finding[:40],
		"unknown type":       `{"type":"mystery"}`,
		"unknown field":      strings.Replace(event, `"reason"`, `"cause"`, 1),
		"bad time":           strings.Replace(event, `2026-01-02T03:04:05Z`, `yesterday`, 1),
		"zero time":          strings.Replace(event, `2026-01-02T03:04:05Z`, `0001-01-01T00:00:00Z`, 1),
		"finding no state":   strings.Replace(finding, `"raised"`, `""`, 1),
		"text line":          "12:00:00.000 eth0     RAISED   critical no_master vrid 5: m [f]",
		"log record no time": `level=INFO msg=x`,
		"broken log record":  `time=2026-01-02T03:04:05Z level=INFO msg="unterminated`,
	} {
		ft := &fatalT{TB: t}
		func() {
			defer func() { _ = recover() }()
			decodeJSONLines(ft, bad+"\n", true, false)
		}()
		if !ft.failed {
			t.Errorf("%s: accepted %q", name, bad)
		}
	}
}

// fatalT records a Fatal instead of ending the test, for testing helpers
// that fail their test.
type fatalT struct {
	testing.TB
	failed bool
}

func (f *fatalT) Helper() {}
func (f *fatalT) Fatalf(format string, args ...any) {
	f.failed = true
	panic(fmt.Sprintf(format, args...))
}
