package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/internal/output"
	"github.com/vrrpguard/vrrpguard/internal/status"
	"github.com/vrrpguard/vrrpguard/internal/testenv"
	"github.com/vrrpguard/vrrpguard/vrrp"
)

// statusView is what one view of the status (the JSON document, the page,
// the terminal tables) shows, in one comparable form.
type statusView struct {
	Segments []segmentView
	// VIPs are "address interface vrids holders", holders as "MAC (router)".
	VIPs []string
	// Findings are "severity kind interface vrid: message".
	Findings []string
}

// segmentView is one segment's row.
type segmentView struct {
	Segment string // interface/family/vrid
	Health  string // ok, split_brain, no_master
	Masters int
	Master  string // "address (mac)" or "-"
	Since   string // the master's since, 15:04:05 local time, or "-"
	Routers []string
}

// lines is the view as text lines, for a (-want +got) diff.
func (v statusView) lines() []string {
	var out []string
	for _, s := range v.Segments {
		out = append(out, fmt.Sprintf("segment %s: %s, %d masters, master %s since %s", s.Segment, s.Health, s.Masters, s.Master, s.Since))
		for _, r := range s.Routers {
			out = append(out, "  router "+r)
		}
	}
	for _, x := range v.VIPs {
		out = append(out, "vip "+x)
	}
	for _, f := range v.Findings {
		out = append(out, "finding "+f)
	}
	return out
}

