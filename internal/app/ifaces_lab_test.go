package app

import (
	"slices"
	"testing"

	"github.com/vrrpguard/vrrpguard/internal/netlab"
	"github.com/vrrpguard/vrrpguard/sniffer"
)

// TestDefaultInterfacesSkipEnslaved: in the lab's bridge namespace the
// default capture list is the bridge, not its ports (which would report
// every frame twice).
func TestDefaultInterfacesSkipEnslaved(t *testing.T) {
	t.Parallel()
	netlab.Require(t)
	lab := netlab.New(t)
	lab.AddHost("a", "10.91.0.1/24")
	lab.AddHost("b", "10.91.0.2/24")
	var got []string
	if err := lab.Bridge().Do(func() error {
		var err error
		got, err = sniffer.DefaultInterfaces()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"br0"}) {
		t.Errorf("default interfaces in the bridge namespace: %v, want [br0]", got)
	}
}
