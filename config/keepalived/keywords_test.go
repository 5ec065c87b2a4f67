package keepalived

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// keywordTemplate is a configuration with a slot in every block the
// keyword table covers; a sample replaces one slot, the others become
// comments.
const keywordTemplate = `global_defs {
 router_id base
 @global_defs
}
vrrp_script chk {
 script /bin/true
 @vrrp_script
}
vrrp_track_process proc {
 @vrrp_track_process
 process haproxy
}
track_file tfile {
 @track_file
 file /run/tfile
}
vrrp_instance VI_1 {
 interface eth0
 virtual_router_id 51
 priority 100
 @vrrp_instance
 virtual_ipaddress {
  10.0.0.1/24
  @virtual_ipaddress
 }
 authentication {
  @authentication
 }
}
vrrp_sync_group G {
 @vrrp_sync_group
}
@top level
`

// keywordSample is how the test uses a keyword: text replaces the slot of
// its block, base is the configuration to compare with (a comment when
// empty). The keyword's own line is the first that has it as a word.
type keywordSample struct {
	text, base string
	files      memFS
}

// implementedSamples give every implemented keyword a value that differs
// from the template's.
var implementedSamples = map[string]keywordSample{
	"top level/include":         {text: "include extra.conf", files: memFS{"extra.conf": "vrrp_instance VI_2 {\n interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.2\n }\n}\n"}},
	"top level/global_defs":     {text: "global_defs {\n router_id second\n}"},
	"top level/vrrp_script":     {text: "vrrp_script chk2 {\n script /bin/false\n}"},
	"top level/vrrp_sync_group": {text: "vrrp_sync_group G2 {\n group {\n  VI_1\n }\n}"},
	"top level/vrrp_instance":   {text: "vrrp_instance VI_2 {\n interface eth1\n virtual_router_id 52\n virtual_ipaddress {\n  10.0.0.2\n }\n}"},

	"global_defs/router_id":                        {text: "router_id other"},
	"global_defs/smtp_alert":                       {text: "smtp_alert"},
	"global_defs/smtp_alert_vrrp":                  {text: "smtp_alert_vrrp"},
	"global_defs/no_email_faults":                  {text: "no_email_faults"},
	"global_defs/notification_email":               {text: "notification_email {\n  ops@example.com\n }"},
	"global_defs/notification_email_from":          {text: "notification_email_from vrrp@example.com"},
	"global_defs/smtp_server":                      {text: "smtp_server 192.0.2.25"},
	"global_defs/smtp_helo_name":                   {text: "smtp_helo_name lb1.example.com"},
	"global_defs/smtp_connect_timeout":             {text: "smtp_connect_timeout 10"},
	"global_defs/vrrp_mcast_group4":                {text: "vrrp_mcast_group4 224.0.0.19"},
	"global_defs/vrrp_mcast_group6":                {text: "vrrp_mcast_group6 ff02::13"},
	"global_defs/vrrp_garp_master_delay":           {text: "vrrp_garp_master_delay 7"},
	"global_defs/vrrp_garp_master_repeat":          {text: "vrrp_garp_master_repeat 3"},
	"global_defs/vrrp_garp_master_refresh":         {text: "vrrp_garp_master_refresh 60"},
	"global_defs/vrrp_garp_master_refresh_repeat":  {text: "vrrp_garp_master_refresh_repeat 2"},
	"global_defs/vrrp_min_garp":                    {text: "vrrp_min_garp"},
	"global_defs/vrrp_version":                     {text: "vrrp_version 3"},
	"global_defs/vrrp_strict":                      {text: "vrrp_strict"},
	"global_defs/script_user":                      {text: "script_user nobody nogroup"},
	"global_defs/enable_script_security":           {text: "enable_script_security"},
	"global_defs/notify_fifo":                      {text: "notify_fifo /run/keepalived.fifo"},
	"global_defs/notify_fifo_script":               {text: "notify_fifo_script /usr/local/bin/fifo.sh"},
	"global_defs/vrrp_notify_fifo":                 {text: "vrrp_notify_fifo /run/vrrp.fifo root root"},
	"global_defs/vrrp_notify_fifo_script":          {text: "vrrp_notify_fifo_script \"/usr/local/bin/fifo.sh -v\" nobody"},
	"global_defs/vrrp_notify_priority_changes":     {text: "vrrp_notify_priority_changes"},
	"global_defs/fifo_write_vrrp_states_on_reload": {text: "fifo_write_vrrp_states_on_reload"},
	"global_defs/nftables_priority":                {text: "nftables_priority -5"},
	"global_defs/nftables_counters":                {text: "nftables_counters"},
	"vrrp_instance/virtual_routes":                 {text: "virtual_routes {\n  10.9.0.0/16 via 10.0.0.254\n }"},
	"vrrp_instance/virtual_rules":                  {text: "virtual_rules {\n  from 10.0.0.1 table 100 priority 100\n }"},
	"top level/static_ipaddress":                   {text: "static_ipaddress {\n 192.0.2.5/24 dev eth1\n}"},
	"top level/static_routes":                      {text: "static_routes {\n 10.8.0.0/16 via 10.0.0.254 dev eth0\n}"},
	"top level/static_rules":                       {text: "static_rules {\n from 192.0.2.5 table 101 priority 200\n}"},

	"vrrp_sync_group/group":                      {text: "group {\n  VI_1\n }"},
	"vrrp_sync_group/notify_master":              {text: "notify_master /bin/true"},
	"vrrp_sync_group/notify_backup":              {text: "notify_backup /bin/true"},
	"vrrp_sync_group/notify_fault":               {text: "notify_fault /bin/true"},
	"vrrp_sync_group/notify_stop":                {text: "notify_stop /bin/true"},
	"vrrp_sync_group/notify":                     {text: "notify /bin/true"},
	"vrrp_sync_group/track_interface":            {text: "track_interface {\n  eth1\n }"},
	"vrrp_sync_group/track_script":               {text: "track_script {\n  chk\n }"},
	"vrrp_sync_group/track_process":              {text: "track_process {\n  proc\n }"},
	"vrrp_sync_group/track_file":                 {text: "track_file {\n  tfile weight 2\n }"},
	"vrrp_sync_group/global_tracking":            {text: "global_tracking"},
	"vrrp_sync_group/sync_group_tracking_weight": {text: "sync_group_tracking_weight"},
	"vrrp_sync_group/notify_priority_changes":    {text: "notify_priority_changes\n group {\n  VI_1\n }", base: "#\n group {\n  VI_1\n }"},

	"vrrp_instance/state":                      {text: "state MASTER"},
	"vrrp_instance/dont_track_primary":         {text: "dont_track_primary"},
	"vrrp_instance/smtp_alert":                 {text: "smtp_alert"},
	"vrrp_instance/unicast_ttl":                {text: "unicast_ttl 10\n unicast_peer {\n  10.0.0.9\n }"},
	"vrrp_instance/interface":                  {text: "interface eth1"},
	"vrrp_instance/unicast_peer":               {text: "unicast_peer {\n  10.0.0.9\n }"},
	"vrrp_instance/native_ipv6":                {text: "native_ipv6"},
	"vrrp_instance/track_interface":            {text: "track_interface {\n  eth1\n }"},
	"vrrp_instance/track_script":               {text: "track_script {\n  chk\n }"},
	"vrrp_instance/track_process":              {text: "track_process {\n  proc weight 10 reverse\n }"},
	"vrrp_instance/track_file":                 {text: "track_file {\n  tfile\n }"},
	"vrrp_instance/mcast_src_ip":               {text: "mcast_src_ip 10.0.0.7"},
	"vrrp_instance/unicast_src_ip":             {text: "unicast_src_ip 10.0.0.8"},
	"vrrp_instance/mcast_dst_ip":               {text: "mcast_dst_ip 224.0.0.19"},
	"vrrp_instance/virtual_router_id":          {text: "virtual_router_id 52"},
	"vrrp_instance/version":                    {text: "version 3"},
	"vrrp_instance/priority":                   {text: "priority 200"},
	"vrrp_instance/advert_int":                 {text: "advert_int 2"},
	"vrrp_instance/virtual_ipaddress":          {text: "virtual_ipaddress {\n  10.0.0.3\n }"},
	"vrrp_instance/virtual_ipaddress_excluded": {text: "virtual_ipaddress_excluded {\n  10.0.0.4\n }"},
	"vrrp_instance/accept":                     {text: "accept"},
	"vrrp_instance/no_accept":                  {text: "no_accept"},
	"vrrp_instance/strict_mode":                {text: "strict_mode on"},
	"vrrp_instance/preempt":                    {text: "nopreempt\n preempt", base: "nopreempt\n #"},
	"vrrp_instance/nopreempt":                  {text: "nopreempt"},
	"vrrp_instance/preempt_delay":              {text: "preempt_delay 5"},
	"vrrp_instance/notify_master":              {text: "notify_master /bin/true"},
	"vrrp_instance/notify_backup":              {text: "notify_backup /bin/true"},
	"vrrp_instance/notify_fault":               {text: "notify_fault /bin/true"},
	"vrrp_instance/notify_stop":                {text: "notify_stop /bin/true"},
	"vrrp_instance/notify":                     {text: "notify /bin/true"},
	"vrrp_instance/notify_priority_changes":    {text: "notify_priority_changes true"},
	"vrrp_instance/notify_master_rx_lower_pri": {text: "notify_master_rx_lower_pri /bin/true"},
	"vrrp_instance/garp_master_delay":          {text: "garp_master_delay 7"},
	"vrrp_instance/garp_master_repeat":         {text: "garp_master_repeat 3"},
	"vrrp_instance/garp_master_refresh":        {text: "garp_master_refresh 60"},
	"vrrp_instance/garp_master_refresh_repeat": {text: "garp_master_refresh_repeat 2"},
	"vrrp_instance/authentication":             {text: "authentication {\n  auth_pass secret\n }"},

	"virtual_ipaddress/dev":       {text: "10.0.0.5/24 dev eth1"},
	"virtual_ipaddress/brd":       {text: "10.0.0.5/24 brd 10.0.0.255"},
	"virtual_ipaddress/broadcast": {text: "10.0.0.5/24 broadcast 10.0.0.255"},
	"virtual_ipaddress/scope":     {text: "10.0.0.5/24 scope host"},
	"virtual_ipaddress/label":     {text: "10.0.0.5/24 label eth0:1"},
	"virtual_ipaddress/peer":      {text: "10.0.0.5 peer 10.0.0.6"},

	"authentication/auth_type": {text: "auth_type PASS\n  auth_pass secret", base: "#\n  auth_pass secret"},
	"authentication/auth_pass": {text: "auth_pass secret"},

	"vrrp_script/script":    {text: "script /bin/false"},
	"vrrp_script/interval":  {text: "interval 5"},
	"vrrp_script/timeout":   {text: "timeout 3"},
	"vrrp_script/weight":    {text: "weight -10"},
	"vrrp_script/rise":      {text: "rise 3"},
	"vrrp_script/fall":      {text: "fall 3"},
	"vrrp_script/user":      {text: "user nobody"},
	"vrrp_script/init_fail": {text: "init_fail"},

	"top level/vrrp_track_process": {text: "vrrp_track_process p2 {\n process nginx\n}"},
	"top level/track_file":         {text: "track_file f2 {\n file /run/f2\n}"},
	"top level/vrrp_track_file":    {text: "vrrp_track_file f3 {\n file /run/f3\n}"},

	"vrrp_track_process/process":         {text: "process nginx -g daemon"},
	"vrrp_track_process/param_match":     {text: "param_match initial"},
	"vrrp_track_process/weight":          {text: "weight -10 reverse"},
	"vrrp_track_process/quorum":          {text: "quorum 2"},
	"vrrp_track_process/quorum_max":      {text: "quorum_max 3"},
	"vrrp_track_process/delay":           {text: "delay 1.5"},
	"vrrp_track_process/terminate_delay": {text: "terminate_delay 2"},
	"vrrp_track_process/fork_delay":      {text: "fork_delay 0.25"},
	"vrrp_track_process/full_command":    {text: "full_command"},

	"track_file/file":      {text: "file /run/other"},
	"track_file/weight":    {text: "weight -5 reverse"},
	"track_file/init_file": {text: "init_file 3 overwrite"},
}

