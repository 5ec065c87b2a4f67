package status

import (
	_ "embed" // the page template
	"fmt"
	"html/template"
	"io"
	"time"
)

//go:embed page.html
var pageTemplate string

// Page renders the document as the HTML status page.
type Page struct {
	t *template.Template
}

// NewPage parses the page template; refresh is how often the page reloads
// itself.
func NewPage(refresh time.Duration) (*Page, error) {
	secs := max(int(refresh.Seconds()), 1)
	t, err := template.New("page").Funcs(template.FuncMap{
		"clock":   func(t time.Time) string { return clock(t, time.Local) },
		"refresh": func() int { return secs },
		"upper":   func(s string) string { return upperHealth(s) },
		"vrids": func(ids []uint8) string {
			s := ""
			for i, id := range ids {
				if i > 0 {
					s += ","
				}
				s += fmt.Sprint(id)
			}
			return s
		},
	}).Parse(pageTemplate)
	if err != nil {
		return nil, fmt.Errorf("status page template: %w", err)
	}
	return &Page{t: t}, nil
}

// Write renders d.
func (p *Page) Write(w io.Writer, d *Doc) error {
	return p.t.Execute(w, d)
}

func upperHealth(s string) string {
	switch s {
	case "split_brain":
		return "SPLIT BRAIN"
	case "no_master":
		return "NO MASTER"
	case "ok":
		return "OK"
	}
	return s
}
