package app

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/rules"
)

// TestNoMasterHeldWhileBlind: a no_master raised for an interface whose
// capture is down is held back; dropped if it resolves once the capture is
// back, reported holdFor after the capture resumed if it does not.
// Findings of other interfaces and kinds pass.
func TestNoMasterHeldWhileBlind(t *testing.T) {
	engine, err := rules.New(rules.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	p := &pipeline{engine: engine, printer: output.New(&out, output.JSON, nil), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		holdFor: 8 * time.Second}
	p.printer.AutoFlush = true
	t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	finding := func(kind rules.Kind, iface, fp string, st rules.State) rules.Output {
		return rules.Output{Finding: &rules.Finding{Kind: kind, State: st, Severity: rules.SeverityOf(kind), Interface: iface, VRID: 7, Fingerprint: fp, At: t0}}
	}
	lines := func() []string {
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			if l == "" {
				continue
			}
			var kind, state, fp string
			for _, kv := range []struct {
				key string
				v   *string
			}{{`"kind":"`, &kind}, {`"state":"`, &state}, {`"fingerprint":"`, &fp}} {
				if _, rest, ok := strings.Cut(l, kv.key); ok {
					*kv.v, _, _ = strings.Cut(rest, `"`)
				}
			}
			got = append(got, kind+" "+state+" "+fp)
		}
		out.Reset()
		return got
	}
	check := func(step string, want ...string) {
		t.Helper()
		if d := testenv.DiffLines(want, lines()); d != "" {
			t.Errorf("%s: printed (-want +got):\n%s", step, d)
		}
	}

	p.setBlind("eth0", true, t0)
	p.emit([]rules.Output{finding(rules.NoMaster, "eth0", "a", rules.Raised), finding(rules.NoMaster, "eth1", "b", rules.Raised),
		finding(rules.DuplicateMaster, "eth0", "c", rules.Raised)})
	check("blind eth0", "no_master raised b", "duplicate_master raised c")
	p.tick(t0.Add(time.Minute)) // still blind: held
	check("still blind")

	// Resumed, and the engine resolves it (adverts again): never shown.
	p.setBlind("eth0", false, t0.Add(time.Minute))
	p.emit([]rules.Output{finding(rules.NoMaster, "eth0", "a", rules.Resolved)})
	p.tick(t0.Add(2 * time.Minute))
	check("resolved after resume")

	// Blind again; after the resume the engine keeps it: reported holdFor
	// later, and its resolve later passes.
	p.setBlind("eth0", true, t0.Add(3*time.Minute))
	p.emit([]rules.Output{finding(rules.NoMaster, "eth0", "d", rules.Raised)})
	resumed := t0.Add(4 * time.Minute)
	p.setBlind("eth0", false, resumed)
	p.tick(resumed.Add(p.holdFor - time.Millisecond))
	check("before holdFor")
	p.tick(resumed.Add(p.holdFor))
	check("at holdFor", "no_master raised d")
	p.emit([]rules.Output{finding(rules.NoMaster, "eth0", "d", rules.Resolved)})
	check("resolved later", "no_master resolved d")
}
