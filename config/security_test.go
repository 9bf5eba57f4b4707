package config

import (
	"strings"
	"testing"

	"github.com/minispawn/minispawn/init/confine"
)

func TestSecurityChecks(t *testing.T) {
	base := "name = \"c\"\nrootfs.path = \"/srv\"\n[[workload]]\nname = \"w\"\ncommand = \"/bin/w\"\n[security]\n"
	for _, tc := range []struct{ body, want string }{
		{`capabilities = ["CAP_FLY"]`, `t.toml:7:17: security: `},
		{`capabilities = ["ALL", "CAP_KILL"]`, `t.toml:7:17: security: "ALL" must be the only capability listed`},
		{`seccomp = "strict"`, `t.toml:7:1: security: seccomp "strict": want "default" or "off"`},
		{`rlimits = { nofile = "many" }`, `t.toml:7:13: security: rlimit nofile: want a number, "SOFT:HARD" or "unlimited"`},
		{`rlimits = { nofile = "9:3" }`, `security: rlimit nofile: the soft limit is above the hard one`},
		{`rlimits = { wings = "2" }`, `t.toml:7:13: security: `},
		{`oom_score_adj = 1001`, `t.toml:7:1: security: oom_score_adj 1001 is outside -1000..1000`},
	} {
		_, err := Parse("t.toml", []byte(base+tc.body+"\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.body, err, tc.want)
		}
	}
}

// Issue 16 item 15: a workload capability beyond the container's set is
// an error at its position; within it, or with "ALL", it is fine.
func TestWorkloadCapabilitiesWithinContainer(t *testing.T) {
	doc := func(security, caps string) string {
		return "name = \"c\"\nrootfs.path = \"/srv\"\n[security]\n" + security + "\n[[workload]]\nname = \"w\"\ncommand = \"/bin/w\"\ncapabilities = " + caps + "\n"
	}
	for _, tc := range []struct{ security, caps, want string }{
		{"", `["CAP_SYS_ADMIN", "CAP_KILL"]`,
			`t.toml:8:17: workload "w": capabilities: CAP_SYS_ADMIN is not in the container's set (the default container set)`},
		{`capabilities = ["CAP_KILL"]`, `["kill", "net_raw"]`,
			`t.toml:8:25: workload "w": capabilities: CAP_NET_RAW is not in the container's set (security.capabilities)`},
		{"", `["CAP_KILL", "net_bind_service"]`, ""},
		{`capabilities = ["ALL"]`, `["CAP_SYS_ADMIN"]`, ""},
		{`capabilities = ["CAP_SYS_ADMIN"]`, `["sys_admin"]`, ""},
	} {
		_, err := Parse("t.toml", []byte(doc(tc.security, tc.caps)))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s / %s: %v", tc.security, tc.caps, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s / %s: got %v, want %q", tc.security, tc.caps, err, tc.want)
		}
	}
}

func TestSecuritySpec(t *testing.T) {
	parse := func(body string) confine.Spec {
		t.Helper()
		c, err := Parse("t.toml", []byte("name = \"c\"\nrootfs.path = \"/srv\"\n[[workload]]\nname = \"w\"\ncommand = \"/bin/w\"\n[security]\n"+body))
		if err != nil {
			t.Fatal(err)
		}
		return c.Security.Spec()
	}
	def := parse("")
	if !def.NoNewPrivs || def.Seccomp == nil || def.Capabilities != nil || def.AllCapabilities {
		t.Errorf("defaults are not the hardened ones: %+v", def)
	}
	s := parse("seccomp = \"off\"\nallow_privilege_escalation = true\ncapabilities = []\nrlimits = { nofile = \"10:unlimited\" }\noom_score_adj = -5\n")
	if s.NoNewPrivs || s.Seccomp != nil || s.Capabilities == nil || len(s.Capabilities) != 0 {
		t.Errorf("choices not applied: %+v", s)
	}
	if rl := s.Rlimits["nofile"]; rl.Soft != 10 || rl.Hard != confine.Unlimited {
		t.Errorf("rlimit: %+v", rl)
	}
	if s.OOMScoreAdj == nil || *s.OOMScoreAdj != -5 {
		t.Errorf("oom_score_adj not set")
	}
	if all := parse(`capabilities = ["all"]` + "\n"); !all.AllCapabilities {
		t.Error(`["all"] does not keep all capabilities`)
	}
}
