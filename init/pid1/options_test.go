package pid1

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	ok := Options{Workloads: []Workload{{Name: "a", Args: []string{"true"}, Main: true}, {Name: "b", Args: []string{"sleep", "1"}}}}
	if err := ok.validate(); err != nil {
		t.Errorf("valid options: %v", err)
	}
	bad := Options{
		Workloads:         []Workload{{Name: "a", Args: nil}, {Name: "a", Args: []string{""}}},
		RemapToZero:       []int{256, -1},
		Grace:             -time.Second,
		ParentDeathSignal: 65,
	}
	err := bad.validate()
	if err == nil {
		t.Fatal("want errors")
	}
	// Every problem at once.
	for _, want := range []string{"no command", "used twice", "0 marked main", "256", "-1", "negative", "parent-death"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if (&Options{}).grace() != DefaultGrace {
		t.Error("zero grace is not the default")
	}
}
