package dashboards

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

func TestPromtoolRules(t *testing.T) {
	testenv.RequireTools(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "vrrpguard-rules.yml"}, {"test", "rules", "vrrpguard-rules.test.yml"}} {
		out, err := exec.Command("promtool", args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// ruleTests is the part of a promtool test file the tests read.
type ruleTests struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels      map[string]string `yaml:"exp_labels"`
				ExpAnnotations map[string]string `yaml:"exp_annotations"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

// TestEveryAlertIsTested wants each alerting rule to have a summary, a
// description and a severity, and a promtool case where it fires (with its
// annotations checked) and one where it does not.
func TestEveryAlertIsTested(t *testing.T) {
	var rf ruleFile
	readYAML(t, "vrrpguard-rules.yml", &rf)
	var rt ruleTests
	readYAML(t, "vrrpguard-rules.test.yml", &rt)
	if len(rt.RuleFiles) != 1 || rt.RuleFiles[0] != "vrrpguard-rules.yml" {
		t.Errorf("the tests load %q, want [vrrpguard-rules.yml]", rt.RuleFiles)
	}
	fires, silent := map[string]bool{}, map[string]bool{}
	for _, tc := range rt.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) == 0 {
				silent[a.Alertname] = true
				continue
			}
			for _, e := range a.ExpAlerts {
				if e.ExpAnnotations["summary"] == "" || e.ExpAnnotations["description"] == "" {
					t.Errorf("test of %s at %s expects an alert without checking its summary and description", a.Alertname, a.EvalTime)
				}
			}
			fires[a.Alertname] = true
		}
	}
	alerts := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = true
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("alert %s: want summary and description annotations", r.Alert)
			}
			if r.Labels["severity"] == "" {
				t.Errorf("alert %s has no severity label", r.Alert)
			}
			if !fires[r.Alert] {
				t.Errorf("alert %s: no promtool case where it fires", r.Alert)
			}
			if !silent[r.Alert] {
				t.Errorf("alert %s: no promtool case where it does not fire", r.Alert)
			}
		}
	}
	if len(alerts) < 14 {
		t.Errorf("only %d alerting rules found", len(alerts))
	}
	for _, m := range []map[string]bool{fires, silent} {
		for _, n := range sortedKeys(m) {
			if !alerts[n] {
				t.Errorf("the tests expect alert %s, which no rule defines", n)
			}
		}
	}
}
