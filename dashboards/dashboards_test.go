// Package dashboards holds the Grafana dashboard and Prometheus alerting
// rules; its tests check them against the metrics vrrpguard defines.
package dashboards

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

var metricRe = regexp.MustCompile(`vrrpguard_[a-z_]+`)

// definedMetrics are the metric names vrrpguard's code defines (string
// literals in the non-test sources), plus histogram suffixes.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	filepath.Walk("..", func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, _ := os.ReadFile(p)
		for _, m := range regexp.MustCompile(`"(vrrpguard_[a-z_]+)"`).FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
			names[m[1]+"_bucket"], names[m[1]+"_sum"], names[m[1]+"_count"] = true, true, true
		}
		return nil
	})
	if !names["vrrpguard_findings_active"] || !names["vrrpguard_capture_kernel_drops_total"] {
		t.Fatalf("metric scan found too little: %v", names)
	}
	return names
}

func TestDashboardQueriesUseDefinedMetrics(t *testing.T) {
	defined := definedMetrics(t)
	b, err := os.ReadFile("vrrpguard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("vrrpguard.json: %v", err)
	}
	if d.UID == "" || len(d.Panels) < 8 {
		t.Fatalf("dashboard uid %q, %d panels", d.UID, len(d.Panels))
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("duplicate panel id %d", p.ID)
		}
		ids[p.ID] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			for _, m := range metricRe.FindAllString(tg.Expr, -1) {
				if !defined[m] {
					t.Errorf("panel %q uses %s, which vrrpguard does not define", p.Title, m)
				}
			}
		}
	}
	rules, _ := os.ReadFile("vrrpguard-rules.yml")
	for _, m := range metricRe.FindAllString(string(rules), -1) {
		if !defined[m] {
			t.Errorf("alerting rules use %s, which vrrpguard does not define", m)
		}
	}
}

func TestPromtoolRules(t *testing.T) {
	testenv.RequireTools(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "vrrpguard-rules.yml"}, {"test", "rules", "vrrpguard-rules.test.yml"}} {
		out, err := exec.Command("promtool", args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
