package netlab

import (
	"fmt"
	"strings"
	"testing"
)

// recordTB records what require asks of it instead of stopping the test.
type recordTB struct {
	testing.TB
	skipped, fatal string
}

func (r *recordTB) Helper()                           {}
func (r *recordTB) Skip(args ...any)                  { r.skipped = fmt.Sprint(args...) }
func (r *recordTB) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestRequireMissingProgram(t *testing.T) {
	tools := []string{"ip", "no-such-program-vrrpguard"}
	for _, env := range []string{"", "1"} {
		t.Run("env="+env, func(t *testing.T) {
			t.Setenv(RequireEnv, env)
			r := &recordTB{TB: t}
			require(r, tools)
			got := r.skipped
			if env == "1" {
				got = r.fatal
				if r.skipped != "" {
					t.Errorf("skipped although %s=1: %s", RequireEnv, r.skipped)
				}
			} else if r.fatal != "" {
				t.Errorf("failed although %s is unset: %s", RequireEnv, r.fatal)
			}
			if !strings.Contains(got, "missing programs: no-such-program-vrrpguard") {
				t.Errorf("reason %q does not name the missing program", got)
			}
		})
	}
}
