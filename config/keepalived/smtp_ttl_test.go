package keepalived

import (
	"testing"
)

// TestSMTPAlertAndUnicastTTL checks smtp_alert (global, smtp_alert_vrrp,
// per instance) and unicast_ttl as keepalived 2.2.7 settles them.
func TestSMTPAlertAndUnicastTTL(t *testing.T) {
	inst := func(name, extra string) string {
		vrid := map[string]string{"A": "51", "B": "52"}[name]
		return "vrrp_instance " + name + " {\n interface eth0\n virtual_router_id " + vrid + "\n virtual_ipaddress {\n  10.0.0.1\n }\n" + extra + "}\n"
	}
	const peer = " unicast_peer {\n  10.0.0.3\n }\n"
	type want struct {
		SMTPAlert  map[string]bool
		UnicastTTL map[string]int // -1: nil
		NoFaults   bool
		Warnings   []string
	}
	tests := []struct {
		name string
		src  string
		want want
	}{
		{"default off", inst("A", ""),
			want{SMTPAlert: map[string]bool{"A": false}, UnicastTTL: map[string]int{"A": -1}}},
		{"global smtp_alert without value is on, instance overrides",
			"global_defs {\n smtp_alert\n no_email_faults\n}\n" + inst("A", "") + inst("B", " smtp_alert off\n"),
			want{SMTPAlert: map[string]bool{"A": true, "B": false}, UnicastTTL: map[string]int{"A": -1, "B": -1}, NoFaults: true}},
		{"smtp_alert_vrrp wins over smtp_alert",
			"global_defs {\n smtp_alert yes\n smtp_alert_vrrp false\n}\n" + inst("A", "") + inst("B", " smtp_alert\n"),
			want{SMTPAlert: map[string]bool{"A": false, "B": true}, UnicastTTL: map[string]int{"A": -1, "B": -1}}},
		{"bad values are reported and ignored",
			"global_defs {\n smtp_alert maybe\n}\n" + inst("A", " smtp_alert perhaps\n"),
			want{SMTPAlert: map[string]bool{"A": false}, UnicastTTL: map[string]int{"A": -1}, Warnings: []string{
				`keepalived.conf:2: smtp_alert: expected on|off|true|false|yes|no, got "maybe"; keepalived ignores it`,
				`keepalived.conf:10: smtp_alert: expected on|off|true|false|yes|no, got "perhaps"; keepalived ignores it`,
			}}},
		{"unicast_ttl with peers", inst("A", peer+" unicast_ttl 1\n") + inst("B", peer+" unicast_ttl 0\n"),
			want{SMTPAlert: map[string]bool{"A": false, "B": false}, UnicastTTL: map[string]int{"A": 1, "B": 0}}},
		{"unicast_ttl out of range is ignored", inst("A", peer+" unicast_ttl 256\n"),
			want{SMTPAlert: map[string]bool{"A": false}, UnicastTTL: map[string]int{"A": -1}, Warnings: []string{
				`keepalived.conf:10: unicast_ttl: expected a number 0-255, got "256"; keepalived ignores it`,
			}}},
		{"unicast_ttl without peers is dropped", inst("A", " unicast_ttl 5\n"),
			want{SMTPAlert: map[string]bool{"A": false}, UnicastTTL: map[string]int{"A": -1}, Warnings: []string{
				"keepalived.conf:1: vrrp_instance A: unicast_ttl without unicast_peer; keepalived 2.2.7 then sends its multicast adverts with TTL 0, which never leave the host (its peers do not hear it); vrrpguard ignores unicast_ttl",
			}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, w, err := parse(t, tt.src, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := want{SMTPAlert: map[string]bool{}, UnicastTTL: map[string]int{}, NoFaults: k.Global.NoEmailFaults, Warnings: w}
			if len(w) == 0 {
				got.Warnings = nil
			}
			for _, in := range k.Instances {
				got.SMTPAlert[in.Name] = in.SMTPAlert
				got.UnicastTTL[in.Name] = -1
				if in.UnicastTTL != nil {
					got.UnicastTTL[in.Name] = int(*in.UnicastTTL)
				}
			}
			if d := diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
