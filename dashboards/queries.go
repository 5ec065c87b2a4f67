// Package dashboards holds vrrpguard's Grafana dashboards, its Prometheus
// alerting rules with their promtool unit tests, and Grafana provisioning
// files; its Go code lists the dashboards' PromQL expressions (Queries) so
// that tests can run them against a real Prometheus.
package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Query is one PromQL expression of a dashboard: a panel's target, the
// series selector of a label_values() templating query, or an annotation.
type Query struct {
	Dashboard string // file name, e.g. "vrrpguard-fleet.json"
	UID       string // dashboard uid
	Panel     string // panel title; "variable NAME" or "annotation NAME" for the others
	PanelID   int    // 0 for variables and annotations
	RefID     string // target refId; "" for variables and annotations
	Expr      string // as written, with Grafana's variables
	Instant   bool   // the panel asks for one instant (tables, stats), not a range
	// Label is, for a templating variable, the label whose values
	// label_values() offers (Expr is then its series selector); "" otherwise.
	Label string
}

// String names the query: dashboard file, panel title and refId.
func (q Query) String() string {
	s := fmt.Sprintf("%s %q", q.Dashboard, q.Panel)
	if q.RefID != "" {
		s += " " + q.RefID
	}
	return s
}

// builtin returns the value Query.PromQL gives one of Grafana's own
// variables unless vars says otherwise.
func builtin(name string) (string, bool) {
	switch name {
	case "__rate_interval":
		return "1m", true
	case "__interval":
		return "15s", true
	case "__range":
		return "1h", true
	}
	return "", false
}

// varRe matches Grafana's variable syntaxes: $name, ${name}, ${name:format},
// ${name.field} and [[name]]. Group 1, 2 or 3 is the name.
var varRe = regexp.MustCompile(`\$\{(\w+)(?:\.[^:}]+)?(?::[^}]+)?\}|\$(\w+)|\[\[(\w+)(?::\w+)?\]\]`)

// varName returns the variable a varRe match refers to, or "" for a
// reference Grafana leaves alone (a regexp group such as $1).
func varName(m []string) string {
	for _, n := range m[1:] {
		if n != "" {
			if n[0] >= '0' && n[0] <= '9' {
				return ""
			}
			return n
		}
	}
	return ""
}

// PromQL returns the query with Grafana's variables replaced: template
// variables by vars[name], $__rate_interval, $__interval and $__range by
// vars or else by 1m, 15s and 1h. A template variable missing from vars is
// an error. Values are inserted as they are: for a multi-value variable
// pass a regular expression such as "a|b" (dashboards use =~ there).
func (q Query) PromQL(vars map[string]string) (string, error) {
	var missing []string
	out := varRe.ReplaceAllStringFunc(q.Expr, func(s string) string {
		name := varName(varRe.FindStringSubmatch(s))
		if name == "" {
			return s
		}
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := builtin(name); ok {
			return v
		}
		missing = append(missing, name)
		return s
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%s: no value for variable %s", q, strings.Join(missing, ", "))
	}
	return out, nil
}

// dashboard is the part of a Grafana dashboard Queries and the tests read.
type dashboard struct {
	file          string
	raw           any    // the whole document, for scans of every string
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Panels        []panel
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []annotation `json:"list"`
	} `json:"annotations"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string         `json:"refId"`
		Expr       string         `json:"expr"`
		Instant    bool           `json:"instant"`
		Datasource *datasourceRef `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // of a collapsed row
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"` // a string, or {"query": "..."} for a query variable
	Datasource *datasourceRef  `json:"datasource"`
}

// queryString is the variable's query, whichever form it is stored in.
func (v variable) queryString() (string, error) {
	var s string
	if err := json.Unmarshal(v.Query, &s); err == nil {
		return s, nil
	}
	var o struct {
		Query string `json:"query"`
	}
	if err := json.Unmarshal(v.Query, &o); err != nil {
		return "", fmt.Errorf("variable %s: query is neither a string nor an object: %w", v.Name, err)
	}
	return o.Query, nil
}

type annotation struct {
	Name       string         `json:"name"`
	BuiltIn    int            `json:"builtIn"`
	Datasource *datasourceRef `json:"datasource"`
	Expr       string         `json:"expr"`
}

// allPanels returns the dashboard's panels, those inside collapsed rows
// included.
func (d *dashboard) allPanels() []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

// loadDashboards reads every *.json file in dir as a Grafana dashboard.
func loadDashboards(dir string) ([]*dashboard, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("no dashboards (*.json) in %s", dir)
	}
	var out []*dashboard
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		d := &dashboard{file: filepath.Base(f)}
		if err := json.Unmarshal(b, d); err != nil {
			return nil, fmt.Errorf("%s: %w", d.file, err)
		}
		if err := json.Unmarshal(b, &d.raw); err != nil {
			return nil, fmt.Errorf("%s: %w", d.file, err)
		}
		out = append(out, d)
	}
	return out, nil
}

// labelValuesRe splits a label_values(SELECTOR, LABEL) templating query.
var labelValuesRe = regexp.MustCompile(`^\s*label_values\(\s*(.*)\s*,\s*(\w+)\s*\)\s*$`)

// queries returns the PromQL expressions of one dashboard.
func (d *dashboard) queries() ([]Query, error) {
	var out []Query
	for _, p := range d.allPanels() {
		for _, t := range p.Targets {
			if strings.TrimSpace(t.Expr) == "" {
				continue
			}
			out = append(out, Query{Dashboard: d.file, UID: d.UID, Panel: p.Title, PanelID: p.ID, RefID: t.RefID, Expr: t.Expr, Instant: t.Instant})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q, err := v.queryString()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.file, err)
		}
		m := labelValuesRe.FindStringSubmatch(q)
		if m == nil {
			return nil, fmt.Errorf("%s: variable %s: query %q is not label_values(SELECTOR, LABEL)", d.file, v.Name, q)
		}
		out = append(out, Query{Dashboard: d.file, UID: d.UID, Panel: "variable " + v.Name, Expr: m[1], Instant: true, Label: m[2]})
	}
	for _, a := range d.Annotations.List {
		if a.Expr != "" {
			out = append(out, Query{Dashboard: d.file, UID: d.UID, Panel: "annotation " + a.Name, Expr: a.Expr})
		}
	}
	return out, nil
}

// Queries returns every PromQL expression of the dashboards (*.json) in
// dir (panel targets, label_values() selectors of templating variables,
// annotations), in file and panel order, each with the panel it belongs to.
// Expand Grafana's variables with Query.PromQL before sending one to
// Prometheus.
func Queries(dir string) ([]Query, error) {
	ds, err := loadDashboards(dir)
	if err != nil {
		return nil, err
	}
	var out []Query
	for _, d := range ds {
		q, err := d.queries()
		if err != nil {
			return nil, err
		}
		out = append(out, q...)
	}
	return out, nil
}
