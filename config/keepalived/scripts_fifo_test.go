package keepalived

import (
	"testing"
)

// TestScriptUsersAndFIFOs checks script_user, enable_script_security, the
// notify FIFOs and the user and group of notify lines, and how
// notify_priority_changes is settled (instance, else its sync group, else
// vrrp_notify_priority_changes), as keepalived 2.2.7 reads them.
func TestScriptUsersAndFIFOs(t *testing.T) {
	inst := func(name, extra string) string {
		vrid := map[string]string{"A": "51", "B": "52"}[name]
		return "vrrp_instance " + name + " {\n interface eth0\n virtual_router_id " + vrid + "\n virtual_ipaddress {\n  10.0.0.1\n }\n" + extra + "}\n"
	}
	type want struct {
		ScriptUser     RunAs
		ScriptSecurity bool
		NotifyFIFO     FIFO
		VRRPNotifyFIFO FIFO
		PrioChanges    map[string]bool
		NotifyLines    map[string]map[string]ScriptLine // instance → keyword → line
		GroupLines     map[string]ScriptLine
		Warnings       []string
	}
	tests := []struct {
		name string
		src  string
		want want
	}{
		{"defaults", inst("A", ""), want{PrioChanges: map[string]bool{"A": false}}},
		{"script_user with group, security",
			"global_defs {\n script_user nobody nogroup\n enable_script_security\n}\n" + inst("A", ""),
			want{ScriptUser: RunAs{User: "nobody", Group: "nogroup"}, ScriptSecurity: true, PrioChanges: map[string]bool{"A": false}}},
		{"FIFOs with owner and scripts; duplicates ignored",
			"global_defs {\n notify_fifo /run/a.fifo\n notify_fifo_script \"/bin/reader -v\" nobody\n vrrp_notify_fifo /run/b.fifo root adm\n" +
				" vrrp_notify_fifo /run/c.fifo\n vrrp_notify_fifo_script /bin/r2\n vrrp_notify_fifo_script /bin/r3\n}\n" + inst("A", ""),
			want{
				NotifyFIFO: FIFO{Path: "/run/a.fifo", File: "keepalived.conf", Line: 2,
					Script: ScriptLine{Cmd: "/bin/reader -v", RunAs: RunAs{User: "nobody"}, File: "keepalived.conf", Line: 3}},
				VRRPNotifyFIFO: FIFO{Path: "/run/b.fifo", File: "keepalived.conf", Line: 4, Owner: RunAs{User: "root", Group: "adm"},
					Script: ScriptLine{Cmd: "/bin/r2", File: "keepalived.conf", Line: 6}},
				PrioChanges: map[string]bool{"A": false},
				Warnings: []string{
					"keepalived.conf:5: vrrp_notify_fifo already given (keepalived.conf:4); keepalived ignores this one",
					"keepalived.conf:7: vrrp_notify_fifo_script already given (keepalived.conf:6); keepalived ignores this one",
				}}},
		{"notify lines keep user and group",
			inst("A", " notify_master \"/bin/m x\" nobody nogroup\n notify /bin/n root\n notify_master_rx_lower_pri /bin/l\n"),
			want{PrioChanges: map[string]bool{"A": false}, NotifyLines: map[string]map[string]ScriptLine{"A": {
				"notify_master":              {Cmd: "/bin/m x", RunAs: RunAs{User: "nobody", Group: "nogroup"}, File: "keepalived.conf", Line: 7},
				"notify":                     {Cmd: "/bin/n", RunAs: RunAs{User: "root"}, File: "keepalived.conf", Line: 8},
				"notify_master_rx_lower_pri": {Cmd: "/bin/l", File: "keepalived.conf", Line: 9},
			}}}},
		{"priority changes: instance, then sync group, then global",
			"global_defs {\n vrrp_notify_priority_changes\n}\n" + inst("A", " notify_priority_changes false\n") + inst("B", "") +
				"vrrp_sync_group G {\n group {\n  A\n  B\n }\n notify_priority_changes off\n notify_backup /bin/gb nobody\n}\n",
			want{PrioChanges: map[string]bool{"A": false, "B": false},
				GroupLines: map[string]ScriptLine{"notify_backup": {Cmd: "/bin/gb", RunAs: RunAs{User: "nobody"}, File: "keepalived.conf", Line: 25}}}},
		{"priority changes: global applies", "global_defs {\n vrrp_notify_priority_changes yes\n}\n" + inst("A", "") + inst("B", " notify_priority_changes no\n"),
			want{PrioChanges: map[string]bool{"A": true, "B": false}}},
		{"bad values are reported and ignored",
			"global_defs {\n vrrp_notify_priority_changes maybe\n}\n" + inst("A", " notify_priority_changes perhaps\n"),
			want{PrioChanges: map[string]bool{"A": false}, Warnings: []string{
				`keepalived.conf:2: vrrp_notify_priority_changes: expected on|off|true|false|yes|no, got "maybe"; keepalived ignores it`,
				`keepalived.conf:10: notify_priority_changes: expected on|off|true|false|yes|no, got "perhaps"; keepalived ignores it`,
			}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, w, err := parse(t, tc.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := want{ScriptUser: k.Global.ScriptUser, ScriptSecurity: k.Global.ScriptSecurity,
				NotifyFIFO: k.Global.NotifyFIFO, VRRPNotifyFIFO: k.Global.VRRPNotifyFIFO,
				PrioChanges: map[string]bool{}}
			if len(w) > 0 {
				got.Warnings = w
			}
			for _, in := range k.Instances {
				got.PrioChanges[in.Name] = in.NotifyPriorityChanges
				if in.NotifyLines != nil {
					if got.NotifyLines == nil {
						got.NotifyLines = map[string]map[string]ScriptLine{}
					}
					got.NotifyLines[in.Name] = in.NotifyLines
				}
			}
			if len(k.SyncGroups) > 0 {
				got.GroupLines = k.SyncGroups[0].NotifyLines
			}
			if d := diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