// kinds returns the kinds of the findings, sorted, without repeats.
func (v statusView) kinds() []string {
	var out []string
	for _, f := range v.Findings {
		out = append(out, strings.Fields(f)[1])
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// masters returns the addresses of the routers of segment seg whose role
// is master or master (rival), and the segment's masters count.
func (v statusView) masters(seg string) ([]string, int) {
	for _, s := range v.Segments {
		if s.Segment != seg {
			continue
		}
		var out []string
		for _, r := range s.Routers {
			f := strings.Fields(r) // address prio N role...
			if len(f) >= 4 && f[3] == "master" {
				out = append(out, f[0])
			}
		}
		return out, s.Masters
	}
	return nil, -1
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// normHealth turns the health as shown ("SPLIT BRAIN", "SPLIT_BRAIN",
// "split_brain") into the document's form.
func normHealth(s string) string {
	return strings.ToLower(strings.ReplaceAll(s, " ", "_"))
}

// cutClaimTime drops the " at 15:04:05" of a VIP holder: when it last
// claimed the address moves with every answer to a probe.
func cutClaimTime(s string) string {
	who, _, _ := strings.Cut(s, " at ")
	return who
}

// viewFromDoc is what the status document says.
func viewFromDoc(d *status.Doc) statusView {
	v := statusView{}
	for _, g := range d.Segments {
		s := segmentView{Segment: fmt.Sprintf("%s/%s/%d", g.Interface, g.Family, g.VRID), Health: g.Health,
			Masters: g.Masters, Master: "-", Since: "-"}
		if g.Master != "" {
			s.Master = g.Master + " (" + g.MasterMAC + ")"
		}
		if !g.MasterSince.IsZero() {
			s.Since = g.MasterSince.In(time.Local).Format("15:04:05")
		}
		for _, r := range g.Routers {
			rt := fmt.Sprintf("%s prio %d %s", r.Address, r.Priority, r.Role)
			if r.AuthDigest != "" {
				rt += " auth " + r.AuthDigest
			}
			s.Routers = append(s.Routers, rt)
		}
		v.Segments = append(v.Segments, s)
	}
	for _, x := range d.VIPs {
		var ids, hs []string
		for _, id := range x.VRIDs {
			ids = append(ids, strconv.Itoa(int(id)))
		}
		for _, h := range x.Holders {
			who := h.MAC
			if h.Router != "" {
				who += " (" + h.Router + ")"
			}
			hs = append(hs, who)
		}
		v.VIPs = append(v.VIPs, fmt.Sprintf("%s %s %s %s", x.Address, dashIfEmpty(x.Interface), dashIfEmpty(strings.Join(ids, ",")),
			dashIfEmpty(strings.Join(hs, ", "))))
	}
	for _, f := range d.Findings {
		v.Findings = append(v.Findings, fmt.Sprintf("%s %s %s %d: %s", f.Severity, f.Kind, dashIfEmpty(f.Interface), f.VRID, f.Message))
	}
	return v
}

// decodeDoc decodes a status document strictly (unknown fields are errors).
func decodeDoc(b []byte) (*status.Doc, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var d status.Doc
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("decode status document: %w: %.300s", err, b)
	}
	return &d, nil
}

// textTable is one table of `vrrpguard status`: its column names and its
// rows, cells by column name.
type textTable struct {
	columns []string
	rows    []map[string]string
}

// parseTextTables reads the tables of `vrrpguard status` (tabwriter
// output: blocks separated by blank lines, a header of column names, cells
// starting where their column name does), by first column name. A line in
// parentheses ("(no active finding)") is a table's empty marker.
func parseTextTables(out string) (map[string]textTable, error) {
	tables := map[string]textTable{}
	for block := range strings.SplitSeq(strings.TrimRight(out, "\n"), "\n\n") {
		lines := strings.Split(block, "\n")
		header := lines[0]
		var cols []string
		var offs []int
		for i := 0; i < len(header); {
			if header[i] == ' ' {
				i++
				continue
			}
			j := i
			for j < len(header) && header[j] != ' ' {
				j++
			}
			cols, offs = append(cols, header[i:j]), append(offs, i)
			i = j
		}
		if len(cols) < 2 {
			return nil, fmt.Errorf("status table without a header: %q", block)
		}
		if _, dup := tables[cols[0]]; dup {
			return nil, fmt.Errorf("two status tables start with column %s", cols[0])
		}
		tt := textTable{columns: cols}
		for _, line := range lines[1:] {
			if strings.HasPrefix(line, "(") {
				continue
			}
			row := map[string]string{}
			for i, c := range cols {
				if offs[i] > len(line) {
					return nil, fmt.Errorf("status table %s: row %q ends before column %s", cols[0], line, c)
				}
				end := len(line)
				if i+1 < len(offs) {
					end = min(offs[i+1], len(line))
				}
				if offs[i] > 0 && line[offs[i]-1] != ' ' {
					return nil, fmt.Errorf("status table %s: row %q not aligned with column %s", cols[0], line, c)
				}
				row[c] = strings.TrimSpace(line[offs[i]:end])
			}
			tt.rows = append(tt.rows, row)
		}
		tables[cols[0]] = tt
	}
	return tables, nil
}

// viewFromText is what the tables of `vrrpguard status` say.
func viewFromText(out string) (statusView, error) {
	tables, err := parseTextTables(out)
	if err != nil {
		return statusView{}, err
	}
	want := map[string][]string{
		"INTERFACE": {"INTERFACE", "FAMILY", "VRID", "HEALTH", "MASTERS", "MASTER", "SINCE", "ROUTERS"},
		"VIP":       {"VIP", "INTERFACE", "VRIDS", "HOLDERS"},
		"SEVERITY":  {"SEVERITY", "KIND", "INTERFACE", "VRID", "MESSAGE"},
	}
	for first, cols := range want {
		if got := tables[first].columns; !slices.Equal(got, cols) {
			return statusView{}, fmt.Errorf("status table %s: columns %v, want %v", first, got, cols)
		}
	}
	v := statusView{}
	for _, r := range tables["INTERFACE"].rows {
		n, err := strconv.Atoi(r["MASTERS"])
		if err != nil {
			return statusView{}, fmt.Errorf("status table: masters %q: %w", r["MASTERS"], err)
		}
		s := segmentView{Segment: r["INTERFACE"] + "/" + r["FAMILY"] + "/" + r["VRID"], Health: normHealth(r["HEALTH"]),
			Masters: n, Master: r["MASTER"], Since: r["SINCE"]}
		if r["ROUTERS"] != "-" {
			s.Routers = strings.Split(r["ROUTERS"], ", ")
		}
		v.Segments = append(v.Segments, s)
	}
	for _, r := range tables["VIP"].rows {
		hs := "-"
		if r["HOLDERS"] != "-" {
			var who []string
			for h := range strings.SplitSeq(r["HOLDERS"], ", ") {
				who = append(who, cutClaimTime(h))
			}
			hs = strings.Join(who, ", ")
		}
		v.VIPs = append(v.VIPs, fmt.Sprintf("%s %s %s %s", r["VIP"], r["INTERFACE"], r["VRIDS"], hs))
	}
	for _, r := range tables["SEVERITY"].rows {
		v.Findings = append(v.Findings, fmt.Sprintf("%s %s %s %s: %s", r["SEVERITY"], r["KIND"], r["INTERFACE"], r["VRID"], r["MESSAGE"]))
	}
	return v, nil
}

// attr returns n's attribute key.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, class string) bool {
	c, _ := attr(n, "class")
	return slices.Contains(strings.Fields(c), class)
}

// findAll returns the elements under n (n included) for which match holds,
// in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for d := range n.Descendants() {
		if d.Type == html.ElementNode && match(d) {
			out = append(out, d)
		}
	}
	return out
}