// warnedSamples are the warned keywords that need more than "NAME 1".
var warnedSamples = map[string]keywordSample{
	"virtual_ipaddress/track_group":   {text: "10.0.0.5/24 track_group G"},
	"virtual_ipaddress/home":          {text: "2001:db8::5 home"},
	"virtual_ipaddress/-nodad":        {text: "10.0.0.5/24 -nodad"},
	"virtual_ipaddress/mngtmpaddr":    {text: "10.0.0.5/24 mngtmpaddr"},
	"virtual_ipaddress/noprefixroute": {text: "10.0.0.5/24 noprefixroute"},
	"virtual_ipaddress/autojoin":      {text: "10.0.0.5/24 autojoin"},
	"virtual_ipaddress/no_track":      {text: "10.0.0.5/24 no_track"},
	"virtual_ipaddress/use_vmac":      {text: "10.0.0.5/24 use_vmac"},
	"virtual_ipaddress/preferred_lft": {text: "10.0.0.5/24 preferred_lft forever"},
	"top level/vrrp_sync_group":       {text: "vrrp_sync_group G2 {\n}"},
}

// fill returns the template with text in block's slot and comments in the
// others, and the line of the keyword's first use in text.
func fill(t *testing.T, block, name, text string) (string, int) {
	t.Helper()
	lines := strings.Split(keywordTemplate, "\n")
	var out []string
	at := 0
	for _, l := range lines {
		slot, ok := strings.CutPrefix(strings.TrimSpace(l), "@")
		if !ok {
			out = append(out, l)
			continue
		}
		if slot != block {
			out = append(out, "# "+slot)
			continue
		}
		for _, s := range strings.Split(text, "\n") {
			if at == 0 && (name == "" || slices.Contains(strings.Fields(s), name)) {
				at = len(out) + 1
			}
			out = append(out, s)
		}
	}
	if at == 0 {
		t.Fatalf("%s/%s: sample %q does not use the keyword", block, name, text)
	}
	return strings.Join(out, "\n"), at
}

