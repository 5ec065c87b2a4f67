package app

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/vrrpguard/vrrpguard/alert"
)

func TestTestAlertCommand(t *testing.T) {
	var mu sync.Mutex
	var got []alert.WebhookMessage
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		var m alert.WebhookMessage
		if err == nil {
			err = json.Unmarshal(b, &m)
		}
		if err != nil {
			t.Errorf("webhook body %q: %v", b, err)
		}
		mu.Lock()
		got = append(got, m)
		mu.Unlock()
	}))
	defer ok.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such hook", http.StatusNotFound)
	}))
	defer bad.Close()

	st, out, errs := run(t, "test-alert", "--webhook", ok.URL+"/hook", "--instance", "t1", "--state-dir", t.TempDir())
	if st != ExitOK || !strings.HasPrefix(out, "ok ") {
		t.Fatalf("exit %d out %q err %q", st, out, errs)
	}
	mu.Lock()
	if len(got) != 1 || got[0].Alerts[0].Labels["alertname"] != alert.TestAlertName || !strings.Contains(got[0].Alerts[0].Annotations["summary"], "test") {
		t.Errorf("received %+v", got)
	}
	mu.Unlock()

	st, out, _ = run(t, "test-alert", "--webhook", ok.URL+"/hook", "--webhook", bad.URL+"/hook", "--state-dir", t.TempDir())
	if st != ExitFindings || !strings.Contains(out, "FAIL") || !strings.Contains(out, "permanent") || !strings.Contains(out, "ok ") {
		t.Errorf("one bad sink: exit %d out %q", st, out)
	}
	if st, _, errs := run(t, "test-alert"); st != ExitError || !strings.Contains(errs, "no alert sink") {
		t.Errorf("no sink: exit %d %q", st, errs)
	}
	if st, _, errs := run(t, "test-alert", "--smtp", "127.0.0.1:25"); st != ExitError || !strings.Contains(errs, "--mail-from") {
		t.Errorf("incomplete mail flags: exit %d %q", st, errs)
	}
}