func isElem(tag string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == tag }
}

// textOf is the text of n with runs of white space collapsed, as shown.
func textOf(n *html.Node) string {
	var b strings.Builder
	for d := range n.Descendants() {
		if d.Type == html.TextNode {
			b.WriteString(d.Data + " ")
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// cellTexts returns the texts of a table row's cells.
func cellTexts(tr *html.Node) []string {
	var out []string
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "td" {
			out = append(out, textOf(c))
		}
	}
	return out
}

// divTexts returns the texts of the divs of a row's i-th cell, or nil when
// it has none ("-").
func divTexts(tr *html.Node, i int) []string {
	var td *html.Node
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.Data == "td" {
			if i == 0 {
				td = c
				break
			}
			i--
		}
	}
	if td == nil {
		return nil
	}
	var out []string
	for _, d := range findAll(td, isElem("div")) {
		out = append(out, textOf(d))
	}
	return out
}

// tableByID returns the table with that id.
func tableByID(doc *html.Node, id string) (*html.Node, error) {
	ts := findAll(doc, func(n *html.Node) bool {
		v, _ := attr(n, "id")
		return n.Data == "table" && v == id
	})
	if len(ts) != 1 {
		return nil, fmt.Errorf("status page: %d tables with id %q, want 1", len(ts), id)
	}
	return ts[0], nil
}

// viewFromDOM is what the status page, as Chromium rendered it, says.
func viewFromDOM(dom string) (statusView, error) {
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		return statusView{}, fmt.Errorf("parse the status page: %w", err)
	}
	tables := map[string]*html.Node{}
	for _, id := range []string{"segments", "vips", "findings"} {
		if tables[id], err = tableByID(doc, id); err != nil {
			return statusView{}, err
		}
	}
	v := statusView{}
	for _, tr := range findAll(tables["segments"], func(n *html.Node) bool { return n.Data == "tr" && hasClass(n, "segment") }) {
		c := cellTexts(tr)
		if len(c) != 8 {
			return statusView{}, fmt.Errorf("status page: segment row with %d cells, want 8: %v", len(c), c)
		}
		vrid, _ := attr(tr, "data-vrid")
		masters, _ := attr(tr, "data-masters")
		if vrid != c[2] || masters != c[4] {
			return statusView{}, fmt.Errorf("status page: segment row data-vrid=%q data-masters=%q, cells say VRID %q, masters %q",
				vrid, masters, c[2], c[4])
		}
		n, err := strconv.Atoi(masters)
		if err != nil {
			return statusView{}, fmt.Errorf("status page: data-masters %q: %w", masters, err)
		}
		v.Segments = append(v.Segments, segmentView{Segment: c[0] + "/" + c[1] + "/" + c[2], Health: normHealth(c[3]),
			Masters: n, Master: c[5], Since: c[6], Routers: divTexts(tr, 7)})
	}
	rows := findAll(tables["vips"], isElem("tr"))
	for _, tr := range rows[min(1, len(rows)):] { // after the header
		c := cellTexts(tr)
		if len(c) == 1 && hasClass(findAll(tr, isElem("td"))[0], "empty") {
			continue
		}
		if len(c) != 4 {
			return statusView{}, fmt.Errorf("status page: address row with %d cells, want 4: %v", len(c), c)
		}
		hs := "-"
		if ds := divTexts(tr, 3); len(ds) > 0 {
			for i := range ds {
				ds[i] = cutClaimTime(ds[i])
			}
			hs = strings.Join(ds, ", ")
		}
		v.VIPs = append(v.VIPs, fmt.Sprintf("%s %s %s %s", c[0], dashIfEmpty(c[1]), dashIfEmpty(c[2]), hs))
	}
	for _, tr := range findAll(tables["findings"], func(n *html.Node) bool { return n.Data == "tr" && hasClass(n, "finding") }) {
		c := cellTexts(tr)
		if len(c) != 5 {
			return statusView{}, fmt.Errorf("status page: finding row with %d cells, want 5: %v", len(c), c)
		}
		if kind, _ := attr(tr, "data-kind"); kind != c[1] {
			return statusView{}, fmt.Errorf("status page: finding row data-kind=%q, its cell says %q", kind, c[1])
		}
		v.Findings = append(v.Findings, fmt.Sprintf("%s %s %s %s: %s", c[0], c[1], dashIfEmpty(c[2]), c[3], c[4]))
	}
	// A phone lays the page out at its own width only with this.
	vp := findAll(doc, func(n *html.Node) bool { name, _ := attr(n, "name"); return n.Data == "meta" && name == "viewport" })
	if len(vp) != 1 {
		return statusView{}, fmt.Errorf("status page: %d viewport meta elements, want 1", len(vp))
	}
	if content, _ := attr(vp[0], "content"); !strings.Contains(content, "width=device-width") {
		return statusView{}, fmt.Errorf("status page: viewport %q, want width=device-width", content)
	}
	return v, nil
}