func TestKeywordTable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keywords() {
		id := k.Block + "/" + k.Name
		t.Run(id, func(t *testing.T) {
			if seen[id] {
				t.Fatalf("%s listed twice", id)
			}
			seen[id] = true
			if k.Keepalived == "" {
				t.Errorf("%s: no description of what keepalived does", id)
			}
			switch k.Status {
			case Implemented:
				checkImplemented(t, k)
			case Warned:
				checkWarned(t, k)
			default:
				t.Errorf("%s: status %v", id, k.Status)
			}
		})
	}
	for id := range implementedSamples {
		block, name, _ := strings.Cut(id, "/")
		if k, ok := lookupKeyword(block, name); !ok || k.Status != Implemented {
			t.Errorf("sample for %s, which the table does not list as implemented", id)
		}
	}
}

// checkImplemented parses a configuration with the keyword and one
// without: the parsed configurations must differ and the keyword must not
// be warned about as unused or unknown.
func checkImplemented(t *testing.T, k Keyword) {
	s, ok := implementedSamples[k.Block+"/"+k.Name]
	if !ok {
		t.Fatalf("no sample for implemented keyword %s/%s", k.Block, k.Name)
	}
	src, line := fill(t, k.Block, k.Name, s.text)
	base := s.base
	if base == "" {
		base = strings.Repeat("#\n", strings.Count(s.text, "\n")) + "#"
	}
	baseSrc, _ := fill(t, k.Block, "", base)
	got, w, err := parse(t, src, s.files)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	want, _, err := parse(t, baseSrc, s.files)
	if err != nil {
		t.Fatalf("base: %v\n%s", err, baseSrc)
	}
	if diff(want, got) == "" {
		t.Errorf("%q changes nothing in the parsed configuration", s.text)
	}
	prefix := "keepalived.conf:" + strconv.Itoa(line) + ": "
	for _, x := range w {
		if strings.HasPrefix(x, prefix) && (strings.Contains(x, "not used by vrrpguard") || strings.Contains(x, "unknown keyword")) {
			t.Errorf("implemented keyword warned about: %s", x)
		}
	}
}

