package main

import (
	"github.com/minispawn/minispawn/config"
	"github.com/minispawn/minispawn/mounts"
)

// mountStep is the plan step of one [[mount]] table of a parsed (valid)
// configuration. It lives here, with the plan, rather than in package
// config: config is linked into miniinit too, and a config that built
// mounts steps would drag the root builder (ELF/DWARF readers, zlib) into
// that small PID 1.
func mountStep(m *config.Mount) mounts.Mount {
	source, fstype, flags, data := m.Args()
	return mounts.Mount{Source: source, Target: m.Target, FSType: fstype, Flags: flags, Data: data}
}
