package dashboards

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"gopkg.in/yaml.v3"

	"github.com/vrrpguard/vrrpguard/internal/testenv"
)

// wantUIDs are the dashboards' uids: links and bookmarks use them, so they
// do not change.
var wantUIDs = []string{"vrrpguard-fleet", "vrrpguard-segment", "vrrpguard-self"}

// promDS is the data source every panel, target, variable and annotation
// uses: the dashboard's ${datasource} variable.
var promDS = datasourceRef{Type: "prometheus", UID: "${datasource}"}

var metricRe = regexp.MustCompile(`vrrpguard_[a-z_]+`)

// runtimeMetricRe matches the Go runtime and process collectors' metrics.
var runtimeMetricRe = regexp.MustCompile(`\b(?:go|process)_[a-z_]+`)

// definedMetrics are the metric names vrrpguard's code defines (string
// literals in the non-test sources), plus histogram suffixes.
func definedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	lit := regexp.MustCompile(`"(vrrpguard_[a-z_]+)"`)
	err := filepath.WalkDir("..", func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == "testdata" || e.Name() == ".git") {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
			names[m[1]+"_bucket"], names[m[1]+"_sum"], names[m[1]+"_count"] = true, true, true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !names["vrrpguard_findings_active"] || !names["vrrpguard_capture_kernel_drops_total"] {
		t.Fatalf("metric scan found too little: %v", names)
	}
	return names
}

// runtimeMetrics are the metrics of the Go runtime and process collectors
// vrrpguard registers, as this machine's collectors produce them.
func runtimeMetrics(t *testing.T) map[string]bool {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	if !names["process_cpu_seconds_total"] || !names["go_goroutines"] {
		t.Fatalf("runtime collectors gave too little: %v", names)
	}
	return names
}

func mustDashboards(t *testing.T) []*dashboard {
	t.Helper()
	ds, err := loadDashboards(".")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestDashboardUIDs(t *testing.T) {
	var got []string
	for _, d := range mustDashboards(t) {
		got = append(got, d.UID)
	}
	sort.Strings(got)
	if diff := diffLines(wantUIDs, got); diff != "" {
		t.Errorf("dashboard uids (-want +got):\n%s", diff)
	}
}

func TestDashboardsAreWellFormed(t *testing.T) {
	ds := mustDashboards(t)
	varsOf := map[string]map[string]bool{} // uid → variable names
	for _, d := range ds {
		vars := map[string]bool{}
		for _, v := range d.Templating.List {
			if vars[v.Name] {
				t.Errorf("%s: variable %s defined twice", d.file, v.Name)
			}
			vars[v.Name] = true
		}
		varsOf[d.UID] = vars
	}
	for _, d := range ds {
		t.Run(d.file, func(t *testing.T) {
			if d.UID == "" || d.Title == "" {
				t.Errorf("uid %q, title %q: want both", d.UID, d.Title)
			}
			if d.SchemaVersion < 39 {
				t.Errorf("schemaVersion %d, want ≥ 39", d.SchemaVersion)
			}
			checkDatasourceVariable(t, d)
			checkPanels(t, d)
			checkVariableUses(t, d, varsOf[d.UID])
			checkLinks(t, d, varsOf)
		})
	}
}

func TestSegmentDashboardVariables(t *testing.T) {
	for _, d := range mustDashboards(t) {
		if d.UID != "vrrpguard-segment" {
			continue
		}
		have := map[string]bool{}
		for _, v := range d.Templating.List {
			have[v.Name] = true
		}
		for _, n := range []string{"datasource", "instance", "interface", "vrid"} {
			if !have[n] {
				t.Errorf("%s has no variable %s", d.file, n)
			}
		}
		return
	}
	t.Fatal("no vrrpguard-segment dashboard")
}

// checkDatasourceVariable wants a "datasource" variable choosing among the
// Prometheus data sources.
func checkDatasourceVariable(t *testing.T, d *dashboard) {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Name != "datasource" {
			continue
		}
		q, err := v.queryString()
		if v.Type != "datasource" || err != nil || q != "prometheus" {
			t.Errorf("variable datasource: type %q, query %q (%v); want a datasource variable of type prometheus", v.Type, q, err)
		}
		return
	}
	t.Errorf("no datasource variable")
}