// chromium runs Debian's Chromium, headless, in h's network namespace (so
// that 127.0.0.1 is h's loopback) with a fresh profile and nothing that
// reaches out on its own, and returns its standard output.
func chromium(t *testing.T, h *netlab.Host, args ...string) (string, error) {
	t.Helper()
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}
	cmd := h.Cmd("chromium", append(flags, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("chromium: %w", err)
	}
	pgid := cmd.Process.Pid
	timer := time.AfterFunc(time.Minute, func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
	err := cmd.Wait()
	timer.Stop()
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // helpers it may leave behind
	if err != nil {
		return "", fmt.Errorf("chromium %s: %w\n%s", strings.Join(args, " "), err, lastLines(stderr.String(), 15))
	}
	return stdout.String(), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// phoneProbe is a page that shows the status page in a frame as wide as a
// phone (390 CSS pixels, an iPhone 12-15) and writes, once it has loaded,
// the page's layout facts into #result: whether the document is wider than
// the frame (a phone would then scroll the whole page sideways), how wide
// each table is in its scrolling wrapper, and the smallest font size used.
const phoneProbe = `<!doctype html>
<html><head><meta charset="utf-8"><style>body{margin:0} iframe{border:0;width:390px;height:844px}</style></head>
<body><iframe id="page"></iframe><pre id="result">not loaded</pre>
<script>
var f = document.getElementById('page');
f.addEventListener('load', function () {
  var d = f.contentDocument, e = d.documentElement;
  var r = {clientWidth: e.clientWidth, scrollWidth: e.scrollWidth, bodyScrollWidth: d.body.scrollWidth, wraps: [], minFontPx: 1000};
  d.querySelectorAll('.wrap').forEach(function (w) {
    var t = w.querySelector('table');
    r.wraps.push({table: t ? t.id : '', clientWidth: w.clientWidth, scrollWidth: w.scrollWidth,
      overflowX: f.contentWindow.getComputedStyle(w).overflowX});
  });
  d.querySelectorAll('h1, h2, th, td, div, span, a').forEach(function (n) {
    if (n.textContent.trim() !== '') {
      r.minFontPx = Math.min(r.minFontPx, parseFloat(f.contentWindow.getComputedStyle(n).fontSize));
    }
  });
  document.getElementById('result').textContent = JSON.stringify(r);
});
f.src = '/';
</script></body></html>
`

// phoneLayout is what phoneProbe reports.
type phoneLayout struct {
	ClientWidth     int `json:"clientWidth"`
	ScrollWidth     int `json:"scrollWidth"`
	BodyScrollWidth int `json:"bodyScrollWidth"`
	Wraps           []struct {
		Table       string `json:"table"`
		ClientWidth int    `json:"clientWidth"`
		ScrollWidth int    `json:"scrollWidth"`
		OverflowX   string `json:"overflowX"`
	} `json:"wraps"`
	MinFontPx float64 `json:"minFontPx"`
}

// startPhoneProbe serves phoneProbe at /phone-probe in h's namespace and
// everything else from target (vrrpguard's listener) through a reverse
// proxy, so that the probe and the status page share an origin and the
// probe may look into the page. It returns the base URL.
func startPhoneProbe(t *testing.T, h *netlab.Host, target string) string {
	t.Helper()
	var ln net.Listener
	if err := h.Do(func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	proxy.Transport = nsClient(h).Transport
	mux := http.NewServeMux()
	mux.HandleFunc("GET /phone-probe", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, phoneProbe)
	})
	mux.Handle("/", proxy)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// checkScreenshot decodes the PNG at path and wants it w×h with at least
// minRed pixels of the page's split-brain red (#f8c9c9, the background of
// the SPLIT BRAIN cells and critical findings): a page that rendered, and
// shows the split brain as the alarm it is.
func checkScreenshot(t *testing.T, path string, w, h, minRed int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot %s: %v", path, err)
	}
	if b := img.Bounds(); b != image.Rect(0, 0, w, h) {
		t.Errorf("screenshot %s is %v, want %dx%d", path, b.Size(), w, h)
	}
	red := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r>>8 == 0xf8 && g>>8 == 0xc9 && bl>>8 == 0xc9 {
				red++
			}
		}
	}
	if red < minRed {
		t.Errorf("screenshot %s has %d pixels of the split-brain red #f8c9c9, want at least %d: the page does not show the split brain",
			path, red, minRed)
	}
}

