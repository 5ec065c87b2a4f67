package rules

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// raisedLog records, per test (by t.Name()), the kinds of the findings the
// engine raised while the test ran, with the severity of the first raise.
// The helpers that feed the engine write it through noteRaised;
// TestEveryKindHasATest reads it. Test-only, guarded by its mutex.
var raisedLog = struct {
	sync.Mutex
	byTest map[string]map[Kind]Severity
}{byTest: map[string]map[Kind]Severity{}}

// noteRaised records the raised findings among outs under t's name and
// returns outs. Every helper that feeds the engine in a test passes the
// engine's outputs through it.
func noteRaised(t testing.TB, outs []Output) []Output {
	for _, o := range outs {
		f := o.Finding
		if f == nil || f.State != Raised {
			continue
		}
		raisedLog.Lock()
		m := raisedLog.byTest[t.Name()]
		if m == nil {
			m = map[Kind]Severity{}
			raisedLog.byTest[t.Name()] = m
		}
		if _, seen := m[f.Kind]; !seen {
			m[f.Kind] = f.Severity
		}
		raisedLog.Unlock()
	}
	return outs
}

// raisedUnder returns the kinds the engine raised in the test named name
// and in its subtests.
func raisedUnder(name string) map[Kind]Severity {
	raisedLog.Lock()
	defer raisedLog.Unlock()
	out := map[Kind]Severity{}
	for n, m := range raisedLog.byTest {
		if n != name && !strings.HasPrefix(n, name+"/") {
			continue
		}
		for k, s := range m {
			if _, seen := out[k]; !seen {
				out[k] = s
			}
		}
	}
	return out
}

// TestEveryKindHasATest: every kind in Kinds() has a test that makes it
// raised. A kind the engine raises names a test of this package; the test
// runs again here as a subtest and must make the engine raise that kind
// (with its severity). A kind raised outside the engine (by another
// package, from its own evidence) names the test there that raises it; that
// test must exist and mention the kind. Adding a kind without a row here
// fails, and so does a row naming a test that does not raise its kind, or
// a severity other than the one the table (README's) gives.
func TestEveryKindHasATest(t *testing.T) {
	// engine: kinds the engine raises, with their documented severity
	// (README's findings table) and a test of this package that raises
	// them.
	engine := []struct {
		kind Kind
		sev  Severity
		test func(*testing.T)
	}{
		{DuplicateMaster, Critical, TestDuplicateMasterBothAdvertising},
		{VIPOnBackup, Critical, TestVIPOnBackupByHand},
		{AuthMismatch, Warning, TestAuthMismatch},
		{VRIDMismatch, Warning, TestVRIDMismatch},
		{VRIDConflict, Warning, TestVRIDConflict},
		{VersionMismatch, Warning, TestVersionMismatch},
		{IntervalMismatch, Warning, TestIntervalMismatch},
		{OwnerConflict, Warning, TestOwnerConflict},
		{MasterFlapping, Warning, TestMasterFlapping},
		{NoMaster, Critical, TestNoMaster},
		{TTLInvalid, Warning, TestTTLInvalidNeverFeedsModel},
		{ChecksumInvalid, Warning, TestChecksumInvalidNeverFeedsModel},
		{MalformedPacket, Warning, TestMalformedPacket},
		{UnexpectedRouter, Warning, TestExpectedConfigMismatches},
		{TableFull, Warning, TestTableFullRaisedAndResolved},
		{StaleAnnouncement, Warning, TestStaleAnnouncementAfterSplitBrain},
		{SelfDemoted, Warning, TestSelfDemotedRaisedAndResolved},
	}
	// external: kinds raised outside the engine, with their severity. pkg
	// is the package's directory from the module root (e.g. "alert"), test
	// the name of the test function there that raises the kind.
	external := []struct {
		kind      Kind
		sev       Severity
		pkg, test string
	}{
		{AlertsDropped, Warning, "alert", "TestOutboxOverflowRaisesAlertsDropped"},
		{OutboxUnwritable, Warning, "alert", "TestOutboxUnwritableOnFullDisk"},
		{CaptureDown, Warning, "internal/app", "TestWatchCaptureSurvivesInterfaceRecreated"},
	}

	declared := map[Kind]int{}
	sevs := map[Kind]Severity{}
	for _, w := range engine {
		declared[w.kind]++
		sevs[w.kind] = w.sev
	}
	for _, w := range external {
		declared[w.kind]++
		sevs[w.kind] = w.sev
	}
	for k, sev := range sevs {
		if SeverityOf(k) != sev {
			t.Errorf("SeverityOf(%s) = %q, the table says %q", k, SeverityOf(k), sev)
		}
	}
	for _, k := range Kinds() {
		if declared[k] == 0 {
			t.Errorf("kind %s has no test: write one whose script makes the engine raise it and add it to the table of TestEveryKindHasATest "+
				"(or, if another package raises it, name that package's test in the table's external part)", k)
		}
	}
	for k, n := range declared {
		if !slices.Contains(Kinds(), k) {
			t.Errorf("TestEveryKindHasATest names %s, which is not in Kinds()", k)
		}
		if n > 1 {
			t.Errorf("TestEveryKindHasATest names %s %d times", k, n)
		}
	}

	for _, w := range engine {
		t.Run(string(w.kind), func(t *testing.T) {
			w.test(t)
			got := raisedUnder(t.Name())
			sev, ok := got[w.kind]
			switch {
			case !ok:
				t.Errorf("%s made the engine raise %v, not %s", funcName(w.test), sortedKinds(got), w.kind)
			case sev != w.sev:
				t.Errorf("%s raised %s with severity %q, want %q", funcName(w.test), w.kind, sev, w.sev)
			}
		})
	}
	for _, w := range external {
		t.Run(string(w.kind), func(t *testing.T) {
			if err := testMentions(filepath.Join("..", w.pkg), w.test, w.kind); err != nil {
				t.Error(err)
			}
		})
	}
}