func checkPanels(t *testing.T, d *dashboard) {
	t.Helper()
	ids := map[int]string{}
	type rect struct {
		title      string
		x, y, w, h int
	}
	var placed []rect
	for _, p := range d.allPanels() {
		if p.ID <= 0 {
			t.Errorf("panel %q: id %d, want > 0", p.Title, p.ID)
		} else if other, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share id %d", other, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		if p.Title == "" {
			t.Errorf("panel %d has no title", p.ID)
		}
		if g := p.GridPos; g == nil || g.W <= 0 || g.H <= 0 || g.X < 0 || g.Y < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v, want inside the 24 columns", p.Title, g)
		} else {
			r := rect{p.Title, g.X, g.Y, g.W, g.H}
			for _, o := range placed {
				if r.x < o.x+o.w && o.x < r.x+r.w && r.y < o.y+o.h && o.y < r.y+r.h {
					t.Errorf("panels %q and %q overlap", o.title, r.title)
				}
			}
			placed = append(placed, r)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || *p.Datasource != promDS {
			t.Errorf("panel %q: datasource %+v, want %+v", p.Title, p.Datasource, promDS)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q: target %s has no expr", p.Title, tg.RefID)
			}
			if tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("panel %q: refId %q missing or repeated", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource != nil && *tg.Datasource != promDS {
				t.Errorf("panel %q target %s: datasource %+v, want %+v", p.Title, tg.RefID, tg.Datasource, promDS)
			}
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" && (v.Datasource == nil || *v.Datasource != promDS) {
			t.Errorf("variable %s: datasource %+v, want %+v", v.Name, v.Datasource, promDS)
		}
	}
	for _, a := range d.Annotations.List {
		if a.BuiltIn == 0 && (a.Datasource == nil || *a.Datasource != promDS) {
			t.Errorf("annotation %q: datasource %+v, want %+v", a.Name, a.Datasource, promDS)
		}
	}
}

// eachString calls f with every string in a decoded JSON document.
func eachString(v any, f func(string)) {
	switch v := v.(type) {
	case string:
		f(v)
	case []any:
		for _, e := range v {
			eachString(e, f)
		}
	case map[string]any:
		for _, e := range v {
			eachString(e, f)
		}
	}
}

// checkVariableUses wants every $variable named anywhere in the dashboard
// (queries, titles, legends, links) to be one of its variables or one of
// Grafana's own ($__name).
func checkVariableUses(t *testing.T, d *dashboard, vars map[string]bool) {
	t.Helper()
	unknown := map[string]bool{}
	eachString(d.raw, func(s string) {
		for _, m := range varRe.FindAllStringSubmatch(s, -1) {
			n := varName(m)
			if n != "" && !strings.HasPrefix(n, "__") && !vars[n] {
				unknown[fmt.Sprintf("$%s (in %q)", n, s)] = true
			}
		}
	})
	for _, u := range sortedKeys(unknown) {
		t.Errorf("uses undefined variable %s", u)
	}
}

var dashLinkRe = regexp.MustCompile(`/d/([\w-]+)(?:/[\w-]*)?\?([^"\s]*)`)

// checkLinks wants every link to a dashboard (/d/UID?var-NAME=…) to name an
// existing dashboard and its variables.
func checkLinks(t *testing.T, d *dashboard, varsOf map[string]map[string]bool) {
	t.Helper()
	eachString(d.raw, func(s string) {
		for _, m := range dashLinkRe.FindAllStringSubmatch(s, -1) {
			vars, ok := varsOf[m[1]]
			if !ok {
				t.Errorf("link %q: no dashboard with uid %s", s, m[1])
				continue
			}
			for _, kv := range strings.Split(m[2], "&") {
				if name, ok := strings.CutPrefix(strings.SplitN(kv, "=", 2)[0], "var-"); ok && !vars[name] {
					t.Errorf("link %q: dashboard %s has no variable %s", s, m[1], name)
				}
			}
		}
	})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ruleFile is the part of a Prometheus rule file the tests read.
type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// TestQueriesUseDefinedMetrics wants every vrrpguard_* metric named by a
// dashboard query or an alerting rule to be defined in vrrpguard's code,
// and every go_*/process_* metric to come from the runtime collectors.
func TestQueriesUseDefinedMetrics(t *testing.T) {
	defined, runtime := definedMetrics(t), runtimeMetrics(t)
	qs, err := Queries(".")
	if err != nil {
		t.Fatal(err)
	}
	users := map[string][]string{} // unknown metric → who uses it
	use := func(text, who string) {
		for _, m := range metricRe.FindAllString(text, -1) {
			if !defined[m] {
				users[m] = append(users[m], who)
			}
		}
		for _, m := range runtimeMetricRe.FindAllString(text, -1) {
			if !runtime[m] {
				users[m] = append(users[m], who)
			}
		}
	}
	for _, q := range qs {
		use(q.Expr, q.String())
	}
	var rf ruleFile
	readYAML(t, "vrrpguard-rules.yml", &rf)
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			who := "vrrpguard-rules.yml " + r.Alert + r.Record
			use(r.Expr, who)
			for _, a := range r.Annotations {
				use(a, who)
			}
		}
	}
	for _, m := range sortedKeys(users) {
		u := slices.Compact(users[m])
		if strings.HasPrefix(m, "vrrpguard_") {
			t.Errorf("%s is not defined by vrrpguard (no string literal %q in its non-test Go sources); used by %s",
				m, m, strings.Join(u, "; "))
		} else {
			t.Errorf("%s is not produced by the Go runtime or process collectors; used by %s", m, strings.Join(u, "; "))
		}
	}
}

