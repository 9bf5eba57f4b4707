// Package options is the mount(8) option table: option names such as
// "ro,nosuid,rbind" to mount(2) flags and back. It is a leaf package of
// plain data and string handling, so that the configuration can check
// option lists without linking the root builder of package mounts (ELF
// and DWARF readers) into every binary that reads a configuration.
package options

import (
	"fmt"
	"strings"
)

// option is one mount(8)-style option name and what it does to the flag
// word: the bits it sets and the bits it clears ("rw" clears MS_RDONLY).
type option struct {
	name       string
	set, clear uintptr
}

// table is the table behind Parse and Format. Its order is the canonical
// output order of Format. Composite names ("rbind",
// "rslave") come before their plain forms so that formatting picks them.
var table = []option{
	{"ro", Rdonly, 0},
	{"rw", 0, Rdonly},
	{"nosuid", Nosuid, 0},
	{"suid", 0, Nosuid},
	{"nodev", Nodev, 0},
	{"dev", 0, Nodev},
	{"noexec", Noexec, 0},
	{"exec", 0, Noexec},
	{"sync", Synchronous, 0},
	{"async", 0, Synchronous},
	{"remount", Remount, 0},
	{"mand", Mandlock, 0},
	{"nomand", 0, Mandlock},
	{"dirsync", Dirsync, 0},
	{"nosymfollow", Nosymfollow, 0},
	{"symfollow", 0, Nosymfollow},
	{"noatime", Noatime, 0},
	{"atime", 0, Noatime},
	{"nodiratime", Nodiratime, 0},
	{"diratime", 0, Nodiratime},
	{"relatime", Relatime, 0},
	{"norelatime", 0, Relatime},
	{"strictatime", Strictatime, 0},
	{"nostrictatime", 0, Strictatime},
	{"lazytime", Lazytime, 0},
	{"nolazytime", 0, Lazytime},
	{"silent", Silent, 0},
	{"loud", 0, Silent},
	{"rbind", Bind | Rec, 0},
	{"bind", Bind, 0},
	{"move", Move, 0},
	{"rprivate", Private | Rec, 0},
	{"private", Private, 0},
	{"rshared", Shared | Rec, 0},
	{"shared", Shared, 0},
	{"rslave", Slave | Rec, 0},
	{"slave", Slave, 0},
	{"runbindable", Unbindable | Rec, 0},
	{"unbindable", Unbindable, 0},
}

var optionByName = func() map[string]option {
	m := make(map[string]option, len(table))
	for _, o := range table {
		m[o.name] = o
	}
	return m
}()

// Parse splits a mount(8)-style option string such as
// "ro,nosuid,rbind,rslave,size=64k" into mount(2) flags and the
// filesystem-specific data string. Known names become flags, applied left
// to right (so "ro,rw" is read-write); everything else, in order, becomes
// data. Empty items are ignored.
//
// One flag word has a single MS_REC bit, while mount(8) applies recursion
// separately to the bind and to the propagation change. Parse
// therefore refuses combinations whose meaning would change ("bind,rslave"
// or "rbind,slave"), and more than one propagation type, which mount(2)
// rejects anyway.
func Parse(opts string) (flags uintptr, data string, err error) {
	var dataItems []string
	var bindSeen, bindRec, propSeen, propRec bool
	var propName string
	for _, item := range strings.Split(opts, ",") {
		if item == "" {
			continue
		}
		o, ok := optionByName[item]
		if !ok {
			dataItems = append(dataItems, item)
			continue
		}
		rec := o.set&Rec != 0
		switch {
		case o.set&Bind != 0:
			bindSeen, bindRec = true, rec
		case o.set&Propagation != 0:
			if propSeen && propName != item {
				return 0, "", fmt.Errorf("mount options %q: conflicting propagation %s and %s", opts, propName, item)
			}
			propSeen, propRec, propName = true, rec, item
		}
		flags = flags&^o.clear | o.set
	}
	if bindSeen && propSeen && bindRec != propRec {
		return 0, "", fmt.Errorf("mount options %q: recursion of bind and %s differ; use rbind with r%s or bind with %s",
			opts, propName, strings.TrimPrefix(propName, "r"), strings.TrimPrefix(propName, "r"))
	}
	return flags, strings.Join(dataItems, ","), nil
}

// Format is the inverse of Parse: it names the set flags in the table's
// canonical order and appends data. For any flags built from the table,
// Parse(Format(f, d)) returns f and d again. Bits
// without a name are printed in hex so nothing is hidden.
func Format(flags uintptr, data string) string {
	var items []string
	rec := flags&Rec != 0
	rest := flags &^ Rec
	recUsed := false
	for _, o := range table {
		base := o.set &^ Rec
		if base == 0 || rest&base != base {
			continue
		}
		if o.set&Rec != 0 && !rec {
			continue
		}
		// Composites precede their plain names in the table, so once
		// "rbind" has taken MS_BIND the plain "bind" no longer matches.
		// MS_REC itself stays available: "rbind,rslave" share it.
		items = append(items, o.name)
		rest &^= base
		recUsed = recUsed || o.set&Rec != 0
	}
	if rec && !recUsed {
		rest |= Rec
	}
	if rest != 0 {
		items = append(items, fmt.Sprintf("%#x", rest))
	}
	if data != "" {
		items = append(items, data)
	}
	return strings.Join(items, ",")
}