func funcName(f func(*testing.T)) string {
	name := runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name()
	return name[strings.LastIndex(name, ".")+1:]
}

func sortedKinds(m map[Kind]Severity) []Kind {
	var out []Kind
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// testMentions checks that the _test.go files in dir define the test
// function name and that its body mentions kind: the kind's string ("...")
// or an identifier naming it (rules.VIPOnBackup for "vip_on_backup": the
// same letters, case and underscores aside).
func testMentions(dir, name string, kind Kind) error {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return fmt.Errorf("list tests in %s: %w", dir, err)
	}
	squash := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, "_", "")) }
	fset := token.NewFileSet()
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || fn.Name.Name != name || fn.Body == nil {
				continue
			}
			found := false
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && s == string(kind) {
						found = true
					}
				case *ast.Ident:
					if squash(n.Name) == squash(string(kind)) {
						found = true
					}
				}
				return !found
			})
			if !found {
				return fmt.Errorf("%s (%s) does not mention %s", name, fset.Position(fn.Pos()), kind)
			}
			return nil
		}
	}
	return fmt.Errorf("no test %s in %s", name, dir)
}

// TestTestMentions checks the check TestEveryKindHasATest makes of kinds
// raised outside the engine.
func TestTestMentions(t *testing.T) {
	dir := t.TempDir()
	src := `package other

func TestByConstant(t *testing.T) { want(t, rules.AlertsDropped) }
func TestByString(t *testing.T) { want(t, "alerts_dropped") }
func TestOther(t *testing.T) { want(t, rules.NoMaster, "alerts") }
`
	if err := os.WriteFile(filepath.Join(dir, "other_test.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		test string
		ok   bool
	}{{"TestByConstant", true}, {"TestByString", true}, {"TestOther", false}, {"TestMissing", false}} {
		if err := testMentions(dir, tc.test, "alerts_dropped"); (err == nil) != tc.ok {
			t.Errorf("testMentions(%s) = %v, want ok %v", tc.test, err, tc.ok)
		}
	}
	// And on this package's own tests.
	if err := testMentions(".", "TestVRIDMismatch", VRIDMismatch); err != nil {
		t.Error(err)
	}
	if err := testMentions(".", "TestVRIDMismatch", TableFull); err == nil {
		t.Error("TestVRIDMismatch is said to mention table_full")
	}
}