// artifactDir is where the test keeps what a person looks at afterwards
// (screenshots, the page, the terminal tables): $VRRPGUARD_ARTIFACTS if
// set, else a directory removed with the test.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VRRPGUARD_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, t.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestLabStatusViewsAgree runs a keepalived pair (a 150, b 100) and
// `vrrpguard watch` on a third host c, splits the pair (b drops a's
// adverts, so both are master; VRRPv2 with a password) and, once duplicate_master is raised, reads
// the state four ways at one moment: GET /api/v1/status, `vrrpguard status
// --format json` and `--format text`, and the page at / rendered by
// Debian's headless Chromium (its DOM), retrying until they agree, since
// state moves. All must show the same segments (health, masters count,
// master, since, every router with its role and auth digest), the same virtual addresses
// with their holders and the same active findings; the agreed state must
// be the split brain: 2 masters, a and b, and duplicate_master. Chromium
// then takes a desktop and a phone screenshot (kept as artifacts, and with
// VRRPGUARD_UPDATE_SCREENSHOT=1 written to docs/ for the README), and a
// probe page checks the page does not scroll sideways at a phone's width.
func TestLabStatusViewsAgree(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	testenv.RequireTools(t, "chromium")
	bin := binary(t)
	arts := artifactDir(t)

	lab := netlab.New(t)
	a := lab.AddHost("a", "10.97.0.1/24")
	b := lab.AddHost("b", "10.97.0.2/24")
	c := lab.AddHost("c", "10.97.0.9/24")
	const (
		vip    = "10.97.0.100"
		listen = "127.0.0.1:9812" // the watcher, in c's namespace
		seg    = "eth0/ipv4/51"
		pass   = "labpass1"
	)
	w := c.Start(t, bin, "watch", "--interface", "eth0", "--listen", listen, "--format", "json", "--instance", "c",
		"--state-dir", t.TempDir())
	w.WaitOutput(t, "watching", 10*time.Second)

	// VRRPv2 with a password, so that every view shows the routers' auth
	// digests too.
	conf := func(prio int) string {
		return netlab.Conf(netlab.Instance{State: "BACKUP", VRID: 51, Priority: prio, Version: 2, AdvertInt: time.Second,
			AuthPass: pass, VIPs: []string{vip + "/24"}})
	}
	a.StartKeepalived(t, conf(150))
	a.WaitAddr(t, vip, 15*time.Second)
	b.StartKeepalived(t, conf(100)).WaitLog(t, "Entering BACKUP STATE", 10*time.Second)

	// One-way loss: b no longer hears a and becomes master too.
	b.DropVRRPFrom(t, "10.97.0.1")
	w.WaitOutput(t, `"kind":"duplicate_master","state":"raised"`, 15*time.Second)

	client := nsClient(c)
	digest := vrrp.AuthDigest(vrrp.PasswordAuthData(pass))
	page := "http://" + listen + "/"
	// views reads the four views as close together as it can.
	views := func() (map[string]statusView, map[string]string, error) {
		raw := map[string]string{}
		resp, err := client.Get("http://" + listen + statusPath)
		if err != nil {
			return nil, nil, err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, nil, fmt.Errorf("GET %s: HTTP %d: %s", statusPath, resp.StatusCode, body)
		}
		raw["api"] = string(body)
		for _, format := range []string{"json", "text"} {
			cmd := c.Cmd(bin, "status", "--addr", listen, "--format", format)
			var errb bytes.Buffer
			cmd.Stderr = &errb
			out, err := cmd.Output()
			if err != nil {
				return nil, nil, fmt.Errorf("vrrpguard status --format %s: %w: %s", format, err, errb.String())
			}
			raw["status-"+format] = string(out)
		}
		if raw["dom"], err = chromium(t, c, "--dump-dom", page); err != nil {
			return nil, nil, err
		}
		v := map[string]statusView{}
		for _, k := range []string{"api", "status-json"} {
			d, err := decodeDoc([]byte(raw[k]))
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", k, err)
			}
			v[k] = viewFromDoc(d)
		}
		if v["status-text"], err = viewFromText(raw["status-text"]); err != nil {
			return nil, nil, fmt.Errorf("%w:\n%s", err, raw["status-text"])
		}
		if v["page"], err = viewFromDOM(raw["dom"]); err != nil {
			return nil, nil, err
		}
		return v, raw, nil
	}
	// splitBrain says what the agreed view lacks of the split brain, "" if
	// nothing.
	splitBrain := func(v statusView) string {
		ms, n := v.masters(seg)
		slices.Sort(ms)
		if n != 2 || !slices.Equal(ms, []string{"10.97.0.1", "10.97.0.2"}) {
			return fmt.Sprintf("segment %s: %d masters %v, want 2: 10.97.0.1 and 10.97.0.2", seg, n, ms)
		}
		for _, s := range v.Segments {
			for _, r := range s.Routers {
				if s.Segment == seg && !strings.HasSuffix(r, " auth "+digest) {
					return fmt.Sprintf("router %q lacks the digest of the pair's password, %s", r, digest)
				}
			}
		}
		if !slices.Contains(v.kinds(), "duplicate_master") {
			return fmt.Sprintf("active findings %v lack duplicate_master", v.kinds())
		}
		return ""
	}

	var agreed statusView
	var raw map[string]string
	deadline := time.Now().Add(45 * time.Second)
	for attempt := 1; ; attempt++ {
		v, r, err := views()
		var problem string
		switch {
		case err != nil:
			problem = err.Error()
		default:
			want := v["api"].lines()
			for _, k := range []string{"status-json", "status-text", "page"} {
				if d := testenv.DiffLines(want, v[k].lines()); d != "" {
					problem += fmt.Sprintf("%s disagrees with %s (-%s +%s):\n%s", k, statusPath, statusPath, k, d)
				}
			}
			if problem == "" {
				problem = splitBrain(v["api"])
			}
		}
		if problem == "" {
			agreed, raw = v["api"], r
			t.Logf("the four views agree (attempt %d)", attempt)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the status views never agreed on the split brain within 45 s (%d attempts); last: %s\nwatch output:\n%s",
				attempt, problem, w.Output())
		}
		t.Logf("attempt %d: %s", attempt, problem)
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("agreed state:\n%s", strings.Join(agreed.lines(), "\n"))

	// Screenshots, right after: desktop and phone.
	desktop := filepath.Join(arts, "status-page.png")
	phone := filepath.Join(arts, "status-page-phone.png")
	for _, s := range []struct{ path, size string }{{desktop, "1280,900"}, {phone, "390,844"}} {
		if _, err := chromium(t, c, "--screenshot="+s.path, "--window-size="+s.size, "--hide-scrollbars", page); err != nil {
			t.Fatal(err)
		}
	}
	checkScreenshot(t, desktop, 1280, 900, 2000)
	checkScreenshot(t, phone, 390, 844, 500)

	// The page at a phone's width: the document must not be wider than the
	// screen (wide tables scroll in their own wrappers), and text not tiny.
	probe := startPhoneProbe(t, c, listen)
	out, err := chromium(t, c, "--window-size=390,844", "--dump-dom", probe+"/phone-probe")
	if err != nil {
		t.Fatal(err)
	}
	dom, err := html.Parse(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	res := findAll(dom, func(n *html.Node) bool { id, _ := attr(n, "id"); return id == "result" })
	if len(res) != 1 {
		t.Fatalf("phone probe: no #result in its DOM:\n%s", out)
	}
	var lay phoneLayout
	if err := json.Unmarshal([]byte(textOf(res[0])), &lay); err != nil {
		t.Fatalf("phone probe: result %q: %v", textOf(res[0]), err)
	}
	t.Logf("at 390 px: %+v", lay)
	if lay.ClientWidth == 0 || lay.ClientWidth > 390 {
		t.Errorf("phone probe: the page is %d px wide, want the frame's 390 px or less (its scroll bar)", lay.ClientWidth)
	}
	if lay.ScrollWidth > lay.ClientWidth || lay.BodyScrollWidth > lay.ClientWidth {
		t.Errorf("at a phone's width (390 px) the page scrolls sideways: document %d px, body %d px wide in %d px",
			lay.ScrollWidth, lay.BodyScrollWidth, lay.ClientWidth)
	}
	if len(lay.Wraps) < 3 {
		t.Errorf("phone probe: %d table wrappers, want segments, vips and findings", len(lay.Wraps))
	}
	for _, wr := range lay.Wraps {
		if wr.ScrollWidth > wr.ClientWidth && wr.OverflowX != "auto" && wr.OverflowX != "scroll" {
			t.Errorf("at 390 px table %s is %d px wide in a %d px wrapper that does not scroll (overflow-x %s)",
				wr.Table, wr.ScrollWidth, wr.ClientWidth, wr.OverflowX)
		}
	}
	if lay.MinFontPx < 12 {
		t.Errorf("at 390 px the smallest text is %.1f px, want at least 12 px to be readable on a phone", lay.MinFontPx)
	}

	// Keep what a person looks at.
	for name, s := range map[string]string{"status.txt": raw["status-text"], "status.json": raw["api"], "status-page.html": raw["dom"]} {
		if err := os.WriteFile(filepath.Join(arts, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("artifacts in %s; vrrpguard status:\n%s", arts, raw["status-text"])
	if os.Getenv("VRRPGUARD_UPDATE_SCREENSHOT") == "1" {
		docs := filepath.Join("..", "..", "docs")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		for src, dst := range map[string]string{desktop: "status-page.png", phone: "status-page-phone.png"} {
			b, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(docs, dst), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("wrote docs/status-page.png and docs/status-page-phone.png")
	}
}

// TestStatusViewParsers: the readers of the three views, on a document
// rendered by internal/status (no lab): each must read back what the
// document says, for segments with and without a master, addresses with
// no and two holders, and no or two findings; and a view that lost a
// router must not read as the same.
func TestStatusViewParsers(t *testing.T) {
	at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.Local)
	split := status.Doc{Command: "watch", Node: "c", Version: "test", Time: at,
		Segments: []status.Segment{
			{Interface: "eth0", Family: "ipv4", VRID: 51, Health: "split_brain", Masters: 2, Master: "10.0.0.1",
				MasterMAC: "02:00:00:00:00:01", MasterSince: at.Add(-time.Minute), Routers: []status.Router{
					{Address: "10.0.0.1", MAC: "02:00:00:00:00:01", Priority: 150, Version: 2, Role: "master", AuthType: "simple", AuthDigest: "86f94b7b"},
					{Address: "10.0.0.2", MAC: "02:00:00:00:00:02", Priority: 100, Version: 2, Role: "master (rival)", AuthType: "simple", AuthDigest: "86f94b7b"}}},
			{Interface: "eth1", Family: "ipv6", VRID: 7, Health: "no_master", Routers: []status.Router{
				{Address: "fe80::1", MAC: "02:00:00:00:00:03", Priority: 0, Version: 3, Role: "resigned"}}},
		},
		VIPs: []status.VIP{
			{Interface: "eth0", Family: "ipv4", Address: "10.0.0.100", VRIDs: []uint8{51}, Holders: []status.Holder{
				{MAC: "02:00:00:00:00:01", Router: "10.0.0.1", LastClaim: at}, {MAC: "02:00:00:00:00:02", Router: "10.0.0.2", LastClaim: at}}},
			{Family: "ipv4", Address: "10.0.0.200", VRIDs: []uint8{}, Holders: []status.Holder{}, Expected: true},
		},
	}
	split.Findings = append(split.Findings, findingJSON("critical", "duplicate_master", "eth0", 51, "split brain: two masters"),
		findingJSON("warning", "no_master", "eth1", 7, "VRID 7 on eth1 has no master"))
	empty := status.Doc{Command: "watch", Node: "c", Time: at}
	page, err := status.NewPage(2 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		doc  status.Doc
		want []string
	}{
		{"split brain", split, []string{
			"segment eth0/ipv4/51: split_brain, 2 masters, master 10.0.0.1 (02:00:00:00:00:01) since 09:59:00",
			"  router 10.0.0.1 prio 150 master auth 86f94b7b",
			"  router 10.0.0.2 prio 100 master (rival) auth 86f94b7b",
			"segment eth1/ipv6/7: no_master, 0 masters, master - since -",
			"  router fe80::1 prio 0 resigned",
			"vip 10.0.0.100 eth0 51 02:00:00:00:00:01 (10.0.0.1), 02:00:00:00:00:02 (10.0.0.2)",
			"vip 10.0.0.200 - - -",
			"finding critical duplicate_master eth0 51: split brain: two masters",
			"finding warning no_master eth1 7: VRID 7 on eth1 has no master",
		}},
		{"nothing seen", empty, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := testenv.DiffLines(tc.want, viewFromDoc(&tc.doc).lines()); diff != "" {
				t.Errorf("document (-want +got):\n%s", diff)
			}
			var text, pageHTML bytes.Buffer
			if err := status.WriteText(&text, &tc.doc, time.Local); err != nil {
				t.Fatal(err)
			}
			tv, err := viewFromText(text.String())
			if err != nil {
				t.Fatalf("%v\n%s", err, text.String())
			}
			if diff := testenv.DiffLines(tc.want, tv.lines()); diff != "" {
				t.Errorf("terminal tables (-want +got):\n%s\n%s", diff, text.String())
			}
			if err := page.Write(&pageHTML, &tc.doc); err != nil {
				t.Fatal(err)
			}
			pv, err := viewFromDOM(pageHTML.String())
			if err != nil {
				t.Fatal(err)
			}
			if diff := testenv.DiffLines(tc.want, pv.lines()); diff != "" {
				t.Errorf("page (-want +got):\n%s", diff)
			}
		})
	}
	// A router less in the terminal table reads as a different view.
	var text bytes.Buffer
	if err := status.WriteText(&text, &split, time.Local); err != nil {
		t.Fatal(err)
	}
	lost := strings.Replace(text.String(), ", 10.0.0.2 prio 100 master (rival) auth 86f94b7b", "", 1)
	tv, err := viewFromText(lost)
	if err != nil {
		t.Fatal(err)
	}
	if testenv.DiffLines(viewFromDoc(&split).lines(), tv.lines()) == "" || slices.Equal(tv.Segments[0].Routers, viewFromDoc(&split).Segments[0].Routers) {
		t.Errorf("a terminal table without 10.0.0.2 reads as the document:\n%s", lost)
	}
	if ms, n := tv.masters("eth0/ipv4/51"); n != 2 || !slices.Equal(ms, []string{"10.0.0.1"}) {
		t.Errorf("masters of the table without 10.0.0.2: %v (count %d), want [10.0.0.1] (count 2 as printed)", ms, n)
	}
}

func findingJSON(severity, kind, iface string, vrid uint8, msg string) output.FindingJSON {
	return output.FindingJSON{Type: "finding", Kind: kind, State: "raised", Severity: severity, Interface: iface, Family: "ipv4",
		VRID: vrid, Message: msg}
}