// diffLines lists the lines only in want (-) and only in got (+), or "".
func diffLines(want, got []string) string {
	var b strings.Builder
	for _, w := range want {
		if !slices.Contains(got, w) {
			b.WriteString("-" + w + "\n")
		}
	}
	for _, g := range got {
		if !slices.Contains(want, g) {
			b.WriteString("+" + g + "\n")
		}
	}
	return b.String()
}

// TestDashboardQueriesParse checks every dashboard expression with
// promtool: each becomes a recording rule of a temporary rule file, and
// `promtool check rules` parses it as PromQL.
func TestDashboardQueriesParse(t *testing.T) {
	testenv.RequireTools(t, "promtool")
	qs, err := Queries(".")
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{}
	for _, d := range mustDashboards(t) {
		for _, v := range d.Templating.List {
			vars[v.Name] = "x"
		}
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	byName := map[string]Query{}
	for i, q := range qs {
		expr, err := q.PromQL(vars)
		if err != nil {
			t.Fatal(err)
		}
		name := "dashboard_expr_" + strconv.Itoa(i)
		byName[name] = q
		rules = append(rules, rule{Record: name, Expr: expr})
	}
	if len(rules) < 40 {
		t.Fatalf("only %d dashboard queries found", len(rules))
	}
	doc := map[string]any{"groups": []any{map[string]any{"name": "dashboards", "rules": rules}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "dashboard-exprs.yml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("promtool", "check", "rules", file).CombinedOutput()
	if err != nil {
		var which []string
		for _, n := range regexp.MustCompile(`dashboard_expr_\d+`).FindAllString(string(out), -1) {
			which = append(which, fmt.Sprintf("%s = %s: %s", n, byName[n], byName[n].Expr))
		}
		t.Errorf("promtool check rules on the dashboards' queries: %v\n%s\n%s", err, out, strings.Join(which, "\n"))
	} else if !strings.Contains(string(out), fmt.Sprintf("SUCCESS: %d rules found", len(rules))) {
		t.Errorf("promtool did not check all %d queries:\n%s", len(rules), out)
	}
}

func TestQueryPromQL(t *testing.T) {
	q := Query{Dashboard: "d.json", Panel: "p", RefID: "A",
		Expr: `sum by (r) (rate(m{a="$a", b=~"${b}", c="[[c]]", d="${d:raw}"}[$__rate_interval])) + label_replace(n, "r", "$1", "m", "(.*)")`}
	got, err := q.PromQL(map[string]string{"a": "1", "b": "x|y", "c": "3", "d": "4", "__rate_interval": "2m"})
	if err != nil {
		t.Fatal(err)
	}
	want := `sum by (r) (rate(m{a="1", b=~"x|y", c="3", d="4"}[2m])) + label_replace(n, "r", "$1", "m", "(.*)")`
	if got != want {
		t.Errorf("PromQL (-want +got):\n-%s\n+%s", want, got)
	}
	got, err = Query{Expr: `rate(m[$__rate_interval]) / $__range`}.PromQL(nil)
	if err != nil || got != `rate(m[1m]) / 1h` {
		t.Errorf("builtins: got %q, %v; want %q", got, err, `rate(m[1m]) / 1h`)
	}
	if _, err := q.PromQL(map[string]string{"a": "1"}); err == nil || !strings.Contains(err.Error(), "b, c, d") {
		t.Errorf("missing variables: got %v, want an error naming b, c, d", err)
	}
}

func TestDashboardQueriesHaveTitles(t *testing.T) {
	qs, err := Queries(".")
	if err != nil {
		t.Fatal(err)
	}
	perUID := map[string]int{}
	for _, q := range qs {
		if q.Panel == "" || q.UID == "" || q.Dashboard == "" {
			t.Errorf("query %+v lacks its dashboard or panel", q)
		}
		if strings.HasPrefix(q.Panel, "variable ") != (q.Label != "") {
			t.Errorf("query %s: label %q; want the label of label_values() for a variable, none for a panel or annotation", q, q.Label)
		}
		perUID[q.UID]++
	}
	for _, uid := range wantUIDs {
		if perUID[uid] < 5 {
			t.Errorf("dashboard %s: %d queries, want its panels' queries", uid, perUID[uid])
		}
	}
}
