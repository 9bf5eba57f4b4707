package mountinfo

import "testing"

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`/plain`:         "/plain",
		`/a\040b`:        "/a b",
		`/a\040b\134c`:   `/a b\c`,
		`/t\011\012\134`: "/t\t\n\\",
		`/short\04`:      `/short\04`,
		`/end\040`:       "/end ",
		`/not\999`:       `/not\999`,
	} {
		if got := Unescape(in); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}
