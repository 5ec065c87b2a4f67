package alert

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/vrrpguard/vrrpguard/rules"
)

// FuzzOutboxRecord feeds arbitrary bytes to the outbox record reader, as
// a file left in a sink's outbox (by a crash, a full disk or a person).
// Nothing may panic; a record that does not decode is a *RecordError with
// an offset inside the file; one that decodes must render as every sink
// renders it (webhook body, Alertmanager alerts, email subject and body)
// and survive being written and read back unchanged.
func FuzzOutboxRecord(f *testing.F) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	p := newPolicy(policyConfig{Instance: "fuzz", GroupWait: -1, RepeatInterval: -1, RestoreGrace: -1})
	var alerts []Alert
	for _, a := range p.step(at, submitted{[]rules.Finding{
		finding(rules.DuplicateMaster, 7, rules.Raised, at),
		finding(rules.AuthMismatch, 9, rules.Raised, at),
	}}) {
		if n, ok := a.(notify); ok {
			alerts = append(alerts, n.alerts...)
		}
	}
	if len(alerts) == 0 {
		f.Fatal("no seed alerts")
	}
	for i, as := range [][]Alert{alerts, alerts[:1]} {
		e := &entry{Version: fileFormat, Seq: uint64(i + 1), Sink: "hook", Created: at, Origin: at, Alerts: as}
		b, err := json.Marshal(e)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, e.Seq)
		f.Add(b[:len(b)/2], e.Seq)
		mid := append(append(append([]byte{}, b[:40]...), "\x00garbage\xff"...), b[40:]...)
		f.Add(mid, e.Seq)
	}
	f.Add([]byte(`{"version":1,"seq":3,"alerts":[{"status":"firing","labels":null}]}`), uint64(3))
	f.Add([]byte(`{"version":1,"seq":1,"alerts":[]}`), uint64(1))
	f.Add([]byte(``), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, seq uint64) {
		e, err := decodeEntry(data, seq)
		if err != nil {
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error %v (%T) is not a *RecordError", err, err)
			}
			if re.Offset < 0 || re.Offset > int64(len(data)) {
				t.Fatalf("offset %d outside the %d-byte record", re.Offset, len(data))
			}
			return
		}
		if e.Seq != seq || len(e.Alerts) == 0 {
			t.Fatalf("accepted record seq %d with %d alerts for file seq %d", e.Seq, len(e.Alerts), seq)
		}
		wm := webhookMessage("fuzz", e.Alerts)
		if len(wm.Alerts) != len(e.Alerts) {
			t.Fatalf("webhook message has %d alerts, record %d", len(wm.Alerts), len(e.Alerts))
		}
		if _, err := json.Marshal(wm); err != nil {
			t.Fatalf("webhook body: %v", err)
		}
		if _, err := json.Marshal(postableAlerts(e.Alerts)); err != nil {
			t.Fatalf("alertmanager body: %v", err)
		}
		_ = Subject(e.Alerts)
		_ = Body(e.Alerts)
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		e2, err := decodeEntry(b, seq)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v\n%s", err, b)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("record changed by a write and read back:\n%+v\n%+v", e, e2)
		}
	})
}