// checkWarned parses a configuration with the keyword and wants a warning
// at its file:line saying what keepalived would do.
func checkWarned(t *testing.T, k Keyword) {
	s, ok := warnedSamples[k.Block+"/"+k.Name]
	if !ok {
		s.text = k.Name + " 1"
	}
	src, line := fill(t, k.Block, k.Name, s.text)
	_, w, err := Options{ReadFile: s.files.read, Glob: s.files.glob, ConfigID: "lb1"}.Parse("keepalived.conf", []byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	for _, x := range w {
		if x.File != "keepalived.conf" || x.Line != line {
			continue
		}
		if k.Name == "net_namespace" { // its own message: the namespace's interfaces
			return
		}
		if strings.Contains(x.Message, k.Name) {
			if !strings.Contains(x.Message, "keepalived would "+k.Keepalived) {
				t.Errorf("warning %q does not say what keepalived would do (%q)", x, k.Keepalived)
			}
			return
		}
	}
	t.Errorf("no warning at keepalived.conf:%d for %q; got %q", line, s.text, warningStrings(w))
}

// TestKeywordReadersListed checks that every keyword the parser has a
// reader for is in the table, so its status is stated.
func TestKeywordReadersListed(t *testing.T) {
	readers := map[string][]string{"global_defs": {"vrrp_version"}}
	for kw := range globalKeywords {
		readers["global_defs"] = append(readers["global_defs"], kw)
	}
	for kw := range instanceKeywords {
		readers["vrrp_instance"] = append(readers["vrrp_instance"], kw)
	}
	for kw := range scriptKeywords {
		readers["vrrp_script"] = append(readers["vrrp_script"], kw)
	}
	for block, kws := range readers {
		for _, kw := range kws {
			if _, ok := lookupKeyword(block, kw); !ok {
				t.Errorf("%s/%s is read but not in the keyword table", block, kw)
			}
		}
	}
}

// Markers around README's generated keyword list.
const (
	readmeBegin = "<!-- keywords: generated from config/keepalived/keywords.go by `go generate ./config/keepalived`; do not edit -->\n"
	readmeEnd   = "<!-- keywords: end -->\n"
)

// readmeKeywords renders the keyword table for README: per status, the
// keywords of each block in table order.
func readmeKeywords() string {
	var b strings.Builder
	for _, st := range []struct {
		status Status
		title  string
	}{
		{Implemented, "* keywords vrrpguard acts on (keepalived 2.2.7 names):"},
		{Warned, "* keywords accepted but not acted on — each use is a warning with `file:line` saying what\n  keepalived would have done:"},
	} {
		b.WriteString(st.title + "\n")
		var blocks []string
		byBlock := map[string][]string{}
		for _, k := range Keywords() {
			if k.Status != st.status {
				continue
			}
			if _, ok := byBlock[k.Block]; !ok {
				blocks = append(blocks, k.Block)
			}
			byBlock[k.Block] = append(byBlock[k.Block], "`"+k.Name+"`")
		}
		for _, bl := range blocks {
			name := "`" + bl + "`"
			switch bl {
			case Top:
				name = "top level"
			case "virtual_ipaddress":
				name = "address options of `virtual_ipaddress`/`virtual_ipaddress_excluded`"
			}
			b.WriteString("  * " + name + ": " + strings.Join(byBlock[bl], ", ") + "\n")
		}
	}
	return b.String()
}

// TestREADMEKeywords checks that README's keyword list is the table's;
// go generate (VRRPGUARD_UPDATE_README=1) rewrites it.
func TestREADMEKeywords(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok := strings.Cut(readme, readmeBegin)
	if !ok {
		t.Fatalf("%s: no line %q", path, readmeBegin)
	}
	got, after, ok := strings.Cut(rest, readmeEnd)
	if !ok {
		t.Fatalf("%s: no line %q", path, readmeEnd)
	}
	want := readmeKeywords()
	if got == want {
		return
	}
	if os.Getenv("VRRPGUARD_UPDATE_README") == "1" {
		if err := os.WriteFile(path, []byte(before+readmeBegin+want+readmeEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README's keyword list is not the table's; run go generate ./config/keepalived (-want +got):\n%s",
		diff(strings.Split(want, "\n"), strings.Split(got, "\n")))
}
