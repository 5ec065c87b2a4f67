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
